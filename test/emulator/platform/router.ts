// Heroku's router for one app: forwards requests to a web dyno, answers 503 with Heroku's error
// pages in maintenance mode and while no web dyno is up, and logs a router line per request.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { LoopbackServer } from '../loopback';
import type { App } from '../state';
import type { AppDynos } from './dynos';
import type { AppLogs } from './logs';

const REQUEST_TIMEOUT_MS = 30_000; // H12
const QUEUE_FOR_BOOT_MS = 10_000; // how long a request waits for a starting dyno

function errorPage(title: string, page: string): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    '    <meta name="viewport" content="width=device-width, initial-scale=1">',
    '    <meta charset="utf-8">',
    `    <title>${title}</title>`,
    '    <style media="screen">',
    '      html,body,iframe { margin: 0; padding: 0; }',
    '      html,body { height: 100%; overflow: hidden; }',
    '      iframe { width: 100%; height: 100%; border: 0; }',
    '    </style>',
    '  </head>',
    '  <body>',
    `    <iframe src="//www.herokucdn.com/error-pages/${page}"></iframe>`,
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

export const APPLICATION_ERROR_PAGE = errorPage('Application Error', 'application-error.html');
export const MAINTENANCE_PAGE = errorPage('Offline for Maintenance', 'maintenance-mode.html');

export function appHost(app: App): string {
  return `${app.name}-${app.hostSuffix}.herokuapp.com`;
}

export class AppRouter {
  private readonly loopback = new LoopbackServer((req, res) => void this.route(req, res));

  constructor(
    private readonly app: App,
    private readonly dynos: AppDynos,
    private readonly logs: AppLogs,
  ) {}

  async listen(port: number): Promise<number> {
    await this.loopback.listen(port);
    return this.loopback.port;
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private log(
    req: http.IncomingMessage,
    fields: { error?: [string, string]; dyno: string; connect: string; service: string; status: number; bytes: number | string },
  ): void {
    const head = fields.error ? `at=error code=${fields.error[0]} desc="${fields.error[1]}"` : 'at=info';
    const path = (req.url ?? '/').replace(/"/g, '%22');
    this.logs.add(
      'heroku',
      'router',
      `${head} method=${req.method ?? 'GET'} path="${path}" host=${appHost(this.app)} request_id=${randomUUID()} fwd="${req.socket.remoteAddress ?? '127.0.0.1'}" dyno=${fields.dyno} connect=${fields.connect} service=${fields.service} status=${fields.status} bytes=${fields.bytes} protocol=http1.1 tls=false`,
    );
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, code: string, desc: string, page: string): void {
    res.writeHead(503, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-cache, no-store',
      'Content-Length': Buffer.byteLength(page),
    });
    res.end(page);
    this.log(req, { error: [code, desc], dyno: '', connect: '', service: '', status: 503, bytes: '' });
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.app.maintenance) return this.fail(req, res, 'H80', 'Maintenance mode', MAINTENANCE_PAGE);
    const webFormation = this.app.formation.get('web');
    if (!webFormation || webFormation.quantity === 0)
      return this.fail(req, res, 'H14', 'No web processes running', APPLICATION_ERROR_PAGE);
    const dyno = await this.dynos.upWebDyno(QUEUE_FOR_BOOT_MS);
    if (!dyno) {
      const booting = this.dynos.list().some((d) => d.type === 'web' && d.state === 'starting');
      return booting
        ? this.fail(req, res, 'H20', 'App boot timeout', APPLICATION_ERROR_PAGE)
        : this.fail(req, res, 'H10', 'App crashed', APPLICATION_ERROR_PAGE);
    }
    const started = Date.now();
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: dyno.port,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
          'x-forwarded-proto': 'http',
          'x-request-start': String(started),
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (answer) => {
        const connectMs = Date.now() - started;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let bytes = 0;
        answer.on('data', (chunk: Buffer) => (bytes += chunk.length));
        answer.pipe(res);
        answer.on('end', () =>
          this.log(req, {
            dyno: dyno.name,
            connect: `${Math.min(connectMs, 1)}ms`,
            service: `${Date.now() - started}ms`,
            status: answer.statusCode ?? 502,
            bytes,
          }),
        );
      },
    );
    upstream.on('timeout', () => {
      upstream.destroy();
      if (!res.headersSent) this.fail(req, res, 'H12', 'Request timeout', APPLICATION_ERROR_PAGE);
    });
    upstream.on('error', () => {
      if (!res.headersSent) this.fail(req, res, 'H13', 'Connection closed without response', APPLICATION_ERROR_PAGE);
      else res.destroy();
    });
    req.pipe(upstream);
  }
}
