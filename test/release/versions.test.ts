// Versions: a task whose build differs from the last recorded release (releases.json) must have a
// higher version, and so must the extension; CHANGELOG.md has an entry for every current task
// version; `npm run version` raises them, a major version in a new folder beside the old one.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { manifestProblems, type ExtensionManifest } from '../../scripts/package';
import {
  bundleHash,
  builtTasks,
  bumpVersions,
  changelogProblems,
  extensionVersion,
  PLACEHOLDER,
  readReleases,
  releaseProblems,
  type Release,
  type TaskBuild,
} from '../../scripts/versions';
import { runCommand } from '../support/git';
import { ROOT } from '../packaging/manifest';

const deploy = (version: string, bundle = 'sha256:aaa'): TaskBuild => ({
  folder: 'HerokuDeployV1',
  name: 'HerokuDeploy',
  version,
  bundle,
});
const promote = (version: string, bundle = 'sha256:bbb'): TaskBuild => ({
  folder: 'HerokuPromoteV1',
  name: 'HerokuPromote',
  version,
  bundle,
});
const released: Release = {
  extension: '1.0.0',
  tasks: {
    HerokuDeployV1: { name: 'HerokuDeploy', version: '1.1.0', bundle: 'sha256:aaa' },
    HerokuPromoteV1: { name: 'HerokuPromote', version: '1.0.0', bundle: 'sha256:bbb' },
  },
};

describe('versions and releases', function () {
  this.timeout(120_000);

  describe('this repository', () => {
    it('every task built now is the last recorded release, or has a higher version (as has the extension)', async () => {
      const releases = await readReleases(ROOT);
      assert.ok(releases.length >= 1, 'releases.json records no release: npm run release -- record');
      assert.deepEqual(releaseProblems(await builtTasks(ROOT), await extensionVersion(ROOT), releases.at(-1)), []);
    });

    it('CHANGELOG.md has an entry for the current version of every task', async () => {
      const changelog = await fs.readFile(path.join(ROOT, 'CHANGELOG.md'), 'utf8');
      assert.deepEqual(changelogProblems(changelog, await builtTasks(ROOT)), []);
    });
  });

  describe('the release check (negative controls)', () => {
    it('passes the build that was released, and a changed build with higher task and extension versions', () => {
      assert.deepEqual(releaseProblems([deploy('1.1.0'), promote('1.0.0')], '1.0.0', released), []);
      assert.deepEqual(releaseProblems([deploy('1.1.1', 'sha256:new'), promote('1.0.0')], '1.0.1', released), []);
      assert.deepEqual(releaseProblems([deploy('1.1.0', 'sha256:new')], '1.0.0', undefined), [], 'nothing recorded yet');
    });

    it('fails a task whose build changed under the released version, naming it and the command', () => {
      assert.deepEqual(releaseProblems([deploy('1.1.0', 'sha256:new'), promote('1.0.0')], '1.0.1', released), [
        'HerokuDeployV1 differs from its build released as HerokuDeploy 1.1.0 in v1.0.0, but its version is still 1.1.0: agents that ran 1.1.0 keep their cached copy and never get this change. Run npm run version -- HerokuDeployV1 patch (or minor).',
      ]);
    });

    it('fails a task bump without an extension bump, a lower version, and a removed folder', () => {
      assert.match(
        releaseProblems([deploy('1.1.1', 'sha256:new'), promote('1.0.0')], '1.0.0', released).join('\n'),
        /still says 1\.0\.0/,
      );
      assert.match(releaseProblems([deploy('1.0.9'), promote('1.0.0')], '1.0.1', released).join('\n'), /lower than 1\.1\.0/);
      assert.match(
        releaseProblems([deploy('1.1.0')], '1.0.1', released).join('\n'),
        /HerokuPromoteV1 was released in v1\.0\.0 and is gone/,
      );
      const v2: TaskBuild = { folder: 'HerokuDeployV2', name: 'HerokuDeploy', version: '2.0.0', bundle: 'sha256:ccc' };
      assert.match(releaseProblems([deploy('1.1.0'), v2, promote('1.0.0')], '1.0.0', released).join('\n'), /still says 1\.0\.0/);
      assert.deepEqual(releaseProblems([deploy('1.1.0'), v2, promote('1.0.0')], '1.1.0', released), []);
    });

    it('fails a task version without a CHANGELOG.md entry, or with the placeholder', () => {
      const changelog = `# Changelog\n\n## HerokuDeploy\n\n### 1.1.1\n\n${PLACEHOLDER}\n\n### 1.1.0\n\n- Safe deploys.\n`;
      assert.deepEqual(changelogProblems(changelog, [deploy('1.1.0')]), []);
      assert.deepEqual(changelogProblems(changelog, [deploy('1.1.1')]), [
        'CHANGELOG.md: say what changed in HerokuDeploy 1.1.1 (the entry is empty or still the placeholder).',
      ]);
      assert.deepEqual(changelogProblems(changelog, [promote('1.0.0')]), [
        'CHANGELOG.md has no entry for HerokuPromote 1.0.0 (HerokuPromoteV1): add "### 1.0.0" and what changed under "## HerokuPromote".',
      ]);
    });

    it('hashes a built folder by every file, leaving out only the task version', async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bundle-'));
      try {
        const task = (version: number, label: string) =>
          JSON.stringify({ id: 'x', label, version: { Major: 1, Minor: version, Patch: 0 } });
        await fs.writeFile(path.join(dir, 'index.js'), 'console.log(1)');
        await fs.writeFile(path.join(dir, 'task.json'), task(0, 'a'));
        const first = await bundleHash(dir);
        await fs.writeFile(path.join(dir, 'task.json'), task(1, 'a'));
        assert.equal(await bundleHash(dir), first, 'a version bump alone is no change');
        await fs.writeFile(path.join(dir, 'task.json'), task(1, 'b'));
        assert.notEqual(await bundleHash(dir), first, 'a changed label is a change');
        await fs.writeFile(path.join(dir, 'task.json'), task(0, 'a'));
        await fs.writeFile(path.join(dir, 'index.js'), 'console.log(2)');
        assert.notEqual(await bundleHash(dir), first, 'a changed bundle is a change');
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('npm run version (on a copy of the repository)', () => {
    let copy = '';
    const read = (file: string) => fs.readFile(path.join(copy, file), 'utf8');
    const json = async <T>(file: string) => JSON.parse(await read(file)) as T;
    type Task = { id: string; version: { Major: number; Minor: number; Patch: number } };

    beforeEach(async () => {
      copy = await fs.mkdtemp(path.join(os.tmpdir(), 'version-'));
      for (const entry of ['tasks', 'vss-extension.json', 'CHANGELOG.md'])
        await fs.cp(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    });
    afterEach(() => fs.rm(copy, { recursive: true, force: true }));

    it('patch: the task, the extension and a CHANGELOG entry; the rest of each file as it was', async () => {
      const before = { task: await json<Task>('tasks/HerokuDeployV1/task.json'), extension: await extensionVersion(copy) };
      const text = await read('tasks/HerokuDeployV1/task.json');
      await bumpVersions(copy, 'HerokuDeploy', 'patch', 'Retries a dropped push');
      const after = await json<Task>('tasks/HerokuDeployV1/task.json');
      assert.deepEqual(after.version, { ...before.task.version, Patch: before.task.version.Patch + 1 });
      assert.equal(
        await extensionVersion(copy),
        before.extension.replace(/\d+$/, (p) => String(Number(p) + 1)),
      );
      assert.equal((await read('tasks/HerokuDeployV1/task.json')).replace(/"Patch": \d+/, ''), text.replace(/"Patch": \d+/, ''));
      const version = `${after.version.Major}.${after.version.Minor}.${after.version.Patch}`;
      const changelog = await read('CHANGELOG.md');
      assert.match(
        changelog,
        new RegExp(`## HerokuDeploy\\n\\n### ${version.replace(/\./g, '\\.')}\\n\\n- Retries a dropped push\\n`),
      );
      assert.deepEqual(changelogProblems(changelog, [{ folder: 'HerokuDeployV1', name: 'HerokuDeploy', version }]), []);
    });

    it('all minor: every task once, and the entries wait for their text', async () => {
      const { bumps, extension } = await bumpVersions(copy, 'all', 'minor');
      assert.deepEqual(
        bumps.map((b) => `${b.folder} ${b.to}`),
        [
          `HerokuCliV1 ${bumps[0]?.to}`,
          `HerokuDeployV1 ${bumps[1]?.to}`,
          `HerokuPromoteV1 ${bumps[2]?.to}`,
          `HerokuRollbackV1 ${bumps[3]?.to}`,
          `HerokuRunV1 ${bumps[4]?.to}`,
        ],
      );
      assert.ok(
        bumps.every((b) => /^\d+\.\d+\.0$/.test(b.to) && b.to !== b.from),
        'bumps.every((b) => /^\\d+\\.\\d+\\.0$/.test(b.to) && b.to !== b.from)',
      );
      assert.match(extension, /^\d+\.\d+\.0$/);
      assert.equal(
        changelogProblems(
          await read('CHANGELOG.md'),
          bumps.map((b) => ({ ...b, version: b.to })),
        ).length,
        bumps.length,
        'placeholders are refused',
      );
    });

    it('major: tasks/<Name>V2 beside V1, the same task id, shipped by the manifest; V1 untouched', async () => {
      const v1 = await read('tasks/HerokuDeployV1/task.json');
      const { bumps, extension } = await bumpVersions(copy, 'HerokuDeploy', 'major', 'Deploys with the Build API');
      assert.deepEqual(
        bumps.map((b) => [b.folder, b.to, b.created]),
        [['HerokuDeployV2', '2.0.0', 'HerokuDeployV2']],
      );
      assert.equal(await read('tasks/HerokuDeployV1/task.json'), v1);
      const v2 = await json<Task>('tasks/HerokuDeployV2/task.json');
      assert.equal(v2.id, (JSON.parse(v1) as Task).id, 'a new major keeps the task id (the convention)');
      assert.deepEqual(v2.version, { Major: 2, Minor: 0, Patch: 0 });
      assert.deepEqual(
        (await fs.readdir(path.join(copy, 'tasks/HerokuDeployV2'))).sort(),
        (await fs.readdir(path.join(ROOT, 'tasks/HerokuDeployV1'))).sort(),
      );
      const manifest = await json<ExtensionManifest>('vss-extension.json');
      assert.equal(manifest.version, extension);
      assert.deepEqual(
        manifestProblems(manifest, [
          'HerokuCliV1',
          'HerokuDeployV1',
          'HerokuDeployV2',
          'HerokuPromoteV1',
          'HerokuRollbackV1',
          'HerokuRunV1',
        ]),
        [],
      );
      assert.ok(
        manifest.contributions?.some((c) => c.id === 'heroku-deploy-v2-task'),
        "manifest.contributions?.some((c) => c.id === 'heroku-deploy-v2-task')",
      );
      const { Major, Minor, Patch } = (JSON.parse(v1) as Task).version;
      assert.ok(
        (await read('CHANGELOG.md')).includes(
          `## HerokuDeploy\n\n### 2.0.0\n\n- Deploys with the Build API\n\n### ${Major}.${Minor}.${Patch}\n`,
        ),
        'the 2.0.0 entry goes first in the HerokuDeploy section',
      );
    });

    it('refuses what it does not know, saying what it takes', async () => {
      await assert.rejects(
        bumpVersions(copy, 'HerokuNoSuchTask', 'patch'),
        /No task "HerokuNoSuchTask": give all, a task name or a folder/,
      );
      const run = await runCommand(process.execPath, ['--import', 'tsx', 'scripts/version.ts', 'HerokuDeploy', 'huge'], {
        cwd: ROOT,
      });
      assert.equal(run.code, 1);
      assert.match(run.stderr, /Usage: npm run version -- <task\|all> <major\|minor\|patch>/);
    });
  });
});
