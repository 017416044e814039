// The changes made to an app around a release, in-process with the Platform API recorded: the exact
// requests (and the ones not sent when nothing differs), and what a failure of each says it was doing.
import assert from 'node:assert/strict';
import { HerokuApiError } from '../../tasks/common/core/heroku/api';
import {
  createApp,
  processQuantities,
  restoreScale,
  scaleDown,
  setBuildpacks,
  setMaintenance,
} from '../../tasks/common/core/heroku/app-changes';
import { RecordingApi } from '../support/recording-api';

const NODE = 'https://github.com/heroku/heroku-buildpack-nodejs';

/** A Heroku that fails every call with a 500, so that the message says what the task was doing. */
const failing = (): RecordingApi =>
  new RecordingApi((method, path) => new HerokuApiError(500, 'internal_server_error', 'Internal server error', method, path));

describe('creating an app', () => {
  it('creates it in the team when one is named, with its region and stack', async () => {
    const api = new RecordingApi(() => ({ name: 'my-app' }));
    const app = await createApp(api.client(), 'my-app', { region: 'eu', team: 'acme', stack: 'heroku-24' });
    assert.equal(app.name, 'my-app');
    assert.deepEqual(api.calls, ['POST /teams/apps {"name":"my-app","region":"eu","stack":"heroku-24","team":"acme"}']);
  });

  it('creates a personal app with only what was given', async () => {
    const api = new RecordingApi(() => ({ name: 'my-app' }));
    await createApp(api.client(), 'my-app', { region: null, team: null, stack: null });
    assert.deepEqual(api.calls, ['POST /apps {"name":"my-app"}']);
  });

  it('says which app it was creating when Heroku refuses', async () => {
    const api = new RecordingApi(
      (method, path) => new HerokuApiError(422, 'invalid_params', 'Name my-app is already taken', method, path),
    );
    await assert.rejects(
      createApp(api.client(), 'my-app', { region: null, team: 'acme', stack: null }),
      /^TaskError: Heroku refused POST \/teams\/apps while creating the app my-app \(422 invalid_params: Name my-app is already taken\)/,
    );
  });
});

describe('buildpacks', () => {
  const installed = (...buildpacks: Array<{ name?: string; url?: string }>): RecordingApi =>
    new RecordingApi((method) => (method === 'GET' ? buildpacks.map((buildpack) => ({ buildpack })) : []));

  it('leaves the buildpacks alone when the app has the same ones, in the same order, by name or by URL', async () => {
    const api = installed({ name: 'heroku/nodejs', url: NODE }, { name: 'heroku/python', url: 'heroku/python' });
    const app = api.client().forApp('my-app');
    assert.equal(await setBuildpacks(app, ['heroku/nodejs', 'heroku/python']), false);
    assert.equal(await setBuildpacks(app, [NODE, 'heroku/python']), false);
    assert.deepEqual(api.calls, ['GET /apps/my-app/buildpack-installations', 'GET /apps/my-app/buildpack-installations']);
  });

  it('replaces them all, in order, when one differs, the order differs, or one is added', async () => {
    const api = installed({ name: 'heroku/nodejs', url: NODE }, { name: 'heroku/python', url: 'heroku/python' });
    const app = api.client().forApp('my-app');
    assert.equal(await setBuildpacks(app, ['heroku/nodejs', 'heroku/ruby']), true);
    assert.equal(await setBuildpacks(app, ['heroku/python', 'heroku/nodejs']), true);
    assert.equal(await setBuildpacks(app, ['heroku/nodejs']), true);
    assert.deepEqual(api.calls, [
      'GET /apps/my-app/buildpack-installations',
      'PUT /apps/my-app/buildpack-installations {"updates":[{"buildpack":"heroku/nodejs"},{"buildpack":"heroku/ruby"}]}',
      'GET /apps/my-app/buildpack-installations',
      'PUT /apps/my-app/buildpack-installations {"updates":[{"buildpack":"heroku/python"},{"buildpack":"heroku/nodejs"}]}',
      'GET /apps/my-app/buildpack-installations',
      'PUT /apps/my-app/buildpack-installations {"updates":[{"buildpack":"heroku/nodejs"}]}',
    ]);
  });

  it('adds a buildpack after those the app has', async () => {
    const api = installed({ name: 'heroku/nodejs', url: NODE });
    assert.equal(await setBuildpacks(api.client().forApp('my-app'), ['heroku/nodejs', 'heroku/python']), true);
    assert.equal(
      api.calls[1],
      'PUT /apps/my-app/buildpack-installations {"updates":[{"buildpack":"heroku/nodejs"},{"buildpack":"heroku/python"}]}',
    );
  });

  it('says it was setting the buildpacks when Heroku fails', async () => {
    await assert.rejects(
      setBuildpacks(failing().client().forApp('my-app'), ['heroku/nodejs']),
      /while setting the buildpacks \(500/,
    );
    const api = new RecordingApi((method, path) =>
      method === 'PUT' ? new HerokuApiError(422, 'invalid_params', 'Buildpack not found', method, path) : [],
    );
    await assert.rejects(setBuildpacks(api.client().forApp('my-app'), ['heroku/nope']), /while setting the buildpacks \(422/);
  });
});

describe('maintenance mode', () => {
  it('switches it on and off with one PATCH of the app', async () => {
    const api = new RecordingApi(() => ({}));
    const app = api.client().forApp('my-app');
    await setMaintenance(app, true);
    await setMaintenance(app, false);
    assert.deepEqual(api.calls, ['PATCH /apps/my-app {"maintenance":true}', 'PATCH /apps/my-app {"maintenance":false}']);
  });

  it('says which way it was switching when Heroku fails', async () => {
    const app = failing().client().forApp('my-app');
    await assert.rejects(setMaintenance(app, true), /while turning maintenance mode on \(500/);
    await assert.rejects(setMaintenance(app, false), /while turning maintenance mode off \(500/);
  });
});

describe('process types stopped during a release', () => {
  const formation = (...entries: Array<{ type?: string; quantity?: number }>): RecordingApi =>
    new RecordingApi((method) => (method === 'GET' ? entries : {}));

  it('reads the current quantity of each process type named, 0 included', async () => {
    const api = formation({ type: 'web', quantity: 1 }, { type: 'worker', quantity: 2 }, { type: 'clock', quantity: 0 });
    assert.deepEqual(await processQuantities(api.client().forApp('my-app'), ['worker', 'clock']), { worker: 2, clock: 0 });
    assert.deepEqual(api.calls, ['GET /apps/my-app/formation']);
  });

  it("refuses names the app's formation does not have, listing the ones it has", async () => {
    const api = formation({ type: 'web', quantity: 1 }, { type: 'worker', quantity: 2 });
    await assert.rejects(
      processQuantities(api.client().forApp('my-app'), ['worker', 'jobs', 'sidekiq']),
      (error: Error & { kind?: string }) => {
        assert.equal(error.kind, 'input');
        assert.equal(
          error.message,
          "stopProcessTypes names jobs, sidekiq, but my-app's formation has web, worker: use names from its Procfile.",
        );
        return true;
      },
    );
  });

  it('says when the app has no process types yet (nothing deployed)', async () => {
    await assert.rejects(
      processQuantities(formation().client().forApp('my-app'), ['worker']),
      /^TaskError: stopProcessTypes names worker, but my-app's formation has no process types yet: use names from its Procfile\.$/,
    );
  });

  it('says it was reading the formation when Heroku fails', async () => {
    await assert.rejects(processQuantities(failing().client().forApp('my-app'), ['worker']), /while reading the formation \(500/);
  });

  it('scales to 0 only the types that run, and restores exactly those quantities', async () => {
    const api = new RecordingApi(() => []);
    const app = api.client().forApp('my-app');
    const previous = { worker: 2, clock: 0, jobs: 1 };
    await scaleDown(app, previous);
    await restoreScale(app, previous);
    assert.deepEqual(api.calls, [
      'PATCH /apps/my-app/formation {"updates":[{"type":"worker","quantity":0},{"type":"jobs","quantity":0}]}',
      'PATCH /apps/my-app/formation {"updates":[{"type":"worker","quantity":2},{"type":"jobs","quantity":1}]}',
    ]);
  });

  it('sends nothing when none of the types runs', async () => {
    const api = new RecordingApi(() => []);
    const app = api.client().forApp('my-app');
    await scaleDown(app, { worker: 0, clock: 0 });
    await restoreScale(app, { worker: 0, clock: 0 });
    assert.deepEqual(api.calls, []);
  });

  it('says what it was scaling or restoring when Heroku fails', async () => {
    const app = failing().client().forApp('my-app');
    await assert.rejects(scaleDown(app, { worker: 2, clock: 0 }), /while scaling worker, clock to 0 \(500/);
    await assert.rejects(restoreScale(app, { worker: 2, clock: 0 }), /while restoring the process types \(500/);
  });
});
