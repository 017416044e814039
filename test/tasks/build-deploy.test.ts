// HerokuDeploy@1 with deployMethod: build, run as the agent runs it against the local Heroku: a
// monorepo's folders deployed from a depth-1 clone with no origin access, each app getting only its
// folder; what packageFrom ships; refused folders; build and release-phase failures; a dropped
// output stream; a corrupted upload; the build lock; cancel; health check and rollback; Fir; the
// switch between methods; and no credential anywhere near the storage URLs.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { basicCredentials } from '../../tasks/common/core/git/push';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import { Repo, makeRepo, runCommand, gitEnv, tempDir } from '../support/git';
import type { AgentResult } from '../support/agent';

const server = (name: string, health = 200): string =>
  `const http = require('node:http');
http.createServer((req, res) => {
  res.writeHead(req.url === '/health' ? ${health} : 200, { 'Content-Type': 'text/plain' });
  res.end(req.url === '/health' ? 'health\\n' : '${name}\\n');
}).listen(Number(process.env.PORT || 5000));
`;
const pkg = (name: string, scripts: Record<string, string> = {}): string =>
  JSON.stringify({ name, version: '1.0.0', scripts: { start: 'node server.js', ...scripts } });

/** A monorepo: two services, shared files at the root (nothing a buildpack detects there). */
async function monorepo(): Promise<Repo> {
  return makeRepo({
    files: {
      'README.md': '# Monorepo\n',
      'shared/config.json': '{"shared": true}\n',
      'services/api/package.json': pkg('api'),
      'services/api/server.js': server('api'),
      'services/api/Procfile': 'web: node server.js\n',
      'services/web/package.json': pkg('web'),
      'services/web/server.js': server('web'),
      'services/web/Procfile': 'web: node server.js\n',
    },
    message: 'Two services',
  });
}

/** A depth-1 clone of `repo` whose origin cannot be reached (as a fetchDepth: 1 checkout without its token). */
async function shallowClone(repo: Repo): Promise<Repo> {
  const dir = await tempDir('shallow-');
  const cloned = await runCommand('git', ['clone', '--quiet', '--depth', '1', `file://${repo.dir}`, dir], {
    cwd: repo.dir,
    env: gitEnv(),
  });
  assert.equal(cloned.code, 0, cloned.stderr);
  const clone = new Repo(dir);
  await clone.git('remote', 'set-url', 'origin', 'http://127.0.0.1:9/unreachable.git');
  await clone.git('checkout', '--quiet', '--detach');
  return clone;
}

/** The Build API's temp folders (`heroku-source-*`) left in the agent's temp folder (the build summary is written there too). */
async function sourceFolders(agentTemp: string): Promise<string[]> {
  return (await fs.readdir(agentTemp)).filter((name) => name.startsWith('heroku-source-'));
}

describe('HerokuDeploy@1 deployMethod: build (Build API)', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

  const build = (appDirectory: string, extra: Record<string, string> = {}): Record<string, string> => ({
    deployMethod: 'build',
    appDirectory,
    ...extra,
  });

  /** The files of the slug the app's current release runs, relative to its root. */
  async function slugFiles(app: string): Promise<string[]> {
    const { state } = fx.heroku;
    const current = state.currentRelease(fx.heroku.app(app));
    const artifact = current ? state.releaseArtifact(current) : null;
    assert.ok(artifact, 'the app runs a release with code');
    const entries = await fs.readdir(artifact.dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => !e.isDirectory())
      .map((e) => path.relative(artifact.dir, path.join(e.parentPath, e.name)))
      .sort();
  }

  function assertNoCredentialToStorage(result: AgentResult, before: number): void {
    const key = fx.heroku.apiKey;
    const requests = fx.heroku.state.storageRequests.slice(before);
    const puts = requests.filter((r) => r.method === 'PUT');
    assert.ok(puts.length > 0, 'the tarball was uploaded');
    for (const put of puts) assert.equal(put.headers['content-type'], '', "an empty Content-Type, as Heroku's CLI sends");
    for (const request of requests) {
      assert.equal(request.headers.authorization, undefined, `no Authorization header on ${request.method} ${request.url}`);
      assert.ok(!JSON.stringify(request).includes(key), 'the key is not in a storage request');
      assert.ok(!JSON.stringify(request).includes(basicCredentials(key)), 'nor its Basic form');
    }
    assert.ok(result.secrets.includes(key), 'the key is registered as a secret');
    assert.ok(!`${result.printed}\n${result.stderr}`.includes(key), 'the key is not in the log');
  }

  it('deploys each service of a depth-1 monorepo clone (no origin access) to its own app, each getting only its folder', async () => {
    const repo = await monorepo();
    const clone = await shallowClone(repo);
    const sha = await clone.head();
    const [api, web] = [await fx.newApp('mono-api'), await fx.newApp('mono-web')];
    const tmp = await tempDir('agent-tmp-');
    const before = fx.heroku.state.storageRequests.length;

    const first = await fx.deploy(api, clone, { inputs: build('services/api'), variables: { 'Agent.TempDirectory': tmp } });
    assert.equal(first.result, 'Succeeded', describeRun(first));
    const second = await fx.deploy(web, clone, { inputs: build('services/web'), variables: { 'Agent.TempDirectory': tmp } });
    assert.equal(second.result, 'Succeeded', describeRun(second));

    assert.deepEqual(await slugFiles(api), ['Procfile', 'package.json', 'server.js'], 'only the api folder, at the root');
    assert.deepEqual(await slugFiles(web), ['Procfile', 'package.json', 'server.js'], 'only the web folder, at the root');
    assert.equal((await fx.fetchApp(api)).text, 'api\n');
    assert.equal((await fx.fetchApp(web)).text, 'web\n');

    const latest = (await fx.releases(api)).at(-1)!;
    assert.equal(await fx.slugCommit(api, latest.slug!.id), sha, 'the slug commit is the deployed SHA');
    assert.equal(first.outputs.commit, sha);
    assert.equal(first.outputs.releaseVersion, String(latest.version));
    assert.equal(first.outputs.previousReleaseVersion, '2');
    const heroku = fx.heroku.app(api);
    const made = heroku.builds.at(-1)!;
    assert.equal(made.sourceBlob.version, sha);
    assert.equal(made.sourceBlob.version_description, 'Two services');
    assert.match(made.sourceBlob.checksum ?? '', /^SHA256:[0-9a-f]{64}$/);

    assert.match(first.log, /Packed services\/api \(files of the commit\): 3 files, [\d.]+ (KB|bytes) gzipped/);
    assert.match(first.stdout, /##\[group\]Heroku build of [0-9a-f]{8}: services\/api/);
    assert.match(first.log, /-----> Node\.js app detected/, 'the build output is streamed');
    const summary = await fs.readFile(first.summaries[0]!, 'utf8');
    assert.match(summary, /\| Method \| Build API: services\/api \(files of the commit\) \|/);
    // No history was fetched and nothing was pushed: git only read the checkout.
    assert.ok(!first.gitCommands.some((c) => /^git (push|fetch|ls-remote)/.test(c)), first.gitCommands.join('\n'));
    assert.equal(
      (await runCommand('git', ['rev-parse', '--is-shallow-repository'], { cwd: clone.dir, env: gitEnv() })).stdout.trim(),
      'true',
    );
    assertNoCredentialToStorage(second, before);
    assert.deepEqual(await sourceFolders(tmp), [], 'the tarball and its folder are deleted');
  });

  it('ships an untracked build output with packageFrom: directory, and not with commit', async () => {
    const repo = await monorepo();
    await fs.mkdir(path.join(repo.dir, 'services/api/dist'), { recursive: true });
    await fs.writeFile(path.join(repo.dir, 'services/api/dist/bundle.js'), '// built by the pipeline\n');
    await fs.writeFile(path.join(repo.dir, 'services/api/.git'), 'gitdir: ../../.git/modules/api\n');
    const [fromDisk, fromCommit] = [await fx.newApp('disk'), await fx.newApp('commit')];

    const disk = await fx.deploy(fromDisk, repo, { inputs: build('services/api', { packageFrom: 'directory' }) });
    assert.equal(disk.result, 'Succeeded', describeRun(disk));
    assert.deepEqual(await slugFiles(fromDisk), ['Procfile', 'dist/bundle.js', 'package.json', 'server.js'], 'no .git');
    assert.match(disk.log, /Packed services\/api \(folder on disk\): 4 files/);

    const commit = await fx.deploy(fromCommit, repo, { inputs: build('services/api') });
    assert.equal(commit.result, 'Succeeded', describeRun(commit));
    assert.deepEqual(await slugFiles(fromCommit), ['Procfile', 'package.json', 'server.js'], 'untracked files never ship');
  });

  it('refuses a folder outside the checkout (.., a symlink out) and a missing one before any call to Heroku', async () => {
    const repo = await monorepo();
    const outside = await tempDir('outside-');
    await fs.writeFile(path.join(outside, 'package.json'), pkg('outside'));
    await fs.symlink(outside, path.join(repo.dir, 'escape'));
    const app = await fx.newApp('refuse');
    const releases = (await fx.releases(app)).length;
    const calls = fx.heroku.api.requests.length;

    const dotdot = await fx.deploy(app, repo, { inputs: build('services/../..') });
    assert.equal(dotdot.result, 'Failed', describeRun(dotdot));
    assert.match(dotdot.message, /appDirectory "services\/\.\.\/\.\." leaves the checkout/);

    const link = await fx.deploy(app, repo, { inputs: build('escape', { packageFrom: 'directory' }) });
    assert.equal(link.result, 'Failed', describeRun(link));
    assert.match(link.message, /appDirectory escape leads outside the checkout \(a symbolic link to /);

    const missing = await fx.deploy(app, repo, { inputs: build('services/nope') });
    assert.equal(missing.result, 'Failed', describeRun(missing));
    assert.match(missing.message, /appDirectory services\/nope does not exist in commit [0-9a-f]{8}/);

    const gitOnly = await fx.deploy(app, repo, { inputs: { appDirectory: 'services/api' } });
    assert.equal(gitOnly.result, 'Failed', describeRun(gitOnly));
    assert.match(gitOnly.message, /only applies to `deployMethod: build`.*Set `deployMethod: build`/);

    const ref = await fx.deploy(app, repo, { inputs: build('services/api', { ref: 'main' }) });
    assert.match(ref.message, /The input ref \("main"\) only applies to `deployMethod: git`/);

    assert.equal(fx.heroku.api.requests.length, calls, 'no API call was made');
    assert.equal((await fx.releases(app)).length, releases, 'nothing changed on the app');
    for (const run of [dotdot, link, missing, gitOnly, ref])
      assert.ok(!run.stdout.includes('Deploying as '), 'no API call was made');
  });

  it('warns when the folder has nothing a buildpack detects, and fails the build quoting its last lines', async () => {
    const repo = await monorepo();
    const app = await fx.newApp('nodetect');
    const result = await fx.deploy(app, repo, { inputs: build('shared') });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.ok(
      result.warnings.some((w) => /appDirectory shared has no Procfile/.test(w)),
      result.warnings.join('\n'),
    );
    assert.match(
      result.message,
      /Heroku's build of [0-9a-f]{8} failed, so nothing was released .* Its last lines: .*Push failed/,
    );
    assert.equal(fx.heroku.state.currentRelease(fx.heroku.app(app))?.version, 2, 'the previous release is still live');
  });

  it('fails on a failed build with the previous release still live', async () => {
    const repo = await monorepo();
    const app = await fx.newApp('buildfail');
    const ok = await fx.deploy(app, repo, { inputs: build('services/api') });
    assert.equal(ok.result, 'Succeeded', describeRun(ok));
    fx.heroku.faults.failNextBuild('Error: tsc found 3 errors (emulated)');
    await repo.commit('Break it', { 'services/api/change.txt': 'x\n' });
    const tmp = await tempDir('agent-tmp-');
    const failed = await fx.deploy(app, repo, {
      inputs: build('services/api', { maintenanceMode: 'true' }),
      variables: { 'Agent.TempDirectory': tmp },
    });
    assert.deepEqual(await sourceFolders(tmp), [], 'the tarball is deleted after a failure too');
    assert.equal(failed.result, 'Failed', describeRun(failed));
    assert.match(failed.message, /Its last lines: .*Push rejected, failed to compile Node\.js app\./);
    assert.match(failed.log, /Error: tsc found 3 errors \(emulated\)/);
    assert.equal(fx.heroku.state.currentRelease(fx.heroku.app(app))?.version, 3, 'v3 is still live');
    assert.equal(fx.heroku.app(app).maintenance, false, 'maintenance mode was turned off again');
  });

  it('follows the release phase and fails when it fails, the previous release still live', async () => {
    const repo = await monorepo();
    await repo.commit('Release phase', { 'services/api/Procfile': 'web: node server.js\nrelease: echo migrating the api\n' });
    const app = await fx.newApp('relphase');
    fx.heroku.faults.failNextReleasePhase();
    const result = await fx.deploy(app, repo, { inputs: build('services/api') });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /The release phase of v3 failed/);
    assert.match(result.log, /migrating the api/);
    assert.equal(fx.heroku.state.currentRelease(fx.heroku.app(app))?.version, 2);
  });

  it('resumes a dropped build output stream with Range, printing no line twice', async () => {
    const repo = await monorepo();
    const app = await fx.newApp('drop');
    fx.heroku.faults.dropNextBuildStream(333);
    const result = await fx.deploy(app, repo, { inputs: build('services/api') });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    const output = fx.heroku.app(app).builds.at(-1)!.output.text();
    const start = result.stdout.indexOf('##[group]Heroku build of');
    const group = result.stdout.slice(start, result.stdout.indexOf('##[endgroup]', start)).split('\n').slice(1);
    const printed = group.map((line) => line.replace(/\r$/, '')).filter((line) => !line.startsWith('##'));
    if (printed.at(-1) === '') printed.pop();
    assert.deepEqual(printed, output.replace(/\n$/, '').split('\n'), 'every line once, in order, none cut');
    assert.ok(output.length > 333, 'the drop happened mid-stream');
    const made = fx.heroku.app(app).builds.at(-1)!;
    const reads = fx.heroku.state.storageRequests.filter((r) => r.url.includes(`/streams/builds/${made.id}`));
    assert.deepEqual(
      reads.map((r) => r.headers.range),
      [undefined, 'bytes=333-'],
      'read once, then resumed from the byte where it dropped',
    );
  });

  it('fails when the uploaded tarball does not match its checksum', async () => {
    const repo = await monorepo();
    const app = await fx.newApp('checksum');
    fx.heroku.faults.corruptNextSource();
    const result = await fx.deploy(app, repo, { inputs: build('services/api') });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /Checksum of the source \(SHA256:[0-9a-f]{64}\) does not match source_blob\.checksum/);
    assert.equal(fx.heroku.state.currentRelease(fx.heroku.app(app))?.version, 2);
  });

  it("fails with the git path's build-lock message when another build is running (409)", async () => {
    const repo = await monorepo();
    const app = await fx.newApp('lock');
    const hold = fx.heroku.faults.holdBuilds();
    const held = new Promise<void>((resolve) => (fx.heroku.faults.onBuildHeld = resolve));
    const racing = fx.deploy(app, repo, { inputs: build('services/api') });
    await held;
    const loser = await fx.deploy(app, repo, { inputs: build('services/web', { maintenanceMode: 'true' }) });
    hold.release();
    assert.equal(loser.result, 'Failed', describeRun(loser));
    assert.match(loser.message, /^Heroku refused the build: another build of .* is in progress\. Re-run when it has finished/);
    const winner = await racing;
    assert.equal(winner.result, 'Succeeded', describeRun(winner));
  });

  it('cancels the build on Heroku (DELETE) and undoes the temporary changes when the task is cancelled mid-build', async () => {
    const repo = await monorepo();
    const app = await fx.newApp('cancel');
    const hold = fx.heroku.faults.holdBuilds();
    let sent = false;
    let during: Promise<string[]> | undefined;
    const tmp = await tempDir('agent-tmp-');
    const result = await fx.deploy(app, repo, {
      variables: { 'Agent.TempDirectory': tmp },
      inputs: build('services/api', { maintenanceMode: 'true' }),
      onLine: (line, child) => {
        if (!sent && line.includes('##[group]Heroku build of')) {
          sent = true;
          during = sourceFolders(tmp);
          setTimeout(() => child.kill('SIGINT'), 200);
          setTimeout(() => child.kill('SIGTERM'), 5000).unref();
        }
      },
    });
    hold.release();
    assert.ok(sent, 'the build started');
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /cancelled/);
    assert.match(result.log, /Cancelled Heroku's build of [0-9a-f]{8}/);
    const made = fx.heroku.app(app).builds.at(-1)!;
    assert.equal(made.status, 'failed', 'the build was cancelled');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      (await fx.releases(app)).map((r) => r.version),
      [1, 2],
      'no release landed',
    );
    assert.equal(fx.heroku.app(app).maintenance, false, 'maintenance mode was turned off');
    assert.equal((await during)?.length, 1, "the tarball is written in the agent's temp folder");
    assert.deepEqual(await sourceFolders(tmp), [], 'the tarball is deleted after a cancel');
  });

  it('runs the health check after a build deploy and rolls back when it fails', async () => {
    const repo = await monorepo();
    const app = await fx.newApp('health');
    const inputs = build('services/api', { healthCheckUrl: '/health', healthCheckTimeout: '6', healthCheckInterval: '1' });
    const good = await fx.deploy(app, repo, { inputs, variables: { 'Agent.ProxyUrl': fx.heroku.proxyUrl } });
    assert.equal(good.result, 'Succeeded', describeRun(good));
    assert.equal(good.outputs.healthCheckStatus, '200');
    await repo.commit('Unhealthy', { 'services/api/server.js': server('api', 503) });
    const bad = await fx.deploy(app, repo, { inputs, variables: { 'Agent.ProxyUrl': fx.heroku.proxyUrl } });
    assert.equal(bad.result, 'Failed', describeRun(bad));
    assert.equal(bad.outputs.rolledBack, 'true');
    const current = fx.heroku.state.currentRelease(fx.heroku.app(app))!;
    assert.match(current.description, /^Rollback to v3/);
  });

  it('deploys to a Fir app, proving the commit through its OCI image', async () => {
    const repo = await monorepo();
    const app = `fir-${process.pid % 1000}-${Date.now() % 100000}`;
    await fx.heroku.createApp(app, { generation: 'fir' });
    const result = await fx.deploy(app, repo, { inputs: build('services/web') });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    const release = fx.heroku.state.currentRelease(fx.heroku.app(app))!;
    assert.ok(release.ociImageId, 'the release runs an OCI image');
    assert.equal(fx.heroku.state.ociImages.get(release.ociImageId)?.commit, await repo.head());
    assert.equal((await fx.fetchApp(app)).text, 'web\n');
  });

  it('switches methods on one app both ways: git, then build, then git again', async () => {
    const repo = await makeRepo({
      files: { 'package.json': pkg('single'), 'server.js': server('one'), Procfile: 'web: node server.js\n' },
    });
    await repo.git('checkout', '--quiet', '--detach');
    const app = await fx.newApp('switch');
    const pushed = await fx.deploy(app, repo);
    assert.equal(pushed.result, 'Succeeded', describeRun(pushed));

    const second = await repo.commit('Two', { 'server.js': server('two') });
    const built = await fx.deploy(app, repo, { inputs: { deployMethod: 'build' } });
    assert.equal(built.result, 'Succeeded', describeRun(built));
    assert.equal((await fx.fetchApp(app)).text, 'two\n');
    // A Build API deploy leaves Heroku's git repository as it was (one commit behind).
    const herokuHead = await runCommand('git', ['rev-parse', 'main'], { cwd: fx.heroku.app(app).repoDir, env: gitEnv() });
    assert.notEqual(herokuHead.stdout.trim(), second);

    await repo.commit('Three', { 'server.js': server('three') });
    const again = await fx.deploy(app, repo);
    assert.equal(again.result, 'Succeeded', describeRun(again));
    assert.equal((await fx.fetchApp(app)).text, 'three\n');
  });

  it('switches methods the other way: build first (no Heroku git history), then a git push', async () => {
    const repo = await makeRepo({
      files: { 'package.json': pkg('single'), 'server.js': server('one'), Procfile: 'web: node server.js\n' },
    });
    await repo.git('checkout', '--quiet', '--detach');
    const app = await fx.newApp('switch2');
    const built = await fx.deploy(app, repo, { inputs: { deployMethod: 'build' } });
    assert.equal(built.result, 'Succeeded', describeRun(built));
    await repo.commit('Two', { 'server.js': server('two') });
    const pushed = await fx.deploy(app, repo);
    assert.equal(pushed.result, 'Succeeded', describeRun(pushed));
    assert.equal((await fx.fetchApp(app)).text, 'two\n');
  });
});
