// The Platform API client's retry policy, against a scripted local server and a fake clock.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { TaskError } from '../../tasks/common/core/base/errors';
import { HerokuApi, HerokuApiError, UNREADABLE } from '../../tasks/common/core/heroku/api';
import { RecordingApi } from '../support/recording-api';
import { refusingUrl, scriptedServer } from '../support/scripted-server';

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

  it('gives up after four retries with the last error, and does not retry a 4xx', async () => {
    const down = await scriptedServer(
      Array.from({ length: 6 }, () => ({ status: 502, body: { id: 'bad_gateway', message: 'Bad gateway.' } })),
    );
    const waits: number[] = [];
    const error = await client(down.url, waits)
      .get('/account')
      .catch((e: unknown) => e);
    await down.close();
    assert.ok(error instanceof HerokuApiError);
    assert.deepEqual([error.status, error.id, error.attempts, down.requests.length], [502, 'bad_gateway', 5, 5]);

    const notFound = await scriptedServer([{ status: 404, body: { id: 'not_found', message: "Couldn't find that app." } }]);
    const missing = await client(notFound.url, [])
      .get('/apps/x')
      .catch((e: unknown) => e);
    await notFound.close();
    assert.ok(missing instanceof HerokuApiError && missing.id === 'not_found' && notFound.requests.length === 1);
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
    assert.ok(error instanceof HerokuApiError && error.status === 503);
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
    await assert.rejects(api.get('/account'), /cancelled/, 'no call starts after the cancel');
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
    assert.ok(lines.every((l) => l.length <= 64 * 1024 + 30));
    assert.match(lines[1] ?? '', / \[line cut at 64 KB\]$/);
  });
});
