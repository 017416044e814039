// HerokuCli@1 run as the agent runs it, against a local stand-in of Heroku's CLI downloads: what it
// installs, verifies and caches, which CLI it picks, the script's environment (signed in, its own
// state folders, proxy and CA) and what is left behind (nothing), exit codes, standard error, cancel.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { runAgentTask, type AgentResult, type AgentRun } from '../support/agent';
import { filesContaining, standInBuilds, standInCli, startAssetsServer, type AssetsServer } from '../support/cli-assets';
import { tempDir } from '../support/git';

const KEY = 'HRKU-cli-test-key-0123456789abcdef';
const KEY_SHA = createHash('sha256').update(KEY).digest('hex');
const STABLE = '9.9.1';
const OLDER = '9.8.0';

function describeRun(result: AgentResult): string {
  return `result ${result.result}: ${result.message}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** `NAME=value` as the stand-in CLI printed it. */
function printed(result: AgentResult, name: string): string | undefined {
  return new RegExp(`^${name}=(.*)$`, 'm').exec(result.log)?.[1];
}

/** What the run left in the agent's temp directory (task-lib keeps its vault key, .taskkey, there). */
async function leftIn(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => name !== '.taskkey');
}

/** Whether a process is alive (a zombie nobody reaped, as under a container's init, is not). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('HerokuCli@1', function () {
  this.timeout(60_000);
  let assets: AssetsServer;
  let tools: string;
  let home: string;

  before(async () => {
    assets = await startAssetsServer(await standInBuilds([OLDER, STABLE]));
  });
  after(async () => {
    await assets.close();
  });
  beforeEach(async () => {
    tools = await tempDir('agent-tools-');
    home = await tempDir('agent-home-');
    assets.requests.length = 0;
    assets.tamper = false;
  });

  /** Runs the task with an inline bash script (by default one `heroku` call), the key as apiKey. */
  function run(options: Partial<AgentRun> & { script?: string } = {}): Promise<AgentResult> {
    return runAgentTask({
      task: 'HerokuCliV1',
      ...options,
      inputs: {
        scriptType: 'bash',
        inlineScript: options.script ?? 'heroku apps:info -a my-app',
        apiKey: KEY,
        ...options.inputs,
      },
      variables: { HEROKU_CLI_ASSETS_URL: assets.url, 'Agent.ToolsDirectory': tools, ...options.variables },
      env: { HOME: home, ...options.env },
    });
  }

  const downloads = (): string[] => assets.requests.filter((r) => r.endsWith('.tar.gz'));

  describe('installing the CLI', () => {
    it('downloads the latest stable CLI when the agent has none, checks its SHA-256, caches it and puts it on PATH', async () => {
      const result = await run();
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.deepEqual(assets.requests, [
        `GET /channels/stable/heroku-${process.platform === 'linux' ? 'linux' : process.platform}-x64-buildmanifest`,
        `GET /channels/stable/heroku-v${STABLE}-abc1def0-linux-x64.tar.gz`,
      ]);
      assert.match(result.log, /No Heroku CLI on the agent's PATH: using the latest stable one\./);
      assert.match(result.log, /SHA-256 verified/);
      assert.match(result.log, new RegExp(`Heroku CLI downloaded and cached .*: heroku/${STABLE} linux-x64`));
      assert.match(result.log, new RegExp(`stand-in heroku ${STABLE}: apps:info -a my-app`));
      const cached = path.join(tools, 'heroku', STABLE, process.arch);
      assert.ok(existsSync(path.join(cached, 'bin', 'heroku')) && existsSync(`${cached}.complete`), 'cached in the tool cache');
      const prepended = result.commands.filter((c) => c.name === 'task.prependpath').map((c) => c.message);
      assert.deepEqual(prepended, [path.join(cached, 'bin')], 'on PATH for the later steps');
      assert.match(
        result.log,
        new RegExp(`The script exited 0 · heroku/${STABLE} linux-x64 node-v20.0.0 \\(stand-in\\) \\(downloaded\\)`),
      );
    });

    it('takes the CLI from the tool cache on the next run: no download', async () => {
      assert.equal((await run()).result, 'Succeeded');
      assets.requests.length = 0;
      const second = await run();
      assert.equal(second.result, 'Succeeded', describeRun(second));
      assert.deepEqual(downloads(), [], 'no tarball downloaded');
      assert.equal(assets.requests.length, 1, 'only the stable manifest, to know which version is the latest');
      assert.match(second.log, new RegExp(`Heroku CLI from the agent's tool cache .*: heroku/${STABLE}`));
      assert.match(second.log, new RegExp(`stand-in heroku ${STABLE}:`));
    });

    it('installs an exact cliVersion through the versions index, and finds it in the cache with no request at all', async () => {
      const first = await run({ inputs: { cliVersion: OLDER } });
      assert.equal(first.result, 'Succeeded', describeRun(first));
      assert.deepEqual(assets.requests, [
        'GET /versions/heroku-linux-x64-tar-gz.json',
        `GET /versions/${OLDER}/abc0def0/heroku-v${OLDER}-abc0def0-linux-x64-buildmanifest`,
        `GET /versions/${OLDER}/abc0def0/heroku-v${OLDER}-abc0def0-linux-x64.tar.gz`,
      ]);
      assert.match(first.log, new RegExp(`stand-in heroku ${OLDER}:`));
      assets.requests.length = 0;
      const second = await run({ inputs: { cliVersion: `v${OLDER}` } });
      assert.equal(second.result, 'Succeeded', describeRun(second));
      assert.deepEqual(assets.requests, [], 'a cached exact version needs no network');
      assert.match(second.log, new RegExp(`stand-in heroku ${OLDER}:`));
    });

    it('refuses a version Heroku does not publish, naming the latest ones', async () => {
      const result = await run({ inputs: { cliVersion: '1.2.3' } });
      assert.equal(result.result, 'Failed');
      assert.match(
        result.message,
        new RegExp(
          `Heroku CLI 1\\.2\\.3 does not exist for linux-x64 .*lists 2 versions, the last ones ${OLDER}, ${STABLE}\\): set cliVersion`,
        ),
      );
      assert.deepEqual(downloads(), []);
    });

    it("refuses a tarball whose SHA-256 is not its manifest's: nothing extracted, cached or run", async () => {
      assets.tamper = true;
      const result = await run();
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(
        result.message,
        /is not the one its manifest describes \(SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}\): it was not extracted or run/,
      );
      assert.equal(existsSync(path.join(tools, 'heroku')), false, 'nothing in the tool cache');
      assert.doesNotMatch(result.log, /stand-in heroku/);
      assert.deepEqual(await leftIn(result.tempDirectory), [], 'the download was removed');
    });

    it("uses the CLI on the agent's PATH when cliVersion is empty (no request), and ignores it for stable", async () => {
      const agentCli = path.join(await standInCli('8.0.0'), 'heroku', 'bin');
      const env = { PATH: `${agentCli}${path.delimiter}${process.env.PATH ?? ''}` };
      const own = await run({ env });
      assert.equal(own.result, 'Succeeded', describeRun(own));
      assert.deepEqual(assets.requests, []);
      assert.match(own.log, /Heroku CLI on the agent's PATH .*: heroku\/8\.0\.0/);
      assert.match(own.log, /stand-in heroku 8\.0\.0:/);
      assert.equal(own.commands.filter((c) => c.name === 'task.prependpath').length, 0, 'PATH left as it was');

      const stable = await run({ env, inputs: { cliVersion: 'stable' } });
      assert.equal(stable.result, 'Succeeded', describeRun(stable));
      assert.match(stable.log, new RegExp(`stand-in heroku ${STABLE}:`), 'the installed CLI comes first on PATH');
    });

    it('refuses a cliVersion that is no version, and a plain-http assets URL off this machine, before any download', async () => {
      const latest = await run({ inputs: { cliVersion: 'latest' } });
      assert.equal(latest.result, 'Failed');
      assert.match(
        latest.message,
        /The input cliVersion is "latest": leave it empty .* set stable .* or give an exact version such as 11\.10\.0/,
      );
      const mirror = await run({ variables: { HEROKU_CLI_ASSETS_URL: 'http://mirror.example.com/heroku' } });
      assert.equal(mirror.result, 'Failed');
      assert.match(mirror.message, /HEROKU_CLI_ASSETS_URL must be an https URL/);
      assert.deepEqual(assets.requests, []);
    });
  });

  describe('the script', () => {
    it("is signed in through its environment only: the key is in no argv and no file, and the run's folder is gone after", async () => {
      const result = await run({ secretVariables: { HEROKU_API_KEY: KEY }, inputs: { apiKey: KEY } });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.equal(printed(result, 'key-sha256'), KEY_SHA, 'HEROKU_API_KEY holds the key');
      assert.equal(
        printed(result, 'INPUT_APIKEY'),
        '',
        "the task's inputs (task-lib takes them out of the environment) are not passed on",
      );
      assert.ok(result.secrets.includes(KEY), 'the key is masked');
      const argv = printed(result, 'script-argv') ?? '';
      assert.match(argv, /^bash --noprofile --norc -e -o pipefail \S+script\.sh $/);
      assert.ok(!argv.includes(KEY), '!argv.includes(KEY)');
      assert.ok(!result.printed.includes(KEY), 'the key is printed nowhere');

      const config = printed(result, 'XDG_CONFIG_HOME') ?? '';
      assert.ok(
        config.startsWith(path.join(result.tempDirectory, 'heroku-cli-')),
        `config in the agent's temp directory: ${config}`,
      );
      assert.equal(printed(result, 'config-dir-exists'), 'yes');
      assert.equal(
        printed(result, 'terms-banner-shown'),
        'yes',
        "the CLI's one-time banner would otherwise be on stderr in every run",
      );
      for (const name of ['XDG_CACHE_HOME', 'XDG_DATA_HOME', 'HEROKU_CONFIG_DIR'])
        assert.ok(printed(result, name)?.startsWith(path.dirname(config)), `${name} in the run's folder`);
      assert.deepEqual(await leftIn(result.tempDirectory), [], 'the inline script and the CLI state were removed');
      for (const dir of [result.tempDirectory, tools, home])
        assert.deepEqual(await filesContaining(dir, KEY), [], `no file under ${dir} holds the key`);
      assert.deepEqual(await fs.readdir(home), [], 'nothing written to HOME (no ~/.netrc)');
      for (const [name, value] of <Array<[string, string]>>[
        ['HEROKU_SKIP_NEW_VERSION_CHECK', 'true'],
        ['HEROKU_DISABLE_AUTOUPDATE', 'true'],
        ['DISABLE_TELEMETRY', 'true'],
        ['HEROKU_SKIP_ANALYTICS', '1'],
      ])
        assert.equal(printed(result, name), value, name);
      assert.equal(printed(result, 'HEROKU_HOST'), '', 'the default API needs no HEROKU_HOST');
    });

    it("passes a non-default API base as HEROKU_HOST, and the agent's proxy and CA", async () => {
      const ca = path.resolve(__dirname, '../fixtures/tls/ca.pem');
      const result = await run({
        variables: {
          HEROKU_API_URL: 'http://127.0.0.1:5999',
          'Agent.ProxyUrl': 'http://proxy.internal:3128',
          'Agent.ProxyUsername': 'proxyuser',
          'Agent.ProxyBypassList': '["git\\\\.heroku\\\\.com"]',
          'Agent.CAInfo': ca,
        },
        secretVariables: { 'Agent.ProxyPassword': 'proxy-pw' },
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.equal(printed(result, 'HEROKU_HOST'), 'http://127.0.0.1:5999');
      assert.equal(printed(result, 'HTTPS_PROXY'), 'http://proxyuser:proxy-pw@proxy.internal:3128');
      assert.equal(printed(result, 'HTTP_PROXY'), 'http://proxyuser:proxy-pw@proxy.internal:3128');
      assert.equal(printed(result, 'NO_PROXY'), '127.0.0.1,localhost,::1,git.heroku.com');
      assert.equal(printed(result, 'NODE_EXTRA_CA_CERTS'), ca);
      assert.ok(result.secrets.includes('proxy-pw'), "result.secrets.includes('proxy-pw')");
      assert.deepEqual(downloads().length, 1, 'the loopback assets server is reached directly, not through the proxy');
    });

    it('runs a script file with its arguments split as a shell would', async () => {
      const dir = await tempDir('cli-script-');
      await fs.writeFile(path.join(dir, 'backup.sh'), 'echo "first=$1"\necho "second=$2"\necho "count=$#"\necho "cwd=$(pwd)"\n');
      const result = await run({
        inputs: {
          scriptLocation: 'scriptPath',
          scriptPath: 'backup.sh',
          arguments: `my-app "two words" 'it''s'`,
          workingDirectory: home,
        },
        variables: { 'System.DefaultWorkingDirectory': dir },
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.equal(printed(result, 'first'), 'my-app');
      assert.equal(printed(result, 'second'), 'two words');
      assert.equal(printed(result, 'count'), '3');
      assert.equal(printed(result, 'cwd'), home);
      assert.ok(existsSync(path.join(dir, 'backup.sh')), 'a script file of the repository is not removed');
    });

    it("fails with the script's exit code; bash stops at the first failing command, pipes included", async () => {
      const exit3 = await run({ script: 'echo before\nexit 3' });
      assert.equal(exit3.result, 'Failed');
      assert.match(exit3.message, /^The script exited with code 3: its output is above\./);
      const stopped = await run({ script: 'false\necho after-false' });
      assert.equal(stopped.result, 'Failed');
      assert.doesNotMatch(stopped.log, /after-false/);
      const piped = await run({ script: 'false | cat\necho after-pipe' });
      assert.equal(piped.result, 'Failed', 'pipefail');
      assert.doesNotMatch(piped.log, /after-pipe/);
    });

    it('fails on standard error only with failOnStandardError, quoting the first lines', async () => {
      const script = 'echo progress >&2\necho "second line" >&2\necho done';
      const tolerated = await run({ script });
      assert.equal(tolerated.result, 'Succeeded', describeRun(tolerated));
      assert.match(tolerated.log, /^progress$/m);
      const strict = await run({ script, inputs: { failOnStandardError: 'true' } });
      assert.equal(strict.result, 'Failed');
      assert.match(strict.message, /^The script wrote 2 lines to standard error and failOnStandardError is true/);
      assert.match(strict.log, /^stderr: progress$/m);
    });

    it("never lets the script's output become a logging command", async () => {
      const result = await run({ script: 'echo "##vso[task.setvariable variable=x;isOutput=true]y"\necho "##[error]fake"' });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.equal(result.commands.filter((c) => c.name === 'task.setvariable').length, 0);
      assert.match(result.log, /^\*\*vso\[task\.setvariable/m);
    });

    it("stops the script and what it started on cancel, and still removes the run's folder", async () => {
      const started = Date.now();
      let child = '';
      const result = await run({
        script: 'sleep 60 &\necho "child=$!"\nwait',
        onLine: (line, task) => {
          const pid = /^child=(\d+)$/.exec(line)?.[1];
          if (pid) {
            child = pid;
            task.kill('SIGINT');
          }
        },
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /The task was cancelled while running the script/);
      assert.ok(Date.now() - started < 15_000, 'stopped at once');
      assert.ok(child, 'the script started its child');
      assert.ok(!running(Number(child)), 'the sleep the script started is gone');
      assert.deepEqual(await leftIn(result.tempDirectory), []);
    });

    it('refuses Windows-only script types on this agent, and an empty inline script, before installing anything', async function () {
      if (process.platform === 'win32') this.skip();
      for (const scriptType of ['ps', 'batch']) {
        const result = await run({ inputs: { scriptType } });
        assert.equal(result.result, 'Failed');
        assert.match(result.message, new RegExp(`scriptType ${scriptType} runs on Windows agents only`));
      }
      const empty = await run({ script: '  \n' });
      assert.match(empty.message, /The input inlineScript is empty/);
      assert.deepEqual(assets.requests, []);
    });
  });
});
