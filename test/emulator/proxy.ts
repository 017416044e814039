// The way to reach apps: an HTTP forward proxy that sends `<app>-<suffix>.herokuapp.com` to the
// app's router and loopback addresses straight through, as an agent's proxy (Agent.ProxyUrl) would.
// The schema requires web_url to be a herokuapp.com URL, and nothing resolves those names here.
import http from 'node:http';
import net from 'node:net';
import { LoopbackServer } from './loopback';
import { appHost } from './platform/router';
import type { HerokuState } from './state';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

const NO_SUCH_APP = `<!DOCTYPE html>
<html>
  <head><meta charset="utf-8"><title>Heroku | No such app</title></head>
  <body><h1>There's nothing here, yet.</h1></body>
</html>
`;

export class HerokuProxy {
  private readonly loopback = new LoopbackServer((req, res) => this.forward(req, res));
  /** Every request the proxy forwarded: tests check that a client really used the proxy. */
  readonly requests: Array<{ method: string; url: string; proxyAuthorization: string | null; status: number }> = [];
  /** When set, requests without these Basic credentials get 407, as an authenticating proxy answers. */
  private credentials: string | null = null;
  /** Ports this proxy refuses to tunnel to (403), as a corporate proxy that allows CONNECT to 443 only does. */
  readonly refusedPorts = new Set<number>();
  /** Open tunnels: the server waits for them to close, and closeAllConnections() does not end them, so close() does. */
  private readonly tunnels = new Set<net.Socket>();

  requireCredentials(username: string, password: string): void {
    this.credentials = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  /** Whether the request may pass; records it either way. */
  private admit(method: string, url: string, req: http.IncomingMessage): boolean {
    const proxyAuthorization = req.headers['proxy-authorization'] ?? null;
    const allowed = this.credentials === null || proxyAuthorization === this.credentials;
    this.requests.push({ method, url, proxyAuthorization, status: allowed ? 0 : 407 });
    return allowed;
  }

  constructor(private readonly state: HerokuState) {}

  listen(): Promise<string> {
    this.loopback.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) =>
      this.tunnel(req, socket, head),
    );
    return this.loopback.listen();
  }

  get url(): string {
    return this.loopback.url;
  }

  close(): Promise<void> {
    for (const socket of this.tunnels) socket.destroy();
    return this.loopback.close();
  }

  /** Where a host goes: an app's router port, a loopback port, or nowhere. */
  private target(hostname: string, port: number): { port: number } | null {
    const app = [...this.state.apps.values()].find((a) => appHost(a) === hostname);
    if (app) return { port: app.routerPort };
    if (LOOPBACK.has(hostname)) return { port };
    return null;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('This is a forward proxy: send absolute URLs.\n');
      return;
    }
    if (!this.admit(req.method ?? 'GET', url.href, req)) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="emulator proxy"', 'Content-Type': 'text/plain' });
      res.end('Proxy authentication required.\n');
      return;
    }
    const target = this.target(url.hostname, Number(url.port || 80));
    if (!target) {
      const status = url.hostname.endsWith('.herokuapp.com') ? 404 : 502;
      res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(
        status === 404
          ? NO_SUCH_APP
          : `The emulator's proxy reaches herokuapp.com apps and loopback only, not ${url.hostname}.\n`,
      );
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`proxy: ${error.message}\n`);
    });
    req.pipe(upstream);
  }

  private tunnel(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const [hostname = '', portText = '443'] = (req.url ?? '').replace(/^\[|\](?=:)/g, '').split(/:(?=\d+$)/);
    if (!this.admit('CONNECT', req.url ?? '', req)) {
      socket.end(
        // Connection: close, as proxies say when they end the connection: the client connects again with credentials.
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="emulator proxy"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    if (this.refusedPorts.has(Number(portText))) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // `heroku.test` names stand for this machine (tests that need a host the task does not treat as loopback).
    const target = LOOPBACK.has(hostname) || /(^|\.)heroku\.test$/.test(hostname) ? { port: Number(portText) } : null;
    if (!target) {
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = net.connect(target.port, '127.0.0.1', () => {
      for (const end of [socket, upstream]) {
        this.tunnels.add(end);
        end.on('close', () => this.tunnels.delete(end));
      }
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  }
}
