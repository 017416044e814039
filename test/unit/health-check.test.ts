// The health check's verdict on each answer, against a scripted local app: status, text, /regex/,
// and Heroku's own error pages, which are never healthy.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sinon from 'sinon';
import { sleep as realSleep } from '../../tasks/common/core/base/async';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { MAX_BODY_BYTES, checkHealth, describeAttempt, healthCheckUrl } from '../../tasks/common/core/workflow/health-check';
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

describe('health check attempts and what they say', () => {
  let clock: sinon.SinonFakeTimers | undefined;
  afterEach(() => {
    clock?.restore();
    clock = undefined;
  });

  async function serve(handler: http.RequestListener): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
    let requests = 0;
    const server = http.createServer((req, res) => {
      requests++;
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`,
      requests: () => requests,
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
  /** The note on a single answer with `body` (raw, not JSON). */
  async function note(status: number, body: string, more: Partial<HealthCheckOptions> = {}): Promise<string> {
    const app = await serve((_req, res) => {
      res.writeHead(status);
      res.end(body);
    });
    try {
      const result = await checkHealth({
        url: app.url,
        options: options(app.url, more),
        network: DIRECT,
        log: new FakeHost().log,
        sleep: () => Promise.resolve(),
      });
      return result.last?.note ?? '';
    } finally {
      await app.close();
    }
  }

  it('checks again after the interval until healthy, logging each attempt with its status and time', async () => {
    clock = sinon.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
    const answers = [503, 200];
    const app = await serve((_req, res) => {
      clock?.tick(250); // each answer takes 250 ms
      res.writeHead(answers.shift() ?? 500);
      res.end('  warming\n   up  ');
    });
    const host = new FakeHost();
    const waits: number[] = [];
    const result = await checkHealth({
      url: app.url,
      options: options(app.url, { timeoutMs: 60_000, intervalMs: 5000, expectedText: { text: 'warming' } }),
      network: DIRECT,
      log: host.log,
      sleep: (ms) => {
        waits.push(ms);
        clock?.tick(ms);
        return Promise.resolve();
      },
    });
    await app.close();
    assert.equal(result.healthy, true);
    assert.equal(result.attempts.length, 2, 'no request after the healthy answer');
    assert.deepEqual(waits, [5000]);
    assert.deepEqual(host.lines, [
      `GET ${app.url} until it answers 200 with "warming" (every 5 s, for up to 60 s)`,
      '  #1  503  250 ms  expected 200; body: warming up',
      '  #2  200  250 ms  healthy',
    ]);
  });

  it('stops at the deadline, waiting only what is left of it', async () => {
    clock = sinon.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
    const app = await serve((_req, res) => {
      clock?.tick(1000);
      res.writeHead(503);
      res.end();
    });
    const waits: number[] = [];
    const result = await checkHealth({
      url: app.url,
      options: options(app.url, { timeoutMs: 9000, intervalMs: 5000 }),
      network: DIRECT,
      log: new FakeHost().log,
      sleep: (ms) => {
        waits.push(ms);
        clock?.tick(ms);
        return Promise.resolve();
      },
    });
    await app.close();
    assert.equal(result.healthy, false);
    assert.deepEqual(waits, [5000, 2000], 'each answer takes 1 s: 2 s were left after the second');
    assert.equal(result.attempts.length, 3);
    assert.deepEqual(result.last, { status: 503, ms: 1000, healthy: false, note: 'expected 200; body: (empty)' });
  });

  it('makes no attempt once the deadline is reached exactly', async () => {
    clock = sinon.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
    const app = await serve((_req, res) => {
      clock?.tick(1000);
      res.writeHead(503);
      res.end();
    });
    const waits: number[] = [];
    const result = await checkHealth({
      url: app.url,
      options: options(app.url, { timeoutMs: 13_000, intervalMs: 5000 }),
      network: DIRECT,
      log: new FakeHost().log,
      sleep: (ms) => {
        waits.push(ms);
        clock?.tick(ms);
        return Promise.resolve();
      },
    });
    await app.close();
    assert.deepEqual(waits, [5000, 5000], 'the third answer came at the deadline: nothing left to wait for');
    assert.equal(result.attempts.length, 3);
  });

  it('logs the /regex/ it wants, or only the status when no text is expected', async () => {
    for (const [expectedText, wanted] of [
      [{ pattern: /db: up/i }, ' with /db: up/i'],
      [null, ''],
    ] as const) {
      const app = await serve((_req, res) => {
        res.writeHead(200);
        res.end('db: UP');
      });
      const host = new FakeHost();
      await checkHealth({
        url: app.url,
        options: options(app.url, { expectedText, timeoutMs: 30_000, intervalMs: 2000 }),
        network: DIRECT,
        log: host.log,
        sleep: () => Promise.resolve(),
      });
      await app.close();
      assert.equal(host.lines[0], `GET ${app.url} until it answers 200${wanted} (every 2 s, for up to 30 s)`);
    }
  });

  it('logs an attempt that got no answer with --- and why', async () => {
    clock = sinon.useFakeTimers({ toFake: ['Date'], now: 1_700_000_000_000 });
    const app = await serve((req) => {
      clock?.tick(40);
      req.socket.destroy();
    });
    const host = new FakeHost();
    const result = await checkHealth({
      url: app.url,
      options: options(app.url),
      network: DIRECT,
      log: host.log,
      sleep: () => Promise.resolve(),
    });
    await app.close();
    assert.deepEqual(result.last, { status: null, ms: 40, healthy: false, note: 'no answer: socket hang up' });
    assert.equal(host.lines[1], '  #1  ---  40 ms  no answer: socket hang up');
  });

  it('shows a short excerpt of the body: whitespace collapsed, cut at 120 characters', async () => {
    assert.equal(
      await note(500, `\n  ${'a'.repeat(60)}  \n\t ${'b'.repeat(59)} `),
      `expected 200; body: ${'a'.repeat(60)} ${'b'.repeat(59)}`,
    );
    assert.equal(await note(500, 'c'.repeat(121)), `expected 200; body: ${'c'.repeat(117)}...`);
  });

  it('says (empty) when a wrong answer had no body', async () => {
    assert.equal(await note(500, ''), 'expected 200; body: (empty)');
    assert.equal(await note(200, '', { expectedText: { text: 'ready' } }), 'body does not contain "ready": (empty)');
    assert.equal(await note(200, '', { expectedText: { pattern: /ready/ } }), 'body does not match /ready/: (empty)');
  });

  it("knows Heroku's Application Error page by its error page link or by its title alone", async () => {
    const link = '<iframe src="//www.herokucdn.com/error-pages/application-error.html"></iframe>';
    assert.equal(await note(200, link), "Heroku's Application Error page");
    assert.equal(await note(200, '<title>Application Error</title>'), "Heroku's Application Error page");
    assert.equal(
      await note(503, '<iframe src="//www.herokucdn.com/error-pages/maintenance-mode.html">'),
      "Heroku's maintenance page",
    );
  });

  it('judges a body of exactly 64 KB without waiting for more', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(200);
      res.write(`ready${'x'.repeat(MAX_BODY_BYTES - 5)}`); // and the response never ends
    });
    const started = Date.now();
    const result = await checkHealth({
      url: app.url,
      options: options(app.url, { expectedText: { text: 'ready' }, timeoutMs: 5000 }),
      network: DIRECT,
      log: new FakeHost().log,
      sleep: () => Promise.resolve(),
    });
    await app.close();
    assert.equal(result.healthy, true, result.last?.note);
    assert.ok(Date.now() - started < 900, `judged in ${Date.now() - started} ms, not at the 1 s deadline`);
  });

  it('gives up on an app that never answers at the deadline, also when the task can be cancelled', async () => {
    const app = await serve(() => undefined); // accepts, never answers
    const host = new FakeHost();
    const started = Date.now();
    const result = await checkHealth({
      url: app.url,
      options: options(app.url, { timeoutMs: 1000 }),
      network: DIRECT,
      log: host.log,
      signal: host.signal,
      sleep: () => Promise.resolve(),
    });
    await app.close();
    assert.equal(result.last?.note, 'no answer: no full answer within 1s');
    assert.ok(Date.now() - started < 2500, `${Date.now() - started} ms`);
  });

  it('logs no attempt for a request the cancel interrupted', async () => {
    const host = new FakeHost();
    const app = await serve(() => host.controller.abort()); // cancelled while the app is answering
    await assert.rejects(
      checkHealth({
        url: app.url,
        options: options(app.url, { timeoutMs: 60_000 }),
        network: DIRECT,
        log: host.log,
        signal: host.signal,
        sleep: () => Promise.resolve(),
      }),
      (error: TaskError) => error.kind === 'cancelled',
    );
    await app.close();
    assert.deepEqual(host.lines, [`GET ${app.url} until it answers 200 (every 0.001 s, for up to 60 s)`]);
  });

  it('ends with cancelled, and no further request, when cancelled while waiting between attempts', async () => {
    const host = new FakeHost();
    const app = await serve((_req, res) => {
      res.writeHead(503);
      res.end('starting');
    });
    await assert.rejects(
      checkHealth({
        url: app.url,
        options: options(app.url, { timeoutMs: 60_000, intervalMs: 5000 }),
        network: DIRECT,
        log: host.log,
        signal: host.signal,
        sleep: (ms, signal) => {
          host.controller.abort(); // the task is cancelled during the wait
          return realSleep(ms, signal);
        },
      }),
      (error: TaskError) => error.kind === 'cancelled' && error.message.includes(`checking the health of ${app.url}`),
    );
    await app.close();
    assert.equal(app.requests(), 1, 'nothing asked after the cancel');
    assert.equal(host.lines.length, 2, 'the plan and one attempt logged');
    assert.match(host.lines[1] ?? '', /^ {2}#1 {2}503 {2}\d+ ms {2}expected 200; body: starting$/);
  });

  it('resolves a path against the app URL, takes a full URL as given, and says when there is nothing to resolve against', () => {
    const check = (url: string): HealthCheckOptions => options(url);
    assert.equal(
      healthCheckUrl(check('/health?deep=1'), 'https://my-app.herokuapp.com/', 'my-app'),
      'https://my-app.herokuapp.com/health?deep=1',
    );
    assert.equal(healthCheckUrl(check('https://status.example.com/up'), null, 'my-app'), 'https://status.example.com/up');
    assert.throws(
      () => healthCheckUrl(check('/health'), null, 'my-app'),
      (error: TaskError) =>
        error.kind === 'input' &&
        error.message === 'my-app has no web URL to resolve /health against: give healthCheckUrl as a full URL.',
    );
  });

  it('describes the last attempt for messages, or says no request was made', () => {
    assert.equal(describeAttempt(null), 'no request was made');
    assert.equal(
      describeAttempt({ status: null, ms: 12, healthy: false, note: 'no answer: x' }),
      'no answer after 12 ms (no answer: x)',
    );
  });
});
