// The health check after a release, and the rollback when it fails, in-process: a local app that
// answers as the live release does, the Platform API recorded. What the result says, which steps ran
// under which titles, which rollback was made, and what the failure tells the user to do.
import assert from 'node:assert/strict';
import { TaskError } from '../../tasks/common/core/base/errors';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HerokuApiError, type Release } from '../../tasks/common/core/heroku/api';
import { checkHealthOrRollBack, type GuardedRelease } from '../../tasks/common/core/workflow/health-rollback';
import { Steps } from '../../tasks/common/core/workflow/steps';
import { FakeHost } from '../support/fake-host';
import { RecordingApi } from '../support/recording-api';
import { refusingUrl } from '../support/scripted-server';

const released: Release = { id: 'rel-12', version: 12, status: 'succeeded', slug: { id: 'slug-12' } };
const before: Release = { id: 'rel-10', version: 10, status: 'succeeded', slug: { id: 'slug-10' } };
const commit = '3cced9be'.padEnd(40, '0');

/** The app on 127.0.0.1: answers `status.now` until the rollback is made, `status.afterRollback` after it. */
async function webApp(status: { now: number; afterRollback?: number }) {
  let rolledBack = false;
  const server = http.createServer((_req, res) => {
    res.writeHead(rolledBack ? (status.afterRollback ?? 200) : status.now);
    res.end(rolledBack ? 'rolled back' : 'new release');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`,
    rollBack: () => (rolledBack = true),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface Scenario {
  status: { now: number; afterRollback?: number };
  /** Fails the rollback's POST with this error. */
  rollbackFails?: Error;
  /** Checks this URL instead of the local app. */
  url?: string;
  guarded?: Partial<GuardedRelease>;
}

async function guard(scenario: Scenario) {
  const web = await webApp(scenario.status);
  const api = new RecordingApi((method, path) => {
    if (method === 'POST' && path === '/apps/my-app/releases') {
      if (scenario.rollbackFails) return scenario.rollbackFails;
      web.rollBack();
      return { id: 'rel-13', version: 13, status: 'succeeded' };
    }
    return {};
  });
  const host = new FakeHost();
  const steps = new Steps(host.log);
  const url = scenario.url ?? web.url;
  try {
    const result = await checkHealthOrRollBack({
      app: api.client().forApp('my-app'),
      url,
      options: { url, expectedStatus: 200, expectedText: null, timeoutMs: 1, intervalMs: 1 },
      release: released,
      commit,
      rollbackTarget: before,
      rollbackOnFailure: true,
      network: host.network(),
      log: host.log,
      steps,
      ...scenario.guarded,
    });
    return { result, api, host, url, steps: steps.records.map((r) => `${r.name}: ${r.outcome}: ${r.detail}`) };
  } finally {
    await web.close();
  }
}

const rollbacks = (api: RecordingApi): string[] => api.calls.filter((c) => c.startsWith('POST /apps/my-app/releases'));

describe('the health check of a new release, and its rollback', () => {
  it('passes a healthy release with its status, and changes nothing', async () => {
    const { result, api, steps } = await guard({ status: { now: 200 } });
    assert.deepEqual(result, { healthy: true, status: '200', rolledBack: null, failure: null });
    assert.deepEqual(steps, ['Health check of v12: done: healthy (200)']);
    assert.deepEqual(api.calls, []);
  });

  it('shows the logs, rolls back to the release live before, and tells the user to fix it and deploy again', async () => {
    const { result, api, host, url, steps } = await guard({ status: { now: 500, afterRollback: 200 } });
    assert.equal(result.healthy, false);
    assert.equal(result.status, '200', "the rollback's status");
    assert.equal(result.rolledBack?.version, 13);
    assert.equal(result.failure?.kind, 'health-check');
    assert.equal(
      result.failure?.message.replace(/after \d+ ms/, 'after N ms'),
      `v12 of my-app (commit 3cced9be) failed its health check: ${url} last answered 500 after N ms (expected 200; body: new release) within 0.001 s. Rolled back to v10 (now live as v13), which answers healthy. Fix the failure (the app's logs are above) and deploy again.`,
    );
    assert.deepEqual(api.calls, [
      'POST /apps/my-app/log-sessions {"lines":100,"tail":false}',
      'POST /apps/my-app/releases {"release":"rel-10"}',
    ]);
    assert.deepEqual(
      steps.map((s) => s.replace(/after \d+ ms/, 'after N ms')),
      [
        'Health check of v12: done: unhealthy: 500 after N ms (expected 200; body: new release)',
        'Roll back to v10: done: ',
        'Health check of v13 (rollback to v10): done: healthy (200)',
      ],
    );
    assert.ok(host.lines.includes('[group] Recent logs of my-app (heroku logs -n 100)'), 'the logs are shown');
    assert.ok(
      host.lines.includes(
        'Rolling back to v10, the release live when this task started (with its config vars, as a Heroku rollback does).',
      ),
      "host.lines.includes( 'Rolling back to v10, the release live when this task started (with its config vars, a...",
    );
  });

  it('names the app in step titles and says what to do again, for tasks that touch several apps', async () => {
    const { result, steps } = await guard({
      status: { now: 503, afterRollback: 200 },
      guarded: { nameApp: true, retry: 'promote again' },
    });
    assert.match(result.failure?.message ?? '', /Fix the failure \(the app's logs are above\) and promote again\.$/);
    assert.deepEqual(
      steps.map((s) => s.split(':')[0]),
      ['Health check of my-app v12', 'Roll back my-app to v10', 'Health check of my-app v13 (rollback to v10)'],
    );
  });

  it('leaves the release live when rollbackOnFailure is false, with no status when nothing answered', async () => {
    const url = await refusingUrl();
    const { result, api } = await guard({ status: { now: 200 }, url, guarded: { rollbackOnFailure: false } });
    assert.equal(result.healthy, false);
    assert.equal(result.status, '');
    assert.equal(result.rolledBack, null);
    assert.equal(result.failure?.kind, 'health-check');
    assert.match(
      result.failure?.message ?? '',
      /^v12 of my-app \(commit 3cced9be\) failed its health check: .* last answered no answer after \d+ ms \(no answer: .*\) within 0\.001 s\. rollbackOnFailure is false, so v12 stays live\.$/,
    );
    assert.deepEqual(rollbacks(api), []);
  });

  it('leaves the commit out of the message when the release records none', async () => {
    const { result } = await guard({ status: { now: 503 }, guarded: { rollbackOnFailure: false, commit: '' } });
    assert.match(result.failure?.message ?? '', /^v12 of my-app failed its health check: /);
  });

  it('stops at a cancel: no verdict, no rollback, and says which release is live', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      guard({ status: { now: 503 }, guarded: { signal: controller.signal } }),
      (error: TaskError) =>
        error.kind === 'cancelled' &&
        error.message ===
          'The task was cancelled during the health check of my-app: v12 is live and was not checked to the end. Nothing was rolled back (a cancel never rolls back): check the app, and if it is broken roll back by hand (`heroku rollback -a my-app`).',
    );
  });

  it('passes on a failure of the check itself as it is, neither a verdict nor a cancel, and rolls nothing back', async () => {
    const host = new FakeHost();
    const network = { ...host.network(), caFile: '/nonexistent/ca.pem' };
    let api: RecordingApi | undefined;
    await assert.rejects(
      guard({ status: { now: 503 }, guarded: { network, app: (api = new RecordingApi(() => ({}))).client().forApp('my-app') } }),
      (error: TaskError) =>
        error.kind === 'input' &&
        /^The agent's CA file \(Agent\.CAInfo\) \/nonexistent\/ca\.pem cannot be read/.test(error.message),
    );
    assert.deepEqual(api.calls, []);
  });

  it('does not roll back to nothing, to a release without code, nor to the release itself', async () => {
    for (const rollbackTarget of [null, { ...before, slug: null }]) {
      const { result, api } = await guard({ status: { now: 500 }, guarded: { rollbackTarget } });
      assert.match(
        result.failure?.message ?? '',
        / There is no earlier release with code to roll back to, so v12 stays live\.$/,
        `target ${JSON.stringify(rollbackTarget)}`,
      );
      assert.equal(result.status, '500');
      assert.deepEqual(rollbacks(api), []);
    }
    const { result, api } = await guard({ status: { now: 500 }, guarded: { rollbackTarget: released } });
    assert.match(
      result.failure?.message ?? '',
      / There is no earlier release with code to roll back to \(v12 was already live when the task started\), so v12 stays live\.$/,
    );
    assert.deepEqual(rollbacks(api), []);
  });

  it('says loudly to roll back by hand when the rollback fails', async () => {
    const { result, api } = await guard({
      status: { now: 500 },
      rollbackFails: new HerokuApiError(
        422,
        'invalid_params',
        'Cannot roll back to a release that had been expired',
        'POST',
        '/apps/my-app/releases',
      ),
    });
    assert.equal(result.failure?.kind, 'rollback');
    assert.equal(result.rolledBack, null);
    assert.equal(result.status, '500');
    assert.match(
      result.failure?.message ?? '',
      /^ROLLBACK FAILED — ACT NOW: v12 of my-app \(commit 3cced9be\) failed its health check: .* The rollback to v10 failed \(Heroku refused POST \/apps\/my-app\/releases while rolling back to v10 \(422 invalid_params: Cannot roll back to a release that had been expired\)\.\), so the failing v12 is still live\. Roll back by hand: `heroku rollback v10 -a my-app`\.$/,
    );
    assert.deepEqual(rollbacks(api), ['POST /apps/my-app/releases {"release":"rel-10"}']);
  });

  it('says loudly when the release rolled back to is not healthy either', async () => {
    const { result, url } = await guard({ status: { now: 500, afterRollback: 503 } });
    assert.equal(result.failure?.kind, 'rollback');
    assert.equal(result.rolledBack?.version, 13);
    assert.equal(result.status, '503', "the rollback's status");
    assert.equal(
      result.failure?.message.replace(/after \d+ ms/g, 'after N ms'),
      `ROLLBACK DID NOT RECOVER THE APP — ACT NOW: v12 of my-app (commit 3cced9be) failed its health check: ${url} last answered 500 after N ms (expected 200; body: new release) within 0.001 s. It was rolled back to v10 (as v13), which is not healthy either: ${url} answered 503 after N ms (expected 200; body: rolled back). Check \`heroku logs -a my-app\` and \`heroku releases -a my-app\`.`,
    );
  });
});
