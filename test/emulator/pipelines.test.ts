// Pipelines: couplings put apps in stages, promotions copy a release's slug to the next stage.
import assert from 'node:assert/strict';
import { type ReleaseBody, eventually } from '../support/heroku-api';
import { httpRequest, pushOk, useEmulator } from '../support/emulator';

interface Coupling {
  id: string;
  app: { id: string };
  pipeline: { id: string };
  stage: string;
}

interface Promotion {
  id: string;
  status: string;
  source: { app: { id: string }; release: { id: string } };
}

interface Target {
  app: { id: string };
  status: string;
  release: { id: string } | null;
  error_message: string | null;
}

describe('emulator: pipelines and promotions', () => {
  const context = useEmulator();
  let pipeline: string;
  let staging: { id: string; name: string };
  let production: { id: string; name: string };
  let sha: string;

  before(async () => {
    const created = await context.api.post<{ id: string; name: string }>('/pipelines', { name: context.name('pl-flow') });
    assert.equal(created.status, 201);
    pipeline = created.body.id;
    staging = await context.heroku.createApp(context.name('pl-staging'));
    production = await context.heroku.createApp(context.name('pl-prod'));
    const repo = await context.repo();
    sha = await repo.commit('staged', { 'message.txt': 'promoted code\n' });
    await pushOk(repo, context.gitUrl(staging.name), context.heroku.apiKey);
    for (const [app, stage] of [
      [staging, 'staging'],
      [production, 'production'],
    ] as const) {
      const answer = await context.api.post<Coupling>('/pipeline-couplings', { app: app.id, pipeline, stage });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.deepEqual([answer.body.app.id, answer.body.pipeline.id, answer.body.stage], [app.id, pipeline, stage]);
    }
  });

  describe('couplings', () => {
    it('finds couplings by app, by pipeline and for the user', async () => {
      const byApp = await context.api.get<Coupling>(`/apps/${production.name}/pipeline-couplings`);
      assert.deepEqual([byApp.body.stage, byApp.body.pipeline.id], ['production', pipeline]);
      const byPipeline = await context.api.get<Coupling[]>(`/pipelines/${pipeline}/pipeline-couplings`);
      assert.deepEqual(
        byPipeline.body.map((c) => [c.app.id, c.stage]).sort(),
        [
          [production.id, 'production'],
          [staging.id, 'staging'],
        ].sort(),
      );
      const mine = await context.api.get<Coupling[]>('/users/~/pipeline-couplings');
      assert.equal(mine.body.length, 2);
    });

    it('answers 404 for an app outside any pipeline and 422 for an app already in one', async () => {
      const loner = await context.heroku.createApp(context.name('pl-loner'));
      const missing = await context.api.get<{ id: string }>(`/apps/${loner.name}/pipeline-couplings`);
      assert.deepEqual([missing.status, missing.body.id], [404, 'not_found']);
      const twice = await context.api.post<{ id: string }>('/pipeline-couplings', {
        app: staging.id,
        pipeline,
        stage: 'development',
      });
      assert.deepEqual([twice.status, twice.body.id], [422, 'invalid_params']);
    });

    it('moves an app to another stage', async () => {
      const app = await context.heroku.createApp(context.name('pl-mover'));
      const coupling = await context.api.post<Coupling>('/pipeline-couplings', { app: app.id, pipeline, stage: 'development' });
      const moved = await context.api.patch<Coupling>(`/pipeline-couplings/${coupling.body.id}`, { stage: 'review' });
      assert.equal(moved.body.stage, 'review');
      assert.equal((await context.api.get<Coupling>(`/apps/${app.name}/pipeline-couplings`)).body.stage, 'review');
      assert.equal((await context.api.delete(`/pipeline-couplings/${coupling.body.id}`)).status, 200);
      assert.equal((await context.api.get(`/apps/${app.name}/pipeline-couplings`)).status, 404);
    });
  });

  describe('promotions', () => {
    it('promotes the current release: pending, then completed, with a "Promote <app> vN <sha>" release on the target', async () => {
      const created = await context.api.post<Promotion>('/pipeline-promotions', {
        pipeline: { id: pipeline },
        source: { app: { id: staging.id } },
        targets: [{ app: { id: production.id } }],
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.status, 'pending');
      const stagingRelease = (await context.api.get<ReleaseBody>(`/apps/${staging.name}/releases/3`)).body;
      assert.equal(created.body.source.release.id, stagingRelease.id);

      const done = await eventually(async () => {
        const answer = await context.api.get<Promotion>(`/pipeline-promotions/${created.body.id}`);
        return answer.body.status === 'completed' ? answer.body : undefined;
      });
      assert.equal(done.status, 'completed');
      const targets = (await context.api.get<Target[]>(`/pipeline-promotions/${created.body.id}/promotion-targets`)).body;
      assert.deepEqual(
        targets.map((t) => [t.app.id, t.status, t.error_message]),
        [[production.id, 'succeeded', null]],
      );

      const promoted = (await context.api.get<ReleaseBody[]>(`/apps/${production.name}/releases`)).body.at(-1) as ReleaseBody;
      assert.equal(promoted.id, targets[0]?.release?.id);
      assert.equal(promoted.description, `Promote ${staging.name} v3 ${sha.slice(0, 8)}`);
      assert.equal(promoted.slug?.id, stagingRelease.slug?.id, 'the same slug, not a rebuild');
      assert.deepEqual([promoted.status, promoted.current], ['succeeded', true]);
      const slug = await context.api.get<{ commit: string }>(`/apps/${production.name}/slugs/${promoted.slug?.id}`);
      assert.equal(slug.body.commit, sha);
      assert.equal((await httpRequest(context.heroku.routerUrl(production.name))).body, 'promoted code\n');
    });

    it('marks a target failed when its release phase fails, and still completes the promotion', async () => {
      const source = await context.heroku.createApp(context.name('pl-src'));
      const target = await context.heroku.createApp(context.name('pl-tgt'));
      const flow = (await context.api.post<{ id: string }>('/pipelines', { name: context.name('pl-fail') })).body.id;
      await context.api.post('/pipeline-couplings', { app: source.id, pipeline: flow, stage: 'staging' });
      await context.api.post('/pipeline-couplings', { app: target.id, pipeline: flow, stage: 'production' });
      const repo = await context.repo();
      await repo.commit('release phase', { Procfile: 'web: node server.js\nrelease: node -e "console.log(\'migrate\')"\n' });
      await pushOk(repo, context.gitUrl(source.name), context.heroku.apiKey);

      context.heroku.faults.failNextReleasePhase();
      const created = await context.api.post<Promotion>('/pipeline-promotions', {
        pipeline: { id: flow },
        source: { app: { id: source.id } },
        targets: [{ app: { id: target.id } }],
      });
      assert.equal(created.status, 201);
      await eventually(async () =>
        (await context.api.get<Promotion>(`/pipeline-promotions/${created.body.id}`)).body.status === 'completed'
          ? true
          : undefined,
      );
      const targets = (await context.api.get<Target[]>(`/pipeline-promotions/${created.body.id}/promotion-targets`)).body;
      assert.equal(targets[0]?.status, 'failed');
      assert.match(targets[0]?.error_message ?? '', /Release command failed/);
      const releases = (await context.api.get<ReleaseBody[]>(`/apps/${target.name}/releases`)).body;
      assert.deepEqual(
        releases.map((r) => [r.version, r.status]),
        [
          [1, 'succeeded'],
          [2, 'succeeded'],
          [3, 'failed'],
        ],
      );
    });

    it('refuses to promote from an app outside the pipeline or to the source itself', async () => {
      const outsider = await context.heroku.createApp(context.name('pl-out'));
      const outside = await context.api.post<{ id: string }>('/pipeline-promotions', {
        pipeline: { id: pipeline },
        source: { app: { id: outsider.id } },
        targets: [{ app: { id: production.id } }],
      });
      assert.deepEqual([outside.status, outside.body.id], [422, 'invalid_params']);
      const self = await context.api.post<{ id: string }>('/pipeline-promotions', {
        pipeline: { id: pipeline },
        source: { app: { id: staging.id } },
        targets: [{ app: { id: staging.id } }],
      });
      assert.deepEqual([self.status, self.body.id], [422, 'invalid_params']);
    });
  });
});
