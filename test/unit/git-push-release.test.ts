// The git-push release strategy in-process, where the whole-deploy tests do not look: which git
// commands reach Heroku's git host and when, what the push logs, and each way the release after
// it is found, proven or refused.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import { deploy } from '../../tasks/common/core/deploy/deploy';
import type { DeployRequest } from '../../tasks/common/core/deploy/types';
import { HerokuApiError, type Release } from '../../tasks/common/core/heroku/api';
import { assertReleasePhaseFailed, connectTo, deployRequest, gitHost, heroku, release } from '../support/in-process-deploy';
import { FakeHost } from '../support/fake-host';
import { gitEnv, makeRepo, runCommand, tempDir, type Repo } from '../support/git';
import type { RecordingApi, Route } from '../support/recording-api';

/** The git commands `work` started itself (not their subprocesses), in order, from git's trace2 events. */
async function gitCommands<T>(work: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const trace = path.join(await tempDir('trace2-'), 'events.json');
  const before = process.env.GIT_TRACE2_EVENT;
  process.env.GIT_TRACE2_EVENT = trace;
  let result: T;
  try {
    result = await work();
  } finally {
    if (before === undefined) delete process.env.GIT_TRACE2_EVENT;
    else process.env.GIT_TRACE2_EVENT = before;
  }
  const events = (await fs.readFile(trace, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; name?: string; hierarchy?: string });
  const commands = events
    .filter((e) => e.event === 'cmd_name' && e.hierarchy !== undefined && !e.hierarchy.includes('/'))
    .map((e) => e.name ?? '');
  return { result, commands };
}

/** The commands that talk to Heroku's git host. */
const remote = (commands: string[]): string[] => commands.filter((c) => c === 'ls-remote' || c === 'push');

/**
 * Heroku for a commit released again: `before` is the release list until the task posts a release, which `made`
 * answers, and `after` is the list from then on.
 */
function rereleasing(before: Release[], after: Release[], slugs: Record<string, string>, made: Release): RecordingApi {
  let posted = false;
  return heroku(
    () => (posted ? after : before),
    slugs,
    (method, p) => {
      if (method !== 'POST' || p !== '/apps/my-app/releases') return undefined;
      posted = true;
      return made;
    },
  );
}

/** Heroku's answers with `builds` as the app's build list (the rest as heroku() gives them). */
const buildsListed =
  (builds: unknown[]): Route =>
  (method, p) =>
    method === 'GET' && p === '/apps/my-app/builds' ? builds : undefined;

describe('git push release in-process', () => {
  let current: RecordingApi;
  let repo: Repo;
  let gitUrl: string;
  let bare: string;
  beforeEach(async () => {
    connectTo(() => current);
    repo = await makeRepo({ files: { 'a.txt': '1' } });
    gitUrl = await gitHost('my-app');
    bare = path.join(gitUrl.slice('file://'.length), 'my-app.git');
  });
  afterEach(() => sinon.restore());

  const request = (more: Partial<DeployRequest> = {}): DeployRequest => deployRequest(repo.dir, gitUrl, more);
  /** Deploys with the current API and asserts that the release could not be verified, saying `message`. */
  const assertUnverified = async (message: RegExp, why: string): Promise<void> => {
    const outcome = await deploy(request(), new FakeHost().log);
    assert.ok(!outcome.ok, why);
    assert.equal(outcome.failure.kind, 'verification', `${why}: a verification failure`);
    assert.match(outcome.failure.message, message, why);
  };
  /** Pushes `ref` of `dir` to Heroku's main directly, as another deploy would have. */
  const seed = async (dir: string, ref = 'HEAD', force = false): Promise<void> => {
    const args = ['push', '--quiet', ...(force ? ['--force'] : []), `${gitUrl}/my-app.git`, `${ref}:refs/heads/main`];
    const pushed = await runCommand('git', args, { cwd: dir, env: gitEnv() });
    assert.equal(pushed.code, 0, pushed.stderr);
  };
  /** Heroku's git host prints `lines` on every push, as its build does (`remote: …`), and exits `code`. */
  const hook = async (name: 'pre-receive' | 'post-receive', lines: string[], code = 0): Promise<void> => {
    const file = path.join(bare, 'hooks', name);
    await fs.writeFile(file, `#!/bin/sh\n${lines.map((l) => `echo '${l}'`).join('\n')}\nexit ${code}\n`);
    await fs.chmod(file, 0o755);
  };
  const shallowClone = async (): Promise<string> => {
    const dir = path.join(await tempDir('shallow-'), 'checkout');
    const cloned = await runCommand('git', ['clone', '--quiet', '--depth', '1', `file://${repo.dir}`, dir], {
      cwd: repo.dir,
      env: gitEnv(),
    });
    assert.equal(cloned.code, 0, cloned.stderr);
    return dir;
  };

  it("pushes a full checkout at once, without reading Heroku's head; a shallow one reads it once, first", async () => {
    let sha = await repo.head();
    current = heroku(() => [release(2, { current: true })], { 'slug-2': sha });
    const full = await gitCommands(() => deploy(request(), new FakeHost().log));
    assert.ok(full.result.ok, full.result.ok ? '' : full.result.failure.message);
    assert.deepEqual(remote(full.commands), ['push']);

    // Heroku has the first commit; the shallow checkout has only the second, and fetches the first from origin.
    await repo.commit('Second', { 'a.txt': '2' });
    sha = await repo.head();
    const dir = await shallowClone();
    current = heroku(() => [release(3, { current: true }), release(2)], { 'slug-3': sha });
    const shallow = await gitCommands(() => deploy(request({ workingDirectory: dir }), new FakeHost().log));
    assert.ok(shallow.result.ok, shallow.result.ok ? '' : shallow.result.failure.message);
    assert.deepEqual(remote(shallow.commands), ['ls-remote', 'push']);
    assert.ok(shallow.commands.includes('fetch'), 'the missing history came from origin');
  });

  it("logs the push in a group named for the commit, with Heroku's output in it", async () => {
    const sha = await repo.head();
    await hook('post-receive', ['-----> Building on the Heroku-24 stack', '       Released v2']);
    current = heroku(() => [release(2, { current: true })], { 'slug-2': sha });
    const host = new FakeHost();
    const outcome = await deploy(request({ force: true }), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    const group = host.lines.indexOf(`[group] git push ${sha.slice(0, 8)} to my-app on Heroku (force)`);
    assert.ok(group >= 0, host.lines.join('\n'));
    const end = host.lines.indexOf('[endgroup]', group);
    const inGroup = host.lines.slice(group, end);
    assert.ok(
      inGroup.some((l) => l.includes('-----> Building on the Heroku-24 stack')),
      `Heroku's output is logged in the group:\n${inGroup.join('\n')}`,
    );

    await repo.commit('Second', { 'a.txt': '2' });
    current = heroku(() => [release(3, { current: true })], { 'slug-3': await repo.head() });
    const plain = new FakeHost();
    assert.ok((await deploy(request(), plain.log)).ok, '(await deploy(request(), plain.log)).ok');
    assert.ok(
      plain.lines.includes(`[group] git push ${(await repo.head()).slice(0, 8)} to my-app on Heroku`),
      'plain.lines.includes(`[group] git push ${(await repo.head()).slice(0, 8)} to my-app on Heroku`)',
    );
  });

  it('fails a push Heroku built nothing for ("skipping build"), saying nothing went live', async () => {
    await hook('post-receive', ['Pushed to non-master branch, skipping build.']);
    current = heroku(() => [release(2, { current: true })], {});
    const outcome = await deploy(request(), new FakeHost().log);
    assert.ok(!outcome.ok, '!outcome.ok');
    assert.equal(outcome.failure.kind, 'skipped');
    assert.match(outcome.failure.message, /built nothing \("skipping build"\).*Nothing went live on my-app\.$/);
  });

  it("names Heroku's head for a non-fast-forward refusal too, and reads it only for diverged history", async () => {
    // Heroku is one commit ahead of what is deployed, and this checkout knows that commit.
    const first = await repo.head();
    await repo.commit('Ahead', { 'a.txt': '2' });
    const ahead = await repo.head();
    await seed(repo.dir);
    const reset = await runCommand('git', ['reset', '--quiet', '--hard', first], { cwd: repo.dir, env: gitEnv() });
    assert.equal(reset.code, 0, reset.stderr);
    current = heroku(() => [release(3, { current: true })], {});
    const behind = await gitCommands(() => deploy(request(), new FakeHost().log));
    assert.ok(!behind.result.ok, '!behind.result.ok');
    assert.equal(behind.result.failure.kind, 'non-fast-forward');
    assert.match(
      behind.result.failure.message,
      new RegExp(`^Heroku's main branch of my-app \\(${ahead.slice(0, 8)}\\) has commits`),
    );
    assert.deepEqual(remote(behind.commands), ['push', 'ls-remote']);

    // A push refused for another reason (the build failed) reads nothing more.
    await repo.commit('Other', { 'a.txt': '3' });
    await seed(repo.dir, 'HEAD', true);
    await repo.commit('Broken', { 'a.txt': '4' });
    await hook('pre-receive', ['!     Push rejected, failed to compile Node.js app.'], 1);
    const rejected = await gitCommands(() => deploy(request(), new FakeHost().log));
    assert.ok(!rejected.result.ok, '!rejected.result.ok');
    assert.equal(rejected.result.failure.kind, 'build');
    assert.deepEqual(remote(rejected.commands), ['push']);
  });

  it("from a shallow checkout whose history diverged from Heroku's, reads Heroku's head once", async () => {
    const other = await makeRepo({ files: { 'b.txt': 'other' } });
    await seed(other.dir);
    const dir = await shallowClone();
    current = heroku(() => [release(2, { current: true })], {});
    const diverged = await gitCommands(() => deploy(request({ workingDirectory: dir }), new FakeHost().log));
    assert.ok(!diverged.result.ok, '!diverged.result.ok');
    assert.equal(diverged.result.failure.kind, 'non-fast-forward');
    assert.match(diverged.result.failure.message, new RegExp(`\\(${(await other.head()).slice(0, 8)}\\) has commits`));
    assert.deepEqual(remote(diverged.commands), ['ls-remote', 'push']);
  });

  it('reads the newest builds in one page, skips builds without a source, and explains a failed read', async () => {
    const sha = await repo.head();
    const builds = [
      { id: 'b-pending', status: 'pending' },
      { id: 'b-ours', status: 'succeeded', source_blob: { version: sha }, release: { id: 'rel-2' }, slug: { id: 'slug-2' } },
    ];
    current = heroku(
      () => [release(2, { current: true })],
      { 'slug-2': 'f'.repeat(40) },
      (method, p) => (method === 'GET' && p === '/apps/my-app/builds' ? builds : undefined),
    );
    const outcome = await deploy(request(), new FakeHost().log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.release.version, 2);
    assert.deepEqual(current.ranges['/apps/my-app/builds'], ['created_at ..; order=desc, max=10']);

    await repo.commit('Second', { 'a.txt': '2' });
    current = heroku(
      () => [release(3, { current: true })],
      {},
      (method, p) => (method === 'GET' && p === '/apps/my-app/builds' ? new Error('socket hang up') : undefined),
    );
    const failed = await deploy(request(), new FakeHost().log);
    assert.ok(!failed.ok, '!failed.ok');
    assert.match(failed.failure.message, /^Unexpected error while listing the builds of my-app: socket hang up/);
  });

  it('without a listed build, takes the newest release when it names the commit, and says so when none does', async () => {
    const sha = await repo.head();
    const noBuilds = (method: string, p: string): unknown => (method === 'GET' && p === '/apps/my-app/builds' ? [] : undefined);
    current = heroku(
      () => [release(4, { description: `Deploy ${sha.slice(0, 8)}` }), release(3, { current: true })],
      { 'slug-4': sha },
      noBuilds,
    );
    const found = await deploy(request(), new FakeHost().log);
    assert.ok(found.ok, found.ok ? '' : found.failure.message);
    assert.equal(found.result.release.version, 4);
    assert.equal(found.result.previous?.version, 3);

    await repo.commit('Second', { 'a.txt': '2' });
    current = heroku(() => [release(5, { description: 'Set FOO config vars' }), release(4)], { 'slug-4': sha }, noBuilds);
    const none = await deploy(request(), new FakeHost().log);
    assert.ok(!none.ok, '!none.ok');
    assert.equal(none.failure.kind, 'verification');
    assert.match(
      none.failure.message,
      /^The push to my-app succeeded but Heroku shows no release of its build\. Check `heroku builds -a my-app` and `heroku releases -a my-app`/,
    );
  });

  it("trusts the newest release's description only when no build is listed, and names a release that runs no code", async () => {
    // Heroku lists the commit's build, but without a release: the newest release naming the commit is not taken for it.
    const sha = await repo.head();
    current = heroku(
      () => [release(3, { current: true, description: `Deploy ${sha.slice(0, 8)}` })],
      { 'slug-3': sha },
      buildsListed([{ id: 'b', status: 'succeeded', source_blob: { version: sha }, release: null }]),
    );
    await assertUnverified(
      /^The push to my-app succeeded but Heroku shows no release of its build\./,
      'a build that made no release is not proven by a release that only names its commit',
    );

    // The build's release runs a slug that names no commit.
    await repo.commit('Second', { 'a.txt': '2' });
    const next = await repo.head();
    current = heroku(
      () => [release(4, { current: true })],
      {},
      buildsListed([{ id: 'b', status: 'succeeded', source_blob: { version: next }, release: { id: 'rel-4' } }]),
    );
    await assertUnverified(
      new RegExp(
        `^Heroku's release v4 runs commit \\(none\\), not the deployed ${next.slice(0, 8)}: another deploy may have raced this one\\.`,
      ),
      'a release that runs no commit is not the deployed one',
    );
  });

  it('reads the release of the build by id when it is not among the recent ones', async () => {
    const sha = await repo.head();
    current = heroku(
      () => [release(3, { current: true })],
      {},
      (method, p) => {
        if (method === 'GET' && p === '/apps/my-app/builds')
          return [
            { id: 'b', status: 'succeeded', source_blob: { version: sha }, release: { id: 'rel-9' }, slug: { id: 'slug-9' } },
          ];
        if (method === 'GET' && p === '/apps/my-app/releases/rel-9') return release(9);
        return undefined;
      },
    );
    const outcome = await deploy(request(), new FakeHost().log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.release.version, 9);
    assert.ok(
      current.calls.includes('GET /apps/my-app/releases/rel-9'),
      "current.calls.includes('GET /apps/my-app/releases/rel-9')",
    );

    await repo.commit('Second', { 'a.txt': '2' });
    const next = await repo.head();
    current = heroku(
      () => [release(3, { current: true })],
      {},
      (method, p) => {
        if (method === 'GET' && p === '/apps/my-app/builds')
          return [{ id: 'b', status: 'succeeded', source_blob: { version: next }, release: { id: 'rel-9' } }];
        if (method === 'GET' && p === '/apps/my-app/releases/rel-9') return new Error('socket hang up');
        return undefined;
      },
    );
    const unread = await deploy(request(), new FakeHost().log);
    assert.ok(!unread.ok, '!unread.ok');
    assert.match(
      unread.failure.message,
      new RegExp(`^Unexpected error while reading the release of the build of ${next.slice(0, 8)}: socket hang up`),
    );
  });

  it('says which commit stays live when a release made again fails its release phase, and refuses a release in another state', async () => {
    const sha = await repo.head();
    await seed(repo.dir);
    const live = 'c'.repeat(40);
    current = rereleasing(
      [release(7, { current: true }), release(6, { description: `Deploy ${sha.slice(0, 8)}` })],
      [release(8, { status: 'failed' }), release(7, { current: true }), release(6)],
      { 'slug-6': sha, 'slug-7': live },
      release(8, { status: 'failed', slug: { id: 'slug-6' } }),
    );
    const host = new FakeHost();
    const failed = await deploy(request(), host.log);
    assertReleasePhaseFailed(failed, 8, 'Heroku kept v7 live (commit cccccccc)', sha);
    assert.ok(
      host.lines.includes(`Heroku's main branch of my-app is already at ${sha.slice(0, 8)}: nothing to push.`),
      "host.lines.includes(`Heroku's main branch of my-app is already at ${sha.slice(0, 8)}: nothing to push.`)",
    );
    assert.ok(
      host.lines.includes(
        `The live release (v7) runs cccccccc, not ${sha.slice(0, 8)} (an earlier release phase failed, or the app was rolled back): releasing ${sha.slice(0, 8)} again.`,
      ),
      host.lines.join('\n'),
    );

    current = heroku(
      () => [release(7, { current: true }), release(6, { description: `Deploy ${sha.slice(0, 8)}` })],
      { 'slug-6': sha, 'slug-7': live },
      (method, p) =>
        method === 'POST' && p === '/apps/my-app/releases'
          ? release(8, { status: undefined, slug: { id: 'slug-6' } })
          : undefined,
    );
    const odd = await deploy(request(), new FakeHost().log);
    assert.ok(!odd.ok, '!odd.ok');
    assert.equal(odd.failure.kind, 'verification');
    assert.match(
      odd.failure.message,
      /^Release v8 of my-app ended in an unknown state, not succeeded: check `heroku releases -a my-app`\.$/,
    );
  });

  it('fails when the app read sent during the push fails, saying the push had gone through and how to see if it went live', async () => {
    const sha = await repo.head();
    current = heroku(
      () => [release(2, { current: true })],
      { 'slug-2': sha },
      (method, p) =>
        method === 'GET' && p === '/apps/my-app' ? new HerokuApiError(404, 'not_found', 'Not found', 'GET', p) : undefined,
    );
    const outcome = await deploy(request(), new FakeHost().log);
    assert.ok(!outcome.ok, 'a deploy whose app read failed is no success, whatever the push did');
    assert.equal(outcome.failure.kind, 'not-found', "the read's own kind");
    assert.match(
      outcome.failure.message,
      new RegExp(
        `^There is no Heroku app named my-app \\(404 not_found\\) visible to dev@example\\.com\\..* The push of ${sha.slice(0, 8)} had gone through before this was found: \`heroku releases -a my-app\` shows whether it went live\\.$`,
      ),
    );
    assert.ok(
      (await runCommand('git', ['--git-dir', bare, 'rev-parse', 'refs/heads/main'], { env: gitEnv() })).stdout.trim() === sha,
      'the push did reach Heroku',
    );
  });

  it('says no release is live when a release phase failed on an app with none live, and explains a failed read of it', async () => {
    const sha = await repo.head();
    current = heroku(() => [release(1, { status: 'failed' })], { 'slug-1': sha });
    const failed = await deploy(request(), new FakeHost().log);
    assertReleasePhaseFailed(failed, 1, 'no release is live', sha);

    // The read of what is live after the failed release phase (the second of the releases) fails.
    await repo.commit('Second', { 'a.txt': '2' });
    let reads = 0;
    current = heroku(
      () => [release(2, { status: 'failed' }), release(1, { status: 'failed' })],
      { 'slug-2': await repo.head() },
      (method, p) =>
        method === 'GET' && p === '/apps/my-app/releases' && ++reads === 2 ? new Error('socket hang up') : undefined,
    );
    const unread = await deploy(request(), new FakeHost().log);
    assert.ok(!unread.ok, 'a failed read fails the deploy');
    assert.equal(reads, 2, 'the releases are read after the push, then again after the release phase failed');
    assert.match(unread.failure.message, /^Unexpected error while checking which release is live: socket hang up/);
  });

  it("names the commit kept live only for the release that was live before, not another deploy's made since", async () => {
    const sha = await repo.head();
    await seed(repo.dir);
    current = rereleasing(
      [release(7, { current: true }), release(6, { description: `Deploy ${sha.slice(0, 8)}` })],
      [release(9, { current: true }), release(8, { status: 'failed' }), release(7), release(6)],
      { 'slug-6': sha, 'slug-7': 'c'.repeat(40), 'slug-9': 'e'.repeat(40) },
      release(8, { status: 'failed', slug: { id: 'slug-6' } }),
    );
    const failed = await deploy(request(), new FakeHost().log);
    assertReleasePhaseFailed(failed, 8, 'Heroku kept v9 live', sha);
  });

  it('releases a commit Heroku already has again when no release is live, saying none runs code', async () => {
    const sha = await repo.head();
    await seed(repo.dir);
    current = rereleasing(
      [release(6, { status: 'failed', description: `Deploy ${sha.slice(0, 8)}` })],
      [release(7, { current: true, slug: { id: 'slug-6' } }), release(6, { status: 'failed' })],
      { 'slug-6': sha },
      release(7, { slug: { id: 'slug-6' } }),
    );
    const host = new FakeHost();
    const outcome = await deploy(request(), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.release.version, 7, 'the release made again');
    assert.ok(
      host.lines.includes(
        `The live release runs no code, not ${sha.slice(0, 8)} (an earlier release phase failed, or the app was rolled back): releasing ${sha.slice(0, 8)} again.`,
      ),
      host.lines.join('\n'),
    );
  });

  it('logs that the live release already runs the commit', async () => {
    const sha = await repo.head();
    await seed(repo.dir);
    current = heroku(() => [release(6, { current: true })], { 'slug-6': sha });
    const host = new FakeHost();
    const outcome = await deploy(request(), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.ok(host.lines.includes(`v6 of my-app already runs ${sha.slice(0, 8)}: no new release.`), host.lines.join('\n'));
  });
});
