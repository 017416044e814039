// The health check's verdict on each answer, against a scripted local app: status, text, /regex/,
// and Heroku's own error pages, which are never healthy.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { MAX_BODY_BYTES, checkHealth } from '../../tasks/common/core/workflow/health-check';
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

  it('stops a /regex/ that backtracks past 1 s, saying why, and still matches a sane one', async () => {
    const body = `${'a'.repeat(41)}!`;
    const started = Date.now();
    assert.deepEqual(await verdict({ status: 200, body }, { expectedText: { pattern: /(a+)+$/ } }), {
      healthy: false,
      note: '/(a+)+$/ took over 1 s to match and was stopped: simplify the pattern (nested repetition such as (a+)+ backtracks without end)',
    });
    assert.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms`);
    assert.equal((await verdict({ status: 200, body }, { expectedText: { pattern: /a{41}!/g } })).healthy, true);
  });
});

describe('health check limits', () => {
  async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }
  const options = (url: string, more: Partial<HealthCheckOptions> = {}): HealthCheckOptions => ({
    url,
    expectedStatus: 200,
    expectedText: null,
    timeoutMs: 1,
    intervalMs: 1,
    ...more,
  });

  it('reads only the first 64 KB of an endless body: text after it is not seen', async () => {
    let written = 0;
    const app = await serve((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = (): void => {
        while (written < 50 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (written >= 50 * 1024 * 1024) res.end('ready');
      };
      res.on('drain', pump);
      pump();
    });
    const result = await checkHealth({
      url: app.url,
      options: options(app.url, { expectedText: { text: 'ready' } }),
      network: DIRECT,
      log: new FakeHost().log,
      sleep: () => Promise.resolve(),
    });
    await app.close();
    assert.equal(MAX_BODY_BYTES, 64 * 1024);
    assert.equal(result.healthy, false);
    assert.match(result.last?.note ?? '', /^body does not contain "ready": x{117}\.\.\.$/);
    assert.ok(written < 10 * 1024 * 1024, `stopped reading early (${written} bytes sent)`);
  });

  it('ends an attempt that trickles at its deadline', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 100);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const result = await checkHealth({
      url: app.url,
      options: options(app.url, { timeoutMs: 1200 }),
      network: DIRECT,
      log: new FakeHost().log,
      sleep: () => Promise.resolve(),
    });
    await app.close();
    assert.equal(result.attempts.length, 1);
    assert.match(result.last?.note ?? '', /^no answer: no full answer within 1s$/);
    assert.ok(Date.now() - started < 2500, `${Date.now() - started} ms`);
  });

  it('throws cancelled (never a verdict) when cancelled mid-check or before it', async () => {
    const host = new FakeHost();
    const app = await serve((_req, res) => {
      res.writeHead(503);
      res.end('down');
      host.controller.abort();
    });
    await assert.rejects(
      checkHealth({
        url: app.url,
        options: options(app.url, { timeoutMs: 60_000 }),
        network: DIRECT,
        log: host.log,
        signal: host.signal,
      }),
      (error: TaskError) =>
        error.kind === 'cancelled' && error.message === `The task was cancelled while checking the health of ${app.url}.`,
    );
    await assert.rejects(
      checkHealth({ url: app.url, options: options(app.url), network: DIRECT, log: host.log, signal: host.signal }),
      (error: TaskError) => error.kind === 'cancelled',
    );
    await app.close();
  });
});
