// HerokuCli@1's run in-process, with a stand-in CLI on PATH: what the log says, the script's output,
// its failures (exit code, signal, standard error, a missing shell, cancel), and the run's folder
// removed whatever happened.
import assert from 'node:assert/strict';
import childProcess from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import { DIRECT, type NetworkSettings } from '../../tasks/common/core/base/network';
import type { TaskLog } from '../../tasks/common/core/base/log';
import { runCli } from '../../tasks/common/core/cli/cli';
import { fetcher } from '../../tasks/common/core/cli/download';
import type { CliRequest, ScriptType, ToolCache } from '../../tasks/common/core/cli/types';
import { standInCli } from '../support/cli-assets';
import { FakeHost } from '../support/fake-host';
import { runCommand, tempDir } from '../support/git';

const tools: ToolCache = {
  find: () => undefined,
  add: () => Promise.reject(new Error('no download here')),
  prependPath: () => undefined,
};

describe('HerokuCli: running the script', function () {
  this.timeout(30_000);
  let onPath: string;
  before(async () => {
    onPath = path.join(await standInCli('10.0.0'), 'heroku', 'bin');
  });

  interface Options {
    text: string;
    path?: string;
    type?: ScriptType;
    failOnStandardError?: boolean;
    apiDefault?: boolean;
    assetsDefault?: boolean;
    network?: NetworkSettings;
    signal?: AbortSignal;
  }
  const request = async (o: Options): Promise<CliRequest> => ({
    apiKey: 'HRKU-test-key',
    api: o.apiDefault
      ? { url: 'https://api.heroku.com', isDefault: true, source: 'the default' }
      : { url: 'https://api.heroku.example', isDefault: false, source: 'the variable HEROKU_API_URL' },
    network: o.network ?? DIRECT,
    cliVersion: { kind: 'path-or-stable' },
    assets: o.assetsDefault
      ? { url: 'https://cli-assets.heroku.com', isDefault: true }
      : { url: 'https://mirror.corp', isDefault: false },
    tools,
    script: {
      type: o.type ?? 'bash',
      source: { kind: 'inline', text: o.text },
      arguments: '',
      workingDirectory: await tempDir('cli-cwd-'),
      failOnStandardError: o.failOnStandardError ?? false,
    },
    tempDirectory: await tempDir('cli-temp-'),
    environment: { PATH: `${o.path ?? onPath}:/usr/bin:/bin` },
    platform: process.platform,
    arch: process.arch,
    signal: o.signal ?? new AbortController().signal,
  });
  const run = async (req: CliRequest, log?: (host: FakeHost) => TaskLog) => {
    const host = new FakeHost();
    const before = Date.now();
    const outcome = await runCli(req, log ? log(host) : host.log, fetcher(req.network, req.signal));
    const elapsed = Date.now() - before;
    const left = await fs.readdir(req.tempDirectory);
    return { outcome, lines: host.lines, elapsed, left, tempDirectory: req.tempDirectory };
  };
  const failure = (outcome: Awaited<ReturnType<typeof run>>['outcome']) => {
    assert.ok(!outcome.ok, 'the run should fail');
    return outcome.failure;
  };

  it('runs the inline script signed in, logs its output and what it uses, and removes the run folder', async () => {
    const req = await request({
      text: 'echo first line\nheroku apps\nprintf "tos-bytes=%s\\n" "$(wc -c < "$HEROKU_CACHE_DIR/terms-of-service")"\n',
    });
    const { outcome, lines, elapsed, left } = await run(req);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.exitCode, 0);
    assert.equal(outcome.result.cli.source, 'path');
    assert.ok(outcome.result.durationMs >= 0 && outcome.result.durationMs <= elapsed, `duration ${outcome.result.durationMs}`);
    const text = lines.join('\n');
    assert.ok(lines.includes(`Running the inline script with bash in ${req.script.workingDirectory}`), text);
    assert.ok(lines.includes('first line'), `the script's output is logged: ${text}`);
    assert.ok(lines.includes('stand-in heroku 10.0.0: apps'), text);
    assert.ok(lines.includes('HEROKU_HOST=https://api.heroku.example'), text);
    assert.ok(lines.includes('terms-banner-shown=yes'), text);
    assert.ok(lines.includes('tos-bytes=0'), `the terms-of-service mark is empty: ${text}`);
    assert.ok(
      lines.includes(
        'The CLI uses the Heroku API at https://api.heroku.example (from the variable HEROKU_API_URL): HEROKU_HOST is set for the script.',
      ),
      text,
    );
    assert.ok(lines.includes("The CLI's downloads come from https://mirror.corp (the variable HEROKU_CLI_ASSETS_URL)."), text);
    const signedIn = lines.find((l) => l.startsWith('Signed in for this script only (HEROKU_API_KEY in its environment); '));
    assert.ok(signedIn, text);
    const stateRoot = /the CLI's config, cache and data are in (.*), removed after\.$/.exec(signedIn)?.[1] ?? '';
    assert.equal(path.dirname(path.dirname(stateRoot)), req.tempDirectory, signedIn);
    assert.match(path.basename(path.dirname(stateRoot)), /^heroku-cli-/, signedIn);
    assert.equal(path.basename(stateRoot), 'home', signedIn);
    assert.ok(lines.includes(`XDG_CONFIG_HOME=${path.join(stateRoot, 'config')}`), text);
    assert.deepEqual(left, [], 'the run folder is removed');
    assert.ok(!lines.some((l) => l.startsWith('warn: ')), text);
  });

  it('says nothing of the API or the downloads when they are the defaults', async () => {
    const { outcome, lines } = await run(await request({ text: 'heroku apps\n', apiDefault: true, assetsDefault: true }));
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    const text = lines.join('\n');
    assert.ok(lines.includes('HEROKU_HOST='), text);
    assert.ok(!lines.some((l) => l.startsWith('The CLI uses the Heroku API')), text);
    assert.ok(!lines.some((l) => l.startsWith("The CLI's downloads come from")), text);
  });

  it("passes the agent's proxy to the script, bypassing the downloads host when the agent does", async () => {
    const network: NetworkSettings = {
      proxyConfigured: true,
      proxyFor: (url) => (url.includes('mirror.corp') ? null : { url: 'http://proxy:3128' }),
    };
    const { outcome, lines } = await run(await request({ text: 'heroku apps\n', network }));
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    const text = lines.join('\n');
    assert.ok(lines.includes('HTTPS_PROXY=http://proxy:3128'), text);
    assert.ok(lines.includes('NO_PROXY=127.0.0.1,localhost,::1,mirror.corp'), text);
  });

  it('fails on a non-zero exit, naming the code and bash -e, and still removes the run folder', async () => {
    const { outcome, left } = await run(await request({ text: 'echo before\nexit 3\n' }));
    const error = failure(outcome);
    assert.equal(error.kind, 'script');
    assert.equal(
      error.message,
      'The script exited with code 3: its output is above. (bash runs it with -e -o pipefail: the first command that fails ends it.)',
    );
    assert.deepEqual(left, [], 'the run folder is removed after a failure');
  });

  it('names a script file it runs; a failing script of another type is not said to run under bash -e', async () => {
    const dir = await tempDir('cli-file-');
    const file = path.join(dir, 'deploy steps.sh');
    await fs.writeFile(file, 'echo from the file\n');
    const base = await request({ text: '' });
    const req: CliRequest = { ...base, script: { ...base.script, source: { kind: 'file', path: file } } };
    const fromFile = await run(req);
    assert.ok(fromFile.outcome.ok, fromFile.outcome.ok ? '' : fromFile.outcome.failure.message);
    const text = fromFile.lines.join('\n');
    assert.ok(fromFile.lines.includes(`Running the script ${file} with bash in ${req.script.workingDirectory}`), text);
    assert.ok(fromFile.lines.includes('from the file'), text);

    // A stand-in pwsh that fails as a PowerShell script would.
    await fs.writeFile(path.join(dir, 'pwsh'), '#!/bin/sh\nexit 4\n', { mode: 0o755 });
    const error = failure((await run(await request({ text: 'exit 4', type: 'pscore', path: `${dir}:${onPath}` }))).outcome);
    assert.equal(error.kind, 'script');
    assert.equal(error.message, 'The script exited with code 4: its output is above.', 'no word of bash -e for pwsh');
  });

  it('says what failed when the shell is there but cannot be started (not that it is missing)', async function () {
    const pwsh = await fs
      .access('/usr/bin/pwsh')
      .then(() => true)
      .catch(() => false);
    if (pwsh || process.platform === 'win32') this.skip();
    const dir = await tempDir('cli-unrunnable-');
    await fs.writeFile(path.join(dir, 'pwsh'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const error = failure((await run(await request({ text: 'exit 0', type: 'pscore', path: `${dir}:${onPath}` }))).outcome);
    assert.doesNotMatch(error.message, /is not installed/, error.message);
    assert.match(error.message, /EACCES/, error.message);
  });

  it('fails when something kills the script, naming the signal', async () => {
    const error = failure((await run(await request({ text: 'kill -TERM $$\n' }))).outcome);
    assert.equal(error.kind, 'script');
    assert.equal(
      error.message,
      'The script was stopped by SIGTERM (not by this task): something on the agent killed it. Its output is above.',
    );
  });

  it('fails on standard error only with failOnStandardError, quoting the first five lines', async () => {
    const noisy = 'for i in 1 2 3 4 5 6 7; do echo "warning $i" >&2; done\n';
    const tolerated = await run(await request({ text: noisy }));
    assert.ok(tolerated.outcome.ok, tolerated.outcome.ok ? '' : tolerated.outcome.failure.message);
    assert.ok(tolerated.lines.includes('warning 7'), `stderr is logged: ${tolerated.lines.join('\n')}`);

    const quiet = await run(await request({ text: 'echo fine\n', failOnStandardError: true }));
    assert.ok(quiet.outcome.ok, quiet.outcome.ok ? '' : quiet.outcome.failure.message);

    const loud = await run(await request({ text: noisy, failOnStandardError: true }));
    const error = failure(loud.outcome);
    assert.equal(error.kind, 'script');
    assert.match(
      error.message,
      /^The script wrote 7 lines to standard error and failOnStandardError is true \(the first 5 just above\): fix what writes them, /,
    );
    assert.deepEqual(
      error.details,
      [1, 2, 3, 4, 5].map((i) => `stderr: warning ${i}`),
    );
    assert.ok(loud.lines.includes('warning 6'), loud.lines.join('\n'));

    const one = failure((await run(await request({ text: 'echo oops >&2\n', failOnStandardError: true }))).outcome);
    assert.match(
      one.message,
      /^The script wrote 1 line to standard error and failOnStandardError is true \(the first 1 just above\)/,
    );
    assert.deepEqual(one.details, ['stderr: oops']);
  });

  it('says so when the shell of the script type is not installed', async function () {
    const pwsh = await fs
      .access('/usr/bin/pwsh')
      .then(() => true)
      .catch(() => false);
    if (pwsh || process.platform === 'win32') this.skip();
    const { outcome, left } = await run(await request({ text: 'heroku apps', type: 'pscore' }));
    const error = failure(outcome);
    assert.equal(error.kind, 'input');
    assert.equal(
      error.message,
      'pwsh is not installed on this agent (or not on its PATH), so a pscore script cannot run: install it, or choose another scriptType.',
    );
    assert.deepEqual(left, []);
  });

  it('tolerates a script that removed its own run folder, and warns when the folder cannot be removed', async () => {
    const gone = await run(await request({ text: 'rm -rf "$(dirname "$(dirname "$XDG_CONFIG_HOME")")"\n' }));
    assert.ok(gone.outcome.ok, gone.outcome.ok ? '' : gone.outcome.failure.message);
    assert.ok(!gone.lines.some((l) => l.startsWith('warn: ')), gone.lines.join('\n'));

    // As when a process the script left behind on Windows still holds a file in it.
    const rm = fs.rm;
    fs.rm = () => Promise.reject(new Error('EBUSY: resource busy or locked'));
    let stuck;
    try {
      stuck = await run(await request({ text: 'echo hi\n' }));
    } finally {
      fs.rm = rm;
    }
    assert.ok(stuck.outcome.ok, stuck.outcome.ok ? '' : stuck.outcome.failure.message);
    assert.equal(stuck.left.length, 1, 'the folder stayed');
    assert.ok(
      stuck.lines.some((l) =>
        /^warn: Could not remove .*heroku-cli-[^/]+ \(the script and the CLI's state of this run\): EBUSY: resource busy or locked\. Remove it from the agent\.$/.test(
          l,
        ),
      ),
      stuck.lines.join('\n'),
    );
    await fs.rm(path.join(stuck.tempDirectory, stuck.left[0] ?? ''), { recursive: true, force: true });
  });

  it("takes the first line of the CLI's version, and says when the CLI on PATH is broken", async () => {
    const cli = async (body: string): Promise<string> => {
      const dir = await tempDir('cli-broken-');
      await fs.writeFile(path.join(dir, 'heroku'), body, { mode: 0o755 });
      return dir;
    };
    const chatty = await run(
      await request({ text: 'true\n', path: await cli('#!/bin/sh\nprintf "\\nheroku/1.2.3 linux-x64\\nmore\\n"\n') }),
    );
    assert.ok(chatty.outcome.ok, chatty.outcome.ok ? '' : chatty.outcome.failure.message);
    assert.equal(chatty.outcome.result.cli.versionLine, 'heroku/1.2.3 linux-x64');

    const failing = await cli('#!/bin/sh\necho "heroku/1.2.3"\nprintf "HEAD%0600d\\n" 0 >&2\necho "  it broke  " >&2\nexit 3\n');
    const exited = failure((await run(await request({ text: 'true\n', path: failing }))).outcome);
    assert.equal(exited.kind, 'unexpected');
    assert.equal(
      exited.message,
      `\`heroku --version\` (${failing}) failed (exit 3): ${'0'.repeat(489)}\n  it broke. The CLI there is broken: remove it from the agent, or set cliVersion to install one.`,
    );

    const silent = await cli('#!/bin/sh\nexit 0\n');
    const empty = failure((await run(await request({ text: 'true\n', path: silent }))).outcome);
    assert.match(empty.message, /^`heroku --version` \(.*\) failed \(exit 0\): \. The CLI there is broken/);

    const unstartable = await cli('#!/nonexistent/interpreter\n');
    const started = failure((await run(await request({ text: 'true\n', path: unstartable }))).outcome);
    assert.equal(started.kind, 'unexpected');
    assert.match(started.message, new RegExp(`^The Heroku CLI in ${unstartable} could not be started: .*ENOENT.*\\.$`));
  });

  it('gives `heroku --version` 60 s to answer, then says it did not', async () => {
    const dir = await tempDir('cli-stuck-');
    const fifo = path.join(dir, 'asked');
    await runCommand('mkfifo', [fifo], { cwd: dir, timeoutMs: 10_000 });
    await fs.writeFile(path.join(dir, 'heroku'), `#!/bin/sh\necho asked > "${fifo}"\nexec sleep 30\n`, { mode: 0o755 });
    const req = await request({ text: 'true\n', path: dir });
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const pending = run(req).finally(() => (settled = true));
      await fs.readFile(fifo, 'utf8');
      await clock.tickAsync(59_999);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, 'the CLI still has time a millisecond before 60 s');
      await clock.tickAsync(1);
      const error = failure((await pending).outcome);
      assert.equal(error.kind, 'unexpected');
      assert.equal(
        error.message,
        `\`heroku --version\` (${dir}) did not answer within 60 s: . The CLI there is broken: remove it from the agent, or set cliVersion to install one.`,
      );
    } finally {
      clock.restore();
    }
  });

  it('asks a Windows CLI for its version through cmd.exe, with the command line passed verbatim (only there)', async () => {
    const spawn = sinon.spy(childProcess, 'spawn');
    try {
      const linux = await run(await request({ text: 'true\n' }));
      assert.ok(linux.outcome.ok, linux.outcome.ok ? '' : linux.outcome.failure.message);
      // A heroku.cmd on a Windows PATH: cmd.exe is not on this agent, so only the attempt is seen.
      const dir = await tempDir('cli-win-');
      await fs.writeFile(path.join(dir, 'heroku.cmd'), '@echo heroku/1.0.0\r\n');
      const base = await request({ text: 'true\n' });
      const windows = await run({ ...base, platform: 'win32', environment: { PATH: dir } });
      assert.ok(!windows.outcome.ok, 'cmd.exe cannot start here');
      const versionCalls = spawn
        .getCalls()
        .filter((call) => call.args[1]?.some((arg) => arg.includes('--version')))
        .map((call) => [call.args[0], call.args[2]?.windowsVerbatimArguments]);
      assert.deepEqual(versionCalls, [
        [path.join(onPath, 'heroku'), false],
        ['cmd.exe', true],
      ]);
    } finally {
      spawn.restore();
    }
  });

  it('stops asking the CLI for its version when the task is cancelled', async () => {
    const dir = await tempDir('cli-slow-');
    const fifo = path.join(dir, 'asked');
    await runCommand('mkfifo', [fifo], { cwd: dir, timeoutMs: 10_000 });
    await fs.writeFile(path.join(dir, 'heroku'), `#!/bin/sh\necho asked > "${fifo}"\nsleep 20\n`, { mode: 0o755 });
    const abort = new AbortController();
    const pending = run(await request({ text: 'true\n', path: dir, signal: abort.signal }));
    await fs.readFile(fifo, 'utf8');
    abort.abort();
    const { outcome, elapsed, left } = await pending;
    const error = failure(outcome);
    assert.equal(error.kind, 'cancelled');
    assert.equal(error.message, 'The task was cancelled while asking the Heroku CLI for its version.');
    assert.ok(elapsed < 15_000, `stopped at once (${elapsed} ms)`);
    assert.deepEqual(left, []);
  });

  it('stops the script when the task is cancelled, and removes the run folder', async () => {
    const abort = new AbortController();
    const req = await request({ text: 'echo started\nsleep 20\necho never\n', signal: abort.signal });
    const { outcome, lines, left, elapsed } = await run(req, (host) => ({
      ...host.log,
      info: (line: string) => {
        host.log.info(line);
        if (line === 'started') abort.abort();
      },
    }));
    const error = failure(outcome);
    assert.equal(error.kind, 'cancelled');
    assert.equal(error.message, 'The task was cancelled while running the script (bash and what it started were stopped).');
    assert.ok(!lines.includes('never'), lines.join('\n'));
    assert.ok(elapsed < 15_000, `stopped at once (${elapsed} ms)`);
    assert.deepEqual(left, []);
  });
});
