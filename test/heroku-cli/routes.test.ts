// What Heroku's CLI needs from the emulator beyond the deploy path, checked without the CLI (the
// full conformance run, which installs `heroku`, is `npm run test:heroku-cli`): the routes added for
// it answer schema-valid bodies, and the behaviours it relies on hold.
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../emulator/index';
import { herokuSchema } from '../emulator/heroku-schema';
import { herokuApi } from '../support/heroku-api';

interface Collaborator {
  role: string | null;
  permissions: Array<{ name: string }>;
  user: { email: string; id: string };
  app: { name: string };
}

describe('emulator: what the Heroku CLI needs', () => {
  let heroku: Emulator;
  let api: ReturnType<typeof herokuApi>;
  const schema = herokuSchema();

  before(async () => {
    heroku = await startEmulator();
    api = herokuApi(heroku.apiUrl, heroku.apiKey);
  });
  after(async () => heroku.stop());
  afterEach(() => assert.deepEqual(heroku.api.violations, [], 'every body answered matches the schema'));

  it("lists an app's add-ons (none) for `apps:info`, with the app's 404 and 403", async () => {
    const app = await heroku.createApp('cli-addons');
    const list = await api.get<unknown[]>(`/apps/${app.name}/addons`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, []);
    assert.equal((await api.get('/apps/no-such-app/addons')).status, 404);
    const other = heroku.createAccount('other@example.com');
    const theirs = await heroku.createApp('cli-addons-theirs', { owner: other.account });
    assert.equal((await api.get(`/apps/${theirs.name}/addons`)).status, 403);
  });

  it('lists collaborators with the owner first (apps:info filters the owner out itself)', async () => {
    const app = await heroku.createApp('cli-collab');
    const friend = heroku.createAccount('friend@example.com');
    app.collaborators.add(friend.account.id);
    const list = await api.get<Collaborator[]>(`/apps/${app.name}/collaborators`);
    assert.equal(list.status, 200);
    assert.deepEqual(schema.validateResponse(schema.link('collaborator', 'List'), list.body), []);
    assert.deepEqual(
      list.body.map((c) => [c.user.email, c.role, c.permissions.length, c.app.name]),
      [
        [heroku.account.email, 'owner', 0, app.name],
        ['friend@example.com', 'collaborator', 0, app.name],
      ],
    );
    // The collaborator sees the same list.
    const asFriend = herokuApi(heroku.apiUrl, friend.apiKey);
    assert.equal((await asFriend.get<Collaborator[]>(`/apps/${app.name}/collaborators`)).body.length, 2);
  });

  it("lists a team app's members as collaborators with team permissions", async () => {
    const mate = heroku.createAccount('mate@example.com');
    heroku.state.createTeam('cli-collab-team', [heroku.account.id, mate.account.id]);
    const created = await api.post<{ name: string }>('/teams/apps', { name: 'cli-collab-team-app', team: 'cli-collab-team' });
    assert.equal(created.status, 201);
    const list = await api.get<Collaborator[]>(`/apps/${created.body.name}/collaborators`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.map((c) => [c.user.email, c.role]),
      [
        [heroku.account.email, 'owner'],
        ['mate@example.com', 'admin'],
      ],
    );
    assert.ok(
      list.body.every((c) => c.permissions.some((p) => p.name === 'deploy')),
      "list.body.every((c) => c.permissions.some((p) => p.name === 'deploy'))",
    );
  });

  it('keeps team apps out of /users/~/apps (`heroku apps`) and in /apps (`heroku apps --all`)', async () => {
    heroku.state.createTeam('cli-list-team', [heroku.account.id]);
    await heroku.createApp('cli-list-mine');
    assert.equal((await api.post('/teams/apps', { name: 'cli-list-team-app', team: 'cli-list-team' })).status, 201);
    const mine = (await api.get<Array<{ name: string }>>('/users/~/apps')).body.map((a) => a.name);
    const all = (await api.get<Array<{ name: string }>>('/apps')).body.map((a) => a.name);
    assert.ok(mine.includes('cli-list-mine') && !mine.includes('cli-list-team-app'), mine.join(', '));
    assert.ok(all.includes('cli-list-mine') && all.includes('cli-list-team-app'), all.join(', '));
  });

  it('names the pipeline in couplings (pipelines:promote prints `coupling.pipeline.name`)', async () => {
    const app = await heroku.createApp('cli-coupled');
    const pipeline = await api.post<{ id: string }>('/pipelines', { name: 'cli-named-pipeline' });
    const coupling = await api.post<{ pipeline: { id: string; name: string } }>('/pipeline-couplings', {
      app: app.name,
      pipeline: pipeline.body.id,
      stage: 'staging',
    });
    assert.equal(coupling.status, 201);
    assert.deepEqual(coupling.body.pipeline, { id: pipeline.body.id, name: 'cli-named-pipeline' });
    const byApp = await api.get<{ pipeline: { name: string } }>(`/apps/${app.name}/pipeline-couplings`);
    assert.equal(byApp.body.pipeline.name, 'cli-named-pipeline');
  });

  it('accepts the Accept variants the CLI sends (3.sdk, 3.pipelines, 3.filters)', async () => {
    const app = await heroku.createApp('cli-variants');
    for (const variant of ['3.sdk', '3.pipelines', '3.filters']) {
      const answer = await api.get(`/apps/${app.name}`, { Accept: `application/vnd.heroku+json; version=${variant}` });
      assert.equal(answer.status, 200, variant);
    }
  });

  it('serves a log session as Server-Sent Events to an EventSource (`heroku logs`), as text otherwise', async () => {
    const app = await heroku.createApp('cli-logs');
    heroku.platform.logs(app).add('app', 'web.1', 'first line');
    heroku.platform.logs(app).add('app', 'web.1', 'second line');
    const session = async (): Promise<string> =>
      (await api.post<{ logplex_url: string }>(`/apps/${app.name}/log-sessions`, { lines: 2, source: 'app' })).body.logplex_url;

    const sse = await fetch(await session(), { headers: { Accept: 'text/event-stream' } });
    assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = (await sse.text()).split('\n\n').filter(Boolean);
    assert.equal(events.length, 2);
    assert.match(events[0] ?? '', /^data: \S+ app\[web\.1\]: first line$/);
    assert.match(events[1] ?? '', /^data: \S+ app\[web\.1\]: second line$/);

    const text = await fetch(await session());
    assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
    assert.deepEqual(
      (await text.text())
        .trimEnd()
        .split('\n')
        .map((l) => l.replace(/^\S+ /, '')),
      ['app[web.1]: first line', 'app[web.1]: second line'],
    );
  });
});
