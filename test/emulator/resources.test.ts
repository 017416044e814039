// The Platform API resources a deploy touches, doing what Heroku does: apps, releases, rollback,
// slugs, the Builds API, formation, config vars, dynos, log sessions and, on Fir, OCI images.
import assert from 'node:assert/strict';
import { FIXTURE_APP, type Repo } from '../support/git';
import { type ReleaseBody, eventually } from '../support/heroku-api';
import { envApp, httpRequest, pushOk, tarball, useEmulator } from '../support/emulator';

interface AppBody {
  id: string;
  name: string;
  maintenance: boolean;
  region: { name: string };
  stack: { name: string };
  build_stack: { name: string };
  team: { name: string } | null;
  web_url: string;
  generation: { name: string };
}

describe('emulator: Platform API resources', () => {
  const context = useEmulator();

  /** A new app with the sample app (or `files`) deployed; returns its name and the pushed SHA. */
  const deployed = async (
    prefix: string,
    options: { files?: Record<string, string>; generation?: 'fir' } = {},
  ): Promise<{ app: string; sha: string; repo: Repo }> => {
    const app = await context.heroku.createApp(
      context.name(prefix),
      options.generation ? { generation: options.generation } : {},
    );
    const repo = await context.repo(options.files ? { files: options.files } : {});
    await pushOk(repo, context.gitUrl(app.name), context.heroku.apiKey);
    return { app: app.name, sha: await repo.head(), repo };
  };

  const releases = async (app: string): Promise<ReleaseBody[]> =>
    (await context.api.get<ReleaseBody[]>(`/apps/${app}/releases`)).body;

  describe('apps', () => {
    it('creates an app with a region and a stack, and a web_url on herokuapp.com with a random suffix', async () => {
      const name = context.name('rs-create');
      const answer = await context.api.post<AppBody>('/apps', { name, region: 'eu', stack: 'heroku-22' });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.name, name);
      assert.equal(answer.body.region.name, 'eu');
      assert.equal(answer.body.stack.name, 'heroku-22');
      assert.equal(answer.body.build_stack.name, 'heroku-22');
      assert.equal(answer.body.team, null);
      assert.match(answer.body.web_url, new RegExp(`^https?://${name}-[0-9a-f]{12}\\.herokuapp\\.com/$`));
      const list = await releases(name);
      assert.deepEqual(
        list.map((r) => [r.version, r.description]),
        [
          [1, 'Initial release'],
          [2, 'Enable Logplex'],
        ],
      );
    });

    it('creates an app in a team through /teams/apps', async () => {
      const team = context.name('rs-team');
      context.heroku.state.createTeam(team, [context.heroku.account.id]);
      const name = context.name('rs-teamapp');
      const answer = await context.api.post<AppBody>('/teams/apps', { name, team, region: 'us' });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.team?.name, team);
      const info = await context.api.get<AppBody>(`/apps/${name}`);
      assert.equal(info.body.team?.name, team);
      const listed = await context.api.get<AppBody[]>(`/teams/${team}/apps`);
      assert.deepEqual(
        listed.body.map((a) => a.name),
        [name],
      );
    });

    it('refuses a team the account is not a member of, an unknown region and a taken name', async () => {
      const team = context.name('rs-closed');
      context.heroku.state.createTeam(team, []);
      const forbidden = await context.api.post<{ id: string }>('/teams/apps', { name: context.name('rs-x'), team });
      assert.equal(forbidden.status, 403);
      const region = await context.api.post<{ id: string }>('/apps', { name: context.name('rs-y'), region: 'mars' });
      assert.deepEqual([region.status, region.body.id], [404, 'not_found']);
      const name = context.name('rs-taken');
      await context.api.post('/apps', { name });
      const taken = await context.api.post<{ id: string }>('/apps', { name });
      assert.deepEqual([taken.status, taken.body.id], [422, 'invalid_params']);
    });

    it('turns maintenance on and off', async () => {
      const name = (await context.heroku.createApp(context.name('rs-maint'))).name;
      const on = await context.api.patch<AppBody>(`/apps/${name}`, { maintenance: true });
      assert.equal(on.body.maintenance, true);
      assert.equal((await context.api.get<AppBody>(`/apps/${name}`)).body.maintenance, true);
      const off = await context.api.patch<AppBody>(`/apps/${name}`, { maintenance: false });
      assert.equal(off.body.maintenance, false);
    });
  });

  describe('releases, slugs and rollback', () => {
    let app: string;
    let first: string;
    let second: string;
    before(async () => {
      const deploy = await deployed('rs-rel');
      app = deploy.app;
      first = deploy.sha;
      second = await deploy.repo.commit('second', { 'message.txt': 'second version\n' });
      await pushOk(deploy.repo, context.gitUrl(app), context.heroku.apiKey);
    });

    it('lists releases and finds one by id and by version', async () => {
      const list = await releases(app);
      assert.deepEqual(
        list.map((r) => r.version),
        [1, 2, 3, 4],
      );
      const v3 = list[2] as ReleaseBody;
      const byId = await context.api.get<ReleaseBody>(`/apps/${app}/releases/${v3.id}`);
      const byVersion = await context.api.get<ReleaseBody>(`/apps/${app}/releases/3`);
      assert.equal(byId.body.id, v3.id);
      assert.equal(byVersion.body.id, v3.id);
      assert.equal(byVersion.body.description, `Deploy ${first.slice(0, 8)}`);
      assert.equal((list[3] as ReleaseBody).current, true);
      assert.equal(v3.current, false);
      assert.equal((await context.api.get<{ id: string }>(`/apps/${app}/releases/99`)).body.id, 'not_found');
    });

    it("gives each deploy's slug the commit that was pushed", async () => {
      const list = await releases(app);
      const commits = [];
      for (const release of list.slice(2)) {
        assert.deepEqual(release.artifacts, [{ type: 'slug', id: release.slug?.id }]);
        const slug = await context.api.get<{ commit: string; process_types: Record<string, string> }>(
          `/apps/${app}/slugs/${release.slug?.id}`,
        );
        assert.deepEqual(slug.body.process_types, { web: 'node server.js' });
        commits.push(slug.body.commit);
      }
      assert.deepEqual(commits, [first, second]);
    });

    it('rolls back with {release}: a new release "Rollback to vN" that serves the old code', async () => {
      assert.equal((await httpRequest(context.heroku.routerUrl(app))).body, 'second version\n');
      const v3 = (await releases(app))[2] as ReleaseBody;
      const answer = await context.api.post<ReleaseBody>(`/apps/${app}/releases`, { release: v3.id });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.equal(answer.body.version, 5);
      assert.equal(answer.body.description, 'Rollback to v3');
      assert.equal(answer.body.slug?.id, v3.slug?.id);
      await eventually(
        async () =>
          (await httpRequest(context.heroku.routerUrl(app))).body === 'hello from the sample app\n' ? true : undefined,
        15_000,
        'the old code to answer',
      );
    });

    it('refuses to roll back to a release without a slug', async () => {
      const answer = await context.api.post<{ id: string }>(`/apps/${app}/releases`, {
        release: ((await releases(app))[0] as ReleaseBody).id,
      });
      assert.deepEqual([answer.status, answer.body.id], [422, 'invalid_params']);
    });
  });

  describe('Builds API', () => {
    it('builds a source uploaded to a /sources put_url, streams the output and releases it', async () => {
      const app = (await context.heroku.createApp(context.name('rs-build'))).name;
      const source = await context.api.post<{ source_blob: { get_url: string; put_url: string } }>('/sources');
      assert.equal(source.status, 201);
      const put = await httpRequest(source.body.source_blob.put_url, { method: 'PUT', body: await tarball(FIXTURE_APP) });
      assert.equal(put.status, 200);

      const created = await context.api.post<{ id: string; status: string; output_stream_url: string }>(`/apps/${app}/builds`, {
        source_blob: { url: source.body.source_blob.get_url, version: 'v1.2.3' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.status, 'pending');
      const output = await httpRequest(created.body.output_stream_url);
      assert.equal(output.status, 200);
      const lines = output.body.split('\n');
      assert.ok(lines.includes('-----> Building on the Heroku-24 stack'), output.body);
      assert.ok(lines.includes('-----> Build succeeded!'), output.body);
      assert.ok(lines.includes('       Released v3'), output.body);

      const build = await eventually(async () => {
        const answer = await context.api.get<{
          status: string;
          release: { id: string } | null;
          slug: { id: string } | null;
          source_blob: { version: string };
        }>(`/apps/${app}/builds/${created.body.id}`);
        return answer.body.status === 'pending' ? undefined : answer.body;
      });
      assert.equal(build.status, 'succeeded');
      assert.equal(build.source_blob.version, 'v1.2.3');
      const latest = (await releases(app)).at(-1) as ReleaseBody;
      assert.equal(latest.id, build.release?.id);
      assert.equal(latest.slug?.id, build.slug?.id);
      assert.equal(latest.description, 'Deploy v1.2.3');
      await eventually(
        async () => ((await httpRequest(context.heroku.routerUrl(app))).status === 200 ? true : undefined),
        15_000,
        'the built app to answer',
      );
    });

    it('fails a build whose source cannot be fetched', async () => {
      const app = (await context.heroku.createApp(context.name('rs-nosrc'))).name;
      const source = await context.api.post<{ source_blob: { get_url: string } }>('/sources');
      const created = await context.api.post<{ id: string; output_stream_url: string }>(`/apps/${app}/builds`, {
        source_blob: { url: source.body.source_blob.get_url, version: 'none' },
      });
      const output = await httpRequest(created.body.output_stream_url);
      assert.match(output.body, /!/);
      const build = await context.api.get<{ status: string }>(`/apps/${app}/builds/${created.body.id}`);
      assert.equal(build.body.status, 'failed');
      assert.deepEqual(
        (await releases(app)).map((r) => r.version),
        [1, 2],
      );
    });
  });

  describe('formation, config vars and dynos', () => {
    let app: string;
    before(async () => {
      app = (await deployed('rs-env', { files: envApp() })).app;
    });

    it('lists the formation and scales web to 0 (router 503 H14) and back', async () => {
      const list = await context.api.get<Array<{ type: string; quantity: number; command: string }>>(`/apps/${app}/formation`);
      assert.deepEqual(
        list.body.map((f) => [f.type, f.quantity, f.command]),
        [['web', 1, 'node server.js']],
      );
      const down = await context.api.patch<Array<{ quantity: number }>>(`/apps/${app}/formation`, {
        updates: [{ type: 'web', quantity: 0 }],
      });
      assert.equal(down.body[0]?.quantity, 0);
      assert.deepEqual((await context.api.get<unknown[]>(`/apps/${app}/dynos`)).body, []);
      const answer = await httpRequest(context.heroku.routerUrl(app));
      assert.equal(answer.status, 503);
      assert.match(answer.body, /<title>Application Error<\/title>/);
      assert.ok(
        context.heroku.platform
          .logs(context.heroku.app(app))
          .recent(5)
          .some((l) => l.includes('heroku[router]: at=error code=H14 desc="No web processes running"')),
        "context.heroku.platform .logs(context.heroku.app(app)) .recent(5) .some((l) => l.includes('heroku[router]: ...",
      );

      await context.api.patch(`/apps/${app}/formation`, { updates: [{ type: 'web', quantity: 1 }] });
      assert.equal((await httpRequest(context.heroku.routerUrl(app))).status, 200);
    });

    it('sets a config var in a new release and the process sees it; null deletes it', async () => {
      const before = (await releases(app)).at(-1) as ReleaseBody;
      const set = await context.api.patch<Record<string, string>>(`/apps/${app}/config-vars`, { GREETING: 'hej' });
      assert.equal(set.status, 200);
      assert.equal(set.body.GREETING, 'hej');
      const after = (await releases(app)).at(-1) as ReleaseBody;
      assert.equal(after.version, before.version + 1);
      assert.equal(after.description, 'Set GREETING config vars');
      assert.equal(after.slug?.id, before.slug?.id, 'a config change keeps the slug');
      await eventually(
        async () => ((await httpRequest(`${context.heroku.routerUrl(app)}env/GREETING`)).body === 'hej' ? true : undefined),
        15_000,
        'GREETING in the process',
      );
      const release = await context.api.get<Record<string, string>>(`/apps/${app}/releases/${after.version}/config-vars`);
      assert.deepEqual(release.body, { GREETING: 'hej' });

      const removed = await context.api.patch<Record<string, string>>(`/apps/${app}/config-vars`, { GREETING: null });
      assert.deepEqual(removed.body, {});
      assert.equal(((await releases(app)).at(-1) as ReleaseBody).description, 'Remove GREETING config vars');
      await eventually(
        async () => ((await httpRequest(`${context.heroku.routerUrl(app)}env/GREETING`)).body === '(unset)' ? true : undefined),
        15_000,
        'GREETING gone',
      );
    });

    it('restarts all dynos: new processes that answer again', async () => {
      const web = () => context.heroku.platform.runtime(context.heroku.app(app)).dynos.find('web.1');
      await eventually(() => (web()?.state === 'up' ? true : undefined));
      const pid = web()?.process?.pid;
      const answer = await context.api.delete(`/apps/${app}/dynos`);
      assert.equal(answer.status, 202);
      assert.notEqual(web()?.process?.pid, pid);
      assert.equal((await httpRequest(context.heroku.routerUrl(app))).status, 200);
      assert.ok(pid !== undefined && !alive(pid), 'the old process is gone');
    });
  });

  describe('log sessions', () => {
    it('serves Heroku-format lines at logplex_url: router lines, web output and release-phase output', async () => {
      const files = {
        'package.json': JSON.stringify({ name: 'logs-app', version: '1.0.0' }),
        'server.js': envApp()['server.js'] as string,
        Procfile:
          "web: node -e \"console.log('web says hi'); require('./server.js')\"\nrelease: node -e \"console.log('migrating the database')\"\n",
      };
      const { app } = await deployed('rs-logs', { files });
      assert.equal((await httpRequest(`${context.heroku.routerUrl(app)}health`)).status, 200);
      const session = await context.api.post<{ logplex_url: string }>(`/apps/${app}/log-sessions`, { lines: 200 });
      assert.equal(session.status, 201);
      const logs = await eventually(async () => {
        const text = (await httpRequest(session.body.logplex_url)).body;
        return text.includes('app[web.1]: web says hi') ? text : undefined;
      });
      const line = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 (app|heroku)\[[\w.]+\]: ./;
      for (const l of logs.trim().split('\n')) assert.match(l, line);
      assert.match(logs, /heroku\[router\]: at=info method=GET path="\/health" host=rs-logs-[\w-]+\.herokuapp\.com .*status=200/);
      assert.match(logs, /app\[release\.\d+\]: migrating the database/);
      assert.match(logs, /heroku\[web\.1\]: State changed from starting to up/);

      const filtered = await context.api.post<{ logplex_url: string }>(`/apps/${app}/log-sessions`, {
        source: 'app',
        dyno_name: 'web.1',
      });
      const appOnly = (await httpRequest(filtered.body.logplex_url)).body.trim().split('\n');
      assert.ok(appOnly.length > 0 && appOnly.every((l) => l.includes(' app[web.')), appOnly.join('\n'));
    });
  });

  describe('Fir apps', () => {
    it('release an OCI image (slug null) whose commit GET /apps/{app}/oci-images/{id} answers', async () => {
      const { app, sha } = await deployed('rs-fir', { generation: 'fir' });
      const info = await context.api.get<AppBody>(`/apps/${app}`);
      assert.equal(info.body.generation.name, 'fir');
      const list = await releases(app);
      assert.deepEqual(
        list.map((r) => r.description),
        ['Initial release', `Deploy ${sha.slice(0, 8)}`],
      );
      const release = list.at(-1) as ReleaseBody;
      assert.equal(release.slug, null);
      assert.equal(release.artifacts.length, 1);
      assert.equal(release.artifacts[0]?.type, 'oci-image');
      const images = await context.api.get<Array<{ commit: string }>>(`/apps/${app}/oci-images/${release.artifacts[0]?.id}`);
      assert.equal(images.status, 200);
      assert.ok(Array.isArray(images.body), 'Array.isArray(images.body)');
      assert.equal(images.body[0]?.commit, sha);
      assert.equal((await httpRequest(context.heroku.routerUrl(app))).body, 'hello from the sample app\n');
    });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
