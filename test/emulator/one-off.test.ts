// One-off dynos of the emulator, checked as a client sees them: POST /apps/{app}/dynos, the
// rendezvous TLS server (greeting, output, close), detached output in the log, time_to_live,
// actions/stop, and the faults the task tests rely on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { eventually } from '../support/heroku-api';
import { envApp, pushOk, useEmulator } from '../support/emulator';
import { TEST_CA } from '../support/tls-front';

interface DynoBody {
  name: string;
  attach_url: string | null;
  state: string;
  type: string;
}

/** Attaches as Heroku's CLI does; resolves with everything read once the server closes. */
function attach(url: string, secret?: string): Promise<string> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: target.hostname, port: Number(target.port), ca: readFileSync(TEST_CA) }, () =>
      socket.write(`${secret ?? target.pathname.slice(1)}\r\n`),
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

describe('emulator: one-off dynos', function () {
  this.timeout(30_000);
  const context = useEmulator();
  let app: string;

  before(async () => {
    app = (await context.heroku.createApp(context.name('oneoff'))).name;
    await pushOk(await context.repo({ files: envApp() }), context.gitUrl(app), context.heroku.apiKey);
    await context.api.patch(`/apps/${app}/config-vars`, { FROM_CONFIG: 'config' });
  });

  const oneOffs = () => context.heroku.platform.runtime(context.heroku.app(app)).oneOffs;

  it('runs an attached dyno in the slug with config vars + env, no PORT, once its client sends the secret', async () => {
    const created = await context.api.post<DynoBody>(`/apps/${app}/dynos`, {
      command: `node -e "console.log(process.env.FROM_CONFIG, process.env.EXTRA, process.env.PORT ?? 'no PORT', process.env.DYNO, require('fs').existsSync('server.js'))"; echo done`,
      env: { EXTRA: 'extra' },
      attach: true,
      force_no_tty: true,
    });
    assert.equal(created.status, 201);
    const { name, attach_url: url, type } = created.body;
    assert.match(name, /^run\.\d{4}$/);
    assert.equal(type, 'run');
    assert.match(url ?? '', /^rendezvous:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{48}$/);
    assert.equal(oneOffs().find(name)?.process, null, 'nothing runs before the client attaches');
    const text = await attach(url ?? '');
    assert.equal(text, `rendezvous\r\nconfig extra no PORT ${name} true\ndone\n`);
    const logs = context.heroku.platform.logs(context.heroku.app(app)).recent(50, { dyno: name });
    assert.ok(
      logs.some((l) => l.endsWith(`heroku[${name}]: Process exited with status 0`)),
      logs.join('\n'),
    );
    assert.ok(!logs.some((l) => l.includes(`app[${name}]`)), 'an attached dyno’s output is not in the log');
    assert.equal(oneOffs().find(name), undefined, 'gone once it exited');
  });

  it('refuses a wrong secret', async () => {
    const created = await context.api.post<DynoBody>(`/apps/${app}/dynos`, { command: 'echo hi', attach: true });
    assert.equal(await attach(created.body.attach_url ?? '', 'not-the-secret'), 'invalid secret\r\n');
    await context.api.post(`/apps/${app}/dynos/${created.body.name}/actions/stop`);
  });

  it('sends a detached dyno’s output to the log as app[run.N]', async () => {
    const created = await context.api.post<DynoBody>(`/apps/${app}/dynos`, { command: 'echo detached output' });
    assert.equal(created.body.attach_url, null);
    const logs = context.heroku.platform.logs(context.heroku.app(app));
    await eventually(() =>
      logs.recent(50).some((l) => l.endsWith(`app[${created.body.name}]: detached output`)) ? true : undefined,
    );
  });

  it('stops a dyno at its time_to_live, and on actions/stop', async () => {
    const ttl = await context.api.post<DynoBody>(`/apps/${app}/dynos`, { command: 'sleep 30', time_to_live: 1 });
    const stopped = await context.api.post<DynoBody>(`/apps/${app}/dynos`, { command: 'sleep 30' });
    assert.deepEqual(
      (await context.api.get<DynoBody[]>(`/apps/${app}/dynos`)).body.filter((d) => d.type === 'run').map((d) => d.state),
      ['up', 'up'],
    );
    assert.equal((await context.api.post(`/apps/${app}/dynos/${stopped.body.name}/actions/stop`)).status, 202);
    await eventually(() => (oneOffs().list().length === 0 && oneOffs().processCount === 0 ? true : undefined), 8_000);
    const logs = context.heroku.platform.logs(context.heroku.app(app)).recent(100);
    assert.ok(
      logs.some((l) => l.includes(`heroku[${ttl.body.name}]: Stopping all processes with SIGTERM (time_to_live of 1 s reached)`)),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((l) => l.endsWith(`heroku[${stopped.body.name}]: Stopping all processes with SIGTERM`)),
      logs.join('\n'),
    );
  });

  it('refuses a blank command, a time_to_live over a day and an app with no code', async () => {
    assert.equal((await context.api.post(`/apps/${app}/dynos`, { command: ' ' })).status, 422);
    assert.equal((await context.api.post(`/apps/${app}/dynos`, { command: 'ls', time_to_live: 86_401 })).status, 422);
    const empty = (await context.heroku.createApp(context.name('nocode'))).name;
    const answer = await context.api.post<{ message: string }>(`/apps/${empty}/dynos`, { command: 'ls' });
    assert.equal(answer.status, 422);
    assert.match(answer.body.message, /has no code released yet/);
  });

  it('faults: an attach dropped after the first line leaves the process running; a kill logs R15 and exit 137', async () => {
    context.heroku.faults.nextOneOff('drop');
    const dropped = await context.api.post<DynoBody>(`/apps/${app}/dynos`, { command: 'echo one; sleep 30', attach: true });
    assert.equal(await attach(dropped.body.attach_url ?? ''), 'rendezvous\r\none\n');
    assert.ok(oneOffs().find(dropped.body.name)?.process, 'the process runs on');
    await context.api.post(`/apps/${app}/dynos/${dropped.body.name}/actions/stop`);
    context.heroku.faults.nextOneOff('kill');
    const killed = await context.api.post<DynoBody>(`/apps/${app}/dynos`, {
      command: 'echo one; sleep 30; echo never',
      attach: true,
    });
    assert.equal(await attach(killed.body.attach_url ?? ''), 'rendezvous\r\none\n');
    const logs = context.heroku.platform.logs(context.heroku.app(app)).recent(50, { dyno: killed.body.name });
    assert.ok(
      logs.some((l) => l.endsWith('Error R15 (Memory quota vastly exceeded)')),
      logs.join('\n'),
    );
    assert.ok(
      logs.some((l) => l.endsWith('Process exited with status 137')),
      logs.join('\n'),
    );
  });
});
