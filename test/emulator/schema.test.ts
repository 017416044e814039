// Every route the emulator serves answers, against realistic state, a body that matches Heroku's
// official schema (../shared/heroku-platform-api/schema.json) with every listed property present.
import assert from 'node:assert/strict';
import { buildRouter } from './api/routes';
import type { Route } from './api/router';
import { herokuSchema } from './heroku-schema';
import type { App, Release } from './state';
import { httpRequest, pushOk, tarball, useEmulator } from '../support/emulator';
import { FIXTURE_APP } from '../support/git';

interface Call {
  /** The concrete path, e.g. `/apps/my-app/releases/3`. */
  path: string;
  body?: unknown;
}

/** A route's case: the concrete call(s) to make once the shared state exists. */
type Case = (s: Setup) => Call | Call[] | Promise<Call | Call[]>;

interface Setup {
  /** A deployed Cedar app (sample app, web.1 running): read-only cases. */
  main: App;
  /** A deployed Cedar app for cases that change things (restart, stop, scale, config). */
  ops: App;
  /** A deployed Fir app (its release carries an OCI image). */
  fir: App;
  team: string;
  teamApp: string;
  pipelineId: string;
  couplingId: string;
  promotionId: string;
  deployRelease: Release;
  /** Creates a throwaway app for a destructive case. */
  newApp(prefix: string): Promise<App>;
}

const schema = herokuSchema();
const routes: Route[] = buildRouter(schema).routes;
const key = (route: Pick<Route, 'method' | 'path'>): string => `${route.method} ${route.path}`;

const context = useEmulator();
const setup = {} as Setup;

const CASES: Record<string, Case> = {
  'GET /account': () => ({ path: '/account' }),
  'GET /users/:account': () => ({ path: `/users/${encodeURIComponent(context.heroku.account.email)}` }),
  'POST /apps': () => ({ path: '/apps', body: { name: context.name('sc-create'), region: 'eu', stack: 'heroku-22' } }),
  'GET /apps': () => ({ path: '/apps' }),
  'GET /users/:account/apps': () => ({ path: '/users/~/apps' }),
  'GET /apps/:app': (s) => ({ path: `/apps/${s.main.name}` }),
  'PATCH /apps/:app': async (s) => ({
    path: `/apps/${(await s.newApp('sc-patch')).name}`,
    body: { maintenance: true, build_stack: 'heroku-22' },
  }),
  'DELETE /apps/:app': async (s) => ({ path: `/apps/${(await s.newApp('sc-delete')).name}` }),
  'POST /teams/apps': (s) => ({ path: '/teams/apps', body: { name: context.name('sc-team'), team: s.team, region: 'us' } }),
  'GET /teams/apps/:team_app': (s) => ({ path: `/teams/apps/${s.teamApp}` }),
  'GET /teams/:team/apps': (s) => ({ path: `/teams/${s.team}/apps` }),
  'POST /filters/apps': (s) => ({ path: '/filters/apps', body: { in: { id: [s.main.id, s.ops.id] } } }),
  'GET /teams': () => ({ path: '/teams' }),
  'GET /teams/:team': (s) => ({ path: `/teams/${s.team}` }),

  'GET /apps/:app/releases': (s) => [{ path: `/apps/${s.main.name}/releases` }, { path: `/apps/${s.fir.name}/releases` }],
  'GET /apps/:app/releases/:release': (s) => [
    { path: `/apps/${s.main.name}/releases/${s.deployRelease.id}` },
    { path: `/apps/${s.main.name}/releases/${s.deployRelease.version}` },
    { path: `/apps/${s.fir.name}/releases/${String(s.fir.releases.at(-1)?.version)}` },
  ],
  'POST /apps/:app/releases': (s) => [
    { path: `/apps/${s.ops.name}/releases`, body: { slug: s.deployRelease.slugId, description: 'Deploy the main app slug' } },
    { path: `/apps/${s.ops.name}/releases`, body: { release: s.ops.releases[2]?.id } },
  ],
  'GET /apps/:app/slugs/:slug': (s) => ({ path: `/apps/${s.main.name}/slugs/${String(s.deployRelease.slugId)}` }),
  'GET /apps/:app/oci-images/:oci_image': (s) => ({
    path: `/apps/${s.fir.name}/oci-images/${String(s.fir.releases.at(-1)?.ociImageId)}`,
  }),

  'POST /sources': () => ({ path: '/sources' }),
  'POST /apps/:app/sources': (s) => ({ path: `/apps/${s.main.name}/sources` }),
  'POST /apps/:app/builds': async (s) => {
    const app = await s.newApp('sc-build');
    const source = await context.api.post<{ source_blob: { get_url: string; put_url: string } }>('/sources');
    const put = await httpRequest(source.body.source_blob.put_url, { method: 'PUT', body: await tarball(FIXTURE_APP) });
    assert.equal(put.status, 200);
    return {
      path: `/apps/${app.name}/builds`,
      body: { source_blob: { url: source.body.source_blob.get_url, version: 'v1.0.0' } },
    };
  },
  'DELETE /apps/:app/builds/:build': async (s) => {
    const app = await s.newApp('sc-cancel');
    const hold = context.heroku.faults.holdBuilds();
    const source = await context.api.post<{ source_blob: { get_url: string; put_url: string } }>('/sources');
    await httpRequest(source.body.source_blob.put_url, { method: 'PUT', body: await tarball(FIXTURE_APP) });
    const build = await context.api.post<{ id: string }>(`/apps/${app.name}/builds`, {
      source_blob: { url: source.body.source_blob.get_url, version: 'v1.0.0' },
    });
    setTimeout(() => hold.release(), 1000);
    return { path: `/apps/${app.name}/builds/${build.body.id}` };
  },
  'GET /apps/:app/builds': (s) => ({ path: `/apps/${s.main.name}/builds` }),
  'GET /apps/:app/builds/:build': (s) => ({ path: `/apps/${s.main.name}/builds/${String(s.main.builds[0]?.id)}` }),
  'GET /apps/:app/buildpack-installations': (s) => ({ path: `/apps/${s.main.name}/buildpack-installations` }),
  'PUT /apps/:app/buildpack-installations': (s) => ({
    path: `/apps/${s.ops.name}/buildpack-installations`,
    body: { updates: [{ buildpack: 'heroku/nodejs' }] },
  }),

  'GET /apps/:app/formation': (s) => ({ path: `/apps/${s.main.name}/formation` }),
  'GET /apps/:app/formation/:formation': (s) => ({ path: `/apps/${s.main.name}/formation/web` }),
  'PATCH /apps/:app/formation': (s) => ({
    path: `/apps/${s.ops.name}/formation`,
    body: { updates: [{ type: 'web', quantity: 1, dyno_size: { name: 'Basic' } }] },
  }),
  'PATCH /apps/:app/formation/:formation': (s) => ({ path: `/apps/${s.ops.name}/formation/web`, body: { quantity: 1 } }),

  'GET /apps/:app/config-vars': (s) => ({ path: `/apps/${s.main.name}/config-vars` }),
  'PATCH /apps/:app/config-vars': (s) => ({
    path: `/apps/${s.ops.name}/config-vars`,
    body: { GREETING: 'hello', UNSET_ME: null },
  }),
  'GET /apps/:app/releases/:release/config-vars': (s) => ({
    path: `/apps/${s.main.name}/releases/${s.deployRelease.version}/config-vars`,
  }),

  'POST /apps/:app/dynos': (s) => [
    {
      path: `/apps/${s.main.name}/dynos`,
      body: { command: 'echo attached ; echo "status: $?"', attach: true, force_no_tty: true, time_to_live: 60 },
    },
    { path: `/apps/${s.main.name}/dynos`, body: { command: 'echo detached', env: { A: 'b' }, size: 'standard-2x', type: 'run' } },
  ],
  'GET /apps/:app/dynos': (s) => ({ path: `/apps/${s.main.name}/dynos` }),
  'GET /apps/:app/dynos/:dyno': (s) => ({ path: `/apps/${s.main.name}/dynos/web.1` }),
  'DELETE /apps/:app/dynos': (s) => ({ path: `/apps/${s.ops.name}/dynos` }),
  'DELETE /apps/:app/dynos/:dyno': (s) => ({ path: `/apps/${s.ops.name}/dynos/web.1` }),
  'DELETE /apps/:app/formations/:formation_type': (s) => ({ path: `/apps/${s.ops.name}/formations/web` }),
  'POST /apps/:app/dynos/:dyno/actions/stop': (s) => ({ path: `/apps/${s.ops.name}/dynos/web.1/actions/stop` }),
  'POST /apps/:app/formations/:formation_type/actions/stop': (s) => ({ path: `/apps/${s.ops.name}/formations/web/actions/stop` }),

  'GET /apps/:app/addons': (s) => ({ path: `/apps/${s.main.name}/addons` }),
  'GET /apps/:app/collaborators': (s) => ({ path: `/apps/${s.main.name}/collaborators` }),
  'GET /apps/:app/features': (s) => ({ path: `/apps/${s.main.name}/features` }),
  'GET /apps/:app/features/:app_feature': (s) => ({ path: `/apps/${s.main.name}/features/runtime-dyno-metadata` }),
  'PATCH /apps/:app/features/:app_feature': (s) => ({
    path: `/apps/${s.ops.name}/features/runtime-dyno-metadata`,
    body: { enabled: true },
  }),
  'POST /apps/:app/log-sessions': (s) => ({
    path: `/apps/${s.main.name}/log-sessions`,
    body: { lines: 10, source: 'app', tail: false },
  }),

  'POST /pipelines': () => ({ path: '/pipelines', body: { name: context.name('sc-pipeline') } }),
  'GET /pipelines': () => ({ path: '/pipelines' }),
  'GET /pipelines/:pipeline': (s) => ({ path: `/pipelines/${s.pipelineId}` }),
  'DELETE /pipelines/:pipeline': async () => {
    const created = await context.api.post<{ id: string }>('/pipelines', { name: context.name('sc-doomed') });
    return { path: `/pipelines/${created.body.id}` };
  },
  'POST /pipeline-couplings': async (s) => ({
    path: '/pipeline-couplings',
    body: { app: (await s.newApp('sc-couple')).id, pipeline: s.pipelineId, stage: 'development' },
  }),
  'GET /pipeline-couplings': () => ({ path: '/pipeline-couplings' }),
  'GET /users/~/pipeline-couplings': () => ({ path: '/users/~/pipeline-couplings' }),
  'GET /pipeline-couplings/:pipeline_coupling': (s) => ({ path: `/pipeline-couplings/${s.couplingId}` }),
  'PATCH /pipeline-couplings/:pipeline_coupling': (s) => ({
    path: `/pipeline-couplings/${s.couplingId}`,
    body: { stage: 'staging' },
  }),
  'DELETE /pipeline-couplings/:pipeline_coupling': async (s) => {
    const app = await s.newApp('sc-uncouple');
    const coupling = await context.api.post<{ id: string }>('/pipeline-couplings', {
      app: app.id,
      pipeline: s.pipelineId,
      stage: 'review',
    });
    return { path: `/pipeline-couplings/${coupling.body.id}` };
  },
  'GET /apps/:app/pipeline-couplings': (s) => ({ path: `/apps/${s.main.name}/pipeline-couplings` }),
  'GET /pipelines/:pipeline/pipeline-couplings': (s) => ({ path: `/pipelines/${s.pipelineId}/pipeline-couplings` }),
  'POST /pipeline-promotions': (s) => ({
    path: '/pipeline-promotions',
    body: { pipeline: { id: s.pipelineId }, source: { app: { id: s.main.id } }, targets: [{ app: { id: s.ops.id } }] },
  }),
  'GET /pipeline-promotions/:pipeline_promotion': (s) => ({ path: `/pipeline-promotions/${s.promotionId}` }),
  'GET /pipeline-promotions/:pipeline_promotion/promotion-targets': (s) => ({
    path: `/pipeline-promotions/${s.promotionId}/promotion-targets`,
  }),
};

describe("emulator: every route answers what Heroku's schema describes", function () {
  this.timeout(60_000);

  before(async () => {
    const { heroku, api } = context;
    const deployed = async (prefix: string, generation?: 'fir'): Promise<App> => {
      const app = await heroku.createApp(context.name(prefix), generation ? { generation } : {});
      await pushOk(await context.repo(), context.gitUrl(app.name), heroku.apiKey);
      return app;
    };
    const [main, ops, fir] = await Promise.all([deployed('sc-main'), deployed('sc-ops'), deployed('sc-fir', 'fir')]);
    Object.assign(setup, { main, ops, fir, deployRelease: main.releases.at(-1) as Release });
    setup.newApp = (prefix) => heroku.createApp(context.name(prefix));
    main.collaborators.add(heroku.createAccount('collaborator@example.com').account.id);

    setup.team = context.name('sc-acme');
    heroku.state.createTeam(setup.team, [heroku.account.id]);
    const teamApp = await api.post<{ name: string }>('/teams/apps', { name: context.name('sc-teamapp'), team: setup.team });
    assert.equal(teamApp.status, 201, JSON.stringify(teamApp.body));
    setup.teamApp = teamApp.body.name;

    const pipeline = await api.post<{ id: string }>('/pipelines', { name: context.name('sc-flow') });
    setup.pipelineId = pipeline.body.id;
    const coupling = await api.post<{ id: string }>('/pipeline-couplings', {
      app: main.id,
      pipeline: setup.pipelineId,
      stage: 'staging',
    });
    setup.couplingId = coupling.body.id;
    await api.post('/pipeline-couplings', { app: ops.id, pipeline: setup.pipelineId, stage: 'production' });
    const promotion = await api.post<{ id: string }>('/pipeline-promotions', {
      pipeline: { id: setup.pipelineId },
      source: { app: { id: main.id } },
      targets: [{ app: { id: ops.id } }],
    });
    assert.equal(promotion.status, 201, JSON.stringify(promotion.body));
    setup.promotionId = promotion.body.id;
  });

  it('has a case for every route of the router, and no case for a route it lacks', () => {
    const routed = routes.map(key).sort();
    const cased = Object.keys(CASES).sort();
    assert.deepEqual(
      routed.filter((k) => !cased.includes(k)),
      [],
      'routes without a schema case: add one to CASES',
    );
    assert.deepEqual(
      cased.filter((k) => !routed.includes(k)),
      [],
      'cases for routes the router does not serve',
    );
  });

  for (const route of routes) {
    it(`${key(route)} (${route.links.map((l) => `${l.resource} ${l.title}`).join(' / ')})`, async function () {
      const make = CASES[key(route)];
      if (!make) this.skip(); // reported by the coverage test above
      const made = await make(setup);
      for (const call of Array.isArray(made) ? made : [made]) {
        const answer = await context.api.call(route.method, call.path, call.body);
        assert.ok(
          answer.status >= 200 && answer.status < 300,
          `${route.method} ${call.path} answered ${answer.status}: ${JSON.stringify(answer.body)}`,
        );
        for (const link of route.links) {
          assert.deepEqual(
            schema.validateResponse(link, answer.body),
            [],
            `${route.method} ${call.path} against ${link.resource} ${link.title}`,
          );
        }
      }
    });
  }

  describe('the validation can fail (negative controls)', () => {
    const releaseInfo = schema.link('release', 'Info');
    let release: Record<string, unknown>;

    before(async () => {
      const answer = await context.api.get<Record<string, unknown>>(
        `/apps/${setup.main.name}/releases/${setup.deployRelease.version}`,
      );
      release = answer.body;
      assert.deepEqual(schema.validateResponse(releaseInfo, release), []);
    });

    it('rejects a release whose version is a string', () => {
      const errors = schema.validateResponse(releaseInfo, { ...release, version: String(release.version) });
      assert.ok(
        errors.some((e) => e.startsWith('/version')),
        errors.join('; '),
      );
    });

    it('rejects a release with a listed property missing', () => {
      const rest = { ...release };
      delete rest.status;
      assert.deepEqual(schema.validateResponse(releaseInfo, rest), ['/status is missing']);
    });

    it('rejects a nested property missing and a status outside the enum', () => {
      const errors = schema.validateResponse(releaseInfo, { ...release, app: { name: setup.main.name }, status: 'deployed' });
      assert.ok(errors.includes('/app/id is missing'), errors.join('; '));
      assert.ok(
        errors.some((e) => e.startsWith('/status')),
        errors.join('; '),
      );
    });

    it('rejects an app whose web_url is not a herokuapp.com URL', async () => {
      const app = await context.api.get<Record<string, unknown>>(`/apps/${setup.main.name}`);
      const errors = schema.validateResponse(schema.link('app', 'Info'), { ...app.body, web_url: 'http://127.0.0.1:5000/' });
      assert.ok(
        errors.some((e) => e.startsWith('/web_url')),
        errors.join('; '),
      );
    });
  });

  it('recorded no schema violation in any response it sent', () => {
    assert.deepEqual(context.heroku.api.violations, []);
  });
});
