// HerokuDeploy@1's safe-deploy inputs, run as the agent runs the task, against the local Heroku:
// health check and rollback, maintenance mode and stopped workers undone on every exit path,
// config vars, app creation — and every bad value refused before anything changes.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { AgentResult, AgentRun } from '../support/agent';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import type { Repo } from '../support/git';

const exec = promisify(execFile);

const PROCFILE_WITH_WORKER = 'web: node server.js\nworker: node -e "setInterval(() => {}, 1000)"\n';
const CRASHING_SERVER = "console.error('FATAL: cannot connect to database at db.internal:5432'); process.exit(1);\n";
/** Answers 503 "warming up" for its first 2 seconds, then 200 "ok" on /health. */
const SLOW_SERVER = `const started = Date.now();
require('http').createServer((req, res) => {
  const warm = Date.now() - started > 2000;
  res.writeHead(warm ? 200 : 503, { 'Content-Type': 'text/plain' });
  res.end(warm ? 'ok\\n' : 'warming up\\n');
}).listen(process.env.PORT);
`;

describe('HerokuDeploy@1 safe deploys', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

  /** The app's web_url hosts are reachable only through the emulator's proxy, as through an agent's. */
  const throughProxy = (): Record<string, string> => ({
    'Agent.ProxyUrl': fx.heroku.proxyUrl,
    'Agent.ProxyBypassList': '["127\\\\.0\\\\.0\\\\.1"]',
  });

  const deployWith = (
    app: string,
    repo: Repo,
    inputs: Record<string, string>,
    run: Omit<AgentRun, 'cwd' | 'inputs'> = {},
  ): Promise<AgentResult> => fx.deploy(app, repo, { ...run, inputs, variables: { ...throughProxy(), ...run.variables } });

  async function formation(app: string): Promise<Record<string, number>> {
    const list = (await fx.api.get<Array<{ type: string; quantity: number }>>(`/apps/${app}/formation`)).body;
    return Object.fromEntries(list.map((f) => [f.type, f.quantity]));
  }

  async function maintenance(app: string): Promise<boolean> {
    return (await fx.api.get<{ maintenance: boolean }>(`/apps/${app}`)).body.maintenance;
  }

  /** An app running the sample app with web=1 and worker=2, deployed once (v3). */
  async function appWithWorkers(prefix: string): Promise<{ app: string; repo: Repo }> {
    const app = await fx.newApp(prefix);
    const repo = await fx.newRepo();
    await repo.commit('Add a worker', { Procfile: PROCFILE_WITH_WORKER });
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded');
    assert.equal((await fx.api.patch(`/apps/${app}/formation`, { updates: [{ type: 'worker', quantity: 2 }] })).status, 200);
    return { app, repo };
  }

  /** The order of the step groups the task printed. */
  const groups = (result: AgentResult): string[] =>
    result.stdout
      .split('\n')
      .filter((l) => l.startsWith('##[group]'))
      .map((l) => l.slice('##[group]'.length));

  it('runs the migration recipe in order and reports each step: maintenance, workers, config vars, push, restore, health check', async () => {
    const { app, repo } = await appWithWorkers('recipe');
    await repo.commit('Migrate', {
      Procfile: `${PROCFILE_WITH_WORKER}release: node -e "console.log('migrating', process.env.FEATURE_FLAG)"\n`,
    });
    const seen: { maintenance?: boolean; worker?: number } = {};
    const hold = fx.heroku.faults.holdBuilds();
    fx.heroku.faults.onBuildHeld = () => {
      void (async () => {
        seen.maintenance = await maintenance(app);
        seen.worker = (await formation(app)).worker;
        hold.release();
      })();
    };

    const result = await deployWith(
      app,
      repo,
      {
        healthCheckUrl: '/health',
        healthCheckExpectedText: 'ok',
        maintenanceMode: 'true',
        stopProcessTypes: 'worker',
        configVars: 'FEATURE_FLAG=on\nDB_PASSWORD=s3cr3t-db-password\n',
      },
      // The health check keeps its defaults (120 s) here; a run that is not done in 30 s is stopped,
      // so that a health check that never passes fails this test with the task's log, not a mocha timeout.
      { secretVariables: { DB_PASSWORD: 's3cr3t-db-password' }, timeoutMs: 30_000 },
    );
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.deepEqual(seen, { maintenance: true, worker: 0 }, 'during the push: maintenance on, workers stopped');
    assert.deepEqual(
      groups(result).filter((g) => !g.startsWith('Release phase')),
      [
        'Maintenance mode on',
        'Stop worker',
        'Config vars',
        `git push ${(await repo.head()).slice(0, 8)} to ${app} on Heroku`,
        'Restore worker',
        'Maintenance mode off',
        'Health check of v5',
      ],
    );
    assert.equal(await maintenance(app), false);
    assert.deepEqual(await formation(app), { web: 1, worker: 2 }, 'the exact quantities are back');
    const config = (await fx.api.get<Record<string, string>>(`/apps/${app}/config-vars`)).body;
    assert.equal(config.FEATURE_FLAG, 'on');
    assert.equal(config.DB_PASSWORD, 's3cr3t-db-password');
    assert.ok(!result.stdout.includes('s3cr3t-db-password'), 'a config value is never printed');
    assert.match(result.log, /migrating on/, 'the release phase ran with the new config');
    assert.match(result.log, /until it answers 200 with "ok" \(every 5 s, for up to 120 s\)/, 'the defaults');
    assert.match(result.log, /#1 {2}200 {2}\d+ ms {2}healthy/);
    assert.equal(result.outputs.healthCheckStatus, '200');
    assert.equal(result.outputs.rolledBack, 'false');
    const summary = await fs.readFile(result.summaries[0]!, 'utf8');
    for (const step of [
      'Maintenance mode on',
      'Stop worker',
      'Config vars',
      'Restore worker',
      'Maintenance mode off',
      'Health check of v5',
    ])
      assert.match(summary, new RegExp(`\\| ${step} \\| (✅ done|↩️ restored) \\|`), step);
  });

  it('rolls back to the release live before, proves by HTTP that it answers, and shows the crash in the log', async () => {
    const app = await fx.newApp('crash');
    const repo = await fx.newRepo();
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded'); // v3, healthy
    await repo.commit('Connect to the database at boot', { 'server.js': CRASHING_SERVER, 'message.txt': 'broken\n' });

    const result = await deployWith(app, repo, { healthCheckUrl: '/health', healthCheckTimeout: '4', healthCheckInterval: '1' });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(
      result.message,
      /^v4 of .* failed its health check: http:\/\/.*\/health last answered 503 after \d+ ms \(Heroku's Application Error page\)/,
    );
    assert.match(result.message, /Rolled back to v3 \(now live as v5\), which answers healthy/);
    assert.match(
      result.log,
      /app\[web\.1\]: FATAL: cannot connect to database at db\.internal:5432/,
      "the crashed process's own error line is in the log",
    );
    assert.match(result.log, /heroku\[router\]: at=error code=H10 desc="App crashed"/);
    assert.deepEqual([result.outputs.rolledBack, result.outputs.healthCheckStatus], ['true', '200']);
    const current = (await fx.releases(app)).find((r) => r.current)!;
    assert.deepEqual([current.version, current.description], [5, 'Rollback to v3']);
    assert.equal((await fx.fetchApp(app)).text, 'hello from the sample app\n', 'the old version answers');
  });

  it('waits for a slow start and succeeds on the first healthy answer', async () => {
    const app = await fx.newApp('slow');
    const repo = await fx.newRepo();
    await repo.commit('Warm up slowly', { 'server.js': SLOW_SERVER });
    const result = await deployWith(app, repo, {
      healthCheckUrl: '/health',
      healthCheckExpectedStatus: '200',
      healthCheckTimeout: '20',
      healthCheckInterval: '1',
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    const attempts = result.log.split('\n').filter((l) => /^ {2}#\d+ /.test(l));
    assert.ok(attempts.length >= 2, attempts.join('\n'));
    assert.match(attempts[0]!, /503 .*warming up/);
    assert.match(attempts.at(-1)!, /200 .*healthy/);
    assert.ok(!attempts.slice(0, -1).some((l) => l.includes('healthy')), 'stops at the first success');
  });

  it('fails and rolls back when the body lacks the expected text (and accepts a /regex/)', async () => {
    const app = await fx.newApp('text');
    const repo = await fx.newRepo();
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded');
    await repo.commit('Change the message', { 'message.txt': 'something else\n' });
    const wrong = await deployWith(app, repo, {
      healthCheckUrl: '/',
      healthCheckExpectedText: 'hello from the sample app',
      healthCheckTimeout: '2',
      healthCheckInterval: '1',
    });
    assert.equal(wrong.result, 'Failed', describeRun(wrong));
    assert.match(wrong.message, /body does not contain "hello from the sample app": something else/);
    assert.equal(wrong.outputs.rolledBack, 'true');

    const regex = await deployWith(app, repo, {
      healthCheckUrl: fx.heroku.webUrl(app),
      healthCheckExpectedText: '/^SOMETHING/i',
      healthCheckTimeout: '5',
      healthCheckInterval: '1',
    });
    assert.equal(regex.result, 'Succeeded', describeRun(regex));
  });

  it('says loudly when the rollback itself fails', async () => {
    const app = await fx.newApp('norollback');
    const repo = await fx.newRepo();
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded');
    await repo.commit('Crash', { 'server.js': CRASHING_SERVER });
    fx.heroku.faults.apiError(503, { method: 'POST', path: `/apps/${app}/releases`, times: 5 });
    const result = await deployWith(app, repo, { healthCheckUrl: '/health', healthCheckTimeout: '2', healthCheckInterval: '1' });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /^ROLLBACK FAILED — ACT NOW: v4 of .* failed its health check/);
    assert.match(result.message, /the failing v4 is still live\. Roll back by hand: `heroku rollback v3 -a /);
    assert.equal(result.outputs.rolledBack, 'false');
  });

  it('fails on a failed release phase without a rollback call, saying why, and with the logs', async () => {
    const { app, repo } = await appWithWorkers('phasefail');
    await repo.commit('Broken migration', {
      Procfile: `${PROCFILE_WITH_WORKER}release: node -e "console.error('migration 042 failed: column exists'); process.exit(1)"\n`,
    });
    const posts = () => fx.heroku.api.requests.filter((r) => r.method === 'POST' && r.path === `/apps/${app}/releases`).length;
    const before = posts();
    const result = await deployWith(app, repo, {
      healthCheckUrl: '/health',
      healthCheckTimeout: '5',
      maintenanceMode: 'true',
      stopProcessTypes: 'worker',
    });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /The release phase of v4 failed/);
    assert.match(result.log, /No rollback was made: Heroku never put the failed release live/);
    assert.match(
      result.log,
      /app\[release\.\d+\]: migration 042 failed: column exists/,
      'the recent logs show the release command',
    );
    assert.equal(posts(), before, 'no rollback was requested');
    assert.equal(await maintenance(app), false);
    assert.deepEqual(await formation(app), { web: 1, worker: 2 });
  });

  describe('undoes maintenance mode and stopped workers on every exit path', () => {
    const recipe = { maintenanceMode: 'true', stopProcessTypes: 'worker' };

    it('after a failed push', async () => {
      const { app, repo } = await appWithWorkers('undopush');
      await repo.commit('Break the build', {
        'package.json': '{"name":"x","scripts":{"build":"exit 1","start":"node server.js"}}',
      });
      const result = await deployWith(app, repo, recipe);
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /the build of .* failed/);
      assert.equal(await maintenance(app), false);
      assert.deepEqual(await formation(app), { web: 1, worker: 2 });
      assert.match(await fs.readFile(result.summaries[0]!, 'utf8'), /\| Maintenance mode off \| ↩️ restored \|/);
    });

    it('after an exception', async () => {
      const { app, repo } = await appWithWorkers('undothrow');
      await repo.commit('Change', { 'message.txt': 'changed\n' });
      const result = await deployWith(app, repo, recipe, {
        onLine: (line) => {
          // Once the push starts, the Platform API breaks for the release listing that follows it.
          if (line.startsWith('##[group]git push'))
            fx.heroku.faults.apiError(500, { method: 'GET', path: `/apps/${app}/releases`, times: 20 });
        },
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /Heroku's API failed while listing the releases/);
      assert.equal(await maintenance(app), false);
      assert.deepEqual(await formation(app), { web: 1, worker: 2 });
    });

    it('after a cancel mid-push: the git child is gone and no release appears afterwards', async () => {
      const { app, repo } = await appWithWorkers('undocancel');
      await repo.commit('Change', { 'message.txt': 'changed\n' });
      const hold = fx.heroku.faults.holdBuilds();
      let sent = false;
      const result = await deployWith(app, repo, recipe, {
        onLine: (line, child) => {
          if (!sent && line.includes('Building source:')) {
            sent = true;
            child.kill('SIGINT');
            setTimeout(() => child.kill('SIGTERM'), 5000).unref();
          }
        },
      });
      assert.ok(sent, 'sent');
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /cancelled/);
      const { stdout } = await exec('ps', ['-eo', 'args']);
      assert.ok(!stdout.split('\n').some((l) => l.includes(`${app}.git`)), 'no git process is left');
      assert.equal(await maintenance(app), false);
      assert.deepEqual(await formation(app), { web: 1, worker: 2 });
      hold.release();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal((await fx.releases(app)).at(-1)?.version, 3, 'no release landed after the cancel');
    });

    it('and reports an undo that fails, never swallowing it', async () => {
      const { app, repo } = await appWithWorkers('undofail');
      await repo.commit('Change', { 'message.txt': 'changed\n' });
      const result = await deployWith(app, repo, recipe, {
        onLine: (line) => {
          if (line.startsWith('##[group]git push'))
            fx.heroku.faults.apiError(503, { method: 'PATCH', path: new RegExp(`^/apps/${app}$`), times: 50 });
        },
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /STILL IN MAINTENANCE MODE: run `heroku maintenance:off -a /);
      assert.equal(await maintenance(app), true);
      assert.deepEqual(await formation(app), { web: 1, worker: 2 }, 'the other undo still ran');
    });
  });

  it('creates the app with its region, stack and buildpacks when asked', async () => {
    const app = `created-${process.pid % 1000}`;
    const repo = await fx.newRepo();
    const result = await deployWith(app, repo, {
      createApp: 'true',
      region: 'eu',
      stack: 'heroku-22',
      buildpacks: 'heroku/nodejs\n',
      stopProcessTypes: 'worker',
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    const created = (await fx.api.get<{ region: { name: string }; stack: { name: string } }>(`/apps/${app}`)).body;
    assert.deepEqual([created.region.name, created.stack.name], ['eu', 'heroku-22']);
    const buildpacks = (await fx.api.get<Array<{ buildpack: { name: string } }>>(`/apps/${app}/buildpack-installations`)).body;
    assert.deepEqual(
      buildpacks.map((b) => b.buildpack.name),
      ['heroku/nodejs'],
    );
    assert.match(result.log, /-----> Using buildpacks:/);
    assert.match(
      await fs.readFile(result.summaries[0]!, 'utf8'),
      /\| Create the app .* \| ✅ done \| region eu, stack heroku-22 \|/,
    );
  });

  it('refuses every bad value of the new inputs before changing anything', async () => {
    const app = await fx.newApp('badinputs');
    const repo = await fx.newRepo();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ healthCheckUrl: 'ftp://example.com/health' }, /healthCheckUrl must be an http\(s\) URL or a path/],
      [{ healthCheckUrl: 'health' }, /neither a path like \/health nor a full URL/],
      [{ healthCheckUrl: '/health', healthCheckExpectedStatus: 'ok' }, /healthCheckExpectedStatus is "ok"/],
      [{ healthCheckUrl: '/health', healthCheckExpectedStatus: '99' }, /healthCheckExpectedStatus is "99"/],
      [{ healthCheckUrl: '/health', healthCheckExpectedText: '/[unclosed/' }, /not a valid regular expression/],
      [{ healthCheckUrl: '/health', healthCheckTimeout: '0' }, /healthCheckTimeout is "0"/],
      [{ healthCheckUrl: '/health', healthCheckTimeout: 'soon' }, /healthCheckTimeout is "soon"/],
      [
        { healthCheckUrl: '/health', healthCheckTimeout: '5', healthCheckInterval: '10' },
        /healthCheckInterval \(10 s\) is longer than healthCheckTimeout/,
      ],
      [{ rollbackOnFailure: 'maybe' }, /rollbackOnFailure is "maybe"/],
      [{ maintenanceMode: 'yes' }, /maintenanceMode is "yes"/],
      [{ stopProcessTypes: 'web' }, /stopping web dynos takes the app offline/],
      [{ stopProcessTypes: 'bad type!' }, /names "type!"/],
      [{ stopProcessTypes: 'clock' }, /stopProcessTypes names clock, but .*'s formation has/],
      [{ configVars: 'NO_EQUALS_SIGN' }, /line 1 is not KEY=VALUE/],
      [{ configVars: 'A=1\nA=2' }, /sets A twice/],
      [{ configVars: 'TOKEN=$(UNDEFINED_SECRET)' }, /the pipeline variable UNDEFINED_SECRET is not defined/],
      [{ createApp: 'sure' }, /createApp is "sure"/],
      [{ region: 'eu' }, /apply only when creating the app/],
      [{ createApp: 'true', region: 'EU!' }, /region is "EU!"/],
      [{ createApp: 'true', team: 'My Team' }, /team is "My Team"/],
      [{ createApp: 'true', stack: 'Heroku 24' }, /stack is "Heroku 24"/],
      [{ buildpacks: 'not a buildpack' }, /buildpacks lists "not a buildpack"/],
    ];
    for (const [inputs, pattern] of cases) {
      const changes = () => fx.heroku.api.requests.filter((r) => r.method !== 'GET').length;
      const before = changes();
      const gitBefore = fx.heroku.git.requests.length;
      const result = await deployWith(app, repo, inputs);
      assert.equal(result.result, 'Failed', `${JSON.stringify(inputs)}: ${describeRun(result)}`);
      assert.match(result.message, pattern, JSON.stringify(inputs));
      assert.equal(changes(), before, `${JSON.stringify(inputs)} changed nothing`);
      assert.equal(fx.heroku.git.requests.length, gitBefore, `${JSON.stringify(inputs)} pushed nothing`);
    }
  });
});
