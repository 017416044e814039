// What runs after a release: real web processes behind each app's router, Heroku's 503 pages
// (maintenance H80, crashed H10), restarts on new releases, config vars in the environment.
import assert from 'node:assert/strict';
import type { Repo } from '../support/git';
import { eventually } from '../support/heroku-api';
import { envApp, httpRequest, pushOk, useEmulator, viaProxy } from '../support/emulator';

describe('emulator: runtime (dynos and routers)', () => {
  const context = useEmulator();

  const deploy = async (prefix: string, files?: Record<string, string>): Promise<{ app: string; repo: Repo }> => {
    const app = (await context.heroku.createApp(context.name(prefix))).name;
    const repo = await context.repo(files ? { files } : {});
    await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
    return { app, repo };
  };
  const routerLog = (app: string): string[] =>
    context.heroku.platform.logs(context.heroku.app(app)).recent(50, { dyno: 'router' });

  it('answers 503 with the "Offline for Maintenance" page in maintenance mode (H80), and serves again after', async () => {
    const { app } = await deploy('rt-maint');
    assert.equal((await context.api.patch(`/apps/${app}`, { maintenance: true })).status, 200);
    for (const answer of [
      await httpRequest(context.heroku.routerUrl(app)),
      await viaProxy(context.heroku.proxyUrl, context.heroku.webUrl(app)),
    ]) {
      assert.equal(answer.status, 503);
      assert.match(answer.body, /<title>Offline for Maintenance<\/title>/);
    }
    assert.ok(
      routerLog(app).some((l) => l.includes('at=error code=H80 desc="Maintenance mode"')),
      routerLog(app).join('\n'),
    );
    await context.api.patch(`/apps/${app}`, { maintenance: false });
    const back = await httpRequest(context.heroku.routerUrl(app));
    assert.deepEqual([back.status, back.body], [200, 'hello from the sample app\n']);
  });

  it('answers 503 "Application Error" (H10) when the web process keeps crashing, and shows the dyno crashed', async () => {
    const { app } = await deploy('rt-crash', {
      'package.json': JSON.stringify({ name: 'crasher', version: '1.0.0' }),
      Procfile: 'web: node -e "process.exit(1)"\n',
    });
    const dynos = await eventually(async () => {
      const list = await context.api.get<Array<{ name: string; state: string }>>(`/apps/${app}/dynos`);
      return list.body[0]?.state === 'crashed' ? list.body : undefined;
    });
    assert.deepEqual(
      dynos.map((d) => d.name),
      ['web.1'],
    );
    const answer = await httpRequest(context.heroku.routerUrl(app));
    assert.equal(answer.status, 503);
    assert.match(answer.body, /<title>Application Error<\/title>/);
    assert.ok(
      routerLog(app).some((l) => l.includes('at=error code=H10 desc="App crashed"')),
      routerLog(app).join('\n'),
    );
    const lines = context.heroku.platform.logs(context.heroku.app(app)).recent(100, { dyno: 'web.1' });
    assert.ok(
      lines.some((l) => l.endsWith('heroku[web.1]: Process exited with status 1')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.endsWith('heroku[web.1]: State changed from starting to crashed')),
      lines.join('\n'),
    );
  });

  it('restarts the web process on a new release, which serves the new code', async () => {
    const { app, repo } = await deploy('rt-restart');
    const web = () => context.heroku.platform.runtime(context.heroku.app(app)).dynos.find('web.1');
    await eventually(() => (web()?.state === 'up' ? true : undefined));
    const before = web()?.process?.pid;
    assert.equal((await httpRequest(context.heroku.routerUrl(app))).body, 'hello from the sample app\n');
    await repo.commit('new message', { 'message.txt': 'second release\n' });
    await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
    const answer = await httpRequest(context.heroku.routerUrl(app));
    assert.equal(answer.body, 'second release\n');
    assert.notEqual(web()?.process?.pid, before);
    const dyno = await context.api.get<{ release: { version: number } }>(`/apps/${app}/dynos/web.1`);
    assert.equal(dyno.body.release.version, 4);
  });

  it("gives the process its config vars, PORT and DYNO, and nothing of the emulator's environment", async () => {
    const app = (await context.heroku.createApp(context.name('rt-env'))).name;
    await context.api.patch(`/apps/${app}/config-vars`, { GREETING: 'bonjour' });
    process.env.HEROKU_EMULATOR_SECRET_PROBE = 'leaked';
    try {
      await pushOk(await context.repo({ files: envApp() }), context.gitUrl(app), context.heroku.apiKey);
    } finally {
      delete process.env.HEROKU_EMULATOR_SECRET_PROBE;
    }
    const env = async (name: string): Promise<string> => (await httpRequest(`${context.heroku.routerUrl(app)}env/${name}`)).body;
    assert.equal(await env('GREETING'), 'bonjour');
    assert.equal(await env('DYNO'), 'web.1');
    assert.match(await env('PORT'), /^\d+$/);
    assert.equal(await env('HEROKU_EMULATOR_SECRET_PROBE'), '(unset)');
    await context.api.patch(`/apps/${app}/config-vars`, { GREETING: 'hallo' });
    await eventually(
      async () => ((await env('GREETING')) === 'hallo' ? true : undefined),
      15_000,
      'the new value after the restart',
    );
  });
});
