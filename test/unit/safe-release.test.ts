// The safe-release sequence in-process, with the Platform API recorded and a stand-in release
// strategy: the order of every change, what is undone on each exit path, what is left as it was, and
// which release a rollback goes back to.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { HerokuApiError, type App, type Release } from '../../tasks/common/core/heroku/api';
import { applyConfigVars } from '../../tasks/common/core/heroku/app-changes';
import { NO_SAFEGUARDS, type Safeguards } from '../../tasks/common/core/workflow/safeguards';
import { SafeRelease, type Released, type ReleaseStrategy } from '../../tasks/common/core/workflow/safe-release';
import { Steps } from '../../tasks/common/core/workflow/steps';
import { TaskError } from '../../tasks/common/core/base/errors';
import { FakeHost } from '../support/fake-host';
import { RecordingApi, type Route } from '../support/recording-api';
import { scriptedServer } from '../support/scripted-server';

const live: Release = { id: 'rel-10', version: 10, status: 'succeeded', current: true, slug: { id: 'slug-10' } };

/** A Heroku app with a worker formation, config vars and a release history, as the sequence reads it. */
function heroku(more: Route = () => undefined): RecordingApi {
  return new RecordingApi((method, path, body) => {
    const answer = more(method, path, body);
    if (answer !== undefined) return answer;
    if (method === 'GET' && path === '/apps/my-app/formation')
      return [
        { type: 'web', quantity: 1 },
        { type: 'worker', quantity: 2 },
      ];
    if (method === 'GET' && path === '/apps/my-app/config-vars') return { OLD: 'x' };
    if (method === 'GET' && path === '/apps/my-app/releases') return [live];
    if (method === 'POST' && path === '/apps/my-app/log-sessions') return {};
    return {};
  });
}

function sequence(api: RecordingApi, safeguards: Partial<Safeguards>) {
  const host = new FakeHost();
  const steps = new Steps(host.log);
  const app = api.client().forApp('my-app');
  const safeRelease = new SafeRelease({
    app,
    safeguards: { ...NO_SAFEGUARDS, ...safeguards },
    network: host.network(),
    log: host.log,
    steps,
  });
  return { host, steps, safeRelease };
}

/** A release strategy that records when it runs and makes `release` (or fails with `failure`). */
function strategy(api: RecordingApi, release: Release, failure?: TaskError): ReleaseStrategy<Released> {
  return {
    title: 'Deploy 3cced9be',
    release: () => {
      api.calls.push('RELEASE');
      return failure ? Promise.reject(failure) : Promise.resolve({ release, commit: '3cced9be' });
    },
    describe: (r) => `released v${r.release.version}`,
  };
}

const appInfo: App = { name: 'my-app', maintenance: false, web_url: 'https://my-app.herokuapp.com/' };
const newRelease: Release = { id: 'rel-12', version: 12, status: 'succeeded', slug: { id: 'slug-12' } };

describe('the safe-release sequence', () => {
  it('changes the app in order around the release and undoes the temporary changes right after it', async () => {
    const api = heroku();
    const { safeRelease, steps } = sequence(api, {
      maintenanceMode: true,
      stopProcessTypes: ['worker'],
      configVars: { OLD: null, NEW: 'y' },
    });
    await safeRelease.run(strategy(api, newRelease), appInfo, false);
    assert.deepEqual(api.calls, [
      'GET /apps/my-app/formation',
      'PATCH /apps/my-app {"maintenance":true}',
      'PATCH /apps/my-app/formation {"updates":[{"type":"worker","quantity":0}]}',
      'GET /apps/my-app/config-vars',
      'PATCH /apps/my-app/config-vars {"OLD":null,"NEW":"y"}',
      'GET /apps/my-app/releases',
      'RELEASE',
      'PATCH /apps/my-app/formation {"updates":[{"type":"worker","quantity":2}]}',
      'PATCH /apps/my-app {"maintenance":false}',
    ]);
    assert.deepEqual(
      steps.records.map((r) => `${r.name}: ${r.outcome}`),
      [
        'Maintenance mode on: done',
        'Stop worker: done',
        'Config vars: done',
        'Deploy 3cced9be: done',
        'Restore worker: restored',
        'Maintenance mode off: restored',
        'Health check: skipped',
      ],
    );
  });

  it('leaves maintenance mode on when it was on before the task', async () => {
    const api = heroku();
    const { safeRelease, steps } = sequence(api, { maintenanceMode: true });
    await safeRelease.run(strategy(api, newRelease), { ...appInfo, maintenance: true }, false);
    assert.deepEqual(api.calls, ['RELEASE'], 'maintenance mode is neither switched on nor off');
    assert.deepEqual(steps.records[0], {
      name: 'Maintenance mode on',
      outcome: 'skipped',
      detail: 'it was already on: left on at the end, as it was',
    });
  });

  it('undoes maintenance mode and stopped workers when the release fails, and reports the release failure', async () => {
    const api = heroku();
    const { safeRelease } = sequence(api, { maintenanceMode: true, stopProcessTypes: ['worker'] });
    await assert.rejects(
      safeRelease.run(strategy(api, newRelease, new TaskError('build', 'The build failed.')), appInfo, false),
      /^TaskError: The build failed\.$/,
    );
    assert.deepEqual(api.calls.slice(api.calls.indexOf('RELEASE')), [
      'RELEASE',
      'PATCH /apps/my-app/formation {"updates":[{"type":"worker","quantity":2}]}',
      'PATCH /apps/my-app {"maintenance":false}',
    ]);
  });

  it('rolls back to the release live when the task started, not to the release its config vars made', async () => {
    const web = await scriptedServer(Array.from({ length: 20 }, () => ({ status: 500, body: 'down' })));
    let configChanged = false;
    const api = heroku((method, path) => {
      if (method === 'PATCH' && path === '/apps/my-app/config-vars') configChanged = true;
      // After the config change, its release (v11) is the newest and live.
      if (method === 'GET' && path === '/apps/my-app/releases' && configChanged)
        return [{ id: 'rel-11', version: 11, status: 'succeeded', current: true, slug: { id: 'slug-10' } }];
      if (method === 'POST' && path === '/apps/my-app/releases') return { id: 'rel-13', version: 13, status: 'succeeded' };
      return undefined;
    });
    const healthCheck = { url: `${web.url}/health`, expectedStatus: 200, expectedText: null, timeoutMs: 150, intervalMs: 50 };
    const { safeRelease } = sequence(api, { configVars: { NEW: 'y' }, healthCheck, rollbackOnFailure: true });
    try {
      await assert.rejects(
        safeRelease.run(strategy(api, newRelease), appInfo, false),
        (error: TaskError) => error.kind === 'rollback',
      );
    } finally {
      await web.close();
    }
    assert.deepEqual(
      api.calls.filter((c) => c.startsWith('POST /apps/my-app/releases')),
      ['POST /apps/my-app/releases {"release":"rel-10"}'],
    );
    assert.equal(safeRelease.rolledBack, true);
    assert.equal(safeRelease.healthCheckStatus, '500');
  });
});

describe('the health check after a release', () => {
  /** Runs a release with a health check against a local app answering `answers` (one attempt per check). */
  async function checked(
    answers: Array<{ status: number; body?: unknown }>,
    rollbackOnFailure: boolean,
    releases: Release[] = [live],
  ) {
    const web = await scriptedServer(answers);
    const api = heroku((method, path) => {
      if (method === 'GET' && path === '/apps/my-app/releases') return releases;
      if (method === 'POST' && path === '/apps/my-app/releases') return { id: 'rel-13', version: 13, status: 'succeeded' };
      return undefined;
    });
    const healthCheck = { url: `${web.url}/health`, expectedStatus: 200, expectedText: null, timeoutMs: 1, intervalMs: 1 };
    const { safeRelease, steps, host } = sequence(api, { healthCheck, rollbackOnFailure });
    const error = await safeRelease.run(strategy(api, newRelease), appInfo, false).then(
      () => null,
      (e: TaskError) => e,
    );
    await web.close();
    return { error, api, steps, host, safeRelease };
  }
  const posts = (api: RecordingApi): string[] => api.calls.filter((c) => c.startsWith('POST /apps/my-app/releases'));

  it('passes a healthy release, with no rollback', async () => {
    const { error, api, safeRelease } = await checked([{ status: 200 }], true);
    assert.equal(error, null);
    assert.equal(safeRelease.healthCheckStatus, '200');
    assert.equal(safeRelease.rolledBack, false);
    assert.deepEqual(posts(api), []);
  });

  it('rolls back an unhealthy release and says so when the rollback answers healthy', async () => {
    const { error, api, safeRelease, steps } = await checked([{ status: 500 }, { status: 200 }], true);
    assert.equal(error?.kind, 'health-check');
    assert.match(
      error?.message ?? '',
      /^v12 of my-app \(commit 3cced9be\) failed its health check: .* Rolled back to v10 \(now live as v13\), which answers healthy\. Fix the failure/,
    );
    assert.deepEqual(posts(api), ['POST /apps/my-app/releases {"release":"rel-10"}']);
    assert.equal(safeRelease.rolledBack, true);
    assert.equal(safeRelease.healthCheckStatus, '200');
    assert.deepEqual(
      steps.records.map((r) => `${r.name}: ${r.outcome}`),
      [
        'Deploy 3cced9be: done',
        'Health check of v12: done',
        'Roll back to v10: done',
        'Health check of v13 (rollback to v10): done',
      ],
    );
  });

  it('leaves an unhealthy release live when rollbackOnFailure is false, or when nothing earlier had code', async () => {
    const kept = await checked([{ status: 503 }], false);
    assert.equal(kept.error?.kind, 'health-check');
    assert.match(kept.error?.message ?? '', /rollbackOnFailure is false, so v12 stays live\.$/);
    assert.deepEqual(posts(kept.api), []);

    const first = await checked([{ status: 503 }], true, [{ id: 'rel-1', version: 1, current: true, slug: null }]);
    assert.match(first.error?.message ?? '', /There is no earlier release with code to roll back to, so v12 stays live\.$/);
    assert.deepEqual(posts(first.api), []);
    assert.equal(first.safeRelease.rolledBack, false);
  });
});

describe('config vars', () => {
  it('sets what differs and removes a var given as KEY=, in one PATCH, and sends nothing when all is as asked', async () => {
    const api = heroku();
    const app = api.client().forApp('my-app');
    assert.deepEqual(await applyConfigVars(app, { OLD: null, NEW: 'y', GONE: null }), { set: ['NEW'], removed: ['OLD'] });
    assert.deepEqual(api.calls, ['GET /apps/my-app/config-vars', 'PATCH /apps/my-app/config-vars {"OLD":null,"NEW":"y"}']);
    api.calls.length = 0;
    assert.deepEqual(await applyConfigVars(app, { OLD: 'x', GONE: null }), { set: [], removed: [] });
    assert.deepEqual(api.calls, ['GET /apps/my-app/config-vars']);
  });

  it('says it was setting config vars when Heroku fails, without naming a value', async () => {
    const api = heroku((method, path) =>
      method === 'PATCH' ? new HerokuApiError(422, 'invalid_params', 'Config var key is invalid', method, path) : undefined,
    );
    await assert.rejects(applyConfigVars(api.client().forApp('my-app'), { 'BAD KEY': 's3cret' }), (error: Error) => {
      assert.match(
        error.message,
        /^Heroku refused PATCH \/apps\/my-app\/config-vars while setting config vars \(422 invalid_params/,
      );
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    });
  });
});

describe('what the safe-release sequence says', () => {
  it('details every step and logs the maintenance and config var changes (names only, never values)', async () => {
    const api = heroku();
    const { safeRelease, steps, host } = sequence(api, {
      maintenanceMode: true,
      stopProcessTypes: ['worker'],
      configVars: { OLD: null, NEW: 's3cret-value' },
      buildpacks: ['heroku/nodejs'],
    });
    await safeRelease.run(strategy(api, newRelease), appInfo, false);
    assert.deepEqual(
      steps.records.map((r) => `${r.name}: ${r.outcome}: ${r.detail}`),
      [
        'Buildpacks: done: set to heroku/nodejs',
        'Maintenance mode on: done: ',
        'Stop worker: done: worker: 2 -> 0',
        'Config vars: done: set NEW; removed OLD',
        'Deploy 3cced9be: done: released v12',
        'Restore worker: restored: back to worker=2',
        'Maintenance mode off: restored: off',
        'Health check: skipped: no healthCheckUrl',
      ],
    );
    assert.ok(
      host.lines.includes(
        "Turning maintenance mode on for my-app: users get Heroku's maintenance page until the deploy is done.",
      ),
      'says users get the maintenance page',
    );
    assert.ok(host.lines.includes('Set: NEW; removed: OLD (values are not shown).'), 'names what it set and removed');
    assert.ok(!host.lines.some((l) => l.includes('s3cret-value')), 'never logs a value');
  });

  it('says when config vars already have their values, or only set, or only remove', async () => {
    const same = heroku();
    const unchanged = sequence(same, { configVars: { OLD: 'x' } });
    await unchanged.safeRelease.run(strategy(same, newRelease), appInfo, false);
    assert.equal(unchanged.steps.records[0]?.detail, 'unchanged');
    assert.ok(
      unchanged.host.lines.includes('The config vars already have these values: nothing to change, no new release.'),
      'says nothing changes',
    );
    assert.ok(!same.calls.some((c) => c.startsWith('PATCH')), 'no change, no release');

    const setOnly = heroku();
    const set = sequence(setOnly, { configVars: { NEW: 'y' } });
    await set.safeRelease.run(strategy(setOnly, newRelease), appInfo, false);
    assert.equal(set.steps.records[0]?.detail, 'set NEW; removed -');
    assert.ok(set.host.lines.includes('Set: NEW; removed: - (values are not shown).'), 'nothing removed: -');

    const removeOnly = heroku();
    const removed = sequence(removeOnly, { configVars: { OLD: null } });
    await removed.safeRelease.run(strategy(removeOnly, newRelease), appInfo, false);
    assert.equal(removed.steps.records[0]?.detail, 'set -; removed OLD');
    assert.ok(removed.host.lines.includes('Set: -; removed: OLD (values are not shown).'), 'nothing set: -');
  });

  it("fails when the config change's release phase fails, before the release and without making it", async () => {
    const pending: Release = { id: 'rel-11', version: 11, status: 'pending' };
    const api = heroku((method, path) => {
      if (method === 'GET' && path === '/apps/my-app/releases') return [pending];
      if (method === 'GET' && path === '/apps/my-app/releases/rel-11') return { ...pending, status: 'failed' };
      return undefined;
    });
    const { safeRelease } = sequence(api, { configVars: { NEW: 'y' } });
    await assert.rejects(safeRelease.run(strategy(api, newRelease), appInfo, false), (error: TaskError) => {
      assert.equal(error.kind, 'release-phase');
      assert.equal(
        error.message,
        'The release phase of v11 (the config var change) failed: the config vars are set, but the release did not go live. See its output above (`heroku releases:output 11 -a my-app`).',
      );
      return true;
    });
    assert.ok(!api.calls.includes('RELEASE'), 'no release after the failed config release');
  });

  it('names the command to run when an undo fails', async () => {
    const api = heroku((method, path, body) =>
      method === 'PATCH' &&
      (JSON.stringify(body).includes('"maintenance":false') || JSON.stringify(body).includes('"quantity":2'))
        ? new HerokuApiError(503, 'service_unavailable', 'Unavailable', method, path)
        : undefined,
    );
    const { safeRelease, host } = sequence(api, { maintenanceMode: true, stopProcessTypes: ['worker'] });
    await assert.rejects(safeRelease.run(strategy(api, newRelease), appInfo, false), (error: TaskError) => {
      assert.equal(error.kind, 'undo');
      assert.match(error.message, /my-app's worker dynos are STILL STOPPED: run `heroku ps:scale worker=2 -a my-app`\./);
      return true;
    });
    assert.ok(
      host.lines.some((l) => /^warn: Restore worker FAILED: .*STILL STOPPED/.test(l)),
      'the failed restore is warned about by its name',
    );
  });

  it("leaves the temporary changes to the deploy that holds Heroku's build lock, with the commands", async () => {
    const api = heroku();
    const { safeRelease, host, steps } = sequence(api, { maintenanceMode: true, stopProcessTypes: ['worker'] });
    const locked = new TaskError('busy', 'Heroku rejected the push: another build of my-app is in progress.');
    await assert.rejects(safeRelease.run(strategy(api, newRelease, locked), appInfo, false), /another build/);
    assert.ok(!api.calls.some((c) => c.includes('"maintenance":false') || c.includes('"quantity":2')), 'nothing undone');
    assert.ok(
      host.lines.includes(
        'warn: Maintenance mode off: not done, another deploy of my-app is running and puts it back when it ends. If it stays so, run `heroku maintenance:off -a my-app`.',
      ),
      'says why maintenance mode is left on, and the command',
    );
    assert.ok(
      host.lines.some((l) => l.includes('If it stays so, run `heroku ps:scale worker=2 -a my-app`.')),
      'names the command that restores the dynos',
    );
    assert.deepEqual(
      steps.records.filter((r) => r.outcome === 'not restored').map((r) => r.name),
      ['Maintenance mode off', 'Restore worker'],
    );
  });

  it('skips stopping process types on an app it just created, and buildpacks already set', async () => {
    const api = heroku((method, path) =>
      method === 'GET' && path === '/apps/my-app/buildpack-installations'
        ? [{ buildpack: { url: 'heroku/nodejs', name: 'heroku/nodejs' } }]
        : undefined,
    );
    const { safeRelease, steps } = sequence(api, { stopProcessTypes: ['worker'], buildpacks: ['heroku/nodejs'] });
    await safeRelease.run(strategy(api, newRelease), appInfo, true);
    assert.deepEqual(
      steps.records.slice(0, 2).map((r) => `${r.name}: ${r.outcome}: ${r.detail}`),
      ['Stop worker: skipped: a new app runs nothing yet', 'Buildpacks: done: already set'],
    );
    assert.ok(!api.calls.includes('GET /apps/my-app/formation'), 'a new app has no formation to read');
  });
});

describe('the safe-release sequence with several names, and its other paths', () => {
  const heroku2 = (more: Route = () => undefined) =>
    heroku((method, path, body) => {
      const answer = more(method, path, body);
      if (answer !== undefined) return answer;
      if (method === 'GET' && path === '/apps/my-app/config-vars') return { OLD: 'x', OLDER: 'z' };
      return undefined;
    });

  it('names every process type, buildpack and config var it changes, and the command to restore the dynos', async () => {
    const api = heroku2();
    const { safeRelease, steps, host } = sequence(api, {
      stopProcessTypes: ['web', 'worker'],
      buildpacks: ['heroku/nodejs', 'heroku/python'],
      configVars: { OLD: null, OLDER: null, NEW: 'y', NEWER: 'z' },
    });
    await safeRelease.run(strategy(api, newRelease), appInfo, false);
    assert.deepEqual(
      steps.records.map((r) => `${r.name}: ${r.outcome}: ${r.detail}`),
      [
        'Buildpacks: done: set to heroku/nodejs, heroku/python',
        'Stop web, worker: done: web: 1 -> 0, worker: 2 -> 0',
        'Config vars: done: set NEW, NEWER; removed OLD, OLDER',
        'Deploy 3cced9be: done: released v12',
        'Restore web, worker: restored: back to web=1 worker=2',
        'Health check: skipped: no healthCheckUrl',
      ],
    );
    assert.ok(host.lines.includes('Set: NEW, NEWER; removed: OLD, OLDER (values are not shown).'), 'names every var');
    assert.ok(host.lines.includes('[group] Stop web, worker'), 'each change in a log group of its own');
    assert.ok(!host.lines.includes('[group] Deploy 3cced9be'), 'the release makes its own groups');
    assert.equal(safeRelease.rolledBack, false);
    assert.equal(safeRelease.healthCheckStatus, null, 'no health check');

    const created = heroku2();
    const fresh = sequence(created, { stopProcessTypes: ['web', 'worker'] });
    await fresh.safeRelease.run(strategy(created, newRelease), appInfo, true);
    assert.equal(fresh.steps.records[0]?.name, 'Stop web, worker');
  });

  it('says which dynos are still stopped and which command restores them all when the restore fails', async () => {
    const api = heroku2((method, _path, body) =>
      method === 'PATCH' && JSON.stringify(body).includes('"quantity":2')
        ? new HerokuApiError(503, 'service_unavailable', 'Unavailable', method, '/apps/my-app/formation')
        : undefined,
    );
    const { safeRelease } = sequence(api, { stopProcessTypes: ['web', 'worker'], maintenanceMode: true });
    await assert.rejects(safeRelease.run(strategy(api, newRelease), appInfo, false), (error: TaskError) => {
      assert.match(
        error.message,
        /my-app's web, worker dynos are STILL STOPPED: run `heroku ps:scale web=1 worker=2 -a my-app`\./,
      );
      return true;
    });
  });

  it('says the app is still in maintenance mode, and how to end it, when switching it off fails', async () => {
    const api = heroku((method, path, body) =>
      method === 'PATCH' && JSON.stringify(body).includes('"maintenance":false')
        ? new HerokuApiError(503, 'service_unavailable', 'Unavailable', method, path)
        : undefined,
    );
    const { safeRelease, steps } = sequence(api, { maintenanceMode: true });
    await assert.rejects(safeRelease.run(strategy(api, newRelease), appInfo, false), (error: TaskError) => {
      assert.equal(error.kind, 'undo');
      assert.match(error.message, /my-app is STILL IN MAINTENANCE MODE: run `heroku maintenance:off -a my-app`\.$/);
      return true;
    });
    assert.equal(steps.records.find((r) => r.name === 'Maintenance mode off')?.outcome, 'not restored');
  });

  it('says what the deploy had failed with when an undo fails after it', async () => {
    const api = heroku((method, path, body) =>
      method === 'PATCH' && JSON.stringify(body).includes('"maintenance":false')
        ? new HerokuApiError(503, 'service_unavailable', 'Unavailable', method, path)
        : undefined,
    );
    const { safeRelease } = sequence(api, { maintenanceMode: true });
    await assert.rejects(
      safeRelease.run(strategy(api, newRelease, new TaskError('build', 'The build failed.')), appInfo, false),
      (error: TaskError) => error.kind === 'undo' && error.message.endsWith('(The deploy had failed: The build failed.)'),
    );
  });

  it('shows the recent logs and says no rollback was made when the release phase fails', async () => {
    const api = heroku();
    const { safeRelease } = sequence(api, {});
    const failed = new TaskError('release-phase', 'The release phase of v12 failed.');
    await assert.rejects(safeRelease.run(strategy(api, newRelease, failed), appInfo, false), (error: TaskError) => {
      assert.deepEqual(error.details, [
        'No rollback was made: Heroku never put the failed release live, so the previous release still serves traffic.',
      ]);
      return true;
    });
    assert.ok(api.calls.includes('POST /apps/my-app/log-sessions {"lines":100,"tail":false}'), api.calls.join('\n'));
  });

  it('reads the releases for a rollback target only when a health check may roll back', async () => {
    const api = heroku();
    const { safeRelease } = sequence(api, { rollbackOnFailure: true });
    await safeRelease.run(strategy(api, newRelease), appInfo, false);
    assert.deepEqual(api.calls, ['RELEASE'], 'no health check: nothing to roll back to');
  });

  it("goes on with the release once the config change's release phase succeeds", async () => {
    const pending: Release = { id: 'rel-11', version: 11, status: 'pending' };
    const api = heroku((method, path) => {
      if (method === 'GET' && path === '/apps/my-app/releases') return [pending];
      if (method === 'GET' && path === '/apps/my-app/releases/rel-11') return { ...pending, status: 'succeeded' };
      return undefined;
    });
    const { safeRelease } = sequence(api, { configVars: { NEW: 'y' } });
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const run = safeRelease.run(strategy(api, newRelease), appInfo, false);
      await clock.tickAsync(2000); // one poll of the release phase
      await run;
    } finally {
      clock.restore();
    }
    assert.ok(api.calls.includes('RELEASE'), 'the release follows the settled config release');
  });

  it('says it was reading the config release when Heroku fails then', async () => {
    let changed = false;
    const api = heroku((method, path) => {
      if (method === 'PATCH' && path === '/apps/my-app/config-vars') changed = true;
      if (method === 'GET' && path === '/apps/my-app/releases' && changed)
        return new HerokuApiError(503, 'service_unavailable', 'Unavailable', method, path);
      return undefined;
    });
    const { safeRelease } = sequence(api, { configVars: { NEW: 'y' } });
    await assert.rejects(safeRelease.run(strategy(api, newRelease), appInfo, false), /while reading the config release/);
  });
});
