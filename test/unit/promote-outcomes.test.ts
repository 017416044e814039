// Each target once the promotion is completed, with the Platform API recorded: its new release
// verified (or why it has none, and what Heroku kept live), its health checked against a local app
// and rolled back when it fails; an error fails that target only, a cancel stops the task.
import assert from 'node:assert/strict';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { HerokuApiError, type Release } from '../../tasks/common/core/heroku/api';
import type { PromotionTarget } from '../../tasks/common/core/promote/follow';
import { checkTarget, forTarget, verifyTarget } from '../../tasks/common/core/promote/outcomes';
import { facts, targetResult, type Target } from '../../tasks/common/core/promote/types';
import { Steps } from '../../tasks/common/core/workflow/steps';
import { FakeHost } from '../support/fake-host';
import { RecordingApi, type Route } from '../support/recording-api';
import { scriptedServer, type Answer } from '../support/scripted-server';

const NEW = 'a'.repeat(40);
const OLD = 'b'.repeat(40);
const OTHER = 'c'.repeat(40);

const p16: Release = { id: 'p16', version: 16, current: true, status: 'succeeded', slug: { id: 'slug-old' } };
const p17: Release = { id: 'p17', version: 17, status: 'succeeded', slug: { id: 'slug-new' } };

/** The app prod: v16 (OLD) live before the promotion, v17 (NEW) the promotion's release; `more` answers first. */
function heroku(more: Route = () => undefined): RecordingApi {
  return new RecordingApi((method, path, body) => {
    const answer = more(method, path, body);
    if (answer !== undefined) return answer;
    const routes: Record<string, unknown> = {
      'GET /apps/prod/releases': [p16],
      'GET /apps/prod/releases/p17': p17,
      'GET /apps/prod/slugs/slug-old': { commit: OLD },
      'GET /apps/prod/slugs/slug-new': { commit: NEW },
      'GET /apps/prod/slugs/slug-none': { commit: null },
      'GET /apps/prod/slugs/slug-other': { commit: OTHER },
      'POST /apps/prod/log-sessions': {},
      'POST /apps/prod/releases': { id: 'p18', version: 18, status: 'succeeded', slug: { id: 'slug-old' } },
    };
    return routes[`${method} ${path}`] ?? new Error(`no route for ${method} ${path}`);
  });
}

function prod(api: RecordingApi, healthUrl: string | null = null): Target {
  return {
    name: 'prod',
    id: 'app-prod',
    app: { id: 'app-prod', name: 'prod', web_url: 'https://prod.herokuapp.com/' },
    client: api.client().forApp('prod', 'targetApps'),
    stage: 'production',
    healthUrl,
    current: p16,
    before: facts(p16, OLD),
    diff: null,
  };
}

const succeeded: PromotionTarget = { app: { id: 'app-prod' }, release: { id: 'p17' }, status: 'succeeded' };

describe('promote: verifying each target', () => {
  it('reads the new release a completed promotion names when it was not read while following', async () => {
    const api = heroku();
    const host = new FakeHost();
    const result = await verifyTarget(prod(api), succeeded, null, NEW, host.log);
    assert.equal(result.outcome, 'promoted');
    assert.deepEqual(result.live, { id: 'p17', version: 17, status: 'succeeded', commit: NEW });
    assert.deepEqual(api.calls, ['GET /apps/prod/releases/p17', 'GET /apps/prod/slugs/slug-new']);
    assert.deepEqual(host.lines, ['prod: v17 is live, running aaaaaaaa.']);
  });

  it('promotes a release without a recorded commit when the source records none either', async () => {
    const api = heroku();
    const host = new FakeHost();
    const release = { ...p17, slug: { id: 'slug-none' } };
    const result = await verifyTarget(prod(api), succeeded, release, null, host.log);
    assert.equal(result.outcome, 'promoted');
    assert.deepEqual(result.release, { id: 'p17', version: 17, status: 'succeeded', commit: null });
    assert.deepEqual(host.lines, ['prod: v17 is live.']);
  });

  it('fails a target whose new release runs another commit than the one promoted', async () => {
    for (const [slug, runs] of [
      ['slug-other', 'cccccccc'],
      ['slug-none', '(none)'],
    ] as const) {
      const result = await verifyTarget(prod(heroku()), succeeded, { ...p17, slug: { id: slug } }, NEW, new FakeHost().log);
      assert.equal(result.outcome, 'failed');
      assert.equal(result.failure?.kind, 'verification');
      assert.equal(
        result.failure?.message,
        `prod's new release v17 runs commit ${runs}, not the promoted aaaaaaaa: something else changed prod meanwhile. Check \`heroku releases -a prod\`.`,
      );
      const made = { id: 'p17', version: 17, status: 'succeeded', commit: slug === 'slug-other' ? OTHER : null };
      assert.deepEqual([result.release, result.live], [made, made], 'the release it made is what is live');
    }
  });

  it('fails a target Heroku reports failed, even when its release says succeeded', async () => {
    const entry = { ...succeeded, status: 'failed' as const, error_message: 'Slug copy failed' };
    const result = await verifyTarget(prod(heroku()), entry, p17, NEW, new FakeHost().log);
    assert.equal(result.outcome, 'failed');
    assert.equal(
      result.failure?.message,
      'The promotion to prod failed: Slug copy failed. Heroku kept v16 live on prod. Its release phase output is above (`heroku releases:output 17 -a prod`). Fix the cause and run the promotion again.',
    );
  });

  it('says why a target has no new release live, and what Heroku kept live there', async () => {
    const cases: Array<[PromotionTarget | null, Release | null, Release[], string]> = [
      [
        { ...succeeded, status: 'failed' },
        { ...p17, status: 'failed' },
        [p16],
        'v17 ended failed. Heroku kept v16 live on prod. Its release phase output is above (`heroku releases:output 17 -a prod`).',
      ],
      [
        succeeded,
        { id: 'p17', version: 17 },
        [p16],
        'v17 ended in an unknown state. Heroku kept v16 live on prod. Its release phase output is above (`heroku releases:output 17 -a prod`).',
      ],
      [
        { app: { id: 'app-prod' }, status: 'failed' },
        null,
        [p16],
        'Heroku reports the target failed without a release. Heroku kept v16 live on prod.',
      ],
      [null, null, [], 'Heroku reports the target missing without a release. No release of prod is live.'],
      [
        { app: { id: 'app-prod' }, status: 'failed' },
        p17,
        [p16],
        'Heroku reports the target failed although its release v17 succeeded. Heroku kept v16 live on prod. Its release phase output is above (`heroku releases:output 17 -a prod`).',
      ],
    ];
    for (const [entry, release, releases, why] of cases) {
      const api = heroku((method, path) => (path === '/apps/prod/releases' ? releases : undefined));
      const result = await verifyTarget(prod(api), entry, release, NEW, new FakeHost().log);
      assert.equal(result.outcome, 'failed');
      assert.equal(result.failure?.kind, 'promotion');
      assert.equal(result.failure?.message, `The promotion to prod failed: ${why} Fix the cause and run the promotion again.`);
      assert.equal(result.release?.status, release ? (release.status ?? 'unknown') : undefined);
    }
  });

  it('reports what is live after a failed promotion, with its commit only when it is the release that ran before', async () => {
    const failed: Release = { ...p17, status: 'failed' };
    const same = await verifyTarget(prod(heroku()), { ...succeeded, status: 'failed' }, failed, NEW, new FakeHost().log);
    assert.deepEqual(same.live, { id: 'p16', version: 16, status: 'succeeded', commit: OLD });
    assert.deepEqual(same.release, { id: 'p17', version: 17, status: 'failed', commit: null });

    const p18 = { id: 'p18', version: 18, current: true, status: 'succeeded', slug: { id: 'slug-old' } };
    const api = heroku((method, path) => (path === '/apps/prod/releases' ? [p18, { ...p16, current: false }] : undefined));
    const other = await verifyTarget(prod(api), { ...succeeded, status: 'failed' }, failed, NEW, new FakeHost().log);
    assert.deepEqual(other.live, { id: 'p18', version: 18, status: 'succeeded', commit: null });
    assert.match(other.failure?.message ?? '', / Heroku kept v18 live on prod\./);
  });

  it('says what it was reading when the new release a completed promotion names cannot be read', async () => {
    const api = heroku((method, path) =>
      path === '/apps/prod/releases/p17'
        ? new HerokuApiError(503, 'unavailable', 'Service unavailable.', method, path)
        : undefined,
    );
    await assert.rejects(
      verifyTarget(prod(api), succeeded, null, NEW, new FakeHost().log),
      /^TaskError: Heroku's API failed while reading the new release of prod \(503 unavailable/,
    );
  });

  it('says what it was checking when the releases of a failed target cannot be read', async () => {
    const api = heroku((method, path) =>
      path === '/apps/prod/releases' ? new HerokuApiError(503, 'unavailable', 'Service unavailable.', method, path) : undefined,
    );
    await assert.rejects(
      verifyTarget(prod(api), { ...succeeded, status: 'failed' }, { ...p17, status: 'failed' }, NEW, new FakeHost().log),
      /^TaskError: Heroku's API failed while checking which release of prod is live \(503 unavailable/,
    );
  });
});

describe("promote: one target's failure", () => {
  it('fails that target only, naming it and how to check it, with what it had got to', async () => {
    const target = prod(heroku());
    const promoted = targetResult(target, 'promoted', { release: facts(p17, NEW), live: facts(p17, NEW) });
    const failed = await forTarget(target, promoted, () => Promise.reject(new TaskError('network', 'Could not reach Heroku.')));
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.failure?.kind, 'network');
    assert.equal(failed.failure?.message, 'prod: Could not reach Heroku. Check it with `heroku releases -a prod`.');
    assert.deepEqual([failed.release, failed.live], [promoted.release, promoted.live], 'what it had got to is kept');

    const bug = await forTarget(target, null, () => Promise.reject(new Error('boom')));
    assert.deepEqual(
      [bug.outcome, bug.release, bug.live, bug.before, bug.failure?.kind, bug.failure?.message],
      ['failed', null, null, facts(p16, OLD), 'unexpected', 'prod: boom Check it with `heroku releases -a prod`.'],
    );
  });

  it('gives back the result of a target that did not fail, and lets a cancel stop the task', async () => {
    const target = prod(heroku());
    const promoted = targetResult(target, 'promoted');
    assert.equal(await forTarget(target, null, () => Promise.resolve(promoted)), promoted);
    const cancelled = new TaskError('cancelled', 'The task was cancelled.');
    await assert.rejects(
      forTarget(target, promoted, () => Promise.reject(cancelled)),
      (error) => error === cancelled,
    );
  });
});

describe("promote: each target's health check", () => {
  /** Checks prod's v17 against a local app answering `answers`, one attempt per check. */
  async function checked(answers: Answer[], rollbackOnFailure: boolean, more?: Route) {
    const web = await scriptedServer(answers);
    const api = heroku(more);
    const host = new FakeHost();
    const steps = new Steps(host.log);
    const target = prod(api, `${web.url}/health`);
    const promoted = targetResult(target, 'promoted', { release: facts(p17, NEW), live: facts(p17, NEW) });
    try {
      const result = await checkTarget(target, promoted, {
        options: { url: '/health', expectedStatus: 200, expectedText: null, timeoutMs: 1, intervalMs: 1 },
        rollbackOnFailure,
        network: DIRECT,
        log: host.log,
        steps,
      });
      return { result, api, steps: steps.records.map((s) => `${s.name}: ${s.outcome}`) };
    } finally {
      await web.close();
    }
  }
  const rollbacks = (api: RecordingApi): string[] => api.calls.filter((c) => c.startsWith('POST /apps/prod/releases'));

  it('keeps a healthy target promoted, with the status it answered, in a step naming the app and release', async () => {
    const { result, api, steps } = await checked([{ status: 200 }], true);
    assert.equal(result.outcome, 'promoted');
    assert.equal(result.healthCheckStatus, '200');
    assert.equal(result.failure, null);
    assert.deepEqual(steps, ['Health check of prod v17: done']);
    assert.deepEqual(rollbacks(api), []);
  });

  it('leaves an unhealthy target live without rollbackOnFailure', async () => {
    const { result, api } = await checked([{ status: 503 }], false);
    assert.equal(result.outcome, 'unhealthy');
    assert.equal(result.healthCheckStatus, '503');
    assert.deepEqual(result.live, facts(p17, NEW));
    assert.equal(result.failure?.kind, 'health-check');
    assert.match(
      result.failure?.message ?? '',
      /^v17 of prod \(commit aaaaaaaa\) failed its health check: .* so v17 stays live\.$/,
    );
    assert.deepEqual(rollbacks(api), []);
  });

  it('rolls an unhealthy target back to what it ran before, and says to promote again once fixed', async () => {
    const { result, api, steps } = await checked([{ status: 503 }, { status: 200 }], true);
    assert.equal(result.outcome, 'rolled-back');
    assert.equal(result.healthCheckStatus, '200');
    assert.deepEqual(result.live, { id: 'p18', version: 18, status: 'succeeded', commit: OLD });
    assert.deepEqual(result.release, facts(p17, NEW), 'the release the promotion made is still reported');
    assert.deepEqual(rollbacks(api), ['POST /apps/prod/releases {"release":"p16"}']);
    assert.match(
      result.failure?.message ?? '',
      /Rolled back to v16 \(now live as v18\), which answers healthy\. .* and promote again\.$/,
    );
    assert.deepEqual(steps, [
      'Health check of prod v17: done',
      'Roll back prod to v16: done',
      'Health check of prod v18 (rollback to v16): done',
    ]);
  });

  it('reports ROLLBACK FAILED when the rollback cannot be made', async () => {
    const { result } = await checked([{ status: 503 }], true, (method, path) =>
      method === 'POST' && path === '/apps/prod/releases'
        ? new HerokuApiError(422, 'invalid_params', 'Release not found.', method, path)
        : undefined,
    );
    assert.equal(result.outcome, 'rollback-failed');
    assert.equal(result.failure?.kind, 'rollback');
    assert.deepEqual(result.live, facts(p17, NEW), 'the failing release is still live');
    assert.match(result.failure?.message ?? '', /^ROLLBACK FAILED — ACT NOW: v17 of prod/);
  });
});
