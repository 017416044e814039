// HerokuRollback in-process: the toVersion input, the release `heroku rollback` picks, each refusal,
// a rollback request that is lost or answered wrongly (what the app runs is read again, and nothing
// is retried), the report, and the entry's inputs -> request on an in-memory agent.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { HerokuApiError, type HerokuApi, type Release } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import { rollbackReport } from '../../tasks/common/core/rollback/report';
import { rollback } from '../../tasks/common/core/rollback/rollback';
import { oneReleaseBack, parseToVersion, refusal, runsCommit } from '../../tasks/common/core/rollback/target';
import type { RollbackRequest } from '../../tasks/common/core/rollback/types';
import { runTask } from '../../tasks/common/pipeline/run-task';
import { rollbackTask } from '../../tasks/HerokuRollbackV1/rollback-task';
import { FakeHost } from '../support/fake-host';
import { RecordingApi, type Route } from '../support/recording-api';

const OLD = 'a'.repeat(40);
const NEW = 'b'.repeat(40);

const release = (version: number, more: Partial<Release> = {}): Release => ({
  id: `rel-${version}`,
  version,
  status: 'succeeded',
  description: `Deploy v${version}`,
  slug: { id: `slug-${version}` },
  eligible_for_rollback: true,
  current: false,
  ...more,
});

describe('HerokuRollback: which release', () => {
  it('reads toVersion as v60, V60 or 60, and empty as one release back', () => {
    assert.equal(parseToVersion(''), null);
    assert.equal(parseToVersion('  '), null);
    assert.equal(parseToVersion('v60'), 60);
    assert.equal(parseToVersion('V60'), 60);
    assert.equal(parseToVersion(' 7 '), 7);
  });

  it('refuses a toVersion that is no release version, and an undefined variable by name', () => {
    for (const bad of ['latest', 'v0', '0', '-3', 'v6.1', 'vv6', '60a'])
      assert.throws(
        () => parseToVersion(bad),
        (e: TaskError) =>
          e.kind === 'input' && e.message.startsWith(`The input toVersion is "${bad}", which is not a release version`),
        bad,
      );
    assert.throws(() => parseToVersion('$(ROLLBACK_TO)'), /pipeline variable ROLLBACK_TO is not defined/);
  });

  it('one release back is the second newest release eligible for rollback, as heroku rollback picks it', () => {
    const recent = [
      release(65, { eligible_for_rollback: false, slug: null, description: 'Set X config vars' }),
      release(64, { current: true }),
      release(63, { eligible_for_rollback: false }),
      release(62),
      release(61),
    ];
    assert.equal(oneReleaseBack(recent)?.version, 62);
    assert.equal(oneReleaseBack([release(3, { current: true }), release(2, { eligible_for_rollback: false })]), null);
    assert.equal(oneReleaseBack([]), null);
  });

  it('refuses the live release, a failed or pending one, one without code, one Heroku says is not eligible', () => {
    const live = release(64, { current: true });
    const cases: Array<[Release, RegExp]> = [
      [
        live,
        /^Not rolling back my-app: v64 \("Deploy v64"\) is the live release, so there is nothing to roll back to\. `heroku releases -a my-app` lists/,
      ],
      [release(63, { status: 'failed' }), /v63 \("Deploy v63"\) is a failed release: its release phase failed/],
      [
        release(63, { status: 'pending' }),
        /v63 \("Deploy v63"\) is still in its release phase, not live yet \(`heroku releases:output 63 -a my-app`/,
      ],
      [
        release(3, { slug: null, artifacts: [], description: 'Set X config vars' }),
        /v3 \("Set X config vars"\) is a config-only release/,
      ],
      [release(40, { eligible_for_rollback: false }), /v40 \("Deploy v40"\) is not eligible for rollback, Heroku says/],
    ];
    for (const [target, message] of cases) {
      const refused = refusal('my-app', target, live);
      assert.equal(refused?.kind, 'input', String(target.version));
      assert.match(refused?.message ?? '', message);
    }
    assert.equal(refusal('my-app', release(63), live), null);
    assert.equal(
      refusal('my-app', release(63, { slug: null, artifacts: [{ type: 'oci-image', id: 'img' }] }), live),
      null,
      'Fir',
    );
  });

  it('matches expectedCommit as a prefix of the commit, in any case the commit is in', () => {
    assert.ok(runsCommit(OLD, 'aaaaaaa'));
    assert.ok(runsCommit(OLD.toUpperCase(), 'aaaaaaa'));
    assert.ok(!runsCommit(OLD, 'aaaaaab'));
    assert.ok(!runsCommit(`1${OLD.slice(1)}`, 'aaaaaaa'), 'a prefix, not anywhere in the SHA');
    assert.ok(!runsCommit(null, 'aaaaaaa'));
  });
});

describe('HerokuRollback in-process', () => {
  let current: RecordingApi;
  beforeEach(() => {
    const connect = HerokuClient.connect.bind(HerokuClient);
    sinon.stub(HerokuClient, 'connect').callsFake((options) => connect(options, current as unknown as HerokuApi));
  });
  afterEach(() => sinon.restore());

  const request = (more: Partial<RollbackRequest> = {}): RollbackRequest => ({
    apiKey: 'KEY',
    api: { url: 'https://api.heroku.example', source: 'default', isDefault: true },
    appName: 'my-app',
    toVersion: null,
    expectedCommit: null,
    healthCheck: null,
    network: DIRECT,
    ...more,
  });

  /** my-app runs v64 (NEW); v63 ran OLD. `rollback` answers the POST; `after` is the list read after it. */
  function heroku(rollbackAnswer: () => unknown, after: Release[] | Error): RecordingApi {
    let posted = false;
    const route: Route = (method, path) => {
      if (method === 'POST' && path === '/apps/my-app/releases') {
        posted = true;
        return rollbackAnswer();
      }
      const routes: Record<string, unknown> = {
        'GET /account': { email: 'dev@example.com' },
        'GET /apps/my-app': { id: 'app', name: 'my-app', web_url: 'https://my-app.herokuapp.com/' },
        'GET /apps/my-app/releases': posted ? after : [release(64, { current: true }), release(63)],
        'GET /apps/my-app/slugs/slug-64': { commit: NEW },
        'GET /apps/my-app/slugs/slug-63': { commit: OLD },
        'GET /apps/my-app/slugs/slug-x': { commit: NEW },
        'GET /apps/my-app/releases/63': release(63),
        'GET /apps/my-app/releases/rel-65': release(65, { current: true, slug: { id: 'slug-x' } }),
      };
      const answer = routes[`${method} ${path}`];
      if (answer instanceof Error) return answer;
      return answer ?? new HerokuApiError(404, 'not_found', `no route ${method} ${path}`, method, path);
    };
    return new RecordingApi(route);
  }

  const lost = (): Error => new HerokuApiError(null, null, 'socket hang up', 'POST', '/apps/my-app/releases', null, 'ECONNRESET');
  const posts = (): string[] => current.calls.filter((c) => c.startsWith('POST'));

  it('a lost rollback request that took effect: says so from the releases read again, and sends it once', async () => {
    current = heroku(lost, [release(65, { current: true, description: 'Rollback to v63' }), release(64), release(63)]);
    const host = new FakeHost();
    const outcome = await rollback(request(), host.log);
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.kind, 'rollback');
    assert.match(
      outcome.failure.message,
      /^The rollback of my-app to v63 did not complete: Could not reach Heroku's API .*\. The rollback took effect: v65 \("Rollback to v63"\), the release the request made, is live with v63's code and config vars\. Check `heroku releases -a my-app` before running a rollback again\.$/,
    );
    assert.deepEqual(posts(), ['POST /apps/my-app/releases {"release":"rel-63"}']);
    assert.equal(outcome.partial?.result, null, 'no output claims a release');
  });

  it('a lost rollback request that did not reach Heroku: v64 is still live', async () => {
    current = heroku(lost, [release(64, { current: true }), release(63)]);
    const outcome = await rollback(request(), new FakeHost().log);
    assert.ok(!outcome.ok);
    assert.match(outcome.failure.message, / No new release was made: v64 is still live\. Check/);
    assert.equal(posts().length, 1);
  });

  it('a lost rollback request whose state cannot be read either: says it is unknown', async () => {
    current = heroku(lost, new HerokuApiError(503, 'unavailable', 'down', 'GET', '/apps/my-app/releases'));
    const outcome = await rollback(request(), new FakeHost().log);
    assert.ok(!outcome.ok);
    assert.match(
      outcome.failure.message,
      / Whether the rollback took effect is unknown: its request may have reached Heroku, and the releases could not be read \(/,
    );
    assert.equal(posts().length, 1);
  });

  it("Heroku's refusal of the rollback is quoted, and the app read again says nothing changed", async () => {
    const refused = (): Error =>
      new HerokuApiError(422, 'invalid_params', 'Cannot rollback to v63: its slug has expired.', 'POST', '/apps/my-app/releases');
    current = heroku(refused, [release(64, { current: true }), release(63)]);
    const outcome = await rollback(request(), new FakeHost().log);
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.kind, 'rollback');
    assert.match(
      outcome.failure.message,
      /^The rollback of my-app to v63 did not complete: Heroku refused POST \/apps\/my-app\/releases while rolling back to v63 \(422 invalid_params: Cannot rollback to v63: its slug has expired\.\)\. No new release was made: v64 is still live\./,
    );
    assert.equal(posts().length, 1);
  });

  it('a rollback release that runs other code than the target is a verification failure, with no outputs', async () => {
    current = heroku(() => release(65, { current: true, slug: { id: 'slug-x' } }), []);
    const host = new FakeHost();
    const outcome = await rollback(request({ toVersion: 63 }), host.log);
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.kind, 'verification');
    assert.match(
      outcome.failure.message,
      /^The rollback release v65 of my-app is live but runs commit bbbbbbbb, not v63's commit aaaaaaaa: something else changed my-app meanwhile\./,
    );
    assert.deepEqual(rollbackReport('my-app', outcome).outputs, {});
  });

  it('a cancel before the request changes nothing and sends no request', async () => {
    current = heroku(() => release(65), []);
    const controller = new AbortController();
    controller.abort();
    const outcome = await rollback(request({ signal: controller.signal }), new FakeHost().log);
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.kind, 'cancelled');
    assert.deepEqual(posts(), []);
  });
});

describe('HerokuRollback@1 entry', () => {
  it('reads every input into the request: toVersion, expectedCommit lowercased, the health check of HerokuDeploy@1', async () => {
    const host = new FakeHost({
      inputs: {
        appName: 'my-app',
        apiKey: ' KEY\n',
        toVersion: 'v60',
        expectedCommit: 'ABCDEF1',
        healthCheckUrl: '/health',
        healthCheckExpectedText: '/ok/i',
        healthCheckTimeout: '30',
        healthCheckInterval: '2',
      },
    });
    const read = sinon.stub().resolves({ ok: false, failure: new TaskError('input', 'stop here'), partial: null });
    await runTask(host, { ...rollbackTask, run: read });
    const [request] = read.firstCall.args as [RollbackRequest];
    assert.equal(request.appName, 'my-app');
    assert.equal(request.apiKey, 'KEY');
    assert.equal(request.toVersion, 60);
    assert.equal(request.expectedCommit, 'abcdef1');
    assert.deepEqual(request.healthCheck, {
      url: '/health',
      expectedStatus: 200,
      expectedText: { pattern: /ok/i },
      timeoutMs: 30_000,
      intervalMs: 2000,
    });
    assert.ok(host.secrets.includes('KEY'));
    assert.equal(host.failure, 'stop here');
  });

  it('refuses a bad input before any request, with a summary named for the app', async () => {
    const host = new FakeHost({ inputs: { appName: 'my-app', apiKey: 'KEY', expectedCommit: 'main' } });
    await runTask(host, rollbackTask);
    assert.match(host.failure ?? '', /The input expectedCommit is "main", which is not a commit SHA/);
    assert.equal(host.summaries[0]?.name, 'heroku-rollback-my-app');
    assert.deepEqual(host.outputs, {});
  });
});
