// The app's recent logs after a failed release: shown in a group, and never a reason to fail.
import assert from 'node:assert/strict';
import { HerokuApiError } from '../../tasks/common/core/heroku/api';
import { showRecentLogs } from '../../tasks/common/core/heroku/app-logs';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import { FakeHost } from '../support/fake-host';
import { RecordingApi } from '../support/recording-api';
import { scriptedServer } from '../support/scripted-server';

describe('recent app logs', () => {
  it('opens a log session for the last lines and prints them in a group', async () => {
    const api = new RecordingApi((method, path) =>
      method === 'POST' && path === '/apps/my-app/log-sessions' ? { logplex_url: 'https://logs.example/s1' } : undefined,
    );
    api.streams['https://logs.example/s1'] = ['app[web.1]: Error: boom', 'heroku[web.1]: State changed from up to crashed'];
    const host = new FakeHost();
    const lines = await showRecentLogs(api.client().forApp('my-app'), host.log, 50);
    assert.deepEqual(lines, ['app[web.1]: Error: boom', 'heroku[web.1]: State changed from up to crashed']);
    assert.deepEqual(api.calls, ['POST /apps/my-app/log-sessions {"lines":50,"tail":false}', 'STREAM https://logs.example/s1']);
    assert.deepEqual(host.lines, ['[group] Recent logs of my-app (heroku logs -n 50)', ...lines, '[endgroup]']);
  });

  it("asks for one dyno's lines only, and says which dyno in the group's title and the command", async () => {
    const api = new RecordingApi(() => ({ logplex_url: 'https://logs.example/run' }));
    api.streams['https://logs.example/run'] = ['app[run.1]: migrating'];
    const host = new FakeHost();
    await showRecentLogs(api.client().forApp('my-app'), host.log, 100, 'run.1');
    assert.deepEqual(api.calls, [
      'POST /apps/my-app/log-sessions {"lines":100,"tail":false,"dyno":"run.1"}',
      'STREAM https://logs.example/run',
    ]);
    assert.equal(host.lines[0], '[group] Recent logs of run.1 of my-app (heroku logs -n 100 --dyno run.1)');
  });

  it('says when there are no lines, and how to read them by hand when they cannot be read', async () => {
    const empty = new RecordingApi(() => ({ logplex_url: 'https://logs.example/empty' }));
    empty.streams['https://logs.example/empty'] = [];
    const quiet = new FakeHost();
    assert.deepEqual(await showRecentLogs(empty.client().forApp('my-app'), quiet.log), []);
    assert.deepEqual(quiet.lines, ['[group] Recent logs of my-app (heroku logs -n 100)', '(no log lines)', '[endgroup]']);

    const none = new RecordingApi(() => ({}));
    const host = new FakeHost();
    await showRecentLogs(none.client().forApp('my-app'), host.log);
    assert.equal(host.lines[1], "Could not read the app's logs: Heroku returned no log URL. Run `heroku logs -n 100 -a my-app`.");

    const refused = new RecordingApi(
      () => new HerokuApiError(403, 'forbidden', 'No access', 'POST', '/apps/my-app/log-sessions'),
    );
    const denied = new FakeHost();
    assert.deepEqual(await showRecentLogs(refused.client().forApp('my-app'), denied.log), [], 'never fails the task');
    assert.match(
      denied.lines[1] ?? '',
      /^Could not read the app's logs: The account of this API key has no access to the app my-app .*\. Run `heroku logs -n 100 -a my-app`\.$/,
    );
  });

  it('retries opening a log session (it changes nothing), and says what failed when Heroku keeps failing', async () => {
    const unavailable = { status: 503, body: { id: 'service_unavailable', message: 'Try again' } };
    const heroku = await scriptedServer([unavailable, unavailable]);
    const client = HerokuClient.connect({ baseUrl: heroku.url, apiKey: 'KEY', maxRetries: 1, sleep: () => Promise.resolve() });
    const host = new FakeHost();
    try {
      assert.deepEqual(await showRecentLogs(client.forApp('my-app'), host.log), []);
    } finally {
      await heroku.close();
    }
    assert.deepEqual(heroku.calls, ['POST /apps/my-app/log-sessions', 'POST /apps/my-app/log-sessions']);
    assert.match(
      host.lines[1] ?? '',
      /^Could not read the app's logs: Heroku's API failed while opening a log session \(503 service_unavailable: Try again, 2 attempts\)/,
    );
  });
});
