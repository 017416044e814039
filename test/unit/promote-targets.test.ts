// Where a promotion goes, resolved before anything changes: the apps named in targetApps (each in the
// source's pipeline) or the next stage downstream, the refusals that say what the pipeline has, each
// target's health check URL, and what each target runs now.
import assert from 'node:assert/strict';
import type { TaskError } from '../../tasks/common/core/base/errors';
import { HerokuApiError } from '../../tasks/common/core/heroku/api';
import type { Coupling, Stage } from '../../tasks/common/core/heroku/pipelines';
import { readCurrent, resolveHealthUrls, resolveTargets } from '../../tasks/common/core/promote/targets';
import type { Target } from '../../tasks/common/core/promote/types';
import type { HealthCheckOptions } from '../../tasks/common/core/workflow/safeguards';
import { FakeHost } from '../support/fake-host';
import { RecordingApi, type Route } from '../support/recording-api';

/** Apps by id: `app-<name>` is named `<name>`. */
const APPS = ['pr-1', 'dev', 'stg', 'prod', 'prod-eu', 'ci', 'other', 'stray'];

/** Heroku answering for the apps above, by name or id; `more` answers first. */
function heroku(more: Route = () => undefined): RecordingApi {
  return new RecordingApi((method, path, body) => {
    const answer = more(method, path, body);
    if (answer !== undefined) return answer;
    const key = decodeURIComponent(/^\/apps\/([^/]+)$/.exec(path)?.[1] ?? '');
    const name = APPS.find((a) => key === a || key === `app-${a}`);
    if (method === 'GET' && name) return { id: `app-${name}`, name, web_url: `https://${name}.herokuapp.com/` };
    return new HerokuApiError(404, 'not_found', 'Not found.', method, path);
  });
}

const coupled = (stages: Partial<Record<Stage, string[]>>): Coupling[] =>
  Object.entries(stages).flatMap(([stage, apps]) => apps.map((name) => ({ app: { id: `app-${name}` }, stage: stage as Stage })));

const shop = coupled({ staging: ['stg'], production: ['prod', 'prod-eu'] });

function resolve(api: RecordingApi, query: { stage?: Stage; couplings?: Coupling[]; targetApps?: string[]; source?: string }) {
  const host = new FakeHost();
  const targets = resolveTargets({
    client: api.client(),
    source: query.source ?? 'stg',
    stage: query.stage ?? 'staging',
    couplings: query.couplings ?? shop,
    pipeline: 'shop',
    targetApps: query.targetApps ?? [],
    log: host.log,
  });
  return { host, targets };
}

async function refusal(api: RecordingApi, query: Parameters<typeof resolve>[1]): Promise<TaskError> {
  const { targets } = resolve(api, query);
  const error = await targets.then(
    () => null,
    (e: TaskError) => e,
  );
  assert.ok(error, 'refused');
  return error;
}

describe('promote: the targets', () => {
  it('takes the apps named in targetApps, each with its stage in the pipeline and a client that blames targetApps', async () => {
    const api = heroku();
    const { targets } = resolve(api, { targetApps: ['prod-eu', 'prod'] });
    const resolved = await targets;
    assert.deepEqual(
      resolved.map((t) => [t.name, t.id, t.stage, t.app.web_url]),
      [
        ['prod-eu', 'app-prod-eu', 'production', 'https://prod-eu.herokuapp.com/'],
        ['prod', 'app-prod', 'production', 'https://prod.herokuapp.com/'],
      ],
    );
    assert.deepEqual(
      resolved.map((t) => [t.client.name, t.client.input]),
      [
        ['prod-eu', 'targetApps'],
        ['prod', 'targetApps'],
      ],
    );
    assert.deepEqual(api.calls, ['GET /apps/prod-eu', 'GET /apps/prod']);
  });

  it('says which input named an app that does not exist, and what it was reading when Heroku failed', async () => {
    const missing = await refusal(heroku(), { targetApps: ['prod', 'nope'] });
    assert.equal(missing.kind, 'not-found');
    assert.match(missing.message, /^There is no Heroku app named nope \(404 not_found\).* Check the targetApps input/);

    const down =
      (path: string): Route =>
      (method, p) =>
        p === path ? new HerokuApiError(503, 'unavailable', 'Service unavailable.', method, p) : undefined;
    const named = await refusal(heroku(down('/apps/prod')), { targetApps: ['prod'] });
    assert.equal(named.kind, 'api');
    assert.match(named.message, /^Heroku's API failed while reading the app prod \(503 unavailable/);
    const downstream = await refusal(heroku(down('/apps/app-prod-eu')), {});
    assert.match(downstream.message, /^Heroku's API failed while reading the production app app-prod-eu \(503 unavailable/);

    // A downstream app comes from the pipeline, not from targetApps: the message says so.
    const gone = await refusal(heroku(), { couplings: [...shop, { app: { id: 'app-deleted' }, stage: 'production' }] });
    assert.equal(gone.kind, 'not-found');
    assert.match(
      gone.message,
      /^The pipeline shop has the app app-deleted in its production stage, but Heroku has no such app visible to this account \(404 not_found\).* or name the apps to promote to in targetApps\.$/,
    );
    assert.doesNotMatch(gone.message, /Check the targetApps input/);
  });

  it('promotes to the next stage downstream when targetApps is empty, and says so', async () => {
    const { host, targets } = resolve(heroku(), {});
    assert.deepEqual(
      (await targets).map((t) => [t.name, t.stage]),
      [
        ['prod', 'production'],
        ['prod-eu', 'production'],
      ],
    );
    assert.deepEqual(host.lines, ['No targetApps given: promoting to the next stage downstream, production: prod, prod-eu.']);
  });

  it('refuses targets outside the pipeline, naming only those, and what the pipeline has', async () => {
    const one = await refusal(heroku(), { targetApps: ['prod', 'other'] });
    assert.equal(one.kind, 'input');
    assert.match(
      one.message,
      /^other is not in the pipeline shop, so stg cannot be promoted to it: a promotion only goes to apps of the source's pipeline\. The pipeline has development: none; staging: stg; production: prod, prod-eu\. Add it \(`heroku pipelines:add shop -a other --stage production`\), or fix targetApps\.$/,
    );
    const two = await refusal(heroku(), { targetApps: ['other', 'prod', 'stray'] });
    assert.match(
      two.message,
      /^other, stray are not in the pipeline shop, so stg cannot be promoted to them: .* Add them \(`heroku pipelines:add shop -a other --stage production`\)/,
    );
  });

  it('lists review and test apps only when there are some, and an app it cannot name by its id', async () => {
    const couplings = [
      ...coupled({ review: ['pr-1'], staging: ['stg'], test: ['ci'] }),
      { app: { id: 'app-gone' }, stage: 'production' as const },
    ];
    const error = await refusal(heroku(), { couplings, targetApps: ['other'] });
    assert.match(
      error.message,
      / The pipeline has review: pr-1; development: none; staging: stg; production: app-gone; test: ci\. /,
    );
  });

  it('refuses when nothing is downstream, saying why for each stage', async () => {
    const cases: Array<[Stage, Coupling[], string]> = [
      [
        'production',
        shop,
        'stg is in the production stage of shop, the last stage: nothing is downstream of it. The pipeline has development: none; staging: stg; production: prod, prod-eu.',
      ],
      [
        'test',
        coupled({ test: ['stg'], production: ['prod'] }),
        'stg is in the test stage of shop, which promotes nowhere by default. The pipeline has development: none; staging: none; production: prod; test: stg.',
      ],
      [
        'development',
        coupled({ development: ['stg'] }),
        'No stage after development in the pipeline shop has apps (staging, production). The pipeline has development: stg; staging: none; production: none.',
      ],
      [
        'staging',
        coupled({ staging: ['stg'] }),
        'No stage after staging in the pipeline shop has apps (production). The pipeline has development: none; staging: stg; production: none.',
      ],
      [
        'review',
        coupled({ review: ['stg'] }),
        'No stage after review in the pipeline shop has apps (development, staging, production). The pipeline has review: stg; development: none; staging: none; production: none.',
      ],
    ];
    for (const [stage, couplings, why] of cases) {
      const error = await refusal(heroku(), { stage, couplings });
      assert.equal(error.kind, 'input');
      assert.equal(
        error.message,
        `${why} Name the apps to promote to in targetApps, or add the next stage's app to the pipeline (\`heroku pipelines:add shop -a <app> --stage production\`).`,
        stage,
      );
    }
  });
});

function target(name: string, webUrl: string | null): Target {
  return {
    name,
    id: `app-${name}`,
    app: { id: `app-${name}`, name, web_url: webUrl },
    client: heroku().client().forApp(name, 'targetApps'),
    stage: 'production',
    healthUrl: null,
    current: null,
    before: null,
    diff: null,
  };
}

describe('promote: each target health check URL', () => {
  const options = (url: string): HealthCheckOptions => ({
    url,
    expectedStatus: 200,
    expectedText: null,
    timeoutMs: 1,
    intervalMs: 1,
  });

  it('resolves a path against each target web URL', () => {
    const targets = [target('prod', 'https://prod.herokuapp.com/'), target('prod-eu', 'https://eu.example.com/app/')];
    resolveHealthUrls(targets, options('/health'));
    assert.deepEqual(
      targets.map((t) => t.healthUrl),
      ['https://prod.herokuapp.com/health', 'https://eu.example.com/health'],
    );
  });

  it('takes a full URL for one target, and refuses it for several before anything changes', () => {
    const one = [target('prod', 'https://prod.herokuapp.com/')];
    resolveHealthUrls(one, options('https://status.example.com/prod'));
    assert.equal(one[0]?.healthUrl, 'https://status.example.com/prod');

    const two = [target('prod', 'https://prod.herokuapp.com/'), target('prod-eu', 'https://prod-eu.herokuapp.com/')];
    assert.throws(
      () => resolveHealthUrls(two, options('https://status.example.com/')),
      (error: TaskError) =>
        error.kind === 'input' &&
        error.message ===
          "healthCheckUrl is a full URL (https://status.example.com/), but there are 2 targets (prod, prod-eu): one URL cannot check them all. Give a path such as /health, which is resolved against each target's web URL.",
    );
    assert.deepEqual(
      two.map((t) => t.healthUrl),
      [null, null],
    );
  });

  it('leaves the URLs unset without a health check, and refuses a path for an app without a web URL', () => {
    const targets = [target('prod', 'https://prod.herokuapp.com/'), target('worker', null)];
    resolveHealthUrls(targets, null);
    assert.deepEqual(
      targets.map((t) => t.healthUrl),
      [null, null],
    );
    assert.throws(
      () => resolveHealthUrls(targets, options('/health')),
      /^TaskError: worker has no web URL to resolve \/health against/,
    );
  });
});

describe('promote: what a target runs before', () => {
  it('reads its live release and that release commit', async () => {
    const api = heroku((method, path) => {
      if (path === '/apps/prod/releases')
        return [
          { id: 'p17', version: 17, current: false, status: 'failed', slug: { id: 'slug-17' } },
          { id: 'p16', version: 16, current: true, status: 'succeeded', slug: { id: 'slug-16' } },
        ];
      if (path === '/apps/prod/slugs/slug-16') return { commit: 'c'.repeat(40) };
      return undefined;
    });
    const prod = { ...target('prod', null), client: api.client().forApp('prod', 'targetApps') };
    await readCurrent(prod);
    assert.equal(prod.current?.id, 'p16');
    assert.deepEqual(prod.before, { id: 'p16', version: 16, status: 'succeeded', commit: 'c'.repeat(40) });
  });

  it('has nothing before for an app with no live release', async () => {
    const api = heroku((method, path) => (path === '/apps/prod/releases' ? [] : undefined));
    const prod = { ...target('prod', null), client: api.client().forApp('prod', 'targetApps') };
    await readCurrent(prod);
    assert.equal(prod.current, null);
    assert.equal(prod.before, null);
  });
});
