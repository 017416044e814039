// HerokuDeploy@1's round trips to the Platform API, with every API answer held back 100 ms as a
// network would: a plain deploy asks nothing of the API before its git push starts, reads the
// account and the app while git pushes, and after git ends, one batch of requests sent together
// (the releases and the builds) precedes the result line.
import assert from 'node:assert/strict';
import { DeployFixture, describeRun } from '../support/deploy-fixture';

const LATENCY_MS = 100;

describe('HerokuDeploy@1 round trips to the Platform API', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite({ latencyMs: LATENCY_MS });

  it('a plain deploy makes no API request before its push starts, reads the key and the app during it, and one batch after it ends', async () => {
    const app = await fx.newApp('trips');
    const repo = await fx.newRepo();
    // A first deploy, so that the one measured is a commit on top of a live release, as most are.
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded');
    const sha = await repo.commit('Say hello again', { 'message.txt': 'hello again\n' });
    const apiFrom = fx.heroku.api.requests.length;
    const gitFrom = fx.heroku.git.requests.length;
    let resultLineAt = 0;
    const result = await fx.deploy(app, repo, {
      onLine: (line) => {
        if (line.startsWith(`Released v4 of ${app}`)) resultLineAt = performance.now();
      },
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.equal(result.outputs.commit, sha);
    assert.ok(resultLineAt > 0, 'the result line was printed');

    const api = fx.heroku.api.requests.slice(apiFrom);
    const git = fx.heroku.git.requests.slice(gitFrom);
    const pushStarted = Math.min(...git.map((r) => r.startedAt));
    const push = git.find((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack'));
    assert.ok(push, `the push reached Heroku: ${git.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    const trips = api.map((r) => `${r.method} ${r.path} at +${(r.startedAt - pushStarted).toFixed(0)} ms`).join('\n');

    assert.ok(
      api.every((r) => r.startedAt >= pushStarted),
      `no API request before the push started:\n${trips}`,
    );
    const during = api.filter((r) => r.startedAt < push.endedAt);
    assert.deepEqual(
      during.map((r) => `${r.method} ${r.path}`).sort(),
      [`GET /account`, `GET /apps/${app}`],
      `the key and the app are read while git pushes (the push took ${(push.endedAt - pushStarted).toFixed(0)} ms):\n${trips}`,
    );
    const after = api.filter((r) => r.startedAt >= push.endedAt);
    // One batch: every request went out before the first answer came back (each answer takes 100 ms).
    const lastSent = Math.max(...after.map((r) => r.startedAt));
    const firstAnswered = Math.min(...after.map((r) => r.endedAt));
    assert.ok(lastSent < firstAnswered, `one batch of concurrent requests after the push:\n${trips}`);
    assert.ok(
      after.every((r) => r.endedAt > 0 && r.endedAt < resultLineAt),
      `the batch was answered before the result line:\n${trips}`,
    );
    assert.deepEqual(
      after.map((r) => `${r.method} ${r.path}`).sort(),
      [`GET /apps/${app}/builds`, `GET /apps/${app}/releases`],
      `after git ended, only the release's reads:\n${trips}`,
    );
  });
});
