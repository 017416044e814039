// Running a program (git, tar, the Heroku CLI, a user's script): by default in its own process group,
// so that a cancel or a deadline stops everything it started, with its output streamed as lines and
// only a bounded amount of it kept.
import { spawn } from 'node:child_process';
import { killTree, splitLines, watchdog } from './process-tree';

export interface ProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Stops the process (and its tree) after this long; undefined for none (a user's script: the job's timeout governs). */
  timeoutMs?: number;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** How much of each stream is kept in the result (its end); 1 MB by default. Streamed lines are not limited by it. */
  maxOutputChars?: number;
  /** Keep the start of stdout rather than its end (a list read from the top). */
  keepStdoutStart?: boolean;
  /**
   * Its own process group with a watchdog (default): a cancel or deadline stops what it started, and
   * so does this process dying. False for a quick local command: no group, no watchdog to start.
   */
  ownGroup?: boolean;
  /** Streamed lines longer than this are cut (64 KB by default). */
  maxLineChars?: number;
  /**
   * Where stdout goes as bytes (an archive being written), with backpressure: then it is neither
   * kept nor split in lines. It is ended when the program's stdout ends, or at once when nothing
   * starts (already cancelled), so that a caller waiting for the sink to finish never hangs.
   */
  stdoutSink?: NodeJS.WritableStream;
  /** Windows: pass the arguments as they are (cmd.exe's own quoting). */
  windowsVerbatimArguments?: boolean;
}

export interface ProcessResult {
  /** The exit code; a process ended by a signal has `signal` set and code 1. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const DEFAULT_MAX_LINE = 64 * 1024;
/** How long a stopped tree has between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

/** Runs `command` with `args`; rejects only when it cannot start (ENOENT and the like). */
export function runProcess(command: string, args: string[], options: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      options.stdoutSink?.end();
      resolve({ code: 1, signal: null, stdout: '', stderr: '', timedOut: false, cancelled: true });
      return;
    }
    const group = options.ownGroup !== false;
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Stryker disable next-line BooleanLiteral: Windows only (no console window for the child); cannot run on this Linux machine
      windowsHide: true,
      // Stryker disable next-line ConditionalExpression: the platform test is a Windows-only guard, and true is the Linux path itself (true and false for the whole are killed by run-git.test.ts's process group test)
      detached: group && process.platform !== 'win32',
      windowsVerbatimArguments: options.windowsVerbatimArguments,
    });
    const dog = group && child.pid !== undefined ? watchdog(child.pid) : null;
    const maxOutput = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT;
    const maxLine = options.maxLineChars ?? DEFAULT_MAX_LINE;
    const kept = { stdout: '', stderr: '' };
    const keep = (stream: 'stdout' | 'stderr', chunk: string): void => {
      if (stream === 'stdout' && options.keepStdoutStart) {
        // Stryker disable next-line ConditionalExpression,EqualityOperator: true and <= only cost work (a start already maxOutput long stays the same when cut to it again); false and >= are killed by run-process.test.ts
        if (kept.stdout.length < maxOutput) kept.stdout = (kept.stdout + chunk).slice(0, maxOutput);
        return;
      }
      kept[stream] += chunk;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: true and >= only cost work (slice(-maxOutput) of a string no longer than maxOutput is that string); false and <= are killed by run-process.test.ts
      if (kept[stream].length > maxOutput) kept[stream] = kept[stream].slice(-maxOutput);
    };
    const out = options.onStdoutLine ? splitLines(options.onStdoutLine, maxLine) : undefined;
    const err = options.onStderrLine ? splitLines(options.onStderrLine, maxLine) : undefined;
    child.stderr.setEncoding('utf8');
    if (options.stdoutSink) child.stdout.pipe(options.stdoutSink);
    else {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        keep('stdout', chunk);
        out?.push(chunk);
      });
    }
    child.stderr.on('data', (chunk: string) => {
      keep('stderr', chunk);
      err?.push(chunk);
    });

    // The group is signalled even once the program itself has exited: a helper may outlive it (and
    // hold its output open); the SIGKILL is cancelled once everything has closed.
    const signalAll = (signal: NodeJS.Signals): void => {
      // Stryker disable next-line ConditionalExpression: a child without a group of its own leads none, so killTree's kill(-pid) fails and it falls back to child.kill, the same signal
      if (group) killTree(child, signal);
      else child.kill(signal);
    };
    let kill: NodeJS.Timeout | undefined;
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      signalAll('SIGTERM');
      kill = setTimeout(() => signalAll('SIGKILL'), KILL_GRACE_MS);
      kill.unref();
    };
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs);
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: an AbortSignal fires 'abort' only once, and finish() takes the listener off (tested)
    options.signal?.addEventListener('abort', stop, { once: true });
    const finish = (): void => {
      clearTimeout(timer);
      clearTimeout(kill);
      options.signal?.removeEventListener('abort', stop);
      dog?.stdin?.end('done\n');
    };
    child.on('error', (error) => {
      finish();
      reject(error);
    });
    child.on('close', (code, signal) => {
      finish();
      out?.end();
      err?.end();
      resolve({
        code: code ?? 1,
        signal,
        stdout: kept.stdout,
        stderr: kept.stderr,
        timedOut,
        cancelled: options.signal?.aborted === true,
      });
    });
  });
}
