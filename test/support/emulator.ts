// Shared set-up for tests that run against the local Heroku emulator: one emulator per test file,
// faults reset between tests, scratch repositories removed at the end, and small HTTP helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index';
import { gitEnv, makeRepo, runCommand, tempDir, type Repo, type RunResult } from './git';
import { herokuApi } from './heroku-api';

export type HerokuApi = ReturnType<typeof herokuApi>;

export interface EmulatorContext {
  readonly heroku: Emulator;
  /** The Platform API as the emulator's default account. */
  readonly api: HerokuApi;
  /** A repository (the sample app unless `files` say otherwise), removed after the file's tests. */
  repo(options?: Parameters<typeof makeRepo>[0]): Promise<Repo>;
  /** A scratch directory, removed after the file's tests. */
  scratch(prefix: string): Promise<string>;
  /** A unique, valid app name starting with `prefix`. */
  name(prefix: string): string;
  /** The emulator's git URL of an app. */
  gitUrl(app: string): string;
}

let counter = 0;

/** Starts one emulator for the enclosing `describe` (or file) and stops it afterwards. */
export function useEmulator(options: EmulatorOptions = {}): EmulatorContext {
  let heroku: Emulator | undefined;
  let api: HerokuApi | undefined;
  const dirs: string[] = [];
  before(async () => {
    heroku = await startEmulator(options);
    api = herokuApi(heroku.apiUrl, heroku.apiKey);
  });
  afterEach(() => heroku?.faults.reset());
  after(async () => {
    await heroku?.stop();
    await Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
  });
  const started = (): Emulator => {
    if (!heroku) throw new Error('the emulator is not started (use the context inside tests and hooks)');
    return heroku;
  };
  return {
    get heroku() {
      return started();
    },
    get api() {
      started();
      return api as HerokuApi;
    },
    async repo(repoOptions) {
      const repo = await makeRepo(repoOptions);
      dirs.push(repo.dir);
      return repo;
    },
    async scratch(prefix) {
      const dir = await tempDir(prefix);
      dirs.push(dir);
      return dir;
    },
    name(prefix) {
      counter++;
      return `${prefix}-${process.pid.toString(36)}${counter}`.slice(0, 30).replace(/-$/, 'x');
    },
    gitUrl(app) {
      return `${started().gitUrl}/${app}.git`;
    },
  };
}

/** What the remote printed in a push (git's `remote: ` lines), without git's padding. */
export function remoteLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('remote:'))
    .map((line) => line.slice('remote: '.length).replace(/\s+$/, ''));
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(options: http.RequestOptions, body?: string | Buffer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...options, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET (or another method) of a plain URL, e.g. an app's router or a storage URL. */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  return request(
    {
      host: target.hostname,
      port: target.port,
      method: options.method ?? 'GET',
      path: `${target.pathname}${target.search}`,
      headers: options.headers,
    },
    options.body,
  );
}

/** A request through the emulator's forward proxy, as a client with a proxy setting sends it. */
export function viaProxy(proxyUrl: string, url: string): Promise<HttpAnswer> {
  const proxy = new URL(proxyUrl);
  const target = new URL(url);
  return request({ host: proxy.hostname, port: proxy.port, method: 'GET', path: target.href, headers: { Host: target.host } });
}

/** A gzipped tarball of a directory, as `tar` makes it (the Builds API's source). */
export async function tarball(dir: string): Promise<Buffer> {
  const scratch = await tempDir('tarball-');
  const file = path.join(scratch, `${path.basename(dir)}.tgz`);
  try {
    const result = await runCommand('tar', ['-czf', file, '-C', dir, '.']);
    if (result.code !== 0) throw new Error(`tar failed: ${result.stderr}`);
    return await fs.readFile(file);
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

/**
 * A push that a test can interrupt: its result, and `kill()`, which kills git and its
 * git-remote-http helper (its own process group), as an agent cancelling a job does.
 */
export function startPush(
  repo: Repo,
  remote: string,
  apiKey: string,
  refspec = 'HEAD:refs/heads/main',
): { child: ChildProcess; done: Promise<RunResult>; kill: () => void } {
  const header = `Authorization: Basic ${Buffer.from(`heroku:${apiKey}`).toString('base64')}`;
  const child = spawn('git', ['push', remote, refspec], {
    cwd: repo.dir,
    env: gitEnv({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `http.${remote}.extraHeader`, GIT_CONFIG_VALUE_0: header }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<RunResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })),
  );
  const kill = (): void => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  };
  return { child, done, kill };
}

/** Resolves when the next held build starts waiting (set before pushing). */
export function buildHeld(heroku: Emulator): Promise<void> {
  return new Promise((resolve) => {
    heroku.faults.onBuildHeld = () => resolve();
  });
}

/** Files of a small app whose web process answers `/env/<NAME>` with that environment variable. */
export function envApp(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'env-app', version: '1.0.0', scripts: { start: 'node server.js' } }, null, 2),
    Procfile: 'web: node server.js\n',
    'server.js': [
      "'use strict';",
      "const http = require('node:http');",
      'http.createServer((req, res) => {',
      "  const name = decodeURIComponent((req.url || '/').replace(/^\\/env\\//, ''));",
      "  res.writeHead(200, { 'Content-Type': 'text/plain' });",
      "  res.end(req.url.startsWith('/env/') ? String(process.env[name] ?? '(unset)') : 'env-app');",
      '}).listen(Number(process.env.PORT));',
      '',
    ].join('\n'),
    ...extra,
  };
}

/** A web process that answers /health with 500 when BROKEN is set in its environment (a config var), else 200 "ok". */
export const SERVER_READING_BROKEN = `require('http').createServer((req, res) => {
  const broken = req.url === '/health' && process.env.BROKEN;
  res.writeHead(broken ? 500 : 200, { 'Content-Type': 'text/plain' });
  res.end(broken ? 'database unreachable\\n' : 'ok\\n');
}).listen(process.env.PORT);
`;

/** Pushes a repository and fails the test unless git exited 0. */
export async function pushOk(repo: Repo, remote: string, apiKey: string, refspec?: string): Promise<RunResult> {
  const result = await repo.push(remote, apiKey, refspec);
  if (result.code !== 0) throw new Error(`git push to ${remote} exited ${result.code}:\n${result.stderr}`);
  return result;
}
