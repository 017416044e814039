// HerokuRun@1 run as the agent runs it, against the local Heroku: a one-off dyno per run (a real
// process in the app's slug), attached over the emulator's rendezvous TLS server. Every outcome: exit
// 0, non-zero (failing or not), no status (killed, connection dropped), timeout (Heroku's and the
// task's own), cancel, 409s, Fir, the agent's CA and proxy, hostile output, and the key nowhere.
import assert from 'node:assert/strict';
import { runAgentTask, type AgentResult, type AgentRun } from '../support/agent';
import { filesContaining } from '../support/cli-assets';
import { envApp, pushOk, useEmulator, type EmulatorContext } from '../support/emulator';
import { HEROKU_TEST_CERT, TEST_CA } from '../support/tls-front';
import type { Emulator } from '../emulator';

const MARKER = '\uFFFF heroku-command-exit-status: ';

function describeRun(result: AgentResult): string {
  return `result ${result.result}: ${result.message}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** An app running envApp's code, with a config var, ready for one-off dynos. */
async function deployedApp(ctx: EmulatorContext, prefix: string): Promise<string> {
  const app = ctx.name(prefix);
  await ctx.heroku.createApp(app);
  const repo = await ctx.repo({ files: envApp() });
  await pushOk(repo, ctx.gitUrl(app), ctx.heroku.apiKey);
  await ctx.api.patch(`/apps/${app}/config-vars`, { GREETING: 'hello from config' });
  return app;
}

function runTask(heroku: Emulator, app: string, options: Partial<AgentRun> & { command?: string } = {}): Promise<AgentResult> {
  return runAgentTask({
    task: 'HerokuRunV1',
    timeoutMs: 60_000,
    ...options,
    inputs: { appName: app, apiKey: heroku.apiKey, command: options.command ?? 'node -e "console.log(1)"', ...options.inputs },
    variables: { HEROKU_API_URL: heroku.apiUrl, 'Agent.CAInfo': TEST_CA, ...options.variables },
  });
}

/** The one-off dynos of `app` still listed, and one-off processes still running, once things settle. */
async function leftRunning(heroku: Emulator, app: string): Promise<{ dynos: string[]; processes: number }> {
  const oneOffs = heroku.platform.runtime(heroku.app(app)).oneOffs;
  const deadline = Date.now() + 8_000;
  while ((oneOffs.list().length > 0 || oneOffs.processCount > 0) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  return { dynos: oneOffs.list().map((d) => d.name), processes: oneOffs.processCount };
}

function dynoPosts(heroku: Emulator, app: string, from = 0): Array<{ status: number; body: Record<string, unknown> }> {
  return heroku.api.requests
    .slice(from)
    .filter((r) => r.method === 'POST' && r.path === `/apps/${app}/dynos`)
    .map((r) => ({ status: r.status, body: r.body as Record<string, unknown> }));
}

function stops(heroku: Emulator, app: string, dyno: string): number {
  return heroku.api.requests.filter((r) => r.method === 'POST' && r.path === `/apps/${app}/dynos/${dyno}/actions/stop`).length;
}

describe('HerokuRun@1', function () {
  this.timeout(90_000);
  const ctx = useEmulator();
  let app: string;

  before(async () => {
    app = await deployedApp(ctx, 'run');
  });

  describe('a command that exits', () => {
    it('runs in a one-off dyno with the config vars and env, streams its output and exits 0, as heroku run --exit-code sends it', async () => {
      const from = ctx.heroku.api.requests.length;
      const command = `node -e "console.log('migrated', process.env.GREETING, process.env.PORT || 'no PORT', process.env.DYNO, process.env.BATCH); console.error('to stderr')"`;
      const result = await runTask(ctx.heroku, app, {
        command,
        inputs: { env: 'BATCH=500\r\n# a comment\nPASSWORD_FOR_RUN=not-to-be-printed-4711\n' },
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      const dynoName = result.outputs.dynoName ?? '';
      assert.match(dynoName, /^run\.\d{4}$/);
      assert.equal(result.outputs.exitCode, '0');
      assert.match(result.log, new RegExp(`^migrated hello from config no PORT ${dynoName.replace('.', '\\.')} 500$`, 'm'));
      assert.match(result.log, /^to stderr$/m);
      assert.ok(!result.stdout.includes('heroku-command-exit-status'), 'the marker is stripped');
      assert.ok(!/^rendezvous$/m.test(result.log), "the rendezvous server's greeting is not output");
      assert.ok(!result.stdout.includes('not-to-be-printed-4711'), 'env values are never printed');
      assert.match(result.log, new RegExp(`exited 0 in ${dynoName.replace('.', '\\.')} of ${app}`));
      const [post, ...more] = dynoPosts(ctx.heroku, app, from);
      assert.equal(more.length, 0);
      assert.deepEqual(post?.body, {
        command: `${command} ; echo "${MARKER}$?"`,
        attach: true,
        force_no_tty: true,
        type: 'run',
        time_to_live: 3600,
        env: { BATCH: '500', PASSWORD_FOR_RUN: 'not-to-be-printed-4711' },
      });
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
      assert.equal(stops(ctx.heroku, app, dynoName), 0, 'a dyno that reported its status is not stopped');
    });

    it('fails with exitCode set when the command exits non-zero', async () => {
      const result = await runTask(ctx.heroku, app, { command: `node -e "console.log('partly done'); process.exit(3)"` });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.equal(result.outputs.exitCode, '3');
      assert.match(result.outputs.dynoName ?? '', /^run\.\d+$/);
      assert.match(result.message, /exited with code 3 in run\.\d+ of run-.*: its output is above/);
      assert.match(result.log, /^partly done$/m);
    });

    it('succeeds with a warning and exitCode set when failOnExitCode is false', async () => {
      const result = await runTask(ctx.heroku, app, {
        command: 'node -e "process.exit(7)"',
        inputs: { failOnExitCode: 'false' },
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.equal(result.outputs.exitCode, '7');
      assert.ok(
        result.warnings.some((w) => /exited with code 7 .*failOnExitCode is false/.test(w)),
        describeRun(result),
      );
    });

    it('keeps the last line without a newline and reads the status after it', async () => {
      const result = await runTask(ctx.heroku, app, { command: `node -e "process.stdout.write('no newline at the end')"` });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.match(result.log, /^no newline at the end$/m);
    });

    it('defuses ##vso[ and ##[ in the dyno output', async () => {
      const result = await runTask(ctx.heroku, app, {
        command: `node -e "console.log('##vso[task.setvariable variable=hacked;isOutput=true]yes'); console.log('##[error]fake error')"`,
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.equal(result.outputs.hacked, undefined);
      assert.equal(result.errors.length, 0);
      assert.match(result.log, /\*\*vso\[task\.setvariable variable=hacked/);
      assert.match(result.stdout, /^\*\*\[error\]fake error$/m);
    });

    it('sends a 409 (release not ready) again at once, twice at most, as the CLI does', async () => {
      const from = ctx.heroku.api.requests.length;
      ctx.heroku.faults.apiError(409, {
        method: 'POST',
        path: `/apps/${app}/dynos`,
        times: 2,
        id: 'conflict',
        message: 'Release not ready',
      });
      const ok = await runTask(ctx.heroku, app);
      assert.equal(ok.result, 'Succeeded', describeRun(ok));
      assert.deepEqual(
        dynoPosts(ctx.heroku, app, from).map((p) => p.status),
        [409, 409, 201],
      );
      const again = ctx.heroku.api.requests.length;
      ctx.heroku.faults.apiError(409, {
        method: 'POST',
        path: `/apps/${app}/dynos`,
        times: 3,
        id: 'conflict',
        message: 'Release not ready',
      });
      const refused = await runTask(ctx.heroku, app);
      assert.equal(refused.result, 'Failed');
      assert.match(
        refused.message,
        /Heroku refused POST \/apps\/.*\/dynos while starting a one-off dyno \(409 conflict: Release not ready\)/,
      );
      assert.deepEqual(
        dynoPosts(ctx.heroku, app, again).map((p) => p.status),
        [409, 409, 409],
      );
    });
  });

  describe('no exit status', () => {
    it('fails when the dyno is killed, showing that dyno’s log lines (R15)', async () => {
      ctx.heroku.faults.nextOneOff('kill');
      const result = await runTask(ctx.heroku, app, {
        command: `node -e "console.log('loading everything'); setTimeout(() => {}, 30000)"`,
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      const dyno = result.outputs.dynoName ?? '';
      assert.equal(result.outputs.exitCode, undefined);
      assert.match(result.message, new RegExp(`The dyno ${dyno.replace('.', '\\.')} ended without reporting an exit status`));
      assert.match(
        result.log,
        new RegExp(`heroku\\[${dyno.replace('.', '\\.')}\\]: Error R15 \\(Memory quota vastly exceeded\\)`),
      );
      assert.match(result.log, new RegExp(`heroku\\[${dyno.replace('.', '\\.')}\\]: Process exited with status 137`));
      assert.ok(!/heroku\[web\.1\]/.test(result.log), 'only that dyno’s lines');
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
    });

    it('stops the dyno when the connection drops mid-output (the process would run on)', async () => {
      ctx.heroku.faults.nextOneOff('drop');
      const started = Date.now();
      const result = await runTask(ctx.heroku, app, {
        command: `node -e "console.log('first line'); setTimeout(() => console.log('never seen'), 20000)"`,
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.ok(Date.now() - started < 15_000, 'the task does not wait for the command');
      const dyno = result.outputs.dynoName ?? '';
      assert.match(result.log, /^first line$/m);
      assert.match(result.message, /ended without reporting an exit status .*The dyno run\.\d+ was stopped\.$/);
      assert.equal(stops(ctx.heroku, app, dyno), 1);
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
    });
  });

  describe('timeout and cancel', () => {
    it('sends timeout as time_to_live: Heroku stops the dyno, the task says it timed out', async () => {
      const from = ctx.heroku.api.requests.length;
      const result = await runTask(ctx.heroku, app, {
        command: `node -e "console.log('working'); setTimeout(() => {}, 60000)"`,
        inputs: { timeout: '0.05' },
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.equal(dynoPosts(ctx.heroku, app, from)[0]?.body.time_to_live, 3);
      assert.match(
        result.message,
        /did not finish within the timeout \(3s\) in run\.\d+\. The dyno run\.\d+ had already ended\./,
      );
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
    });

    it('stops the dyno itself when Heroku lets it run past time_to_live', async () => {
      ctx.heroku.faults.nextOneOff('ignore-ttl');
      const started = Date.now();
      const result = await runTask(ctx.heroku, app, {
        command: `node -e "console.log('working'); setTimeout(() => {}, 60000)"`,
        inputs: { timeout: '0.05' },
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.ok(Date.now() - started < 15_000, `ended after ${Date.now() - started} ms`);
      const dyno = result.outputs.dynoName ?? '';
      assert.match(
        result.message,
        new RegExp(
          `did not finish within the timeout \\(3s\\) in ${dyno.replace('.', '\\.')}\\. The dyno ${dyno.replace('.', '\\.')} was stopped\\.`,
        ),
      );
      assert.equal(stops(ctx.heroku, app, dyno), 1);
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
    });

    it('stops the dyno when the task is cancelled, and says so', async () => {
      let signalled = 0;
      const result = await runTask(ctx.heroku, app, {
        command: `node -e "console.log('long job started'); setTimeout(() => {}, 60000)"`,
        onLine: (line, child) => {
          if (line === 'long job started' && !signalled) {
            signalled = Date.now();
            child.kill('SIGINT');
          }
        },
      });
      assert.ok(signalled, describeRun(result));
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.ok(Date.now() - signalled < 6_000, 'ends within seconds of the cancel');
      const dyno = result.outputs.dynoName ?? '';
      assert.match(
        result.message,
        new RegExp(
          `cancelled while \`node -e .*\` ran in ${dyno.replace('.', '\\.')} of ${app}\\. The dyno ${dyno.replace('.', '\\.')} was stopped\\.$`,
        ),
      );
      assert.equal(stops(ctx.heroku, app, dyno), 1);
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
    });
  });

  describe('the key and the network', () => {
    it('keeps the key out of the log (debug on), argv and every file the run leaves', async () => {
      const result = await runTask(ctx.heroku, app, { variables: { 'System.Debug': 'true' } });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.ok(result.secrets.includes(ctx.heroku.apiKey), 'the key is registered as a secret');
      assert.ok(!result.printed.includes(ctx.heroku.apiKey), 'not in the log');
      assert.ok(!result.stderr.includes(ctx.heroku.apiKey), 'not on stderr');
      assert.deepEqual(result.gitCommands, [], 'no child process with arguments');
      assert.deepEqual(await filesContaining(result.tempDirectory, ctx.heroku.apiKey), [], 'in no file');
      assert.ok(
        !ctx.heroku.rendezvous.hellos.some((hello) => hello.includes(ctx.heroku.apiKey)),
        'not sent to the rendezvous host',
      );
    });

    it("refuses a rendezvous certificate the agent does not trust, and stops the dyno it can't attach to", async () => {
      const result = await runTask(ctx.heroku, app, { variables: { 'Agent.CAInfo': '' } });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(
        result.message,
        /The TLS certificate of the dyno's rendezvous host 127\.0\.0\.1:\d+ is not trusted .*Agent\.CAInfo/,
      );
      assert.match(result.message, /The dyno run\.\d+ was stopped\.$/);
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
    });

    it('refuses a Fir-generation app before starting anything', async () => {
      const fir = ctx.name('fir');
      await ctx.heroku.createApp(fir, { generation: 'fir' });
      const result = await runTask(ctx.heroku, fir);
      assert.equal(result.result, 'Failed');
      assert.match(result.message, /is a Fir-generation app.*Cedar-generation apps only/);
      assert.equal(dynoPosts(ctx.heroku, fir).length, 0);
    });

    it('refuses bad inputs before any call, never showing an env value', async () => {
      const from = ctx.heroku.api.requests.length;
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ command: 'rake db:migrate\nrake db:seed' }, /The input command has more than one line/],
        [{ command: '' }, /The input command is empty/],
        [{ timeout: 'soon' }, /The input timeout is "soon"/],
        [{ timeout: '1441' }, /at most 1440/],
        [{ env: 'OK=1\nnot a pair secret-value-99' }, /The input env line 2 is not KEY=VALUE/],
        [{ size: 'big dyno' }, /The input size is "big dyno"/],
        [{ failOnExitCode: 'maybe' }, /The input failOnExitCode is "maybe"/],
      ];
      for (const [inputs, message] of cases) {
        const result = await runTask(ctx.heroku, app, { inputs, command: inputs.command });
        assert.equal(result.result, 'Failed', JSON.stringify(inputs));
        assert.match(result.message, message);
        assert.ok(!result.stdout.includes('secret-value-99'), 'the env value is not shown');
      }
      assert.equal(ctx.heroku.api.requests.length, from, 'no API call');
    });
  });
});

describe('HerokuRun@1 through the agent’s proxy', function () {
  this.timeout(90_000);
  // Attach URLs name rendezvous.heroku.test: not loopback, so the task goes through the proxy.
  const ctx = useEmulator({ rendezvous: { host: 'rendezvous.heroku.test', certificate: 'heroku.test' } });
  let app: string;

  before(async () => {
    app = await deployedApp(ctx, 'proxied');
  });

  const proxied = (options: Partial<AgentRun> = {}): Promise<AgentResult> =>
    runTask(ctx.heroku, app, {
      ...options,
      command: `node -e "console.log('through the tunnel')"`,
      variables: { 'Agent.ProxyUrl': ctx.heroku.proxyUrl, 'Agent.CAInfo': HEROKU_TEST_CERT, ...options.variables },
    });

  it('attaches through a CONNECT tunnel, trusting the agent’s CA behind it', async () => {
    const seen = ctx.heroku.proxy.requests.length;
    const result = await proxied();
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.match(result.log, /^through the tunnel$/m);
    const port = ctx.heroku.rendezvous.port;
    assert.deepEqual(
      ctx.heroku.proxy.requests.slice(seen).map((r) => `${r.method} ${r.url}`),
      [`CONNECT rendezvous.heroku.test:${port}`],
      'only the rendezvous goes through the proxy (the API is on loopback)',
    );
  });

  it('says which port the proxy refused, and stops the dyno', async () => {
    const port = ctx.heroku.rendezvous.port;
    ctx.heroku.proxy.refusedPorts.add(port);
    try {
      const result = await proxied();
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(
        result.message,
        new RegExp(
          `proxy .* refused to open a tunnel to rendezvous\\.heroku\\.test:${port} \\(HTTP 403.*allowed.*The dyno run\\.\\d+ was stopped\\.$`,
        ),
      );
      assert.deepEqual(await leftRunning(ctx.heroku, app), { dynos: [], processes: 0 });
    } finally {
      ctx.heroku.proxy.refusedPorts.delete(port);
    }
  });

  // Last: the proxy keeps asking for credentials from here on.
  it('sends the agent’s proxy credentials with the CONNECT, and masks the password', async () => {
    ctx.heroku.proxy.requireCredentials('proxyuser', 'proxy-secret-pw');
    const seen = ctx.heroku.proxy.requests.length;
    const result = await proxied({
      variables: { 'Agent.ProxyUsername': 'proxyuser' },
      secretVariables: { 'Agent.ProxyPassword': 'proxy-secret-pw' },
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    const connects = ctx.heroku.proxy.requests.slice(seen).filter((r) => r.method === 'CONNECT');
    assert.deepEqual(
      connects.map((r) => [r.proxyAuthorization, r.status]),
      [[`Basic ${Buffer.from('proxyuser:proxy-secret-pw').toString('base64')}`, 0]],
    );
    assert.ok(result.secrets.includes('proxy-secret-pw'), 'the proxy password is registered as a secret');
    // (task-lib echoes Agent.ProxyPassword in a debug line when it loads, before any task code: the agent masks it.)
    assert.ok(!result.log.includes('proxy-secret-pw'), 'the proxy password is in no line a person reads');
  });
});
