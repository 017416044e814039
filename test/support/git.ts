// Real git for tests: sample repositories and pushes, always asynchronous (the emulator serves
// from the same process, so a synchronous child would block it).
import { execFile } from 'node:child_process';
import { promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FIXTURE_APP = path.resolve(__dirname, '../fixtures/sample-app');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, never throwing on a non-zero exit. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Git that never prompts and ignores the machine's configuration. */
export const gitEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
  ...extra,
});

export class Repo {
  constructor(readonly dir: string) {}

  async git(...args: string[]): Promise<string> {
    const result = await runCommand('git', args, { cwd: this.dir, env: gitEnv() });
    if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout.trim();
  }

  /** Writes files (path -> content) and commits them; returns the new commit's SHA. */
  async commit(message: string, files: Record<string, string> = {}): Promise<string> {
    for (const [name, content] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(this.dir, name)), { recursive: true });
      await fs.writeFile(path.join(this.dir, name), content);
    }
    await this.git('add', '--all');
    await this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  head(): Promise<string> {
    return this.git('rev-parse', 'HEAD');
  }

  /** `git push` with the API key as Basic auth through the environment (never argv). */
  push(remote: string, apiKey: string, refspec = 'HEAD:refs/heads/main', extraArgs: string[] = []): Promise<RunResult> {
    const header = `Authorization: Basic ${Buffer.from(`heroku:${apiKey}`).toString('base64')}`;
    return runCommand('git', ['push', ...extraArgs, remote, refspec], {
      cwd: this.dir,
      env: gitEnv({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${remote}.extraHeader`, GIT_CONFIG_VALUE_0: header }),
    });
  }
}

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory, removed when the process exits. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A new repository holding the sample app (or `files`), with one commit on `branch`. */
export async function makeRepo(
  options: { files?: Record<string, string>; branch?: string; message?: string } = {},
): Promise<Repo> {
  const dir = await tempDir('sample-app-');
  const repo = new Repo(dir);
  await repo.git('init', '--quiet', `--initial-branch=${options.branch ?? 'main'}`);
  if (!options.files) await fs.cp(FIXTURE_APP, dir, { recursive: true });
  await repo.commit(options.message ?? 'Initial commit', options.files ?? {});
  return repo;
}
