// The Platform API's semantics around every route: auth, Accept version, error ids, rate limit,
// Range paging and request validation, as Heroku documents them.
import assert from 'node:assert/strict';
import { herokuApi, type ApiAnswer } from '../support/heroku-api';
import { pushOk, useEmulator } from '../support/emulator';

const ACCEPT = 'application/vnd.heroku+json; version=3';

describe('emulator: Platform API semantics', () => {
  const context = useEmulator();

  describe('authentication and errors', () => {
    let app: string;
    before(async () => {
      app = (await context.heroku.createApp(context.name('api-auth'))).name;
    });

    it('accepts the API key as a Bearer token', async () => {
      const answer = await context.api.get<{ email: string; id: string }>('/account');
      assert.equal(answer.status, 200);
      assert.equal(answer.body.email, context.heroku.account.email);
      assert.equal(answer.body.id, context.heroku.account.id);
    });

    it('answers 401 unauthorized to an unknown key', async () => {
      const answer = await herokuApi(context.heroku.apiUrl, 'HRKU-not-a-key').get<{ id: string }>('/account');
      assert.equal(answer.status, 401);
      assert.equal(answer.body.id, 'unauthorized');
    });

    it('answers 401 unauthorized without credentials', async () => {
      const response = await fetch(`${context.heroku.apiUrl}/account`, { headers: { Accept: ACCEPT } });
      assert.equal(response.status, 401);
      assert.equal(((await response.json()) as { id: string }).id, 'unauthorized');
    });

    it("answers 403 forbidden for another account's app", async () => {
      const stranger = context.heroku.createAccount(`stranger-${Date.now()}@example.com`);
      const answer = await herokuApi(context.heroku.apiUrl, stranger.apiKey).get<{ id: string }>(`/apps/${app}`);
      assert.equal(answer.status, 403);
      assert.equal(answer.body.id, 'forbidden');
    });

    it('answers 404 not_found for an unknown app', async () => {
      const answer = await context.api.get<{ id: string; resource: string }>('/apps/no-such-app-here');
      assert.equal(answer.status, 404);
      assert.equal(answer.body.id, 'not_found');
      assert.equal(answer.body.resource, 'app');
    });

    it('answers 404 not_found for an unknown endpoint', async () => {
      const answer = await context.api.get<{ id: string }>('/no/such/endpoint');
      assert.equal(answer.status, 404);
      assert.equal(answer.body.id, 'not_found');
    });

    it('answers 400 missing_version without the Accept header', async () => {
      const response = await fetch(`${context.heroku.apiUrl}/account`, {
        headers: { Authorization: `Bearer ${context.heroku.apiKey}` },
      });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as { id: string }).id, 'missing_version');
    });

    it('answers 406 not_acceptable to version=2', async () => {
      const answer = await context.api.get<{ id: string }>('/account', { Accept: 'application/vnd.heroku+json; version=2' });
      assert.equal(answer.status, 406);
      assert.equal(answer.body.id, 'not_acceptable');
    });

    it('sends RateLimit-Remaining on successes and errors, counting down', async () => {
      const first = await context.api.get('/account');
      const missing = await context.api.get('/apps/no-such-app-here');
      const invalid = await context.api.post('/apps', { name: 'Not A Valid Name' });
      const remaining = [first, missing, invalid].map((a) => Number(a.headers.get('ratelimit-remaining')));
      assert.deepEqual([first.status, missing.status, invalid.status], [200, 404, 422]);
      for (const value of remaining) assert.ok(Number.isInteger(value) && value > 0, `RateLimit-Remaining ${value}`);
      assert.ok((remaining[2] as number) < (remaining[0] as number), `counts down: ${remaining.join(', ')}`);
    });

    it('answers 422 invalid_params to a body that does not match the schema', async () => {
      const answer = await context.api.post<{ id: string; message: string }>('/apps', { name: 42 });
      assert.equal(answer.status, 422);
      assert.equal(answer.body.id, 'invalid_params');
      assert.match(answer.body.message, /name/);
    });

    it('answers 422 invalid_params to a formation update without its required type', async () => {
      const answer = await context.api.patch<{ id: string }>(`/apps/${app}/formation`, { updates: [{ quantity: 1 }] });
      assert.equal(answer.status, 422);
      assert.equal(answer.body.id, 'invalid_params');
    });
  });

  describe('rate limit', () => {
    const limited = useEmulator({ rateLimitBudget: 3 });

    it('answers 429 rate_limit once the budget is spent, with RateLimit-Remaining 0', async () => {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await limited.api.get<{ id?: string }>('/account'));
      assert.deepEqual(
        answers.map((a) => a.status),
        [200, 200, 200, 429],
      );
      assert.deepEqual(
        answers.map((a) => a.headers.get('ratelimit-remaining')),
        ['2', '1', '0', '0'],
      );
      assert.equal(answers[3]?.body.id, 'rate_limit');
    });

    it('counts per account: another account still has its budget', async () => {
      const other = limited.heroku.createAccount(`budget-${Date.now()}@example.com`);
      const answer = await herokuApi(limited.heroku.apiUrl, other.apiKey).get('/account');
      assert.equal(answer.status, 200);
    });
  });

  describe('Range paging', () => {
    let app: string;
    before(async () => {
      app = (await context.heroku.createApp(context.name('api-range'))).name;
      // v1, v2 at creation; v3..v6 from config changes.
      for (let i = 1; i <= 4; i++)
        assert.equal((await context.api.patch(`/apps/${app}/config-vars`, { [`STEP_${i}`]: String(i) })).status, 200);
    });

    it('answers the newest release with 206 and Next-Range to `version ..; order=desc, max=1`', async () => {
      const answer = await context.api.get<Array<{ version: number }>>(`/apps/${app}/releases`, {
        Range: 'version ..; order=desc, max=1',
      });
      assert.equal(answer.status, 206);
      assert.deepEqual(
        answer.body.map((r) => r.version),
        [6],
      );
      assert.ok(answer.headers.get('next-range'), 'Next-Range is set');
    });

    it('pages through every release by following Next-Range as the Range of the next request', async () => {
      const versions: number[] = [];
      let range: string | null = 'version ..; order=desc, max=2';
      const statuses: number[] = [];
      while (range) {
        const answer: ApiAnswer<Array<{ version: number }>> = await context.api.get<Array<{ version: number }>>(
          `/apps/${app}/releases`,
          { Range: range },
        );
        statuses.push(answer.status);
        assert.ok(answer.status === 200 || answer.status === 206, `status ${answer.status}: ${JSON.stringify(answer.body)}`);
        versions.push(...answer.body.map((r) => r.version));
        range = answer.headers.get('next-range');
        assert.ok(statuses.length < 10, 'paging ends');
      }
      assert.deepEqual(versions, [6, 5, 4, 3, 2, 1]);
      assert.deepEqual(statuses, [206, 206, 200]);
    });

    it('answers the whole list with 200 and Accept-Ranges without a Range', async () => {
      const answer = await context.api.get<unknown[]>(`/apps/${app}/releases`);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.length, 6);
      assert.match(answer.headers.get('accept-ranges') ?? '', /version/);
    });

    it('answers 416 to a Range it cannot satisfy', async () => {
      for (const range of [
        'nonsense',
        'size ..; max=1',
        'version ..; max=0',
        'version ..; max=1001',
        'version ..; order=sideways',
      ]) {
        const answer = await context.api.get<{ id: string }>(`/apps/${app}/releases`, { Range: range });
        assert.equal(answer.status, 416, `Range: ${range}`);
        assert.equal(answer.body.id, 'requested_range_not_satisfiable');
      }
    });
  });

  describe('numeric strings', () => {
    it('accepts a formation quantity "0" sent as a string and stores the integer', async () => {
      const app = await context.heroku.createApp(context.name('api-qty'));
      await pushOk(await context.repo(), context.gitUrl(app.name), context.heroku.apiKey);
      const answer = await context.api.patch<{ quantity: unknown }>(`/apps/${app.name}/formation/web`, { quantity: '0' });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.quantity, 0);
      const batch = await context.api.patch<Array<{ quantity: unknown }>>(`/apps/${app.name}/formation`, {
        updates: [{ type: 'web', quantity: '1' }],
      });
      assert.equal(batch.status, 200, JSON.stringify(batch.body));
      assert.equal(batch.body[0]?.quantity, 1);
    });

    it('still refuses a quantity that is not a number', async () => {
      const app = await context.heroku.createApp(context.name('api-nan'));
      const answer = await context.api.patch<{ id: string }>(`/apps/${app.name}/formation`, {
        updates: [{ type: 'web', quantity: 'lots' }],
      });
      assert.equal(answer.status, 422);
      assert.equal(answer.body.id, 'invalid_params');
    });
  });
});
