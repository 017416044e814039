// The Platform API client's retry policy, against a scripted local server and a fake clock.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HerokuApi, HerokuApiError } from '../../tasks/common/core/heroku/api';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'reset';

async function scriptedServer(
  answers: Answer[],
): Promise<{ url: string; requests: http.IncomingHttpHeaders[]; close(): Promise<void> }> {
  const requests: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    const answer = answers.shift() ?? { status: 200, body: {} };
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

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
    try {
      await api.get('/account').catch(() => undefined);
    } finally {
      Date.now = realNow;
      await server.close();
    }
    assert.deepEqual(waits, [20_000], 'a second 20 s wait would pass 30 s');
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
});
