// git.heroku.com: smart HTTP served by the real `git http-backend`, behind Heroku's Basic auth
// (any user name, an API key with access to the app as the password).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { LoopbackServer } from '../loopback';
import type { Platform } from '../platform/platform';
import type { Account, App } from '../state';
import { ReceiveHooks, type HookInput, type Push } from './receive';

const REPO_PATH = /^\/([a-z][a-z0-9-]{1,28}[a-z0-9])\.git(\/.*)$/;

/** One authenticated request for an app's repository. */
interface GitCall {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  app: App;
  account: Account;
  /** The path after `/<app>.git`, e.g. `/info/refs`. */
  pathInfo: string;
  query: string;
}

export class GitServer {
  private readonly loopback = new LoopbackServer((req, res) => void this.handle(req, res));
  private readonly pushes = new Map<string, Push>();
  private readonly hooks: ReceiveHooks;
  private readonly hookToken = randomBytes(16).toString('hex');
  private readonly backends = new Set<number>();
  /** Every request git made, with the Authorization it sent: tests prove which credentials reached Heroku. */
  /** Every git request; `startedAt`/`endedAt` (when its answer ended) are `performance.now()` of this process. */
  readonly requests: Array<{ method: string; path: string; authorization: string | null; startedAt: number; endedAt: number }> =
    [];

  constructor(private readonly platform: Platform) {
    this.hooks = new ReceiveHooks(platform);
  }

  listen(): Promise<string> {
    return this.loopback.listen();
  }

  get url(): string {
    return this.loopback.url;
  }

  async close(): Promise<void> {
    for (const pid of this.backends) killTree(pid);
    await this.loopback.close();
  }

  private deny(res: http.ServerResponse, status: number, message: string, challenge = false): void {
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'text/plain; charset=utf-8' };
    if (challenge) headers['WWW-Authenticate'] = 'Basic realm="Heroku"';
    res.writeHead(status, headers);
    res.end(`${message}\n`);
  }

  private authenticate(req: http.IncomingMessage): Account | undefined {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const password = decoded.slice(decoded.indexOf(':') + 1);
    return this.platform.state.accountForKey(password);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://git.heroku.invalid');
    if (url.pathname.startsWith('/__hooks/')) return this.handleHook(req, res, url.pathname.slice('/__hooks/'.length));
    const record = {
      method: req.method ?? 'GET',
      path: url.pathname,
      authorization: req.headers.authorization ?? null,
      startedAt: performance.now(),
      endedAt: 0,
    };
    this.requests.push(record);
    res.on('close', () => (record.endedAt = performance.now()));
    const match = REPO_PATH.exec(url.pathname);
    if (!match?.[1] || !match[2]) return this.deny(res, 404, 'Not found.');
    const account = this.authenticate(req);
    if (!account) return this.deny(res, 401, 'Invalid credentials provided.', true);
    const app = this.platform.state.findApp(match[1]);
    if (!app) return this.deny(res, 404, `No such app as ${match[1]}.`);
    if (!this.platform.state.canAccess(account, app))
      return this.deny(res, 403, `You do not have access to the app ${app.name}.`);
    const isPush = req.method === 'POST' && match[2] === '/git-receive-pack';
    const call: GitCall = { req, res, app, account, pathInfo: match[2], query: url.search.slice(1) };
    if (isPush) return this.receivePack(call);
    return this.backend(call, {});
  }

  private async receivePack(call: GitCall): Promise<void> {
    const { app, account } = call;
    let resolveAborted!: () => void;
    const aborted = new Promise<void>((resolve) => (resolveAborted = resolve));
    const push: Push = { id: randomUUID(), app, account, aborted, cancelled: false, build: null, holdsLock: false };
    const abort = (): void => {
      push.cancelled = true;
      resolveAborted();
    };
    this.pushes.set(push.id, push);
    const drop = this.platform.faults.takeGitDrop();
    try {
      await this.backend(
        call,
        { EMULATOR_HOOK_URL: `${this.url}/__hooks`, EMULATOR_PUSH_ID: push.id, EMULATOR_HOOK_TOKEN: this.hookToken },
        abort,
        drop,
      );
    } finally {
      resolveAborted();
      this.hooks.releaseLock(push);
      this.pushes.delete(push.id);
    }
  }

  /** Runs `git http-backend` as a CGI program for one request. */
  private backend(call: GitCall, extraEnv: Record<string, string>, abort?: () => void, drop = false): Promise<void> {
    const { req, res, app, account, pathInfo, query } = call;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      GIT_PROJECT_ROOT: this.platform.dirs.repos,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${app.name}.git${pathInfo}`,
      QUERY_STRING: query,
      REQUEST_METHOD: req.method ?? 'GET',
      REMOTE_USER: account.email,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      GIT_CONFIG_NOSYSTEM: '1',
      ...extraEnv,
    };
    if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);

    // Its own process group, so that receive-pack and the hooks it runs go with it.
    const child = spawn('git', ['http-backend'], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid) this.backends.add(child.pid);
    let finished = false;
    const kill = (): void => {
      if (!finished && child.pid) killTree(child.pid);
      abort?.();
    };
    res.on('close', () => {
      if (!res.writableFinished) kill();
    });
    child.stdin.on('error', () => undefined);
    req.pipe(child.stdin);
    let dropped = false;
    if (drop) {
      // Drop the connection once the pack is in: the pusher sees the remote hang up mid-push. The
      // response must have begun first: curl silently retries a request whose reused connection
      // closes before any answer, and the retry would go through.
      req.on('end', () => {
        dropped = true;
        kill();
        if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-git-receive-pack-result' });
        res.flushHeaders();
        setTimeout(() => res.socket?.destroy(), 20);
      });
    }

    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (dropped) return;
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end =
        head.indexOf('\r\n\r\n') >= 0 ? head.indexOf('\r\n\r\n') + 4 : head.indexOf('\n\n') >= 0 ? head.indexOf('\n\n') + 2 : -1;
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: http.OutgoingHttpHeaders = {};
      for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 200;
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end));
    });
    return new Promise((resolve) => {
      child.on('close', (code) => {
        finished = true;
        if (child.pid) this.backends.delete(child.pid);
        if (!headersDone && !res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'Content-Type': 'text/plain' });
          res.end(`git http-backend failed (${code ?? 'killed'}): ${stderr}`);
        } else if (!res.destroyed && !dropped) res.end();
        resolve();
      });
    });
  }

  private handleHook(req: http.IncomingMessage, res: http.ServerResponse, pushId: string): void {
    const push = this.pushes.get(pushId);
    if (req.headers['x-emulator-hook-token'] !== this.hookToken || !push) return this.deny(res, 403, 'unknown push');
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      const out = (line: string): void => {
        if (!res.destroyed) res.write(`${line}\n`);
      };
      this.hooks
        .run(push, JSON.parse(body) as HookInput, out)
        .catch((error: unknown) => {
          out(` !     Heroku emulator error: ${error instanceof Error ? error.message : String(error)}`);
          return 1;
        })
        .then((code) => res.end(`::emulator-hook-exit ${code}\n`))
        .catch(() => undefined);
    });
  }
}

function killTree(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
