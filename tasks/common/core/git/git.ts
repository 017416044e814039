// Running git: never prompting, English messages to parse, configuration (credentials included)
// passed only through the child's environment — never argv, never .git/config, never a file.
import { TaskError } from '../base/errors';
import { seconds } from '../base/format';
import { runProcess, type ProcessResult } from '../base/run-process';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface GitRunOptions {
  cwd: string;
  /** Configuration for this one run, as `GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n`. */
  config?: Array<[string, string]>;
  signal?: AbortSignal;
  /** Each stderr line as it arrives (git's progress and `remote:` lines). */
  onStderrLine?: (line: string) => void;
  /** How long git may run before it is stopped (default 5 minutes: local commands are quick). */
  timeoutMs?: number;
  /**
   * A command that talks to a server (push, fetch, ls-remote): its own process group, so that a
   * cancel stops the helpers holding the connection, and a watchdog that stops the group if this
   * process dies without stopping it (killed by the agent) — so no push lands after the task.
   */
  network?: boolean;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;
/** What is kept of git's output: all of stdout up to this, the end of stderr (where the outcome is). */
const MAX_OUTPUT_CHARS = 4 * 1024 * 1024;

/**
 * The environment of a git child: the parent's, with prompts off, C locale, no credential helper
 * (the key comes from our configuration only), and `config` appended to any GIT_CONFIG_* entries.
 */
export function gitEnvironment(config: Array<[string, string]> = [], base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GIT_TERMINAL_PROMPT: '0', GCM_INTERACTIVE: 'never', LC_ALL: 'C', LANGUAGE: 'C' };
  delete env.GIT_ASKPASS;
  delete env.SSH_ASKPASS;
  const entries: Array<[string, string]> = [['credential.helper', ''], ['core.askPass', ''], ...config];
  // Stryker disable next-line StringLiteral: any default that parses to no number counts as 0 too (`|| 0`)
  const existing = Number.parseInt(base.GIT_CONFIG_COUNT ?? '0', 10) || 0;
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${existing + i}`] = key;
    env[`GIT_CONFIG_VALUE_${existing + i}`] = value;
  });
  env.GIT_CONFIG_COUNT = String(existing + entries.length);
  return env;
}

export async function runGit(args: string[], options: GitRunOptions): Promise<GitResult> {
  if (options.signal?.aborted) throw new TaskError('cancelled', 'The task was cancelled before git could run.');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let result: ProcessResult;
  try {
    result = await runProcess('git', args, {
      cwd: options.cwd,
      env: gitEnvironment(options.config),
      signal: options.signal,
      timeoutMs,
      onStderrLine: options.onStderrLine,
      maxOutputChars: MAX_OUTPUT_CHARS,
      keepStdoutStart: true,
      ownGroup: options.network === true,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new TaskError(
      'git',
      'git is not installed on this agent (or not on its PATH): install git 2.x, or use an agent image that has it (all Microsoft-hosted images do).',
    );
  }
  // Stryker disable next-line StringLiteral: every caller names a git command, so the `?? ''` fallback is unreachable (the message is asserted in run-git.test.ts)
  if (result.cancelled) throw new TaskError('cancelled', `The task was cancelled: git ${args[0] ?? ''} was stopped.`);
  if (result.timedOut)
    throw new TaskError(
      'git',
      // Stryker disable next-line StringLiteral: every caller names a git command, so the `?? ''` fallback is unreachable (the message is asserted in git-limits.test.ts)
      `git ${args[0] ?? ''} did not finish within ${seconds(timeoutMs)} and was stopped. Re-run the job; if it keeps happening, check the agent's network and https://status.heroku.com.`,
    );
  return { code: result.signal ? 128 : result.code, stdout: result.stdout, stderr: result.stderr };
}

/** git, failing with a TaskError naming `what` when it exits non-zero. */
export async function gitOrFail(args: string[], options: GitRunOptions, what: string): Promise<string> {
  const result = await runGit(args, options);
  if (result.code !== 0)
    throw new TaskError(
      'git',
      // Stryker disable next-line StringLiteral: every caller names a git command, so the `?? ''` fallback is unreachable (the message is asserted in run-git.test.ts)
      `${what} failed: git ${args[0] ?? ''} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
    );
  return result.stdout.trim();
}

/** A commit of the checkout, as the deploy needs it. */
export interface CheckoutCommit {
  /** Full SHA (40 hex digits, 64 in a SHA-256 repository). */
  sha: string;
  subject: string;
  /** Whether the checkout is shallow (a fetchDepth checkout). */
  shallow: boolean;
}

/**
 * The commit `ref` names in the checkout at `cwd`, its subject, and whether the checkout is
 * shallow: two git calls at once (each git started costs milliseconds before the push can start),
 * with errors that say what to fix.
 */
export async function readCommit(cwd: string, ref: string, signal?: AbortSignal): Promise<CheckoutCommit> {
  // rev-parse --verify and cat-file take one commit: a range (`main..topic`) is refused, never resolved.
  // rev-parse prints one line per question in order: inside a work tree, shallow, then the commit
  // (none when the ref names no commit, which exits 1; outside any repository it prints nothing).
  const questions = ['--is-inside-work-tree', '--is-shallow-repository', '--verify', '--quiet', '--end-of-options'];
  const [where, object] = await Promise.all([
    runGit(['rev-parse', ...questions, `${ref}^{commit}`], { cwd, signal }),
    runGit(['cat-file', 'commit', '--end-of-options', `${ref}^{commit}`], { cwd, signal }),
  ]);
  const [inside, shallow, resolved] = where.stdout.split('\n');
  if (inside !== 'true') {
    throw new TaskError(
      'git',
      `${cwd} is not a git checkout. Point workingDirectory at the repository the pipeline checked out (a \`checkout: self\` step puts it in $(Build.SourcesDirectory)), and do not use \`checkout: none\` in this job.`,
    );
  }
  // Stryker disable next-line StringLiteral: any fallback that is no SHA is refused just as '' is
  const sha = resolved ?? '';
  // Stryker disable next-line Regex: rev-parse --verify prints one object name alone on its line when it succeeds, so either anchor alone decides the same
  if (where.code !== 0 || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(sha)) {
    throw new TaskError(
      'git',
      `The ref "${ref}" does not name a commit in ${cwd}. Use a branch, tag or SHA that the checkout has (a shallow checkout only has the commits it fetched: set \`fetchDepth: 0\` on the checkout step to have them all), or leave ref empty to deploy HEAD.`,
    );
  }
  return {
    sha,
    // Stryker disable next-line StringLiteral: unreachable: cat-file reads the commit rev-parse has just verified (both past --end-of-options); the fallback is for a checkout changed between the two
    subject: object.code === 0 ? subjectOf(object.stdout) : '',
    shallow: shallow === 'true',
  };
}

/**
 * A commit object's subject: its message's first paragraph on one line, as `git log --format=%s` gives it, but with
 * each line trimmed (git keeps a wrapped line's indent).
 */
function subjectOf(commitObject: string): string {
  const message = commitObject.slice(commitObject.indexOf('\n\n') + 2);
  // Stryker disable next-line StringLiteral: split() always returns at least one element; the default only satisfies the type checker
  return (message.split(/\n\s*\n/)[0] ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

export async function isShallow(cwd: string, signal?: AbortSignal): Promise<boolean> {
  return (
    (await gitOrFail(['rev-parse', '--is-shallow-repository'], { cwd, signal }, 'Checking for a shallow checkout')) === 'true'
  );
}

export async function hasCommit(cwd: string, sha: string, signal?: AbortSignal): Promise<boolean> {
  return (await runGit(['cat-file', '-e', `${sha}^{commit}`], { cwd, signal })).code === 0;
}

/** How many commits of `sha`'s history the checkout has (a shallow one: down to its boundary). */
export async function commitCount(cwd: string, sha: string, signal?: AbortSignal): Promise<number> {
  const result = await runGit(['rev-list', '--count', sha], { cwd, signal });
  // A failed rev-list prints nothing on stdout, which counts as 0 too.
  return Number.parseInt(result.stdout, 10) || 0;
}

export async function isAncestor(cwd: string, ancestor: string, descendant: string, signal?: AbortSignal): Promise<boolean> {
  return (await runGit(['merge-base', '--is-ancestor', ancestor, descendant], { cwd, signal })).code === 0;
}

/** The `origin` remote's URL, or null when the checkout has none. */
export async function originUrl(cwd: string, signal?: AbortSignal): Promise<string | null> {
  const result = await runGit(['config', '--get', 'remote.origin.url'], { cwd, signal });
  // A key that is not set prints nothing (exit 1): null, as for an empty URL.
  return result.stdout.trim() || null;
}

/** Whether the checkout step left credentials in .git/config (`persistCredentials: true`). */
export async function hasPersistedCredentials(cwd: string, signal?: AbortSignal): Promise<boolean> {
  // --get-regexp exits 0 only when a key matched (1 when none did).
  return (await runGit(['config', '--get-regexp', '^http\\..*\\.extraheader$'], { cwd, signal })).code === 0;
}
