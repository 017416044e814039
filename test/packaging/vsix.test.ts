// `npm run package` makes a small .vsix holding exactly the built tasks, and the task unpacked from
// it deploys to the emulator as the agent would run it: what ships is what is tested.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { manifestProblems, packagedPath } from '../../scripts/package';
import { runAgentTask } from '../support/agent';
import { pushOk, useEmulator } from '../support/emulator';
import { runCommand } from '../support/git';
import { TEST_CA } from '../support/tls-front';
import { BUILD_TASKS, ROOT, readManifest, sourceTaskFolders } from './manifest';

const MAX_BYTES = 500 * 1024;

/** Width and height from a PNG's IHDR chunk (fails unless it is a PNG). */
function pngSize(data: Buffer): { width: number; height: number } {
  assert.ok(
    data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    'not a PNG (bad signature)',
  );
  assert.equal(data.subarray(12, 16).toString('latin1'), 'IHDR', 'not a PNG (no IHDR chunk first)');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    out.push(path.relative(base, full).split(path.sep).join('/') + (entry.isDirectory() ? '/' : ''));
    if (entry.isDirectory()) out.push(...(await walk(full, base)));
  }
  return out.sort();
}

/** `npm run package`, asynchronously (the emulator serves from this process). */
function npmRunPackage(): ReturnType<typeof runCommand> {
  const npmCli = process.env.npm_execpath;
  return npmCli && /\.c?js$/.test(npmCli)
    ? runCommand(process.execPath, [npmCli, 'run', 'package'], { cwd: ROOT, timeoutMs: 120_000 })
    : runCommand(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'package'], { cwd: ROOT, timeoutMs: 120_000 });
}

describe('the .vsix (npm run package)', () => {
  const context = useEmulator();
  const manifest = readManifest();
  let vsix = '';
  let bytes = 0;
  let unpacked = '';
  let files: string[] = [];

  before(async function () {
    this.timeout(120_000);
    const packaged = await npmRunPackage();
    assert.equal(packaged.code, 0, `npm run package failed:\n${packaged.stdout}\n${packaged.stderr}`);
    const line = /packaged (\S+\.vsix) \(([\d.]+) KB, (\d+) bytes\)/.exec(packaged.stdout);
    assert.ok(line?.[1] && line[3], `npm run package printed no .vsix path and size:\n${packaged.stdout}`);
    vsix = path.resolve(ROOT, line[1]);
    bytes = Number(line[3]);
    unpacked = await context.scratch('vsix-');
    const unzip = await runCommand('unzip', ['-q', vsix, '-d', unpacked]);
    assert.equal(unzip.code, 0, `unzip failed: ${unzip.stderr}`);
    files = await walk(unpacked);
  });

  it('lands in dist/ as <publisher>.<id>-<version>.vsix, and the printed size is true', async () => {
    assert.equal(path.dirname(vsix), path.join(ROOT, 'dist'));
    assert.equal(path.basename(vsix), `${manifest.publisher}.${manifest.id}-${manifest.version}.vsix`);
    assert.equal((await fs.stat(vsix)).size, bytes);
    assert.deepEqual(
      (await fs.readdir(path.join(ROOT, 'dist'))).filter((f) => f.endsWith('.vsix')),
      [path.basename(vsix)],
    );
  });

  it(`is under ${MAX_BYTES / 1024} KB`, () => {
    assert.ok(bytes > 0 && bytes <= MAX_BYTES, `the .vsix is ${bytes} bytes`);
  });

  it('has the extension manifests naming this extension, and its Marketplace page', async () => {
    for (const file of ['extension.vsixmanifest', 'extension.vsomanifest', '[Content_Types].xml', 'overview.md'])
      assert.ok(files.includes(file), `${file} is missing: ${files.join(', ')}`);
    const vsixManifest = await fs.readFile(path.join(unpacked, 'extension.vsixmanifest'), 'utf8');
    const identity = /<Identity\b[^>]*>/.exec(vsixManifest)?.[0] ?? '';
    assert.match(identity, new RegExp(`Id="${manifest.id}"`));
    assert.match(identity, new RegExp(`Publisher="${manifest.publisher}"`));
    assert.match(identity, new RegExp(`Version="${manifest.version?.replace(/\./g, '\\.')}"`));
    assert.equal(
      await fs.readFile(path.join(unpacked, 'overview.md'), 'utf8'),
      await fs.readFile(path.join(ROOT, 'overview.md'), 'utf8'),
    );
  });

  it('ships every task folder, exactly as built, under the path its contribution names', async () => {
    const contributions = (
      JSON.parse(await fs.readFile(path.join(unpacked, 'extension.vsomanifest'), 'utf8')) as {
        contributions: Array<{ type: string; properties: { name: string } }>;
      }
    ).contributions;
    for (const folder of sourceTaskFolders()) {
      const where = packagedPath(manifest, folder);
      assert.ok(where, `${folder} is not in vss-extension.json's files`);
      assert.ok(
        contributions.some((c) => c.type === 'ms.vss-distributed-task.task' && c.properties.name === where),
        `no task contribution names ${where}`,
      );
      const shipped = files.filter((f) => f.startsWith(`${where}/`) && f !== `${where}/`).map((f) => f.slice(where.length + 1));
      assert.deepEqual(shipped, await walk(path.join(BUILD_TASKS, folder)));
      for (const file of ['task.json', 'icon.png', 'index.js']) assert.ok(shipped.includes(file), `${where}/${file} is missing`);
      for (const file of shipped) {
        assert.ok(
          (await fs.readFile(path.join(unpacked, where, file))).equals(await fs.readFile(path.join(BUILD_TASKS, folder, file))),
          `${where}/${file} differs from build/tasks/${folder}/${file}`,
        );
      }
      assert.deepEqual(
        pngSize(await fs.readFile(path.join(unpacked, where, 'icon.png'))),
        { width: 32, height: 32 },
        `${where}/icon.png`,
      );
    }
  });

  it('has the 128x128 extension icon', async () => {
    assert.deepEqual(pngSize(await fs.readFile(path.join(unpacked, 'images', 'extension-icon.png'))), {
      width: 128,
      height: 128,
    });
  });

  it('holds no node_modules, sources or maps', () => {
    assert.deepEqual(
      files.filter((f) => /(^|\/)node_modules\//.test(f)),
      [],
    );
    assert.deepEqual(
      files.filter((f) => /\.(ts|map)$/.test(f)),
      [],
    );
  });

  it('the task unpacked from it deploys to Heroku (the emulator) as the agent runs it', async function () {
    this.timeout(120_000);
    const folder = packagedPath(manifest, 'HerokuDeployV1');
    assert.ok(folder, 'folder');
    const app = context.name('vsix');
    await context.heroku.createApp(app);
    const repo = await context.repo();
    const sha = await repo.head();
    const run = await runAgentTask({
      task: path.join(unpacked, folder),
      inputs: { appName: app, apiKey: context.heroku.apiKey },
      variables: {
        HEROKU_API_URL: context.heroku.apiUrl,
        HEROKU_GIT_URL: context.heroku.gitUrl,
        'Build.SourceBranch': 'refs/heads/main',
        'Build.SourceVersion': sha,
      },
      cwd: repo.dir,
    });
    const transcript = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.code, 0, transcript);
    assert.equal(run.result, 'Succeeded', transcript);
    const released = run.log.split('\n').find((l) => l.startsWith('Released v'));
    assert.ok(released, `no line starting "Released v":\n${run.log}`);
    const version = /^Released v(\d+) of (\S+)/.exec(released);
    assert.equal(version?.[2], app);
    assert.equal(run.outputs.releaseVersion, version?.[1]);
    assert.equal(run.outputs.commit, sha);
    assert.ok(run.secrets.includes(context.heroku.apiKey), 'the API key was not registered as a secret');
    // What a person reads (task-lib's own debug lines echo inputs; the agent masks a secret variable's value there).
    assert.ok(!`${run.printed}\n${run.stderr}`.includes(context.heroku.apiKey), 'the API key appears in the log');
  });

  it('the rollback task unpacked from it rolls an app back as the agent runs it', async function () {
    this.timeout(120_000);
    const folder = packagedPath(manifest, 'HerokuRollbackV1');
    assert.ok(folder, 'folder');
    const app = context.name('vsix-rb');
    await context.heroku.createApp(app);
    const repo = await context.repo();
    const first = await repo.head();
    await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
    await repo.commit('Second');
    await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
    const run = await runAgentTask({
      task: path.join(unpacked, folder),
      inputs: { appName: app, apiKey: context.heroku.apiKey },
      variables: { HEROKU_API_URL: context.heroku.apiUrl },
      cwd: repo.dir,
    });
    assert.equal(run.result, 'Succeeded', `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(run.outputs, { releaseVersion: '5', commit: first, rolledBackFrom: '4' });
    assert.ok(!`${run.printed}\n${run.stderr}`.includes(context.heroku.apiKey), 'the API key appears in the log');
  });

  it('HerokuRun@1 unpacked from it runs a command in a one-off dyno and reports its exit code', async function () {
    this.timeout(120_000);
    const folder = packagedPath(manifest, 'HerokuRunV1');
    assert.ok(folder, 'HerokuRunV1 is in the .vsix');
    const app = context.name('vsix-run');
    await context.heroku.createApp(app);
    await pushOk(await context.repo(), context.gitUrl(app), context.heroku.apiKey);
    const run = await runAgentTask({
      task: path.join(unpacked, folder),
      inputs: { appName: app, apiKey: context.heroku.apiKey, command: `node -e "console.log('from the vsix'); process.exit(4)"` },
      variables: { HEROKU_API_URL: context.heroku.apiUrl, 'Agent.CAInfo': TEST_CA },
    });
    const transcript = `${run.stdout}\n${run.stderr}`;
    assert.equal(run.result, 'Failed', transcript);
    assert.equal(run.outputs.exitCode, '4', transcript);
    assert.match(run.log, /^from the vsix$/m);
  });

  describe('the manifest check of npm run package', () => {
    it('passes for vss-extension.json and the built tasks', () => {
      assert.deepEqual(manifestProblems(manifest, sourceTaskFolders()), []);
    });

    it('fails, naming the folder, when a built task is missing from files or contributions', () => {
      const noFile = { ...manifest, files: (manifest.files ?? []).filter((f) => !f.path?.includes('HerokuDeployV1')) };
      assert.match(
        manifestProblems(noFile, ['HerokuDeployV1']).join('\n'),
        /build\/tasks\/HerokuDeployV1 is built but not in vss-extension\.json's "files"/,
      );
      const noContribution = {
        ...manifest,
        contributions: (manifest.contributions ?? []).filter((c) => c.type !== 'ms.vss-distributed-task.task'),
      };
      assert.match(
        manifestProblems(noContribution, ['HerokuDeployV1']).join('\n'),
        /no "ms\.vss-distributed-task\.task" contribution/,
      );
      assert.match(
        manifestProblems(manifest, ['HerokuDeployV1', 'HerokuNotShippedV1']).join('\n'),
        /HerokuNotShippedV1 is built but not in/,
      );
      assert.match(
        manifestProblems(manifest, []).join('\n'),
        /names "build\/tasks\/HerokuDeployV1", which is no built task folder/,
      );
    });

    it('follows packagePath and parent folders', () => {
      const moved = {
        files: [{ path: 'build/tasks', packagePath: 'tasks' }],
        contributions: [{ id: 't', type: 'ms.vss-distributed-task.task', properties: { name: 'tasks/HerokuDeployV1' } }],
      };
      assert.equal(packagedPath(moved, 'HerokuDeployV1'), 'tasks/HerokuDeployV1');
      assert.deepEqual(manifestProblems(moved, ['HerokuDeployV1']), []);
    });
  });
});
