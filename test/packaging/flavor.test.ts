// `npm run package -- --flavor dev` makes a private copy of the extension that cannot collide with
// the public one in an organisation: both .vsix files are made and unpacked, and compared.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flavorTaskId, parseFlavorArgs, uuidV5 } from '../../scripts/flavor';
import { runCommand } from '../support/git';
import { ROOT, readManifest, sourceTaskFolders, type TaskJson } from './manifest';

const PUBLISHER = 'my-test-publisher';

/** `npm run package -- <args>`: the .vsix path it printed. */
async function npmRunPackage(...args: string[]): Promise<string> {
  const npmCli = process.env.npm_execpath;
  const run =
    npmCli && /\.c?js$/.test(npmCli)
      ? await runCommand(process.execPath, [npmCli, 'run', 'package', '--', ...args], { cwd: ROOT, timeoutMs: 120_000 })
      : await runCommand(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'package', '--', ...args], {
          cwd: ROOT,
          timeoutMs: 120_000,
        });
  assert.equal(run.code, 0, `npm run package -- ${args.join(' ')} failed:\n${run.stdout}\n${run.stderr}`);
  const vsix = /packaged (\S+\.vsix)/.exec(run.stdout)?.[1];
  assert.ok(vsix, `no .vsix path printed:\n${run.stdout}`);
  return path.resolve(ROOT, vsix);
}

interface Unpacked {
  file: string;
  identity: string;
  displayName: string;
  contributions: Array<{ id: string; type: string; properties: Record<string, unknown> }>;
  task(folder: string): Promise<TaskJson & Record<string, unknown>>;
  bytes(file: string): Promise<Buffer>;
}

async function unpack(vsix: string, into: string): Promise<Unpacked> {
  const unzip = await runCommand('unzip', ['-q', vsix, '-d', into]);
  assert.equal(unzip.code, 0, `unzip failed: ${unzip.stderr}`);
  const vsixManifest = await fs.readFile(path.join(into, 'extension.vsixmanifest'), 'utf8');
  const vsoManifest = JSON.parse(await fs.readFile(path.join(into, 'extension.vsomanifest'), 'utf8')) as Pick<
    Unpacked,
    'contributions'
  >;
  return {
    file: path.basename(vsix),
    identity: /<Identity\b[^>]*>/.exec(vsixManifest)?.[0] ?? '',
    displayName: /<DisplayName>([^<]*)<\/DisplayName>/.exec(vsixManifest)?.[1] ?? '',
    contributions: vsoManifest.contributions,
    task: async (folder) =>
      JSON.parse(await fs.readFile(path.join(into, 'build', 'tasks', folder, 'task.json'), 'utf8')) as TaskJson &
        Record<string, unknown>,
    bytes: (file) => fs.readFile(path.join(into, file)),
  };
}

describe('the private test flavour (npm run package -- --flavor dev)', function () {
  this.timeout(240_000);
  const manifest = readManifest();
  let scratch = '';
  let dev: Unpacked;
  let pub: Unpacked;

  before(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'flavor-'));
    const devVsix = await npmRunPackage('--flavor', 'dev', '--publisher', PUBLISHER);
    const publicVsix = await npmRunPackage();
    dev = await unpack(devVsix, path.join(scratch, 'dev'));
    pub = await unpack(publicVsix, path.join(scratch, 'public'));
    assert.equal(path.dirname(devVsix), path.join(ROOT, 'dist', 'dev'), 'the flavour goes to dist/dev/');
    assert.equal(path.dirname(publicVsix), path.join(ROOT, 'dist'));
  });

  after(() => fs.rm(scratch, { recursive: true, force: true }));

  it('is another extension: its own id, the publisher given, a name suffixed " (dev)", private', () => {
    assert.equal(dev.file, `${PUBLISHER}.${manifest.id}-dev-${manifest.version}.vsix`);
    assert.match(dev.identity, new RegExp(`Id="${manifest.id}-dev"`));
    assert.match(dev.identity, new RegExp(`Publisher="${PUBLISHER}"`));
    assert.equal(dev.displayName, `${(manifest as { name?: string }).name} (dev)`);
    assert.equal(pub.file, `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
    assert.match(pub.identity, new RegExp(`Id="${manifest.id}"`));
    assert.equal(pub.displayName, (manifest as { name?: string }).name);
  });

  it('ships every task with an id derived from the public one, never the public one, and " (dev)" after its name', async () => {
    const folders = sourceTaskFolders();
    assert.ok(folders.length >= 2, 'folders.length >= 2');
    const publicIds = new Set<string>();
    for (const folder of folders) publicIds.add((await pub.task(folder)).id);
    for (const folder of folders) {
      const [d, p] = [await dev.task(folder), await pub.task(folder)];
      assert.equal(d.id, uuidV5('flavor:dev', p.id), folder);
      assert.ok(!publicIds.has(d.id), `${folder}: the dev id ${d.id} is a public task's id`);
      assert.equal(d.friendlyName, `${p.friendlyName} (dev)`);
      assert.equal(d.name, p.name, 'the YAML name stays (qualify it with the extension when both are installed)');
      assert.deepEqual(d.version, p.version);
      // Nothing else differs, and the code is the same bytes.
      const rest = (t: Record<string, unknown>) => ({ ...t, id: '', friendlyName: '', inputs: '' });
      assert.deepEqual(rest(d), rest(p));
      assert.ok(
        (await dev.bytes(`build/tasks/${folder}/index.js`)).equals(await pub.bytes(`build/tasks/${folder}/index.js`)),
        '(await dev.bytes(`build/tasks/${folder}/index.js`)).equals(await pub.bytes(`build/tasks/${folder}/index.js`))',
      );
    }
  });

  it('derives the ids deterministically (the ids pipelines of the test organisation are bound to)', async () => {
    assert.equal((await dev.task('HerokuDeployV1')).id, flavorTaskId('9e93a109-a346-42eb-b588-68f14f8ae2c1', { name: 'dev' }));
    // The same as Python's uuid.uuid5(UUID('9e93a109-…'), 'flavor:dev').
    assert.equal(flavorTaskId('9e93a109-a346-42eb-b588-68f14f8ae2c1', { name: 'dev' }), '8f00d711-e643-5e91-aab0-ea87a8eb4131');
    // RFC 4122 UUID v5, checked against the well-known value for www.example.com in the DNS namespace.
    assert.equal(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('contributes its own service connection type, which its tasks ask for', async () => {
    const endpoint = (u: Unpacked) => u.contributions.find((c) => c.type === 'ms.vss-endpoint.service-endpoint-type');
    assert.equal(endpoint(pub)?.properties.name, 'heroku');
    assert.equal(endpoint(dev)?.properties.name, 'heroku-dev');
    assert.equal(endpoint(dev)?.properties.displayName, 'Heroku (dev)');
    for (const folder of sourceTaskFolders()) {
      const connection = (t: TaskJson) => t.inputs?.find((i) => i.name === 'herokuConnection')?.type;
      assert.equal(connection(await pub.task(folder)), 'connectedService:heroku');
      assert.equal(connection(await dev.task(folder)), 'connectedService:heroku-dev');
    }
    assert.deepEqual(
      dev.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task').map((c) => c.properties.name),
      pub.contributions.filter((c) => c.type === 'ms.vss-distributed-task.task').map((c) => c.properties.name),
    );
  });

  it('refuses arguments it does not know, and a publisher without a flavour', () => {
    assert.equal(parseFlavorArgs([]), undefined);
    assert.deepEqual(parseFlavorArgs(['--flavor=dev']), { name: 'dev' });
    assert.throws(() => parseFlavorArgs(['--flavour', 'dev']), /Unknown argument "--flavour"/);
    assert.throws(() => parseFlavorArgs(['--publisher', 'me']), /--publisher goes with --flavor/);
    assert.throws(() => parseFlavorArgs(['--flavor']), /--flavor needs a value/);
    assert.throws(() => parseFlavorArgs(['--flavor', 'Dev Copy']), /short lowercase name/);
  });
});
