// The Platform API client's retry policy, against a scripted local server and a fake clock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import { HerokuApi, HerokuApiError, UNREADABLE } from '../../tasks/common/core/heroku/api';
import { clientFor, HerokuClient, UNDO_DEADLINES } from '../../tasks/common/core/heroku/client';
import { DIRECT } from '../../tasks/common/core/base/network';
import { FakeHost } from '../support/fake-host';
import { RecordingApi } from '../support/recording-api';
import { refusingUrl, scriptedServer } from '../support/scripted-server';
import { startTlsFront } from '../support/tls-front';

function client(url: string, waits: number[]): HerokuApi {
  return new HerokuApi({
    baseUrl: url,
    apiKey: 'KEY',
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random: () => 1,
  });
}

describe('Platform API client', () => {
  it('sends the v3 Accept header, Bearer auth and the Range header', async () => {
    const server = await scriptedServer([{ status: 206, body: [{ version: 3 }], headers: { 'Next-Range': ']3..; max=1' } }]);
    const releases = await client(server.url, []).get<Array<{ version: number }>>(
      '/apps/a/releases',
      'version ..; order=desc, max=1',
    );
    await server.close();
    assert.deepEqual(releases, [{ version: 3 }], 'a 206 is a success');
    assert.equal(server.requests[0]?.accept, 'application/vnd.heroku+json; version=3');
    assert.equal(server.requests[0]?.authorization, 'Bearer KEY');
    assert.equal(server.requests[0]?.range, 'version ..; order=desc, max=1');
  });

  it('retries 5xx and resets with exponential backoff, and 429 after Retry-After (capped at 20 s)', async () => {
    const server = await scriptedServer([
      { status: 503 },
      'reset',
      { status: 429, headers: { 'Retry-After': '60' } },
      { status: 200, body: { ok: true } },
    ]);
    const waits: number[] = [];
    const body = await client(server.url, waits).get<{ ok: boolean }>('/account');
    await server.close();
    assert.deepEqual(body, { ok: true });
    assert.deepEqual(waits, [500, 1000, 20_000]);
  });

  it('retries a GET whose answer is cut off midway, and never a POST (it may have taken effect)', async () => {
    let answered = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      answered += 1;
      if (answered === 1 || req.method === 'POST') {
        // The headers and half the body, then the connection drops.
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
        res.write('{"email":');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"email":"dev@example.com"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const waits: number[] = [];
      assert.deepEqual(await client(url, waits).get('/account'), { email: 'dev@example.com' });
      assert.equal(answered, 2, 'sent again after the cut');
      assert.equal(waits.length, 1);

      answered = 0;
      const error = await client(url, [])
        .post('/apps/a/releases', { slug: 's' })
        .catch((e: unknown) => e);
      assert.ok(error instanceof HerokuApiError, String(error));
      assert.equal(error.code, 'ECONNRESET', error.message);
      assert.equal(answered, 1, 'a POST is not sent again');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up after four retries with the last error, and does not retry a 4xx', async () => {
    const down = await scriptedServer(
      Array.from({ length: 6 }, () => ({ status: 502, body: { id: 'bad_gateway', message: 'Bad gateway.' } })),
    );
    const waits: number[] = [];
    const error = await client(down.url, waits)
      .get('/account')
      .catch((e: unknown) => e);
    await down.close();
    assert.ok(error instanceof HerokuApiError, 'error instanceof HerokuApiError');
    assert.deepEqual([error.status, error.id, error.attempts, down.requests.length], [502, 'bad_gateway', 5, 5]);

    const notFound = await scriptedServer([{ status: 404, body: { id: 'not_found', message: "Couldn't find that app." } }]);
    const missing = await client(notFound.url, [])
      .get('/apps/x')
      .catch((e: unknown) => e);
    await notFound.close();
    assert.ok(
      missing instanceof HerokuApiError && missing.id === 'not_found' && notFound.requests.length === 1,
      "missing instanceof HerokuApiError && missing.id === 'not_found' && notFound.requests.length === 1",
    );
  });

  it('stops retrying when the next wait would pass the 30 s budget', async () => {
    const server = await scriptedServer(Array.from({ length: 5 }, () => ({ status: 429, headers: { 'Retry-After': '20' } })));
    const waits: number[] = [];
    const api = new HerokuApi({
      baseUrl: server.url,
      apiKey: 'K',
      sleep: (ms) => {
        waits.push(ms);
        return new Promise((r) => setTimeout(r, 5));
      },
      budgetMs: 30_000,
    });
    const started = Date.now();
    const fakeNow = () => started + waits.reduce((a, b) => a + b, 0);
    const realNow = Date.now;
    Date.now = fakeNow;
    let error: unknown;
    try {
      error = await api.get('/account').catch((e: unknown) => e);
    } finally {
      Date.now = realNow;
      await server.close();
    }
    assert.deepEqual(waits, [20_000], 'a second 20 s wait would pass 30 s');
    assert.ok(error instanceof HerokuApiError, `gave up with the API's error, not ${String(error)}`);
    assert.equal(error.status, 429);
    assert.equal(error.attempts, 2);
    assert.equal(server.requests.length, 2);
  });

  it('never repeats a POST that may have taken effect, but repeats one refused with 429', async () => {
    const server = await scriptedServer([{ status: 503 }, { status: 200 }]);
    const error = await client(server.url, [])
      .post('/apps/a/releases', { slug: 's' })
      .catch((e: unknown) => e);
    assert.ok(error instanceof HerokuApiError && error.status === 503, 'error instanceof HerokuApiError && error.status === 503');
    assert.equal(server.requests.length, 1);
    await server.close();

    const limited = await scriptedServer([{ status: 429 }, { status: 201, body: { id: 'r' } }]);
    assert.deepEqual(await client(limited.url, []).post('/apps/a/releases', { slug: 's' }), { id: 'r' });
    await limited.close();
  });

  it('retries a refused connection four times with backoff, then gives up naming the code and the attempts', async () => {
    const waits: number[] = [];
    const error = await client(await refusingUrl(), waits)
      .get('/account')
      .catch((e: unknown) => e);
    assert.ok(error instanceof HerokuApiError, String(error));
    assert.equal(error.code, 'ECONNREFUSED');
    assert.equal(error.attempts, 5);
    assert.deepEqual(waits, [500, 1000, 2000, 4000]);
  });

  it('never lets connection retries run past the budget', async () => {
    const waits: number[] = [];
    const api = new HerokuApi({
      baseUrl: await refusingUrl(),
      apiKey: 'K',
      budgetMs: 1000,
      random: () => 1,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
    });
    const error = await api.get('/account').catch((e: unknown) => e);
    assert.ok(error instanceof HerokuApiError && error.code === 'ECONNREFUSED', String(error));
    assert.deepEqual(waits, [500], 'a second wait of 1000 ms would reach the 1 s budget');
    assert.equal(error.attempts, 2);
  });

  /** A server answering every request with `handler`. */
  async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('gives each answer a deadline for all of it: a trickling server times out, and is retried within the budget', async () => {
    let requests = 0;
    const server = await serve((_req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{');
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
    });
    const waits: number[] = [];
    const api = new HerokuApi({
      baseUrl: server.url,
      apiKey: 'KEY',
      timeoutMs: 1000,
      budgetMs: 2500,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
      random: () => 1,
    });
    const started = Date.now();
    await assert.rejects(api.get('/account'), (error: HerokuApiError) => {
      assert.equal(error.code, 'ETIMEDOUT');
      assert.equal(error.message, 'no full answer within the deadline');
      assert.equal(error.attempts, 2);
      return true;
    });
    await server.close();
    assert.equal(requests, 2);
    assert.ok(Date.now() - started < 3500, `within the budget (${Date.now() - started} ms)`);
  });

  it('refuses an answer that is not JSON, or bigger than the cap, as unreadable (never retried)', async () => {
    const html = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<html>sign in</html>');
    });
    await assert.rejects(new HerokuApi({ baseUrl: html.url, apiKey: 'KEY' }).get('/account'), (error: HerokuApiError) => {
      assert.deepEqual(
        [error.status, error.id, error.message, error.attempts],
        [200, UNREADABLE, 'answered 200 with text/html instead of JSON', 1],
      );
      return true;
    });
    await html.close();
    const big = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ padding: 'x'.repeat(3000) }));
    });
    await assert.rejects(
      new HerokuApi({ baseUrl: big.url, apiKey: 'KEY', maxBodyBytes: 2048 }).get('/account'),
      (error: HerokuApiError) => {
        assert.deepEqual([error.id, error.message], [UNREADABLE, 'answered with more than 0 MB']);
        return true;
      },
    );
    await big.close();
  });

  it('stops a call and its retry waits when cancelled, saying the task was cancelled; an undo client ignores the cancel', async () => {
    const controller = new AbortController();
    let requests = 0;
    const hanging = await serve(() => {
      requests++;
      controller.abort();
    });
    const api = new HerokuApi({ baseUrl: hanging.url, apiKey: 'KEY', signal: controller.signal });
    await assert.rejects(
      api.get('/apps/a/releases'),
      (error: TaskError) =>
        error instanceof TaskError &&
        error.kind === 'cancelled' &&
        error.message === 'The task was cancelled while calling GET /apps/a/releases.',
    );
    assert.equal(requests, 1, 'not retried');
    await assert.rejects(
      api.get('/account'),
      { message: 'The task was cancelled while calling GET /account.' },
      'no call starts after the cancel',
    );
    assert.equal(requests, 1);
    await hanging.close();

    const server = await scriptedServer([{ status: 200, body: { maintenance: false } }]);
    const cancelled = new HerokuApi({ baseUrl: server.url, apiKey: 'KEY', signal: controller.signal });
    await assert.rejects(cancelled.patch('/apps/a', { maintenance: false }), /cancelled/);
    const undo = cancelled.withLimits({ timeoutMs: 1000, budgetMs: 1000, maxRetries: 0, signal: null });
    assert.deepEqual(await undo.patch('/apps/a', { maintenance: false }), { maintenance: false });
    await server.close();
    assert.deepEqual(server.calls, ['PATCH /apps/a'], 'only the undo client called');
  });

  it('explains a list that is not a list, naming the API', async () => {
    const recorded = new RecordingApi(() => ({ releases: [] }));
    await assert.rejects(
      recorded.client().forApp('my-app').list(`/apps/my-app/releases`, 'listing the releases of my-app'),
      (error: TaskError) =>
        error.kind === 'api' &&
        error.message.startsWith(
          'The Heroku API at https://api.heroku.example gave an answer the task cannot use while listing the releases of my-app: GET /apps/my-app/releases answered with a JSON object where a list was expected.',
        ),
    );
    assert.deepEqual(await new RecordingApi(() => [1]).client().list('/x', 'reading x'), [1]);
  });

  it('cuts an endless line of a followed stream at 64 KB instead of holding it all', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first\n');
      res.end('x'.repeat(200 * 1024));
    });
    const lines: string[] = [];
    await new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' }).followOutput(`${server.url}/stream`, (l) => lines.push(l));
    await server.close();
    assert.equal(lines[0], 'first');
    assert.ok(lines.length >= 3, `the long line came in pieces (${lines.length})`);
    assert.ok(
      lines.every((l) => l.length <= 64 * 1024 + 30),
      'lines.every((l) => l.length <= 64 * 1024 + 30)',
    );
    assert.match(lines[1] ?? '', / \[line cut at 64 KB\]$/);
  });

  it('says who is calling: its own User-Agent by default, or the one given', async () => {
    const server = await scriptedServer([{ status: 200 }, { status: 200 }]);
    await new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' }).get('/account');
    await new HerokuApi({ baseUrl: server.url, apiKey: 'KEY', userAgent: 'tfs-agent/3.0' }).get('/account');
    await server.close();
    assert.deepEqual(
      server.requests.map((r) => r['user-agent']),
      ['heroku-azure-pipelines', 'tfs-agent/3.0'],
    );
  });

  it('repeats a PATCH after a 5xx (setting a value twice is harmless), sending its body each time', async () => {
    const bodies: string[] = [];
    let calls = 0;
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += String(chunk)));
      req.on('end', () => {
        bodies.push(`${req.method ?? ''} ${body}`);
        res.writeHead(++calls === 1 ? 503 : 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ maintenance: true }));
      });
    });
    const waits: number[] = [];
    assert.deepEqual(await client(server.url, waits).patch('/apps/a', { maintenance: true }), { maintenance: true });
    await server.close();
    assert.deepEqual(bodies, ['PATCH {"maintenance":true}', 'PATCH {"maintenance":true}']);
    assert.deepEqual(waits, [500]);
  });

  it("sends a POST's body as JSON, and repeats a POST its caller says is harmless to repeat", async () => {
    const bodies: string[] = [];
    let calls = 0;
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += String(chunk)));
      req.on('end', () => {
        bodies.push(`${req.headers['content-type'] ?? ''} ${body}`);
        res.writeHead(++calls === 1 ? 503 : 201, { 'Content-Type': 'application/json' });
        res.end('{"id":"b1"}');
      });
    });
    assert.deepEqual(await client(server.url, []).post('/apps/a/builds', { source_blob: { url: 'u' } }, true), { id: 'b1' });
    await server.close();
    assert.deepEqual(bodies, Array(2).fill('application/json {"source_blob":{"url":"u"}}'));
  });

  it('repeats a call whose idempotence is not said only when it is a GET', async () => {
    const server = await scriptedServer([{ status: 503 }, { status: 200, body: { ok: 1 } }, { status: 503 }]);
    const api = client(server.url, []);
    assert.deepEqual(await api.request('GET', '/apps/a/releases'), { ok: 1 });
    await assert.rejects(api.request('DELETE', '/apps/a/domains/d'), (error: HerokuApiError) => error.status === 503);
    await server.close();
    assert.deepEqual(server.calls, ['GET /apps/a/releases', 'GET /apps/a/releases', 'DELETE /apps/a/domains/d']);
  });

  it('spreads its waits with jitter: between half and all of 0.5, 1, 2, 4, 8 s, never more than 8 s', async () => {
    const server = await scriptedServer(Array.from({ length: 7 }, () => ({ status: 503 })));
    const waits: number[] = [];
    const api = new HerokuApi({
      baseUrl: server.url,
      apiKey: 'KEY',
      maxRetries: 6,
      budgetMs: 60_000,
      random: () => 0,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
    });
    await assert.rejects(api.get('/account'), (error: HerokuApiError) => error.attempts === 7);
    await server.close();
    assert.deepEqual(waits, [250, 500, 1000, 2000, 4000, 4000]);
  });

  describe('Retry-After and the budget, on a fake clock', () => {
    let clock: sinon.SinonFakeTimers;
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    beforeEach(() => {
      clock = sinon.useFakeTimers({ now, toFake: ['Date'] });
    });
    afterEach(() => clock.restore());

    /** A client whose waits move the fake clock on, as real ones would. */
    function ticking(url: string, waits: number[], options: Partial<ConstructorParameters<typeof HerokuApi>[0]> = {}) {
      return new HerokuApi({
        baseUrl: url,
        apiKey: 'KEY',
        random: () => 1,
        sleep: (ms) => {
          waits.push(ms);
          clock.tick(ms);
          return Promise.resolve();
        },
        ...options,
      });
    }

    it('waits until the date a Retry-After names, at once for a date past, and backs off when it is empty', async () => {
      const server = await scriptedServer([
        { status: 429, headers: { 'Retry-After': new Date(now + 7000).toUTCString() } },
        { status: 429, headers: { 'Retry-After': new Date(now - 60_000).toUTCString() } },
        { status: 503, headers: { 'Retry-After': '' } },
        { status: 200, body: { ok: true } },
      ]);
      const waits: number[] = [];
      assert.deepEqual(await ticking(server.url, waits).get('/account'), { ok: true });
      await server.close();
      assert.deepEqual(waits, [7000, 0, 2000]);
    });

    it('gives up when the next wait would reach the budget exactly', async () => {
      const server = await scriptedServer(Array.from({ length: 5 }, () => ({ status: 503 })));
      const waits: number[] = [];
      const error = await ticking(server.url, waits, { budgetMs: 1500 })
        .get('/account')
        .catch((e: unknown) => e);
      await server.close();
      assert.ok(error instanceof HerokuApiError && error.status === 503, String(error));
      assert.deepEqual(waits, [500], 'after 0.5 s, a wait of 1 s would reach the 1.5 s budget');
      assert.equal(error.attempts, 2);
    });

    it('logs each request with its status or error code and time, and each retry with its wait and cause', async () => {
      const server = await scriptedServer([
        { status: 502, body: { id: 'bad_gateway', message: 'Bad gateway.' } },
        { status: 503 },
        { status: 200, body: { ok: true } },
      ]);
      const lines: string[] = [];
      await ticking(server.url, [], { debug: (l) => lines.push(l) }).get('/account');
      await server.close();
      const refused = await refusingUrl();
      await ticking(refused, [], { debug: (l) => lines.push(l), maxRetries: 1 })
        .post('/apps/a/releases', {})
        .catch(() => undefined);
      assert.deepEqual(lines, [
        'GET /account -> 502 (0 ms)',
        'retrying GET /account in 500 ms (bad_gateway)',
        'GET /account -> 503 (0 ms)',
        'retrying GET /account in 1000 ms (503)',
        'GET /account -> 200 (0 ms)',
        'POST /apps/a/releases -> ECONNREFUSED (0 ms)',
        'retrying POST /apps/a/releases in 500 ms (ECONNREFUSED)',
        'POST /apps/a/releases -> ECONNREFUSED (0 ms)',
      ]);
    });

    it('logs an answer too big to read as no answer', async () => {
      const big = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ padding: 'x'.repeat(3000) }));
      });
      const lines: string[] = [];
      await assert.rejects(ticking(big.url, [], { maxBodyBytes: 2048, debug: (l) => lines.push(l) }).get('/account'));
      await big.close();
      assert.deepEqual(lines, ['GET /account -> no answer (0 ms)']);
    });

    it("cuts a retry's deadline to what is left of the budget", async () => {
      let calls = 0;
      const server = await serve((_req, res) => {
        if (++calls === 1) {
          res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '20' });
          res.end('{}');
          return;
        }
        // The second answer takes 2.5 s: more than the 1.2 s left of the budget, less than timeoutMs.
        const timer = setTimeout(() => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"late":true}');
        }, 2500);
        res.on('close', () => clearTimeout(timer));
      });
      const waits: number[] = [];
      const api = ticking(server.url, waits, { budgetMs: 21_200, timeoutMs: 4000, maxRetries: 1 });
      await assert.rejects(api.get('/account'), (error: HerokuApiError) => {
        assert.deepEqual([error.code, error.message, error.attempts], ['ETIMEDOUT', 'no full answer within the deadline', 2]);
        return true;
      });
      await server.close();
      assert.deepEqual(waits, [20_000]);
    });
  });

  it('waits for a slow answer up to timeoutMs, not a fixed second', async () => {
    const server = await serve((_req, res) => {
      const timer = setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"slow":true}');
      }, 1200);
      res.on('close', () => clearTimeout(timer));
    });
    const api = new HerokuApi({ baseUrl: server.url, apiKey: 'KEY', timeoutMs: 2500, maxRetries: 0 });
    assert.deepEqual(await api.get('/account'), { slow: true });
    await server.close();
  });

  it('warns once when the rate-limit budget drops under 100 calls, ignoring a header that is no number', async () => {
    const server = await scriptedServer(
      ['100', 'unknown', '-Infinity', '99', '50'].map((left) => ({ status: 200, headers: { 'RateLimit-Remaining': left } })),
    );
    const warnings: string[] = [];
    const api = new HerokuApi({ baseUrl: server.url, apiKey: 'KEY', warn: (l) => warnings.push(l) });
    for (let i = 0; i < 5; i++) await api.get('/account');
    await server.close();
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /^This Heroku account has 99 API calls left this hour \(RateLimit-Remaining\)/);
    assert.match(warnings[0] ?? '', /deploys fail when it reaches 0/);
  });

  it("keeps Heroku's message (trimmed), or the status when there is none, and the request id when given", async () => {
    const server = await scriptedServer([
      { status: 422, body: { id: 'invalid_params', message: '  Name is taken.\n' }, headers: { 'Request-Id': 'req-42' } },
      { status: 404, body: 'Not Found' },
    ]);
    const api = new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' });
    const refused = await api.post('/apps', { name: 'a' }).catch((e: unknown) => e);
    const missing = await api.get('/apps/a').catch((e: unknown) => e);
    await server.close();
    assert.ok(
      refused instanceof HerokuApiError && missing instanceof HerokuApiError,
      'refused instanceof HerokuApiError && missing instanceof HerokuApiError',
    );
    assert.deepEqual(
      [refused.status, refused.id, refused.message, refused.requestId, String(refused)],
      [422, 'invalid_params', 'Name is taken.', 'req-42', 'HerokuApiError: Name is taken.'],
    );
    assert.deepEqual([missing.status, missing.id, missing.message, missing.requestId], [404, null, 'HTTP 404', null]);
  });

  it('takes only a 2xx for an answer: a redirect is not followed, nor a 300 or a broken status line read', async () => {
    const server = await scriptedServer([
      { status: 300, body: { choices: [] } },
      { status: 302, headers: { Location: 'https://elsewhere.example/account' } },
    ]);
    const api = new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' });
    await assert.rejects(api.get('/account'), (error: HerokuApiError) => error.status === 300 && error.message === 'HTTP 300');
    await assert.rejects(api.get('/account'), (error: HerokuApiError) => error.status === 302);
    await server.close();
    assert.equal(server.calls.length, 2, 'nothing followed');

    const broken = net.createServer((socket) =>
      socket.once('data', () =>
        socket.end('HTTP/1.1 099 Odd\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'),
      ),
    );
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', () => resolve()));
    const odd = new HerokuApi({ baseUrl: `http://127.0.0.1:${(broken.address() as AddressInfo).port}`, apiKey: 'KEY' });
    await assert.rejects(odd.get('/account'), (error: HerokuApiError) => error.status === 99 && error.attempts === 1);
    await new Promise((resolve) => broken.close(resolve));
  });

  it('refuses a JSON null or an answer without a content type as unreadable', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/null') res.writeHead(200, { 'Content-Type': 'application/json' }).end('null');
      else res.writeHead(200).end('ok');
    });
    const api = new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' });
    await assert.rejects(api.get('/null'), {
      id: UNREADABLE,
      message: 'answered 200 with application/json instead of JSON',
    });
    await assert.rejects(api.get('/bare'), { id: UNREADABLE, message: 'answered 200 with no content type instead of JSON' });
    await server.close();
  });

  it('does not retry an untrusted TLS certificate, and keeps its code for the explanation', async () => {
    const backend = await scriptedServer([]);
    const front = await startTlsFront(backend.url);
    const error = await client(front.url, [])
      .get('/account')
      .catch((e: unknown) => e);
    await front.close();
    await backend.close();
    assert.ok(error instanceof HerokuApiError, String(error));
    assert.deepEqual([error.status, error.code, error.attempts], [null, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 1]);
    assert.equal(backend.calls.length, 0);
  });

  describe('when the connection fails', () => {
    afterEach(() => sinon.restore());

    /** Every connection the API client opens fails with the system error `code`. */
    function connectionsFail(code: string): void {
      sinon.stub(http.Agent.prototype, 'createConnection').callsFake(() => {
        const socket = new net.Socket();
        process.nextTick(() => socket.destroy(Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code })));
        return socket;
      });
    }

    async function attempts(code: string, method: 'GET' | 'POST'): Promise<[string | null, number]> {
      connectionsFail(code);
      const api = new HerokuApi({
        baseUrl: 'http://api.heroku.example',
        apiKey: 'KEY',
        maxRetries: 1,
        sleep: () => Promise.resolve(),
      });
      const error = await (method === 'GET' ? api.get('/account') : api.post('/apps/a/releases', {})).catch((e: unknown) => e);
      sinon.restore();
      assert.ok(error instanceof HerokuApiError, String(error));
      return [error.code, error.attempts];
    }

    it('repeats a GET after any failure of the connection, keeping the system error code', async () => {
      for (const code of [
        'ECONNRESET',
        'ECONNREFUSED',
        'ETIMEDOUT',
        'ECONNABORTED',
        'EPIPE',
        'EAI_AGAIN',
        'ENETUNREACH',
        'EHOSTUNREACH',
        'ERR_SOCKET_CONNECTION_TIMEOUT',
      ])
        assert.deepEqual(await attempts(code, 'GET'), [code, 2], code);
    });

    it('repeats a POST only when the request cannot have reached Heroku (refused, no DNS, no route)', async () => {
      for (const code of ['ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH'])
        assert.deepEqual(await attempts(code, 'POST'), [code, 2], code);
      for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ERR_SOCKET_CONNECTION_TIMEOUT'])
        assert.deepEqual(await attempts(code, 'POST'), [code, 1], code);
    });

    it('does not repeat a failure that is not of the connection', async () => {
      assert.deepEqual(await attempts('EPROTO', 'GET'), ['EPROTO', 1]);
    });
  });

  describe('uploading a file to a signed URL', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'upload-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('PUTs the file as is with its length and an empty Content-Type, and no API key', async () => {
      const file = path.join(dir, 'source.tgz');
      writeFileSync(file, 'tarball bytes');
      const seen: string[] = [];
      const server = await serve((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += String(chunk)));
        req.on('end', () => {
          const h = req.headers;
          seen.push(
            `${req.method ?? ''} ${req.url ?? ''} [${h['content-type'] ?? 'none'}] ${h['content-length'] ?? '-'} ${h.authorization ?? '-'} ${body}`,
          );
          res.writeHead(200).end();
        });
      });
      await new HerokuApi({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' }).uploadFile(
        `${server.url}/blob?sig=abc`,
        file,
        13,
      );
      await server.close();
      assert.deepEqual(seen, ['PUT /blob?sig=abc [] 13 - tarball bytes']);
    });

    it('stops an upload when the task is cancelled', async () => {
      const file = path.join(dir, 'source.tgz');
      writeFileSync(file, 'x');
      const controller = new AbortController();
      const server = await serve((req, res) => {
        req.resume();
        controller.abort();
        // Too late: the client has let go of the request already (an upload that ignored the cancel would take this).
        res.writeHead(200).end();
      });
      const error = await new HerokuApi({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' })
        .uploadFile(`${server.url}/blob`, file, 1, controller.signal)
        .catch((e: unknown) => e);
      await server.close();
      assert.ok(error instanceof Error && error.name === 'CanceledError', `cancelled, not ${String(error)}`);
    });

    it("fails on any answer but a 2xx, naming the storage's error code when its XML gives one", async () => {
      const file = path.join(dir, 'source.tgz');
      writeFileSync(file, 'x');
      const server = await serve((req, res) => {
        req.resume();
        req.on('end', () => {
          if (req.url === '/signed') {
            res.writeHead(403, { 'Content-Type': 'application/xml' });
            res.end('<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>No.</Message></Error>');
          } else res.writeHead(Number(req.url?.slice(1))).end('oops');
        });
      });
      const api = new HerokuApi({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' });
      const upload = (where: string) => api.uploadFile(`${server.url}/${where}`, file, 1).catch((e: unknown) => e);
      const outcomes = [await upload('signed'), await upload('500'), await upload('300'), await upload('299')];
      await server.close();
      // A status under 200 that is not an interim one (Node's HTTP server cannot send it).
      const odd = net.createServer((socket) =>
        socket.once('data', () => socket.end('HTTP/1.1 099 Odd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')),
      );
      await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', () => resolve()));
      outcomes.push(
        await api.uploadFile(`http://127.0.0.1:${(odd.address() as AddressInfo).port}/`, file, 1).catch((e: unknown) => e),
      );
      await new Promise((resolve) => odd.close(resolve));
      assert.deepEqual(
        outcomes.map((e) => (e instanceof HerokuApiError ? [e.status, e.id, e.message, e.method, e.path] : e)),
        [
          [403, 'SignatureDoesNotMatch', 'answered 403 SignatureDoesNotMatch', 'PUT', 'the source URL'],
          [500, null, 'answered 500', 'PUT', 'the source URL'],
          [300, null, 'answered 300', 'PUT', 'the source URL'],
          undefined,
          [99, null, 'answered 99', 'PUT', 'the source URL'],
        ],
      );
    });
  });

  describe('following a text stream', () => {
    it('asks for text without the API key, and gives each line, the last one even without a newline', async () => {
      const headers: http.IncomingHttpHeaders[] = [];
      const server = await serve((req, res) => {
        headers.push(req.headers);
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('Running release command...\r\nmigrat');
        setTimeout(() => res.end(req.url === '/open' ? 'ing\ndone' : 'ing\ndone\n'), 50);
      });
      const api = new HerokuApi({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' });
      for (const path of ['/open', '/closed']) {
        const lines: string[] = [];
        await api.followOutput(`${server.url}${path}`, (l) => lines.push(l));
        assert.deepEqual(lines, ['Running release command...', 'migrating', 'done'], path);
      }
      await server.close();
      assert.equal(headers[0]?.accept, 'text/plain');
      assert.equal(headers[0]?.authorization, undefined);
    });

    it('decodes a character that arrives split across two chunks', async () => {
      const text = Buffer.from('-----> Building café\n', 'utf8');
      const cut = text.indexOf(Buffer.from('é', 'utf8')) + 1; // between the two bytes of é
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write(text.subarray(0, cut));
        setTimeout(() => res.end(text.subarray(cut)), 50);
      });
      const lines: string[] = [];
      await new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' }).followOutput(`${server.url}/stream`, (l) => lines.push(l));
      await server.close();
      assert.deepEqual(lines, ['-----> Building café']);
    });

    it('fails on a stream that is not there (404), reading nothing from it', async () => {
      const server = await serve((_req, res) => res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no such stream\n'));
      const lines: string[] = [];
      await assert.rejects(
        new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' }).followOutput(`${server.url}/gone`, (l) => lines.push(l)),
        /404/,
      );
      await server.close();
      assert.deepEqual(lines, []);
    });

    it('stops following when the task is cancelled', async () => {
      const controller = new AbortController();
      const server = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('started\n');
      });
      const lines: string[] = [];
      await assert.rejects(
        new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' }).followOutput(
          `${server.url}/stream`,
          (l) => {
            lines.push(l);
            controller.abort();
          },
          controller.signal,
        ),
      );
      await server.close();
      assert.deepEqual(lines, ['started']);
    });

    it('keeps a line of exactly 64 KB whole, cuts a longer one at 64 KB, and reads the next line intact', async () => {
      const server = await serve((req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        if (req.url === '/exact') {
          res.write('y'.repeat(64 * 1024));
          setTimeout(() => res.end('\nnext\n'), 100);
        } else res.end(`${'x'.repeat(150 * 1024)}\nafter\n`);
      });
      const api = new HerokuApi({ baseUrl: server.url, apiKey: 'KEY' });
      const exact: string[] = [];
      await api.followOutput(`${server.url}/exact`, (l) => exact.push(l));
      const long: string[] = [];
      await api.followOutput(`${server.url}/long`, (l) => long.push(l));
      await server.close();
      assert.deepEqual(exact, ['y'.repeat(64 * 1024), 'next']);
      assert.equal(long[0], `${'x'.repeat(64 * 1024)} [line cut at 64 KB]`);
      assert.equal(long.at(-1), 'after');
      assert.ok(
        long.slice(1, -1).every((l) => /^x{1,65536}( \[line cut at 64 KB\])?$/.test(l)),
        'the rest of the long line, if any, is x and at most 64 KB',
      );
    });

    it('resumes a stream from a byte on: asks for the rest by Range, skips what a server ignoring Range sends again (a chunk of it whole, giving nothing empty), ends at 416', async () => {
      const text = 'line one\nline two\n';
      const ranges: Array<string | undefined> = [];
      const server = await serve((req, res) => {
        ranges.push(req.headers.range);
        const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
        if (req.url === '/ignores-range') {
          // Everything from the start, in three chunks: the first (4 bytes) all skipped, the second partly, the third not.
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.write(text.slice(0, 4));
          setTimeout(() => {
            res.write(text.slice(4, 12));
            setTimeout(() => res.end(text.slice(12)), 50);
          }, 50);
        } else if (from >= text.length) res.writeHead(416).end();
        else res.writeHead(from > 0 ? 206 : 200, { 'Content-Type': 'text/plain' }).end(text.slice(from));
      });
      const api = new HerokuApi({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' });
      const read = async (path: string, from: number): Promise<[string, boolean]> => {
        const stream = await api.openStream(`${server.url}${path}`, from);
        let body = '';
        for await (const chunk of stream.body) {
          assert.ok(chunk.length > 0, `no empty chunk is given (${path} from ${from})`);
          body += chunk.toString('utf8');
        }
        return [body, stream.done];
      };
      try {
        assert.deepEqual(await read('/build', 0), [text, false], 'from the start');
        assert.deepEqual(await read('/build', 9), ['line two\n', false], 'the rest, answered 206');
        assert.deepEqual(await read('/ignores-range', 6), [text.slice(6), false], 'a 200 with everything, read from byte 6');
        assert.deepEqual(await read('/ignores-range', 4), [text.slice(4), false], 'its first chunk (4 bytes) skipped whole');
        assert.deepEqual(await read('/build', text.length), ['', true], 'nothing more (416)');
      } finally {
        await server.close();
      }
      assert.deepEqual(ranges, [undefined, 'bytes=9-', 'bytes=6-', 'bytes=4-', `bytes=${text.length}-`]);
    });
  });
});

describe('Platform API as the tasks call it', () => {
  const noWait = { sleep: () => Promise.resolve(), random: () => 1 };

  it('says it was checking the API key when reading the account fails', async () => {
    const api = new RecordingApi(
      () => new HerokuApiError(500, 'internal_server_error', 'Internal server error', 'GET', '/account'),
    );
    await assert.rejects(api.client().account(), (error: TaskError) =>
      error.message.startsWith("Heroku's API failed while checking the API key (500 internal_server_error"),
    );
  });

  it('finds nothing only where Heroku says so (404 not_found); another 404 or status with that id is explained', async () => {
    const failing = (status: number, id: string | null) =>
      new RecordingApi(() => new HerokuApiError(status, id, 'Not found.', 'GET', '/apps/a/addons/x')).client();
    assert.equal(await failing(404, 'not_found').find('/apps/a/addons/x', 'reading the add-on x'), null);
    await assert.rejects(failing(404, null).find('/apps/a/addons/x', 'reading the add-on x'), (error: TaskError) =>
      error.message.startsWith('Heroku refused GET /apps/a/addons/x while reading the add-on x (404 : Not found.)'),
    );
    await assert.rejects(failing(410, 'not_found').find('/apps/a/addons/x', 'reading the add-on x'), {
      message: /^Heroku found nothing at GET \/apps\/a\/addons\/x while reading the add-on x/,
    });
  });

  it('repeats a PUT after a 5xx (it sets the whole resource: doing it twice is harmless)', async () => {
    const server = await scriptedServer([{ status: 503 }, { status: 200, body: [{ buildpack: 'heroku/nodejs' }] }]);
    const client = HerokuClient.connect({ baseUrl: server.url, apiKey: 'KEY', ...noWait });
    assert.deepEqual(await client.put('/apps/a/buildpack-installations', { updates: [] }, 'setting the buildpacks'), [
      { buildpack: 'heroku/nodejs' },
    ]);
    await server.close();
    assert.deepEqual(server.calls, ['PUT /apps/a/buildpack-installations', 'PUT /apps/a/buildpack-installations']);
  });

  it('repeats a DELETE after a 5xx (deleting what is gone already changes nothing)', async () => {
    const server = await scriptedServer([{ status: 503 }, { status: 200, body: { id: 'b1' } }]);
    const client = HerokuClient.connect({ baseUrl: server.url, apiKey: 'KEY', ...noWait });
    assert.deepEqual(await client.delete('/apps/a/builds/b1', 'cancelling the build'), { id: 'b1' }, 'the second answer');
    await server.close();
    assert.deepEqual(server.calls, ['DELETE /apps/a/builds/b1', 'DELETE /apps/a/builds/b1'], 'sent twice');
  });

  describe('a POST Heroku answers 409 while it is not ready', () => {
    /** A transport whose POST fails with each of `failures` in turn, then succeeds. */
    const failingFirst = (...failures: Error[]) => {
      const api = new RecordingApi((method) => (method === 'POST' ? (failures.shift() ?? { name: 'run.1' }) : undefined));
      return { api, app: api.client().forApp('a') };
    };
    const conflict = () => new HerokuApiError(409, 'conflict', 'Release is not ready yet.', 'POST', '/apps/a/dynos');
    const start = (app: ReturnType<typeof failingFirst>['app'], retries: number) =>
      app.postRetryingConflict('/apps/a/dynos', { command: 'ls' }, 'starting a one-off dyno', retries);

    it('is sent again at once, up to `retries` times, and its answer taken', async () => {
      const { api, app } = failingFirst(conflict(), conflict());
      assert.deepEqual(await start(app, 2), { name: 'run.1' }, 'the answer of the third POST');
      assert.equal(api.calls.length, 3, `one POST and two retries: ${api.calls.join(', ')}`);
    });

    it('is explained when it is still refused after `retries` more tries', async () => {
      const { api, app } = failingFirst(conflict(), conflict(), conflict());
      await assert.rejects(start(app, 2), (error: TaskError) => {
        assert.match(error.message, /while starting a one-off dyno \(409 conflict: Release is not ready yet\.\)/);
        return true;
      });
      assert.equal(api.calls.length, 3, `one POST and two retries, no more: ${api.calls.join(', ')}`);
      const once = failingFirst(conflict());
      await assert.rejects(start(once.app, 0), /409 conflict/, 'no retry allowed');
      assert.equal(once.api.calls.length, 1, 'sent once with retries 0');
    });

    it('is not sent again after another refusal, nor after an error that is not from Heroku', async () => {
      const unprocessable = new HerokuApiError(422, 'invalid_params', 'Invalid size.', 'POST', '/apps/a/dynos');
      const refused = failingFirst(unprocessable);
      await assert.rejects(start(refused.app, 2), /while starting a one-off dyno \(422 invalid_params: Invalid size\.\)/);
      assert.equal(refused.api.calls.length, 1, 'a 422 is final');
      // Not a HerokuApiError, though it carries a status 409.
      const other = failingFirst(Object.assign(new Error('socket hang up'), { status: 409 }));
      await assert.rejects(start(other.app, 2), /socket hang up/);
      assert.equal(other.api.calls.length, 1, 'an error that is not an answer of Heroku is final');
    });
  });

  it('explains a refused upload with what it was doing, and opens a stream from a byte on, with no key sent to either', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'upload-'));
    const file = path.join(dir, 'source.tgz');
    writeFileSync(file, 'x');
    const server = await scriptedServer([
      { status: 403, body: '<Error><Code>AccessDenied</Code></Error>' },
      { status: 206, body: 'the rest' },
    ]);
    const client = HerokuClient.connect({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY', ...noWait });
    try {
      await assert.rejects(client.uploadFile(`${server.url}/blob`, file, 1, 'uploading the source tarball'), {
        message:
          'Heroku refused PUT the source URL while uploading the source tarball (403 AccessDenied: answered 403 AccessDenied).',
      });
      const stream = await client.openStream(`${server.url}/output`, 7);
      let text = '';
      for await (const chunk of stream.body) text += chunk.toString('utf8');
      assert.equal(text, JSON.stringify('the rest'), 'the answer as sent (the scripted server sends JSON)');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(
      server.requests.map((r) => [r.authorization, r.range]),
      [
        [undefined, undefined],
        [undefined, 'bytes=7-'],
      ],
    );
  });

  it('undoes with tight limits after a cancel: the call still goes out, and is tried twice at most', async () => {
    const cancel = new AbortController();
    cancel.abort();
    const server = await scriptedServer([{ status: 503 }, { status: 503 }, { status: 200 }]);
    const client = HerokuClient.connect({ baseUrl: server.url, apiKey: 'KEY', signal: cancel.signal, ...noWait });
    const undo = client.forApp('a').withDeadlines(UNDO_DEADLINES);
    await assert.rejects(undo.patch('/apps/a', { maintenance: false }, 'turning maintenance mode off'), /2 attempts/);
    await server.close();
    assert.deepEqual(server.calls, ['PATCH /apps/a', 'PATCH /apps/a']);
  });

  it('names an API other than the default in the log, and logs requests and a low rate limit there', async () => {
    const server = await scriptedServer([
      { status: 200, body: { email: 'dev@example.com' }, headers: { 'RateLimit-Remaining': '12' } },
    ]);
    const host = new FakeHost();
    const access = { apiKey: 'KEY', network: DIRECT };
    const client = clientFor(
      { ...access, api: { url: server.url, isDefault: false, source: 'the variable HEROKU_API_URL' } },
      host.log,
    );
    assert.deepEqual(await client.account(), { email: 'dev@example.com' });
    await server.close();
    assert.equal(
      host.lines[0],
      `Heroku API: ${server.url} (from the variable HEROKU_API_URL, not the default https://api.heroku.com)`,
    );
    assert.match(host.lines[1] ?? '', /^warn: This Heroku account has 12 API calls left this hour/);
    assert.match(host.debugLines.join('\n'), /^GET \/account -> 200 \(\d+ ms\)$/m);

    const quiet = new FakeHost();
    clientFor({ ...access, api: { url: 'https://api.heroku.com', isDefault: true, source: 'the default' } }, quiet.log);
    assert.deepEqual(quiet.lines, []);
  });
});
