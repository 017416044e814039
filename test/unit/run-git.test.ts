// Running git as a child: what it returns, how its stderr reaches the log line by line, that it can
// never wait for input, and that cancelling stops git and every helper it started. Real git, with
// shell aliases (passed through the run's configuration) standing in for slow or chatty commands.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import { gitOrFail, runGit } from '../../tasks/common/core/git/git';
import { makeRepo, tempDir } from '../support/git';

/** Runs `git <name>` where `<name>` is the shell alias `command`. */
const alias = (name: string, command: string): Array<[string, string]> => [[`alias.${name}`, `!${command}`]];

/** Whether process `pid` has ended (an unreaped zombie counts as ended). */
async function hasEnded(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return /^\d+ \(.*\) Z/.test(stat);
}

/** Resolves with the first stderr line, and the run's promise. */
function runUntilFirstLine(args: string[], options: Parameters<typeof runGit>[1]) {
  let first: (line: string) => void = () => undefined;
  const firstLine = new Promise<string>((resolve) => (first = resolve));
  const run = runGit(args, { ...options, onStderrLine: (line) => first(line) });
  return { firstLine, run };
}

describe('runGit', function () {
  before(function () {
    if (process.platform === 'win32') this.skip(); // shell aliases and process groups are POSIX
  });

  it("returns git's exit code, stdout and stderr as printed", async () => {
    const cwd = await tempDir('run-git-');
    const result = await runGit(['both'], { cwd, config: alias('both', "printf 'out\\n'; printf 'err\\n' >&2; exit 3") });
    assert.deepEqual(result, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('never lets git wait for input: its stdin is closed', async () => {
    const cwd = await tempDir('run-git-');
    const result = await runGit(['hash-object', '--stdin'], { cwd });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391', 'the hash of empty input');
  });

  it('hands each stderr line over as it ends: CRLF, a progress CR, LF, and a last line without a newline', async () => {
    const cwd = await tempDir('run-git-');
    const lines: string[] = [];
    const result = await runGit(['chatty'], {
      cwd,
      config: alias('chatty', "printf 'one\\r\\nCounting 50%%\\rCounting 100%%\\nlast' >&2"),
      onStderrLine: (line) => lines.push(line),
    });
    assert.deepEqual(lines, ['one', 'Counting 50%', 'Counting 100%', 'last']);
    assert.equal(result.stderr, 'one\r\nCounting 50%\rCounting 100%\nlast', 'the whole stderr is kept too');

    const complete: string[] = [];
    await runGit(['ended'], {
      cwd,
      config: alias('ended', "printf 'a\\nb\\n' >&2"),
      onStderrLine: (line) => complete.push(line),
    });
    assert.deepEqual(complete, ['a', 'b'], 'no empty line after the last newline');
  });

  it('does not start git when the task is already cancelled', async () => {
    const cwd = await tempDir('run-git-');
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      runGit(['mark'], { cwd, config: alias('mark', 'touch ran'), signal: controller.signal }),
      (e: TaskError) => e.kind === 'cancelled' && e.message === 'The task was cancelled before git could run.',
    );
    await assert.rejects(fs.access(path.join(cwd, 'ran')), 'git did not run');
  });

  it('stops a network git and the helpers it started when the task is cancelled', async () => {
    const cwd = await tempDir('run-git-');
    const controller = new AbortController();
    // The helper prints its pid, then outlives git unless its whole process group is stopped.
    const { firstLine, run } = runUntilFirstLine(['slow'], {
      cwd,
      config: alias('slow', "sh -c 'echo $$ >&2; exec sleep 30'"),
      signal: controller.signal,
      network: true,
    });
    const helper = Number(await firstLine);
    const started = performance.now();
    controller.abort();
    await assert.rejects(
      run,
      (e: TaskError) => e.kind === 'cancelled' && e.message === 'The task was cancelled: git slow was stopped.',
    );
    assert.ok(performance.now() - started < 10_000, 'stopped at once, not when the helper finished');
    assert.equal(await hasEnded(helper), true, "git's helper was stopped too");
  });

  it('kills a git that ignores SIGTERM two seconds after the cancel', async () => {
    // A git that ignores SIGTERM (as a hung one may), first on PATH.
    const bin = await tempDir('fake-git-');
    await fs.writeFile(path.join(bin, 'git'), "#!/bin/sh\ntrap '' TERM\necho started >&2\nsleep 30\n", { mode: 0o755 });
    const savedPath = process.env.PATH;
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ''}`;
      const controller = new AbortController();
      const { firstLine, run } = runUntilFirstLine(['push'], { cwd: bin, signal: controller.signal, network: true });
      assert.equal(await firstLine, 'started');
      const started = performance.now();
      controller.abort();
      clock.tick(2000);
      await assert.rejects(run, (e: TaskError) => e.kind === 'cancelled' && /git push was stopped/.test(e.message));
      assert.ok(performance.now() - started < 10_000, 'killed, not waited for');
    } finally {
      clock.restore();
      process.env.PATH = savedPath;
    }
  });

  it('says how to get git when it is not on the PATH, and passes on other failures to start it', async () => {
    const bin = await tempDir('no-git-');
    const savedPath = process.env.PATH;
    try {
      process.env.PATH = bin;
      await assert.rejects(
        runGit(['status'], { cwd: bin }),
        (e: TaskError) =>
          e.kind === 'git' &&
          e.message.startsWith('git is not installed on this agent (or not on its PATH): install git 2.x, or use an agent image'),
      );
      await fs.writeFile(path.join(bin, 'git'), '#!/bin/sh\n', { mode: 0o644 }); // not executable
      await assert.rejects(
        runGit(['status'], { cwd: bin }),
        (e: NodeJS.ErrnoException) => !(e instanceof TaskError) && e.code === 'EACCES',
      );
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('gitOrFail', () => {
  it("returns git's output trimmed when it succeeds", async () => {
    const repo = await makeRepo({ files: { 'a.txt': 'a' } });
    assert.equal(await gitOrFail(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: repo.dir }, 'Reading the branch'), 'main');
  });

  it("fails naming the step, the git command, its exit code and git's error", async () => {
    const repo = await makeRepo({ files: { 'a.txt': 'a' } });
    await assert.rejects(
      gitOrFail(['rev-parse', '--verify', 'no-such-ref'], { cwd: repo.dir }, 'Resolving the ref'),
      (e: TaskError) =>
        e.kind === 'git' && e.message === 'Resolving the ref failed: git rev-parse exited 128: fatal: Needed a single revision',
    );
  });

  it('quotes stdout when git printed nothing on stderr', async () => {
    const cwd = await tempDir('run-git-');
    await assert.rejects(
      gitOrFail(['check'], { cwd, config: alias('check', "printf '2 problems\\n'; exit 3") }, 'Checking'),
      (e: TaskError) => e.kind === 'git' && e.message === 'Checking failed: git check exited 3: 2 problems',
    );
  });
});

/** The process group of process `pid`. */
async function groupOf(pid: number | 'self'): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** The running (not zombie) watchdog that guards the process group of git `pid`, if any. */
async function watchdogOf(pid: number): Promise<number | null> {
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = (await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (args.at(-3) !== 'watchdog' || args.at(-2) !== String(pid)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (stat && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') return Number(entry);
  }
  return null;
}

async function until(condition: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

describe('runGit: output caps, process groups and the watchdog', function () {
  before(function () {
    if (process.platform !== 'linux') this.skip(); // reads /proc
  });

  it('keeps the first 4 MB of stdout and the last 4 MB of stderr, where the outcome is', async () => {
    const cwd = await tempDir('run-git-');
    const mb = 1024 * 1024;
    const result = await runGit(['big'], {
      cwd,
      config: alias(
        'big',
        "printf 'first\\n'; head -c 5000000 /dev/zero | tr '\\0' o; head -c 4500000 /dev/zero | tr '\\0' e >&2; printf 'fatal: the end' >&2",
      ),
    });
    assert.equal(result.code, 0);
    assert.ok(result.stdout.length >= 4 * mb && result.stdout.length < 4.5 * mb, `kept ${result.stdout.length} chars of stdout`);
    assert.ok(result.stdout.startsWith('first\nooo'), 'the start of stdout is kept');
    assert.equal(result.stderr.length, 4 * mb);
    assert.ok(result.stderr.endsWith(`eeee${'fatal: the end'}`), 'the end of stderr is kept');
  });

  it("runs a local git in the task's process group, and a network git in a group of its own", async () => {
    const bin = await tempDir('group-git-');
    // A git that prints its process group and its pid.
    await fs.writeFile(path.join(bin, 'git'), '#!/bin/sh\ncut -d" " -f5 /proc/$$/stat; echo $$\n', { mode: 0o755 });
    const savedPath = process.env.PATH;
    try {
      process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ''}`;
      const [localGroup] = (await runGit(['status'], { cwd: bin })).stdout.split('\n').map(Number);
      assert.equal(localGroup, await groupOf('self'), 'a local git stops with the task');
      const [networkGroup, networkPid] = (await runGit(['push'], { cwd: bin, network: true })).stdout.split('\n').map(Number);
      assert.equal(networkGroup, networkPid, 'a network git leads its own group');
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it("signals a network git's whole group at once when cancelled, not only after the two seconds' SIGKILL", async () => {
    const cwd = await tempDir('run-git-');
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const controller = new AbortController();
      const { firstLine, run } = runUntilFirstLine(['slow'], {
        cwd,
        config: alias('slow', "sh -c 'echo $$ >&2; exec sleep 30'"),
        signal: controller.signal,
        network: true,
      });
      const helper = Number(await firstLine);
      controller.abort(); // the SIGKILL timer is never run: only the SIGTERM can end the helper
      await assert.rejects(run, (e: TaskError) => e.kind === 'cancelled');
      assert.equal(await hasEnded(helper), true);
    } finally {
      clock.restore();
    }
  });

  it('ends the watchdog of a network git as soon as git has ended, leaving nothing behind; it leads a group of its own', async () => {
    const cwd = await tempDir('run-git-');
    let watchdog: number | null = null;
    let watchdogGroup: number | null = null;
    // git prints its pid, then waits until the test has found its watchdog.
    const result = await runGit(['wait'], {
      cwd,
      config: alias('wait', 'echo $PPID >&2; while [ ! -e go ]; do sleep 0.05; done'),
      network: true,
      onStderrLine: (line) =>
        void watchdogOf(Number(line)).then(async (pid) => {
          watchdog = pid;
          if (pid !== null) watchdogGroup = await groupOf(pid);
          return fs.writeFile(path.join(cwd, 'go'), '');
        }),
    });
    assert.equal(result.code, 0);
    const found: number = watchdog ?? assert.fail('no watchdog while git ran');
    // Not in the task's group: the agent killing that group spares it (the next test shows it stopping git then).
    assert.equal(watchdogGroup, found, 'the watchdog leads its own process group');
    assert.ok(await until(() => hasEnded(found), 500), 'the watchdog ended with git');
  });

  it("stops a network git's helpers when the task's process is killed without stopping them", async () => {
    const cwd = await tempDir('run-git-');
    const gitModule = path.resolve(__dirname, '../../tasks/common/core/git/git.ts');
    const script = `
      const { runGit } = require(${JSON.stringify(gitModule)});
      runGit(['slow'], {
        cwd: ${JSON.stringify(cwd)},
        config: [['alias.slow', "!sh -c 'echo $$ >&2; exec sleep 30'"]],
        network: true,
        onStderrLine: (line) => console.log(line),
      });`;
    // The task's process, in a group of its own as the agent starts it; the agent then kills that group.
    // Under mutation testing the child runs the mutant this process runs (Stryker's instrumented code reads it from this variable).
    const active = (globalThis as { __stryker__?: { activeMutant?: string } }).__stryker__?.activeMutant;
    const env = active === undefined ? process.env : { ...process.env, __STRYKER_ACTIVE_MUTANT__: active };
    const task = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    const helper = await new Promise<number>((resolve) =>
      task.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
    );
    assert.ok(helper > 0, 'helper > 0');
    assert.equal(await hasEnded(helper), false);
    process.kill(-(task.pid ?? 0), 'SIGKILL');
    assert.ok(await until(() => hasEnded(helper), 3000), 'the watchdog stopped the helper');
  });
});
