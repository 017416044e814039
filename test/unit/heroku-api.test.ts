// The Platform API client's retry policy, against a scripted local server and a fake clock.
import assert from 'node:assert/strict';
import { HerokuApi, HerokuApiError } from '../../tasks/common/core/heroku/api';
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
});
