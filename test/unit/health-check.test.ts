// The health check's verdict on each answer, against a scripted local app: status, text, /regex/,
// and Heroku's own error pages, which are never healthy.
import assert from 'node:assert/strict';
import { DIRECT } from '../../tasks/common/core/base/network';
import { checkHealth } from '../../tasks/common/core/workflow/health-check';
import type { HealthCheckOptions } from '../../tasks/common/core/workflow/safeguards';
import { FakeHost } from '../support/fake-host';
import { scriptedServer, type Answer } from '../support/scripted-server';

/** The verdict on one answer (a single attempt: the timeout leaves no time for a second). */
async function verdict(answer: Answer, expected: Partial<HealthCheckOptions>): Promise<{ healthy: boolean; note: string }> {
  const app = await scriptedServer([answer]);
  try {
    const options: HealthCheckOptions = {
      url: `${app.url}/health`,
      expectedStatus: 200,
      expectedText: null,
      timeoutMs: 1,
      intervalMs: 1,
      ...expected,
    };
    const result = await checkHealth({
      url: options.url,
      options,
      network: DIRECT,
      log: new FakeHost().log,
      sleep: () => Promise.resolve(),
    });
    assert.equal(result.attempts.length, 1);
    return { healthy: result.healthy, note: result.last?.note ?? '' };
  } finally {
    await app.close();
  }
}

describe('health check verdicts', () => {
  it('wants the expected status', async () => {
    assert.equal((await verdict({ status: 200, body: 'ok' }, {})).healthy, true);
    assert.deepEqual(await verdict({ status: 500, body: 'boom' }, {}), { healthy: false, note: 'expected 200; body: "boom"' });
    assert.equal((await verdict({ status: 204 }, { expectedStatus: 204 })).healthy, true);
  });

  it('wants the expected text in the body', async () => {
    assert.equal(
      (await verdict({ status: 200, body: { status: 'ready' } }, { expectedText: { text: '"ready"' } })).healthy,
      true,
    );
    assert.deepEqual(await verdict({ status: 200, body: 'starting' }, { expectedText: { text: 'ready' } }), {
      healthy: false,
      note: 'body does not contain "ready": "starting"',
    });
  });

  it('wants a /regex/ to match the body, and fails when it does not', async () => {
    assert.equal((await verdict({ status: 200, body: 'db: UP' }, { expectedText: { pattern: /db: (up|ok)/i } })).healthy, true);
    assert.deepEqual(await verdict({ status: 200, body: 'db: down' }, { expectedText: { pattern: /db: (up|ok)/i } }), {
      healthy: false,
      note: 'body does not match /db: (up|ok)/i: "db: down"',
    });
  });

  it("never takes Heroku's maintenance or Application Error page for a healthy answer", async () => {
    const page = '<html><head><title>Offline for Maintenance</title></head></html>';
    assert.deepEqual(await verdict({ status: 200, body: page }, {}), { healthy: false, note: "Heroku's maintenance page" });
  });
});
