// A promotion in-process, through the product's client over a recorded Platform API: what is read
// and checked before anything changes, the promotion created once, and every target's outcome.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import type { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { HerokuApiError, type HerokuApi } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import { promote } from '../../tasks/common/core/promote/promote';
import type { PromoteProgress, PromoteRequest, PromoteResult } from '../../tasks/common/core/promote/types';
import type { Outcome } from '../../tasks/common/core/workflow/report';
import type { StepRecord } from '../../tasks/common/core/workflow/steps';
import { FakeHost } from '../support/fake-host';
import { RecordingApi, type Route } from '../support/recording-api';
import { scriptedServer, type Answer } from '../support/scripted-server';

const NEW = 'a'.repeat(40);
const OLD = 'b'.repeat(40);

interface World {
  /** What prod runs before: its commit (null: never ran code). */
  prodCommit?: string | null;
  /** How Heroku reports the promotion's target. */
  targetStatus?: 'succeeded' | 'failed';
  inPipeline?: boolean;
}

/** A pipeline `shop`: stg (staging, runs NEW as v12) -> prod (production, runs OLD as v16). */
function heroku(world: World = {}, more: Route = () => undefined): RecordingApi {
  const { prodCommit = OLD, targetStatus = 'succeeded', inPipeline = true } = world;
  let promoted = false;
  return new RecordingApi((method, p, body) => {
    const answer = more(method, p, body);
    if (answer !== undefined) return answer;
    const routes: Record<string, unknown> = {
      'GET /account': { email: 'dev@example.com' },
      'GET /apps/stg': { id: 'app-stg', name: 'stg', web_url: 'https://stg.herokuapp.com/' },
      'GET /apps/app-stg': { id: 'app-stg', name: 'stg', web_url: 'https://stg.herokuapp.com/' },
      'GET /apps/app-prod': { id: 'app-prod', name: 'prod', web_url: 'https://prod.herokuapp.com/' },
      'GET /apps/prod': { id: 'app-prod', name: 'prod', web_url: 'https://prod.herokuapp.com/' },
      'GET /apps/stg/pipeline-couplings': inPipeline
        ? { pipeline: { id: 'pipe', name: 'shop' }, stage: 'staging', app: { id: 'app-stg' } }
        : new HerokuApiError(404, 'not_found', 'Not found.', 'GET', '/apps/stg/pipeline-couplings'),
      'GET /pipelines/pipe/pipeline-couplings': [
        { app: { id: 'app-stg' }, stage: 'staging' },
        { app: { id: 'app-prod' }, stage: 'production' },
      ],
      'GET /apps/stg/releases': [{ id: 's12', version: 12, current: true, status: 'succeeded', slug: { id: 'slug-new' } }],
      'GET /apps/stg/slugs/slug-new': { commit: NEW },
      'GET /apps/prod/slugs/slug-new': { commit: NEW },
      'GET /apps/prod/slugs/slug-old': { commit: prodCommit },
      'GET /apps/prod/releases': promoted
        ? [{ id: 'p16', version: 16, current: true, status: 'succeeded', slug: { id: 'slug-old' } }]
        : [
            {
              id: 'p16',
              version: 16,
              current: true,
              status: 'succeeded',
              slug: prodCommit === null ? null : { id: prodCommit === NEW ? 'slug-new' : 'slug-old' },
            },
          ],
      'POST /pipeline-promotions': { id: 'promo-1', status: 'pending' },
      'GET /pipeline-promotions/promo-1': { id: 'promo-1', status: 'completed' },
      'GET /pipeline-promotions/promo-1/promotion-targets': [
        {
          app: { id: 'app-prod' },
          release: { id: 'p17' },
          status: targetStatus,
          error_message: targetStatus === 'failed' ? 'Release command failed' : null,
        },
      ],
      'GET /apps/prod/releases/p17': { id: 'p17', version: 17, status: targetStatus, slug: { id: 'slug-new' } },
    };
    if (method === 'POST' && p === '/pipeline-promotions') promoted = true;
    return routes[`${method} ${p}`] ?? new Error(`no route for ${method} ${p}`);
  });
}

function request(more: Partial<PromoteRequest> = {}): PromoteRequest {
  return {
    apiKey: 'KEY',
    api: { url: 'https://api.heroku.example', isDefault: false, source: 'test' },
    sourceApp: 'stg',
    targetApps: [],
    expectedCommit: null,
    healthCheck: null,
    rollbackOnFailure: true,
    workingDirectory: path.join(os.tmpdir(), 'no-checkout'),
    network: DIRECT,
    sleep: () => Promise.resolve(),
    ...more,
  };
}

describe('promote in-process', () => {
  let current: RecordingApi;
  beforeEach(() => {
    // The product's client, over the recorded API of the test that runs.
    const connect = HerokuClient.connect.bind(HerokuClient);
    sinon.stub(HerokuClient, 'connect').callsFake((options) => connect(options, current as unknown as HerokuApi));
  });
  afterEach(() => sinon.restore());

  it('promotes the source release to the next stage and verifies what the target runs', async () => {
    current = heroku();
    const host = new FakeHost();
    const outcome = await promote(request(), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    const { result } = outcome;
    assert.equal(result.promotionId, 'promo-1');
    assert.equal(result.commit, NEW);
    assert.deepEqual(result.pipeline, { id: 'pipe', name: 'shop' });
    assert.deepEqual(result.source, {
      app: 'stg',
      appUrl: 'https://stg.herokuapp.com/',
      stage: 'staging',
      release: { id: 's12', version: 12, status: 'succeeded', commit: NEW },
    });
    assert.equal(result.account, 'dev@example.com');
    const [target] = result.targets;
    assert.equal(target?.outcome, 'promoted');
    assert.deepEqual(target?.before, { id: 'p16', version: 16, status: 'succeeded', commit: OLD });
    assert.deepEqual(target?.live, { id: 'p17', version: 17, status: 'succeeded', commit: NEW });
    assert.deepEqual(
      current.calls.filter((c) => c.startsWith('POST')),
      [
        'POST /pipeline-promotions {"pipeline":{"id":"pipe"},"source":{"app":{"id":"app-stg"},"release":{"id":"s12"}},"targets":[{"app":{"id":"app-prod"}}]}',
      ],
    );
    assert.deepEqual(
      result.steps.map((s) => `${s.name}: ${s.outcome} (${s.detail})`),
      ['Diff stg -> prod: done (bbbbbbbb -> aaaaaaaa)', 'Promote aaaaaaaa to prod: done (prod: succeeded)'],
    );
    for (const line of [
      'Promoting as dev@example.com: stg is in the staging stage of the pipeline shop.',
      'No targetApps given: promoting to the next stage downstream, production: prod.',
      'stg runs v12, commit aaaaaaaa.',
      'Promotion promo-1 created: Heroku copies the slug of stg v12 to prod.',
      'prod: the promotion made v17.',
      'prod: v17 is live, running aaaaaaaa.',
    ])
      assert.ok(host.lines.includes(line), `logs "${line}"`);
  });

  it('reports a target whose release failed, with the promotion and what stays live', async () => {
    current = heroku({ targetStatus: 'failed' });
    const outcome = await promote(request(), new FakeHost().log);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.failure.kind, 'promotion');
    assert.equal(
      outcome.failure.message,
      'The promotion to prod failed: Release command failed. Heroku kept v16 live on prod. Its release phase output is above (`heroku releases:output 17 -a prod`). Fix the cause and run the promotion again.',
    );
    const result = outcome.partial?.result;
    assert.equal(result?.promotionId, 'promo-1');
    assert.equal(result?.targets[0]?.outcome, 'failed');
    assert.deepEqual(result?.targets[0]?.live, { id: 'p16', version: 16, status: 'succeeded', commit: OLD });
  });

  it('creates nothing when the target already runs the commit', async () => {
    current = heroku({ prodCommit: NEW });
    const host = new FakeHost();
    const outcome = await promote(request(), host.log);
    assert.ok(outcome.ok, 'outcome.ok');
    assert.equal(outcome.result.promotionId, null);
    assert.equal(outcome.result.targets[0]?.outcome, 'same-commit');
    assert.ok(!current.calls.some((c) => c.startsWith('POST')), 'no promotion');
    assert.ok(
      host.lines.includes(
        'Every target already runs aaaaaaaa: nothing to promote, so no promotion was created and no release was made.',
      ),
      "host.lines.includes( 'Every target already runs aaaaaaaa: nothing to promote, so no promotion was created a...",
    );
    assert.deepEqual(
      outcome.result.steps.map((s) => `${s.name}: ${s.outcome} (${s.detail})`),
      ['Diff stg -> prod: done (already at aaaaaaaa)', 'Promote: skipped (every target already runs this commit)'],
      'without a health check, no health check step',
    );
  });

  it('refuses, before anything changes, a source that does not run expectedCommit (full or abbreviated)', async () => {
    for (const expected of [OLD, OLD.slice(0, 7)]) {
      current = heroku();
      const outcome = await promote(request({ expectedCommit: expected }), new FakeHost().log);
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.failure.kind, 'verification');
      assert.match(
        outcome.failure.message,
        new RegExp(
          `^Refusing to promote: stg runs v12 with commit aaaaaaaa, not the expected ${expected.slice(0, 8)} \\(expectedCommit\\)`,
        ),
      );
      assert.ok(!current.calls.some((c) => c.startsWith('POST')), 'nothing was promoted');
    }
    current = heroku();
    const accepted = await promote(request({ expectedCommit: NEW.slice(0, 7) }), new FakeHost().log);
    assert.ok(accepted.ok, 'an abbreviation of what the source runs is accepted');
  });

  it('refuses a source outside any pipeline, a target that is the source, and a target outside the pipeline', async () => {
    const failure = async (world: World, more: Partial<PromoteRequest>, route?: Route): Promise<TaskError> => {
      current = heroku(world, route);
      const outcome = await promote(request(more), new FakeHost().log);
      assert.ok(!outcome.ok, '!outcome.ok');
      return outcome.failure;
    };
    const alone = await failure({ inPipeline: false }, {});
    assert.equal(alone.kind, 'input');
    assert.match(alone.message, /^stg is not in a Heroku pipeline, so there is no pipeline to promote it along\./);
    const self = await failure({}, { targetApps: ['stg'] });
    assert.equal(self.kind, 'input');
    assert.match(self.message, /^targetApps includes stg, the source app: an app cannot be promoted to itself\./);
    const outside = await failure({}, { targetApps: ['other'] }, (_method, p) =>
      p === '/apps/other' ? { id: 'app-other', name: 'other' } : undefined,
    );
    assert.match(
      outside.message,
      /^other is not in the pipeline shop, so stg cannot be promoted to it: .* The pipeline has development: none; staging: stg; production: prod\./,
    );
  });
});

interface TargetWorld {
  /** The commit its live v16 runs (null: Heroku records none). */
  before?: string | null;
  /** How Heroku reports it in the promotion. */
  promotion?: 'succeeded' | 'failed';
  /** Its web URL (a local app for a health check). */
  web?: string;
  /** Whether a rollback release can be made. */
  rollback?: boolean;
}

interface PipelineWorld {
  /** The commit the source's slug records (null: none). */
  commit?: string | null;
  email?: string;
  /** Polls that find the promotion still pending before it is completed. */
  pending?: number;
}

/**
 * A pipeline `shop`: stg (staging, v12) -> the production apps `targets`, each running v16 and given
 * v17 by the promotion (a rollback makes v18).
 */
function pipeline(targets: Record<string, TargetWorld>, world: PipelineWorld = {}, more: Route = () => undefined): RecordingApi {
  const { commit = NEW, email = 'dev@example.com' } = world;
  let pending = world.pending ?? 0;
  let promoted: string[] = [];
  const app = (name: string) => ({
    id: `app-${name}`,
    name,
    web_url: targets[name]?.web ?? `https://${name}.herokuapp.com/`,
  });
  return new RecordingApi((method, p, body) => {
    const answer = more(method, p, body);
    if (answer !== undefined) return answer;
    if (method === 'GET' && p === '/pipeline-promotions/promo-1')
      return { id: 'promo-1', status: pending-- > 0 ? 'pending' : 'completed' };
    if (method === 'POST' && p === '/pipeline-promotions')
      promoted = (body as { targets: Array<{ app: { id: string } }> }).targets.map((t) => t.app.id.replace(/^app-/, ''));
    const routes: Record<string, unknown> = {
      'GET /account': email ? { email } : {},
      'GET /apps/stg': app('stg'),
      'GET /apps/stg/pipeline-couplings': { pipeline: { id: 'pipe', name: 'shop' }, stage: 'staging', app: { id: 'app-stg' } },
      'GET /pipelines/pipe/pipeline-couplings': [
        { app: { id: 'app-stg' }, stage: 'staging' },
        ...Object.keys(targets).map((name) => ({ app: { id: `app-${name}` }, stage: 'production' })),
      ],
      'GET /apps/stg/releases': [{ id: 's12', version: 12, current: true, status: 'succeeded', slug: { id: 'slug-new' } }],
      'GET /apps/stg/slugs/slug-new': { commit },
      'POST /pipeline-promotions': { id: 'promo-1', status: 'pending' },
      'GET /pipeline-promotions/promo-1/promotion-targets': promoted.map((name) => ({
        app: { id: `app-${name}` },
        release: { id: `${name}-17` },
        status: targets[name]?.promotion ?? 'succeeded',
        error_message: targets[name]?.promotion === 'failed' ? 'Release command failed' : null,
      })),
    };
    for (const [name, t] of Object.entries(targets)) {
      const status = t.promotion ?? 'succeeded';
      Object.assign(routes, {
        [`GET /apps/app-${name}`]: app(name),
        [`GET /apps/${name}`]: app(name),
        [`GET /apps/${name}/releases`]: [
          { id: `${name}-16`, version: 16, current: true, status: 'succeeded', slug: { id: `slug-${name}` } },
        ],
        [`GET /apps/${name}/slugs/slug-${name}`]: { commit: t.before === undefined ? OLD : t.before },
        [`GET /apps/${name}/slugs/slug-new`]: { commit },
        [`GET /apps/${name}/releases/${name}-17`]: { id: `${name}-17`, version: 17, status, slug: { id: 'slug-new' } },
        [`POST /apps/${name}/log-sessions`]: {},
        [`POST /apps/${name}/releases`]:
          t.rollback === false
            ? new HerokuApiError(422, 'invalid_params', 'Cannot roll back.', 'POST', `/apps/${name}/releases`)
            : { id: `${name}-18`, version: 18, status: 'succeeded', slug: { id: `slug-${name}` } },
      });
    }
    return routes[`${method} ${p}`] ?? new Error(`no route for ${method} ${p}`);
  });
}

/** Local apps answering the health checks: `answers` for each app. */
async function webApps(answers: Record<string, Answer[]>): Promise<{ urls: Record<string, string>; close(): Promise<void> }> {
  const servers = await Promise.all(Object.values(answers).map((a) => scriptedServer(a)));
  return {
    urls: Object.fromEntries(Object.keys(answers).map((name, i) => [name, `${servers[i]?.url ?? ''}/`])),
    close: () => Promise.all(servers.map((s) => s.close())).then(() => undefined),
  };
}

const healthCheck = { url: '/health', expectedStatus: 200, expectedText: null, timeoutMs: 1, intervalMs: 1 };

describe('promote in-process: several targets', () => {
  let current: RecordingApi;
  beforeEach(() => {
    const connect = HerokuClient.connect.bind(HerokuClient);
    sinon.stub(HerokuClient, 'connect').callsFake((options) => connect(options, current as unknown as HerokuApi));
  });
  afterEach(() => sinon.restore());

  const steps = (records: StepRecord[]): string[] => records.map((s) => `${s.name}: ${s.outcome} (${s.detail})`);
  const lines = (outcome: Outcome<PromoteResult, PromoteProgress>): string[] => {
    const result = outcome.ok ? outcome.result : outcome.partial?.result;
    return (result?.targets ?? []).map((t) => `${t.app}: ${t.outcome} ${t.live ? `v${t.live.version}` : '-'}`);
  };

  it('promotes to every target not already at the commit in one promotion, and checks the health of each it promoted', async () => {
    const web = await webApps({ prod: [{ status: 200 }], eu: [{ status: 200 }] });
    current = pipeline({ prod: { web: web.urls.prod }, eu: { web: web.urls.eu }, done: { before: NEW } });
    const host = new FakeHost();
    const outcome = await promote(request({ healthCheck }), host.log).finally(() => web.close());
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.deepEqual(
      current.calls.filter((c) => c.startsWith('POST')),
      [
        'POST /pipeline-promotions {"pipeline":{"id":"pipe"},"source":{"app":{"id":"app-stg"},"release":{"id":"s12"}},"targets":[{"app":{"id":"app-prod"}},{"app":{"id":"app-eu"}}]}',
      ],
    );
    assert.deepEqual(lines(outcome), ['prod: promoted v17', 'eu: promoted v17', 'done: same-commit v16']);
    const done = outcome.result.targets[2];
    assert.deepEqual(done?.live, done?.before, 'what runs on a target left out is what ran before');
    assert.deepEqual(
      outcome.result.targets.map((t) => t.healthCheckStatus),
      ['200', '200', null],
    );
    assert.deepEqual(steps(outcome.result.steps), [
      'Diff stg -> prod: done (bbbbbbbb -> aaaaaaaa)',
      'Diff stg -> eu: done (bbbbbbbb -> aaaaaaaa)',
      'Diff stg -> done: done (already at aaaaaaaa)',
      'Health check of done: skipped (not promoted: it already runs this commit)',
      'Promote aaaaaaaa to prod, eu: done (prod: succeeded, eu: succeeded)',
      'Health check of prod v17: done (healthy (200))',
      'Health check of eu v17: done (healthy (200))',
    ]);
    assert.ok(
      !host.lines.some((l) => l.startsWith('[group] Promote')),
      'the promotion is not in a log group: the release phases it follows open their own',
    );
  });

  it('fails the task when one target fails, naming it and what became of the others', async () => {
    const web = await webApps({ eu: [{ status: 200 }] });
    current = pipeline({ prod: { promotion: 'failed' }, eu: { web: web.urls.eu }, done: { before: NEW } });
    const outcome = await promote(request({ healthCheck }), new FakeHost().log).finally(() => web.close());
    assert.ok(!outcome.ok, '!outcome.ok');
    assert.equal(outcome.failure.kind, 'promotion');
    assert.equal(
      outcome.failure.message,
      'The promotion to prod failed: Release command failed. Heroku kept v16 live on prod. Its release phase output is above (`heroku releases:output 17 -a prod`). Fix the cause and run the promotion again. eu was promoted (v17); done already ran this commit.',
    );
    assert.deepEqual(lines(outcome), ['prod: failed v16', 'eu: promoted v17', 'done: same-commit v16']);
    assert.equal(outcome.partial?.result?.promotionId, 'promo-1');
    assert.deepEqual(steps(outcome.partial?.result?.steps ?? []).slice(3), [
      'Health check of done: skipped (not promoted: it already runs this commit)',
      'Promote aaaaaaaa to prod, eu: done (prod: failed, eu: succeeded)',
      'Health check of prod: skipped (the promotion failed there)',
      'Health check of eu v17: done (healthy (200))',
    ]);
  });

  it('fails with the worst kind when several targets fail: rollback, then promotion, then health check', async () => {
    const cases: Array<[Record<string, TargetWorld>, Record<string, Answer[]>, boolean, string, RegExp]> = [
      [
        { prod: { promotion: 'failed' }, eu: { rollback: false } },
        { eu: [{ status: 503 }] },
        true,
        'rollback',
        /^2 of 2 targets failed\. The promotion to prod failed: .* run the promotion again\. ROLLBACK FAILED — ACT NOW: v17 of eu /,
      ],
      [
        { prod: {}, eu: { promotion: 'failed' } },
        { prod: [{ status: 503 }] },
        false,
        'promotion',
        /^2 of 2 targets failed\. v17 of prod \(commit aaaaaaaa\) failed its health check: .* stays live\. The promotion to eu failed: /,
      ],
      [
        { prod: {}, eu: {} },
        { prod: [{ status: 503 }], eu: [{ status: 200 }] },
        false,
        'health-check',
        /^v17 of prod \(commit aaaaaaaa\) failed its health check: .* stays live\. eu was promoted \(v17\)\.$/,
      ],
    ];
    for (const [targets, answers, rollbackOnFailure, kind, message] of cases) {
      const web = await webApps(answers);
      for (const [name, url] of Object.entries(web.urls)) (targets[name] ?? {}).web = url;
      current = pipeline(targets);
      const outcome = await promote(request({ healthCheck, rollbackOnFailure }), new FakeHost().log).finally(() => web.close());
      assert.ok(!outcome.ok, '!outcome.ok');
      assert.equal(outcome.failure.kind, kind);
      assert.match(outcome.failure.message, message);
    }
  });

  it('names no commit in the health check failure of a slug without a recorded commit', async () => {
    const web = await webApps({ prod: [{ status: 503 }] });
    current = pipeline({ prod: { before: null, web: web.urls.prod } }, { commit: null });
    const outcome = await promote(request({ healthCheck, rollbackOnFailure: false }), new FakeHost().log).finally(() =>
      web.close(),
    );
    assert.ok(!outcome.ok, '!outcome.ok');
    assert.match(outcome.failure.message, /^v17 of prod failed its health check: /);
  });

  it('promotes a slug without a recorded commit, naming the release instead, as an account without an email', async () => {
    current = pipeline({ prod: { before: null } }, { commit: null, email: '' });
    const host = new FakeHost();
    const outcome = await promote(request(), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.commit, null);
    assert.equal(outcome.result.account, 'unknown account');
    assert.deepEqual(lines(outcome), ['prod: promoted v17'], 'no recorded commit on either side is not "the same commit"');
    assert.deepEqual(steps(outcome.result.steps).slice(1), ['Promote v12 to prod: done (prod: succeeded)']);
    for (const line of [
      'Promoting as unknown account: stg is in the staging stage of the pipeline shop.',
      'stg runs v12 (Heroku records no commit for its slug).',
      'prod: v17 is live.',
    ])
      assert.ok(host.lines.includes(line), `logs "${line}"`);
  });

  it('measures the promotion from start to end, waiting included', async () => {
    const clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date'] }); // restored with the other fakes after each test
    current = pipeline({ prod: {} }, { pending: 2 });
    const sleep = (ms: number): Promise<void> => (clock.tick(ms), Promise.resolve());
    const outcome = await promote(request({ sleep, pollMs: 5000 }), new FakeHost().log);
    assert.ok(outcome.ok, 'outcome.ok');
    assert.equal(outcome.result.durationMs, 10_000);
  });
});

describe('promote in-process: the source', () => {
  let current: RecordingApi;
  beforeEach(() => {
    const connect = HerokuClient.connect.bind(HerokuClient);
    sinon.stub(HerokuClient, 'connect').callsFake((options) => connect(options, current as unknown as HerokuApi));
  });
  afterEach(() => sinon.restore());

  async function failure(world: PipelineWorld, more: Route, expectedCommit: string | null = null): Promise<TaskError> {
    current = pipeline({ prod: {} }, world, more);
    const outcome = await promote(request({ expectedCommit }), new FakeHost().log);
    assert.ok(!outcome.ok, '!outcome.ok');
    assert.ok(!current.calls.some((c) => c.startsWith('POST')), 'nothing was promoted');
    return outcome.failure;
  }

  it('says which input named a source that does not exist, and what it was reading when Heroku failed', async () => {
    const missing = await failure({}, (method, p) =>
      p === '/apps/stg' ? new HerokuApiError(404, 'not_found', 'Not found.', method, p) : undefined,
    );
    assert.equal(missing.kind, 'not-found');
    assert.match(
      missing.message,
      /^There is no Heroku app named stg \(404 not_found\) visible to dev@example\.com\. Check the sourceApp input/,
    );
    const down = await failure({}, (method, p) =>
      p === '/apps/stg' ? new HerokuApiError(503, 'unavailable', 'Service unavailable.', method, p) : undefined,
    );
    assert.match(down.message, /^Heroku's API failed while reading the app stg \(503 unavailable/);
  });

  it('refuses a source with no code to promote', async () => {
    const none = await failure({}, (_method, p) => (p === '/apps/stg/releases' ? [] : undefined));
    assert.equal(none.kind, 'input');
    assert.equal(
      none.message,
      'stg has no release with code to promote (no release is live): deploy to it first, e.g. with HerokuDeploy@1 in an earlier stage.',
    );
    const empty = await failure({}, (_method, p) =>
      p === '/apps/stg/releases' ? [{ id: 's3', version: 3, current: true, status: 'succeeded', slug: null }] : undefined,
    );
    assert.match(empty.message, /^stg has no release with code to promote \(its live v3 has no slug\): deploy to it first/);
  });

  it('checks expectedCommit as an abbreviation of what the source runs, from its start', async () => {
    const sha = '0123456789abcdef'.repeat(3).slice(0, 40);
    const suffix = await failure({ commit: sha }, () => undefined, sha.slice(-7));
    assert.match(
      suffix.message,
      /^Refusing to promote: stg runs v12 with commit 01234567, not the expected 1234567 \(expectedCommit\)/,
    );
    const unrecorded = await failure({ commit: null }, () => undefined, sha.slice(0, 7));
    assert.match(
      unrecorded.message,
      /^Refusing to promote: stg runs v12 with commit \(none recorded\), not the expected 0123456 /,
    );

    current = pipeline({ prod: {} }, { commit: sha });
    const host = new FakeHost();
    const outcome = await promote(request({ expectedCommit: sha.slice(0, 7) }), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.ok(host.lines.includes('stg v12 runs the expected commit 0123456.'), host.lines.join('\n'));
  });
});
