// HerokuRun@1's operation in-process, against the emulator in this process (so that mutation testing
// sees it): the lines it logs, the status, the dyno stopped when no status comes, cancel.
import assert from 'node:assert/strict';
import { DIRECT } from '../../tasks/common/core/base/network';
import { runOneOff } from '../../tasks/common/core/run/run';
import type { RunRequest } from '../../tasks/common/core/run/types';
import { envApp, pushOk, useEmulator } from '../support/emulator';
import { FakeHost } from '../support/fake-host';
import { TEST_CA } from '../support/tls-front';

describe('HerokuRun@1 operation (in-process)', function () {
  this.timeout(30_000);
  const context = useEmulator();
  let app: string;

  before(async () => {
    app = (await context.heroku.createApp(context.name('op'))).name;
    await pushOk(await context.repo({ files: envApp() }), context.gitUrl(app), context.heroku.apiKey);
  });

  const request = (command: string, signal = new AbortController().signal, more: Partial<RunRequest> = {}): RunRequest => ({
    api: { url: context.heroku.apiUrl, isDefault: false, source: 'the test' },
    apiKey: context.heroku.apiKey,
    network: { ...DIRECT, caFile: TEST_CA },
    signal,
    appName: app,
    command,
    size: null,
    type: 'run',
    env: {},
    timeoutSeconds: 60,
    failOnExitCode: true,
    ...more,
  });
  const oneOffs = () => context.heroku.platform.runtime(context.heroku.app(app)).oneOffs;
  const stops = (dyno: string): number =>
    context.heroku.api.requests.filter((r) => r.path === `/apps/${app}/dynos/${dyno}/actions/stop`).length;

  it('logs each line of the output, without the greeting or the marker, and returns the status', async () => {
    const host = new FakeHost();
    const outcome = await runOneOff(request(`node -e "console.log('a'); console.log('b')"`), host.log);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(outcome.result.exitCode, 0);
    const at = host.lines.findIndex((l) => l.startsWith('Running `node -e'));
    assert.deepEqual(host.lines.slice(at + 1), ['a', 'b']);
    assert.equal(stops(outcome.result.dynoName), 0, 'a dyno that reported its status is not stopped');
  });

  it('fails on a non-zero status with the status in its progress, or warns with failOnExitCode false', async () => {
    const failed = await runOneOff(request('node -e "process.exit(5)"'), new FakeHost().log);
    assert.ok(!failed.ok, 'a non-zero status fails');
    assert.equal(failed.failure.kind, 'script');
    assert.equal(failed.partial?.exitCode, 5);
    const host = new FakeHost();
    const warned = await runOneOff(request('node -e "process.exit(5)"', undefined, { failOnExitCode: false }), host.log);
    assert.ok(warned.ok, JSON.stringify(warned));
    assert.equal(warned.result.exitCode, 5);
    assert.ok(
      host.lines.some((l) => l.startsWith('warn: `node -e "process.exit(5)"` exited with code 5')),
      host.lines.join('\n'),
    );
  });

  it('stops the dyno and shows its log lines when no status comes', async () => {
    context.heroku.faults.nextOneOff('kill');
    const host = new FakeHost();
    const outcome = await runOneOff(request(`node -e "console.log('x'); setTimeout(() => {}, 20000)"`), host.log);
    assert.ok(!outcome.ok, 'no status fails');
    const dyno = outcome.partial?.dynoName ?? '';
    assert.equal(outcome.failure.kind, 'script');
    assert.match(outcome.failure.message, /ended without reporting an exit status/);
    assert.ok(
      host.lines.includes(`[group] Recent logs of ${dyno} of ${app} (heroku logs -n 100 --dyno ${dyno})`),
      host.lines.join('\n'),
    );
    assert.ok(
      host.lines.some((l) => l.endsWith(`heroku[${dyno}]: Error R15 (Memory quota vastly exceeded)`)),
      host.lines.join('\n'),
    );
    assert.equal(stops(dyno), 1);
  });

  it('on cancel stops the dyno at once and fails as cancelled', async () => {
    const controller = new AbortController();
    const host = new FakeHost();
    const log = { ...host.log, info: (line: string) => (line === 'started' ? controller.abort() : host.log.info(line)) };
    const started = Date.now();
    const outcome = await runOneOff(
      request(`node -e "console.log('started'); setTimeout(() => {}, 20000)"`, controller.signal),
      log,
    );
    assert.ok(!outcome.ok, 'cancel fails');
    assert.ok(Date.now() - started < 8_000, 'does not wait for the command');
    assert.equal(outcome.failure.kind, 'cancelled');
    const dyno = outcome.partial?.dynoName ?? '';
    assert.match(outcome.failure.message, new RegExp(`The dyno ${dyno.replace('.', '\\.')} was stopped\\.$`));
    assert.equal(stops(dyno), 1);
    const deadline = Date.now() + 8_000;
    while (oneOffs().processCount > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(oneOffs().processCount, 0, 'no one-off process left');
  });
});
