// HerokuRollback in-process: the toVersion input, the release `heroku rollback` picks, each refusal,
// a rollback request that is lost or answered wrongly (what the app runs is read again, and nothing
// is retried), the report, and the entry's inputs -> request on an in-memory agent.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { HerokuApiError, type Release } from '../../tasks/common/core/heroku/api';
import { rollbackReport } from '../../tasks/common/core/rollback/report';
import { rollback } from '../../tasks/common/core/rollback/rollback';
import { oneReleaseBack, parseToVersion, refusal, runsCommit } from '../../tasks/common/core/rollback/target';
import type { RollbackRequest } from '../../tasks/common/core/rollback/types';
import { runTask } from '../../tasks/common/pipeline/run-task';
import { rollbackTask } from '../../tasks/HerokuRollbackV1/rollback-task';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { releaseFacts } from '../../tasks/common/core/rollback/types';
import { FakeHost } from '../support/fake-host';
import { connectTo } from '../support/in-process-deploy';
import { RecordingApi, type Route } from '../support/recording-api';
import { refusingUrl, scriptedServer } from '../support/scripted-server';

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

  it('reads v1 as the first release, and names toVersion when it reads an undefined variable', () => {
    assert.equal(parseToVersion('v1'), 1);
    assert.throws(
      () => parseToVersion('$(ROLLBACK_TO)'),
      (e: TaskError) => e.message.startsWith('The input toVersion reads $(ROLLBACK_TO), but the pipeline variable'),
    );
  });

  it('names a release without a description by its version alone, and records no description as empty', () => {
    const bare = release(63, { status: 'failed' });
    delete bare.description;
    assert.match(refusal('my-app', bare, null)?.message ?? '', /^Not rolling back my-app: v63 is a failed release/);
    assert.equal(releaseFacts(bare, null).description, '');
  });

  it('matches expectedCommit as a prefix of the commit, in any case the commit is in', () => {
    assert.ok(runsCommit(OLD, 'aaaaaaa'), "runsCommit(OLD, 'aaaaaaa')");
    assert.ok(runsCommit(OLD.toUpperCase(), 'aaaaaaa'), "runsCommit(OLD.toUpperCase(), 'aaaaaaa')");
    assert.ok(!runsCommit(OLD, 'aaaaaab'), "!runsCommit(OLD, 'aaaaaab')");
    assert.ok(!runsCommit(`1${OLD.slice(1)}`, 'aaaaaaa'), 'a prefix, not anywhere in the SHA');
    assert.ok(!runsCommit(null, 'aaaaaaa'), "!runsCommit(null, 'aaaaaaa')");
  });
});

/** A rollback of my-app to the release before the live one, nothing else asked. */
const rollbackRequest = (more: Partial<RollbackRequest> = {}): RollbackRequest => ({
  apiKey: 'KEY',
  api: { url: 'https://api.heroku.example', source: 'default', isDefault: true },
  appName: 'my-app',
  toVersion: null,
  expectedCommit: null,
  healthCheck: null,
  network: DIRECT,
  ...more,
});

describe('HerokuRollback in-process', () => {
  let current: RecordingApi;
  beforeEach(() => connectTo(() => current));
  afterEach(() => sinon.restore());

  const request = rollbackRequest;

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
    assert.ok(!outcome.ok, '!outcome.ok');
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
    assert.ok(!outcome.ok, '!outcome.ok');
    assert.match(outcome.failure.message, / No new release was made: v64 is still live\. Check/);
    assert.equal(posts().length, 1);
  });

  it('a lost rollback request whose state cannot be read either: says it is unknown', async () => {
    current = heroku(lost, new HerokuApiError(503, 'unavailable', 'down', 'GET', '/apps/my-app/releases'));
    const outcome = await rollback(request(), new FakeHost().log);
    assert.ok(!outcome.ok, '!outcome.ok');
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
    assert.ok(!outcome.ok, '!outcome.ok');
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
    assert.ok(!outcome.ok, '!outcome.ok');
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
    assert.ok(!outcome.ok, '!outcome.ok');
    assert.equal(outcome.failure.kind, 'cancelled');
    assert.deepEqual(posts(), []);
  });
});

describe('HerokuRollback in-process: from the reads to the health check, and its report', () => {
  let api: RecordingApi;
  beforeEach(() => connectTo(() => api));
  afterEach(() => sinon.restore());

  const request = rollbackRequest;

  /**
   * my-app runs v64 (NEW); v63 ran OLD; the POST makes v65 with v63's slug. `more` replaces answers
   * by `METHOD path` (a function is called for each request); `after` answers (or fails) the
   * releases list once the POST was sent.
   */
  function world(more: Record<string, unknown> = {}, after?: Release[] | Error): RecordingApi {
    let posted = false;
    return new RecordingApi((method, path) => {
      const key = `${method} ${path}`;
      if (key === 'POST /apps/my-app/releases') posted = true;
      if (key === 'GET /apps/my-app/releases' && posted && after) return after;
      const routes: Record<string, unknown> = {
        'GET /account': { email: 'dev@example.com' },
        'GET /apps/my-app': { id: 'app', name: 'my-app', web_url: 'https://my-app.herokuapp.com/' },
        'GET /apps/my-app/releases': [release(64, { current: true }), release(63), release(62)],
        'GET /apps/my-app/slugs/slug-64': { commit: NEW },
        'GET /apps/my-app/slugs/slug-63': { commit: OLD },
        'GET /apps/my-app/slugs/slug-62': { commit: OLD },
        'GET /apps/my-app/releases/63': release(63),
        'GET /apps/my-app/releases/62': release(62),
        'GET /apps/my-app/releases/64': release(64, { current: true }),
        'POST /apps/my-app/releases': release(65, { current: true, slug: { id: 'slug-63' }, description: 'Rollback to v63' }),
        ...more,
      };
      const route = routes[key];
      const answer = typeof route === 'function' ? (route as () => unknown)() : route;
      return answer ?? new HerokuApiError(404, 'not_found', `no route ${key}`, method, path);
    });
  }
  const posts = (): string[] => api.calls.filter((c) => c.startsWith('POST'));
  const failed = async (req: RollbackRequest, host = new FakeHost()) => {
    const outcome = await rollback(req, host.log);
    assert.ok(!outcome.ok, 'the rollback fails');
    return outcome;
  };

  it('rolls back one release back, checks the expected commit and the health, and reports it all', async () => {
    const web = await scriptedServer([{ status: 503 }, { status: 200 }]);
    api = world();
    const host = new FakeHost();
    const healthCheck = { url: `${web.url}/health`, expectedStatus: 200, expectedText: null, timeoutMs: 5000, intervalMs: 1 };
    const outcome = await rollback(request({ expectedCommit: 'aaaaaaa', healthCheck }), host.log).finally(() => web.close());
    assert.ok(outcome.ok, 'the rollback succeeds');
    assert.deepEqual(api.calls, [
      'GET /account',
      'GET /apps/my-app',
      'GET /apps/my-app/releases',
      'GET /apps/my-app/slugs/slug-64',
      'GET /apps/my-app/slugs/slug-63',
      'POST /apps/my-app/releases {"release":"rel-63"}',
      'GET /apps/my-app/slugs/slug-63',
    ]);
    assert.deepEqual(
      host.lines.map((l) => l.replace(web.url, 'WEB').replace(/\d+ ms/, 'N ms')),
      [
        'v63 runs the expected commit aaaaaaa.',
        'my-app runs v64 (commit bbbbbbbb), as dev@example.com sees it; rolling back to v63 (commit aaaaaaaa: "Deploy v63").',
        "warn: A rollback restores the config vars of v63 as well as its code: config vars changed since v63 go back to its values. It does not undo database migrations, data changes or add-ons: if a release after v63 migrated the database, make sure v63's code works with the migrated schema.",
        '[group] Roll back my-app to v63',
        'Rolling back my-app to v63 (POST /apps/my-app/releases, sent once).',
        '[endgroup]',
        "v65 is live: my-app runs v63's code again (commit aaaaaaaa).",
        '[group] Health check of my-app v65',
        'GET WEB/health until it answers 200 (every 0.001 s, for up to 5 s)',
        '  #1  503  N ms  expected 200; body: {}',
        '  #2  200  N ms  healthy',
        '[endgroup]',
      ],
    );
    const result = outcome.result;
    assert.equal(result.healthCheckStatus, '200');
    assert.ok(result.durationMs >= 0 && result.durationMs < 60_000, `durationMs ${result.durationMs}`);
    assert.deepEqual(
      result.steps.map((s) => `${s.name}: ${s.outcome}: ${s.detail}`),
      ['Roll back my-app to v63: done: v65 succeeded', 'Health check of my-app v65: done: healthy (200)'],
    );
    result.durationMs = 9000;
    const report = rollbackReport('my-app', outcome);
    assert.equal(
      report.line,
      'Rolled back my-app from v64 (commit bbbbbbbb) to v63 (commit aaaaaaaa), live as v65 · https://my-app.herokuapp.com/ · healthy (200) · 9s',
    );
    assert.deepEqual(report.outputs, { releaseVersion: '65', commit: OLD, rolledBackFrom: '64' });
    assert.equal(report.summary?.name, 'heroku-rollback-my-app');
    assert.equal(
      report.summary?.markdown,
      [
        '### Heroku rollback: my-app',
        '',
        '| | |',
        '|---|---|',
        '| Result | Rolled back to v63 |',
        '| App | [my-app](https://my-app.herokuapp.com/) |',
        '| From | v64 `bbbbbbbb` Deploy v64 |',
        '| To | v63 `aaaaaaaa` Deploy v63 |',
        '| Now live | v65 `aaaaaaaa` Rollback to v63 |',
        '| Health check | healthy (200) |',
        '| Rolled back by | dev@example.com |',
        '| Duration | 9s |',
        '',
        '| Step | Outcome | |',
        '|---|---|---|',
        '| Roll back my-app to v63 | ✅ done | v65 succeeded |',
        '| Health check of my-app v65 | ✅ done | healthy (200) |',
        '',
        'Config vars are those of v63 again; database migrations and add-ons were not rolled back.',
        '',
      ].join('\n'),
    );
  });

  it('an unhealthy rollback stays live: says so, shows the logs, and reports what is live with no answer', async () => {
    api = world({ 'POST /apps/my-app/log-sessions': new HerokuApiError(503, 'unavailable', 'down', 'POST', '/x') });
    const url = await refusingUrl();
    const host = new FakeHost();
    const healthCheck = { url, expectedStatus: 200, expectedText: null, timeoutMs: 200, intervalMs: 50 };
    const outcome = await failed(request({ healthCheck }), host);
    assert.equal(outcome.failure.kind, 'health-check');
    assert.match(
      outcome.failure.message,
      new RegExp(
        `^my-app was rolled back to v63 \\(live as v65, commit aaaaaaaa\\), but it failed its health check: ${url} last answered .* within 0\\.2 s\\. v65 stays live \\(a rollback is never rolled forward\\): the app's logs are above\\. Roll back further with toVersion, or deploy a fix\\.$`,
      ),
    );
    assert.ok(
      host.lines.some((l) => l.startsWith('[group] Recent logs of my-app')),
      'the logs are shown',
    );
    const result = outcome.partial?.result;
    assert.ok(result, 'the live release is reported');
    assert.equal(result.healthCheckStatus, '');
    assert.ok(result.durationMs >= 0 && result.durationMs < 60_000, `durationMs ${result.durationMs}`);
    assert.match(result.steps[1]?.detail ?? '', /^unhealthy: no answer /);
    result.durationMs = 1000;
    const report = rollbackReport('my-app', outcome);
    assert.equal(
      report.line,
      'Rolled back my-app from v64 (commit bbbbbbbb) to v63 (commit aaaaaaaa), live as v65 · https://my-app.herokuapp.com/ · UNHEALTHY (no answer) · 1s',
    );
    assert.deepEqual(report.outputs, { releaseVersion: '65', commit: OLD, rolledBackFrom: '64' });
    const markdown = report.summary?.markdown ?? '';
    assert.ok(markdown.includes('\n| Result | **Failed after the rollback:** my-app was rolled back to v63 '), markdown);
    assert.ok(markdown.includes('\n| Health check | unhealthy (no answer) |\n'), markdown);
  });

  it('a cancel during the health check says the rollback is done, with what it runs', async () => {
    const host = new FakeHost();
    const web = http.createServer((_req, res) => {
      host.controller.abort();
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', () => resolve()));
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}/health`;
    api = world({ 'GET /account': {}, 'GET /apps/my-app/slugs/slug-64': {}, 'GET /apps/my-app/slugs/slug-63': {} });
    const healthCheck = { url, expectedStatus: 200, expectedText: null, timeoutMs: 5000, intervalMs: 1 };
    const outcome = await failed(request({ healthCheck, signal: host.signal }), host).finally(() => {
      web.closeAllConnections();
      web.close();
    });
    assert.equal(outcome.failure.kind, 'cancelled');
    assert.equal(
      outcome.failure.message,
      "The task was cancelled during the health check of my-app: the rollback is done, v65 (v63's code, no commit recorded) is live and was not checked to the end.",
    );
    assert.ok(
      host.lines.includes(
        'my-app runs v64 (no commit recorded), as unknown account sees it; rolling back to v63 (no commit recorded: "Deploy v63").',
      ),
      host.lines.join('\n'),
    );
    const result = outcome.partial?.result;
    assert.ok(result, 'the live release is reported');
    assert.ok(result.durationMs >= 0 && result.durationMs < 60_000, `durationMs ${result.durationMs}`);
    assert.deepEqual(rollbackReport('my-app', outcome).outputs, { releaseVersion: '65', commit: '', rolledBackFrom: '64' });
  });

  it('rolls back to a named toVersion, not one release back; without expectedCommit or a description it says neither', async () => {
    const bare = release(62);
    delete bare.description;
    api = world({
      'GET /apps/my-app/releases/62': bare,
      'POST /apps/my-app/releases': release(65, { current: true, slug: { id: 'slug-62' } }),
    });
    const host = new FakeHost();
    const outcome = await rollback(request({ toVersion: 62 }), host.log);
    assert.ok(outcome.ok, 'the rollback succeeds');
    assert.deepEqual(posts(), ['POST /apps/my-app/releases {"release":"rel-62"}']);
    assert.equal(
      host.lines[0],
      'my-app runs v64 (commit bbbbbbbb), as dev@example.com sees it; rolling back to v62 (commit aaaaaaaa).',
      'the first line says what runs, nothing about an expected commit',
    );
  });

  it('refuses the live release as toVersion in-process, sending nothing', async () => {
    api = world();
    const outcome = await failed(request({ toVersion: 64 }));
    assert.match(outcome.failure.message, /^Not rolling back my-app: v64 \("Deploy v64"\) is the live release/);
    assert.deepEqual(posts(), []);
  });

  it('refuses a target that does not run expectedCommit, sending nothing', async () => {
    api = world();
    const outcome = await failed(request({ expectedCommit: 'abcdef1' }));
    assert.equal(outcome.failure.kind, 'verification');
    assert.equal(
      outcome.failure.message,
      'Refusing to roll back: v63 ("Deploy v63") of my-app runs commit aaaaaaaa, not the expected abcdef1 (expectedCommit). Nothing was changed. Give toVersion the release that runs abcdef1 (`heroku releases -a my-app`), or fix expectedCommit.',
    );
    assert.deepEqual(posts(), []);
    api = world({ 'GET /apps/my-app/slugs/slug-63': {} });
    const none = await failed(request({ expectedCommit: 'abcdef1' }));
    assert.match(none.failure.message, /^Refusing to roll back: v63 \("Deploy v63"\) of my-app runs no recorded commit, not/);
  });

  it('says when there is no live release, no release one back, or no such toVersion', async () => {
    api = world({ 'GET /apps/my-app/releases': [release(64), release(63)] });
    assert.equal(
      (await failed(request())).failure.message,
      'my-app has no live release (none of its 2 newest releases is current): there is nothing to roll back from. Check `heroku releases -a my-app`.',
    );
    api = world({ 'GET /apps/my-app/releases': [release(64, { current: true }), release(63, { eligible_for_rollback: false })] });
    assert.equal(
      (await failed(request())).failure.message,
      'my-app has no release to roll back to: of its 2 newest releases, fewer than two can be rolled back to (as `heroku rollback` counts them: `eligible_for_rollback`). Give toVersion a release from `heroku releases -a my-app`.',
    );
    api = world({ 'GET /apps/my-app/releases': [release(65, { status: 'pending' }), release(64, { current: true })] });
    assert.equal(
      (await failed(request({ toVersion: 99 }))).failure.message,
      'my-app has no release v99 (its newest is v65): give toVersion a release from `heroku releases -a my-app`.',
    );
  });

  it('a failed read names what it was reading', async () => {
    const down = (path: string) => new HerokuApiError(500, 'internal', 'down', 'GET', path);
    const cases: Array<[string, number | null, string]> = [
      ['GET /apps/my-app', null, 'reading the app my-app'],
      ['GET /apps/my-app/releases', null, 'listing the releases of my-app'],
      ['GET /apps/my-app/releases/63', 63, 'reading v63 of my-app'],
    ];
    for (const [key, toVersion, doing] of cases) {
      api = world({ [key]: down(key.slice(4)) });
      const outcome = await failed(request({ toVersion }));
      assert.ok(outcome.failure.message.includes(` while ${doing} `), `${key}: ${outcome.failure.message}`);
    }
  });

  it('a rollback release with the target commit but another artifact, or the same artifact read with another commit, is refused as not verified', async () => {
    api = world({ 'POST /apps/my-app/releases': release(65, { current: true, slug: { id: 'slug-62' } }) });
    const other = await failed(request());
    assert.equal(other.failure.kind, 'verification');
    let reads = 0;
    api = world({ 'GET /apps/my-app/slugs/slug-63': () => (++reads > 1 ? { commit: NEW } : { commit: OLD }) });
    const changed = await failed(request());
    assert.match(
      changed.failure.message,
      /^The rollback release v65 of my-app is live but runs commit bbbbbbbb, not v63's commit aaaaaaaa/,
    );
  });

  it('a release phase that fails: the message ends its sentence and says the rollback did not take effect', async () => {
    api = world(
      {
        'POST /apps/my-app/releases': release(65, { status: 'pending', slug: { id: 'slug-63' } }),
        'GET /apps/my-app/releases/rel-65': release(65, { status: 'failed', slug: { id: 'slug-63' } }),
      },
      [release(65, { status: 'failed', description: 'Rollback to v63' }), release(64, { current: true })],
    );
    const outcome = await failed(request({ pollMs: 1, sleep: () => Promise.resolve() }));
    assert.equal(outcome.failure.kind, 'rollback');
    assert.equal(
      outcome.failure.message,
      'The rollback of my-app to v63 did not complete: the rollback release v65 ended failed. The rollback did not take effect: v65 ("Rollback to v63"), the release the request made, ended failed, and v64 is live. Check `heroku releases -a my-app` before running a rollback again.',
    );
    assert.deepEqual(api.ranges['/apps/my-app/releases'], ['version ..; order=desc, max=10', 'version ..; order=desc, max=5']);
  });

  it('a cancel in the release phase: says the rollback may still take effect, and what stays live', async () => {
    const controller = new AbortController();
    const pending = release(65, { status: 'pending', slug: { id: 'slug-63' } });
    api = world({ 'POST /apps/my-app/releases': pending, 'GET /apps/my-app/releases/rel-65': pending }, [
      release(66, { status: 'pending', description: 'Rollback to v63' }),
      release(65, { current: true }),
      release(64),
    ]);
    const sleep = (): Promise<void> => {
      controller.abort();
      return Promise.resolve();
    };
    const outcome = await failed(request({ pollMs: 1, sleep, signal: controller.signal }));
    assert.equal(outcome.failure.kind, 'cancelled');
    assert.equal(
      outcome.failure.message,
      'The task was cancelled during the rollback of my-app to v63. The rollback may still take effect: v66 ("Rollback to v63"), the release the request made (of 2 new ones), is in its release phase; v65 stays live until it ends, and v66 goes live if it succeeds (`heroku releases:output 66 -a my-app`). The task started nothing else (a cancel never starts another rollback). Check `heroku releases -a my-app` before running a rollback again.',
    );
    assert.deepEqual(posts().length, 1);
  });

  it('a lost request after which another release is live: no new release, and which one is live', async () => {
    const lost = new HerokuApiError(null, null, 'socket hang up', 'POST', '/apps/my-app/releases', null, 'ECONNRESET');
    api = world({ 'POST /apps/my-app/releases': lost }, [release(64), release(63, { current: true })]);
    const outcome = await failed(request());
    assert.match(outcome.failure.message, / No new release was made, and v63 is live\. Check/);
    api = world({ 'POST /apps/my-app/releases': lost }, [release(64)]);
    assert.match((await failed(request())).failure.message, / No new release was made, and no release is live\. Check/);
    const made = release(65, { description: 'Rollback to v63' });
    delete made.status;
    api = world({ 'POST /apps/my-app/releases': lost }, [made, release(64)]);
    assert.match(
      (await failed(request())).failure.message,
      / The rollback did not take effect: v65 \("Rollback to v63"\), the release the request made, ended in an unknown state, and no release is live\. Check/,
    );
    api = world(
      { 'POST /apps/my-app/releases': lost },
      new HerokuApiError(503, 'unavailable', 'down', 'GET', '/apps/my-app/releases'),
    );
    const unknown = (await failed(request())).failure.message;
    assert.ok(unknown.includes(' while checking which release of my-app is live '), unknown);
  });
});

describe('HerokuRollback report', () => {
  const facts = (version: number, commit: string | null, description = '') => ({
    id: `rel-${version}`,
    version,
    description,
    commit,
  });
  const result = {
    app: 'my-app',
    appUrl: null,
    account: 'dev@example.com',
    from: facts(64, null),
    to: facts(63, OLD, 'Deploy | v63'),
    release: facts(65, OLD),
    healthCheckStatus: null,
    durationMs: 2000,
    steps: [],
  };

  it('a rollback without health check, app URL or commits: no empty parts, no health line', () => {
    const report = rollbackReport('my-app', { ok: true, result });
    assert.equal(report.line, 'Rolled back my-app from v64 (no commit recorded) to v63 (commit aaaaaaaa), live as v65 · 2s');
    assert.deepEqual(report.outputs, { releaseVersion: '65', commit: OLD, rolledBackFrom: '64' });
    assert.equal(
      report.summary?.markdown,
      [
        '### Heroku rollback: my-app',
        '',
        '| | |',
        '|---|---|',
        '| Result | Rolled back to v63 |',
        '| App | my-app |',
        '| From | v64 |',
        '| To | v63 `aaaaaaaa` Deploy \\| v63 |',
        '| Now live | v65 `aaaaaaaa` |',
        '| Rolled back by | dev@example.com |',
        '| Duration | 2s |',
        '',
        'Config vars are those of v63 again; database migrations and add-ons were not rolled back.',
        '',
      ].join('\n'),
    );
  });

  it('an unhealthy answer is named by its status; a failure before the rollback has a summary and no outputs', () => {
    const unhealthy = rollbackReport('my-app', {
      ok: false,
      failure: new TaskError('health-check', 'down'),
      partial: { steps: [], result: { ...result, healthCheckStatus: '500' } },
    });
    assert.match(unhealthy.line ?? '', / · UNHEALTHY \(500\) · 2s$/);
    assert.ok(unhealthy.summary?.markdown.includes('\n| Health check | unhealthy (500) |\n'), unhealthy.summary?.markdown);
    const refused = rollbackReport('my-app', { ok: false, failure: new TaskError('input', 'no such release'), partial: null });
    assert.equal(refused.line, null);
    assert.deepEqual(refused.outputs, {});
    assert.equal(refused.summary?.name, 'heroku-rollback-my-app');
    assert.ok(
      refused.summary?.markdown.startsWith('### Heroku rollback: my-app\n\n**Failed:** no such release'),
      refused.summary?.markdown,
    );
    assert.equal(rollbackReport(null, { ok: false, failure: new TaskError('input', 'no app'), partial: null }).summary, null);
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
    assert.ok(host.secrets.includes('KEY'), "host.secrets.includes('KEY')");
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
