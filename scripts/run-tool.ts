// Runs a tool the release scripts need (tfx) as a child process: a total deadline, the output capped,
// an optional secret handed over on standard input (never the command line), and a cancel (SIGINT,
// then SIGTERM, as the agent sends them) passed on to the child.
import { spawn } from 'node:child_process';

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ToolOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's standard input, then closed (a token tfx prompts for). */
  input?: string;
  /** The whole run, output included; the child is stopped after it. */
  deadlineMs: number;
  /** What is kept of each stream: its last bytes. */
  maxBytes?: number;
}

const KEEP = 256 * 1024;
const GRACE_MS = 5_000;

/** A stream's text, keeping only its last `max` characters (a tool that floods cannot fill the memory). */
function tail(max: number): { add(chunk: string): void; text(): string } {
  let text = '';
  let cut = false;
  return {
    add(chunk) {
      text += chunk;
      if (text.length > max) {
        text = text.slice(-max);
        cut = true;
      }
    },
    text: () => (cut ? `[... earlier output cut]\n${text}` : text),
  };
}

export function runTool(command: string, args: string[], options: ToolOptions): Promise<ToolResult> {
  const name = command.split(/[\\/]/).pop() ?? command;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const stdout = tail(options.maxBytes ?? KEEP);
    const stderr = tail(options.maxBytes ?? KEEP);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => stdout.add(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.add(chunk));
    let stopped: string | undefined;
    const stop = (why: string, first: NodeJS.Signals): void => {
      stopped ??= why;
      child.kill(first);
      setTimeout(() => child.kill('SIGKILL'), GRACE_MS).unref();
    };
    const deadline = setTimeout(
      () => stop(`${name} did not finish within ${Math.round(options.deadlineMs / 1000)} s and was stopped`, 'SIGTERM'),
      options.deadlineMs,
    );
    const onInterrupt = (): void => stop(`${name} was cancelled`, 'SIGINT');
    const onTerminate = (): void => stop(`${name} was cancelled`, 'SIGTERM');
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onTerminate);
    const done = (): void => {
      clearTimeout(deadline);
      process.removeListener('SIGINT', onInterrupt);
      process.removeListener('SIGTERM', onTerminate);
    };
    child.on('error', (error) => {
      done();
      reject(error);
    });
    child.on('close', (code) => {
      done();
      if (stopped) reject(new Error(`${stopped}.\n${stderr.text()}${stdout.text()}`.trim()));
      else resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
    });
    if (options.input !== undefined && child.stdin) {
      // A child that exits without reading its input must not fail the write (EPIPE).
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}
