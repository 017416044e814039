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
import type { PromoteRequest } from '../../tasks/common/core/promote/types';
import { FakeHost } from '../support/fake-host';
import { RecordingApi, type Route } from '../support/recording-api';

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
    const outcome = await promote(request(), new FakeHost().log);
    assert.ok(outcome.ok);
    assert.equal(outcome.result.promotionId, null);
    assert.equal(outcome.result.targets[0]?.outcome, 'same-commit');
    assert.ok(!current.calls.some((c) => c.startsWith('POST')), 'no promotion');
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
      assert.ok(!outcome.ok);
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
