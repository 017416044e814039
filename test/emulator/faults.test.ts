// Every fault switch: the emulator misbehaves the way Heroku can, only when asked, and only as
// many times as asked.
import assert from 'node:assert/strict';
import type { Repo } from '../support/git';
import { eventually } from '../support/heroku-api';
import { buildHeld, pushOk, remoteLines, startPush, useEmulator } from '../support/emulator';

describe('emulator: fault injection', () => {
  const context = useEmulator();

  describe('Platform API', () => {
    it("apiError: the next `times` matching requests answer the status with Heroku's error body", async () => {
      context.heroku.faults.apiError(503, { times: 2, path: '/account' });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await context.api.get<{ id: string }>('/account'));
      assert.deepEqual(
        statuses.map((a) => a.status),
        [503, 503, 200],
      );
      assert.equal(statuses[0]?.body.id, 'service_unavailable');
      assert.deepEqual(
        context.heroku.faults.fired.map((f) => [f.method, f.path, f.effect]),
        [
          ['GET', '/account', 'status'],
          ['GET', '/account', 'status'],
        ],
      );
    });

    it('apiError: matches the method and the path, leaving other requests alone', async () => {
      context.heroku.faults.apiError(500, { method: 'POST', path: /^\/apps$/ });
      assert.equal((await context.api.get('/apps')).status, 200);
      assert.equal((await context.api.get('/account')).status, 200);
      const failed = await context.api.post<{ id: string }>('/apps', { name: context.name('ft-post') });
      assert.deepEqual([failed.status, failed.body.id], [500, 'internal_server_error']);
      assert.equal((await context.api.post('/apps', { name: context.name('ft-post') })).status, 201);
    });

    it('apiError 429 with Retry-After: rate_limit, Retry-After and RateLimit-Remaining 0', async () => {
      context.heroku.faults.apiError(429, { retryAfter: 7 });
      const limited = await context.api.get<{ id: string }>('/account');
      assert.equal(limited.status, 429);
      assert.equal(limited.body.id, 'rate_limit');
      assert.equal(limited.headers.get('retry-after'), '7');
      assert.equal(limited.headers.get('ratelimit-remaining'), '0');
      assert.equal((await context.api.get('/account')).status, 200);
    });

    it('apiReset: the connection is reset without an answer, once', async () => {
      context.heroku.faults.apiReset({ path: '/account' });
      await assert.rejects(
        context.api.get('/account'),
        (error: Error) => error instanceof TypeError && /fetch failed/.test(error.message),
      );
      assert.deepEqual(
        context.heroku.faults.fired.map((f) => f.effect),
        ['reset'],
      );
      assert.equal((await context.api.get('/account')).status, 200);
    });

    it('apiDelay: the request is served, late', async () => {
      context.heroku.faults.apiDelay(400, { path: '/account' });
      const started = Date.now();
      const slow = await context.api.get('/account');
      const elapsed = Date.now() - started;
      assert.equal(slow.status, 200);
      assert.ok(elapsed >= 390, `took ${elapsed} ms`);
      const again = Date.now();
      await context.api.get('/account');
      assert.ok(Date.now() - again < 300, 'only once');
    });

    it('reset() drops every switch that has not fired', async () => {
      context.heroku.faults.apiError(503, { times: 5 });
      context.heroku.faults.reset();
      assert.equal((await context.api.get('/account')).status, 200);
      assert.deepEqual(context.heroku.faults.fired, []);
    });
  });

  describe('git and builds', () => {
    const deployable = async (prefix: string, files?: Record<string, string>): Promise<{ app: string; repo: Repo }> => ({
      app: (await context.heroku.createApp(context.name(prefix))).name,
      repo: await context.repo(files ? { files } : {}),
    });
    const versions = async (app: string): Promise<number[]> =>
      (await context.api.get<Array<{ version: number }>>(`/apps/${app}/releases`)).body.map((r) => r.version);

    it('failNextBuild: the next push is rejected with the reason, the one after builds', async () => {
      const { app, repo } = await deployable('ft-build');
      context.heroku.faults.failNextBuild('Error: emulated compile failure');
      const failed = await repo.push(context.gitUrl(app), context.heroku.apiKey);
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /\(pre-receive hook declined\)/);
      const lines = remoteLines(failed.stderr);
      for (const line of [
        '       Error: emulated compile failure',
        '-----> Build failed',
        ' !     Push rejected, failed to compile Node.js app.',
      ])
        assert.ok(lines.includes(line), `"${line}" in:\n${lines.join('\n')}`);
      assert.deepEqual(await versions(app), [1, 2]);
      const next = await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
      assert.ok(remoteLines(next.stderr).includes('       Released v3'), "remoteLines(next.stderr).includes(' Released v3')");
    });

    it('failNextReleasePhase: the next release command fails (push exits 0); the next release succeeds', async () => {
      const { app, repo } = await deployable('ft-release');
      await repo.commit('release phase', { Procfile: 'web: node server.js\nrelease: node -e "console.log(\'fine\')"\n' });
      context.heroku.faults.failNextReleasePhase();
      const result = await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
      const lines = remoteLines(result.stderr);
      assert.ok(lines.includes('Waiting for release.... failed.'), lines.join('\n'));
      const releases = async () =>
        (await context.api.get<Array<{ version: number; status: string; current: boolean }>>(`/apps/${app}/releases`)).body;
      assert.deepEqual(((await releases()).at(-1) as { status: string }).status, 'failed');
      // A config change is a new release, with its release phase, which now succeeds.
      await context.api.patch(`/apps/${app}/config-vars`, { RETRY: '1' });
      const retried = await eventually(async () => {
        const latest = (await releases()).at(-1);
        return latest && latest.status !== 'pending' ? latest : undefined;
      });
      assert.deepEqual([retried.version, retried.status, retried.current], [4, 'succeeded', true]);
    });

    it('holdBuilds: the build waits (pending in the API) until released', async () => {
      const { app, repo } = await deployable('ft-hold');
      const held = buildHeld(context.heroku);
      const hold = context.heroku.faults.holdBuilds();
      const push = startPush(repo, context.gitUrl(app), context.heroku.apiKey);
      await held;
      let finished = false;
      void push.done.then(() => (finished = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(finished, false, 'the push waits for the build');
      const builds = await context.api.get<Array<{ status: string }>>(`/apps/${app}/builds`);
      assert.deepEqual(
        builds.body.map((b) => b.status),
        ['pending'],
      );
      hold.release();
      const result = await push.done;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(await versions(app), [1, 2, 3]);
    });

    it('holdBuilds({ all: true }): holds every build, of several apps, until released', async () => {
      const { app, repo } = await deployable('ft-holdall');
      const hold = context.heroku.faults.holdBuilds({ all: true });
      const held = buildHeld(context.heroku);
      const push = startPush(repo, context.gitUrl(app), context.heroku.apiKey);
      await held;
      const second = buildHeld(context.heroku);
      const other = await deployable('ft-holdall2');
      const otherPush = startPush(other.repo, context.gitUrl(other.app), context.heroku.apiKey);
      await second;
      hold.release();
      const results = await Promise.all([push.done, otherPush.done]);
      assert.deepEqual(
        results.map((r) => r.code),
        [0, 0],
      );
    });

    it('dropNextGitPush: the connection drops mid-push, git fails, nothing is released; the next push works', async () => {
      const { app, repo } = await deployable('ft-drop');
      context.heroku.faults.dropNextGitPush();
      const dropped = await repo.push(context.gitUrl(app), context.heroku.apiKey);
      assert.notEqual(dropped.code, 0);
      assert.match(dropped.stderr, /the remote end hung up unexpectedly|RPC failed/);
      assert.deepEqual(await versions(app), [1, 2]);
      await eventually(() => (context.heroku.platform.buildLocks.size === 0 ? true : undefined));
      const next = await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
      assert.ok(remoteLines(next.stderr).includes('       Released v3'), next.stderr);
    });
  });
});
