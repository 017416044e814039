// Heroku's other hosts, in one server: source blobs (PUT then GET, like S3 signed URLs), build and
// release output streams, and Logplex log sessions.
import http from 'node:http';
import { LoopbackServer } from './loopback';
import type { Platform } from './platform/platform';
import type { OutputStream } from './state';

export class StorageServer {
  private readonly loopback = new LoopbackServer((req, res) => void this.handle(req, res));

  constructor(private readonly platform: Platform) {}

  listen(): Promise<string> {
    return this.loopback.listen();
  }

  get url(): string {
    return this.loopback.url;
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private notFound(res: http.ServerResponse): void {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not found.\n');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://storage.invalid');
    const [, kind, id, sub] = url.pathname.split('/');
    const { state } = this.platform;
    if (kind === 'sources' && id) {
      const blob = state.sources.get(id);
      if (!blob) return this.notFound(res);
      if (req.method === 'PUT') {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        blob.data = Buffer.concat(chunks);
        res.writeHead(200);
        res.end();
        return;
      }
      if (!blob.data) return this.notFound(res);
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.data.length });
      res.end(blob.data);
      return;
    }
    if (kind === 'streams' && id && sub) {
      let stream: OutputStream | null | undefined;
      for (const app of state.apps.values()) {
        if (id === 'builds') stream ??= app.builds.find((b) => b.id === sub)?.output;
        if (id === 'releases') stream ??= app.releases.find((r) => r.id === sub)?.output;
      }
      if (!stream) return this.notFound(res);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      for await (const chunk of stream.follow()) {
        if (res.destroyed) return;
        res.write(chunk);
      }
      res.end();
      return;
    }
    if (kind === 'sessions' && id) {
      const session = state.logSessions.get(id);
      const app = session ? state.apps.get(session.appId) : undefined;
      if (!session || !app) return this.notFound(res);
      const logs = this.platform.logs(app);
      const filter = { source: session.source, dyno: session.dyno, type: session.type };
      // Logplex speaks Server-Sent Events to clients that ask for them (Heroku's CLI, 11.x,
      // reads log sessions with an EventSource: one `data:` event per line), plain text otherwise.
      const sse = String(req.headers.accept ?? '').includes('text/event-stream');
      const format = sse ? (line: string): string => `data: ${line}\n\n` : (line: string): string => `${line}\n`;
      res.writeHead(200, {
        'Content-Type': sse ? 'text/event-stream; charset=utf-8' : 'text/plain; charset=utf-8',
        'Cache-Control': 'no-cache',
      });
      for (const line of logs.recent(session.lines, filter)) res.write(format(line));
      if (!session.tail) {
        res.end();
        return;
      }
      const stop = logs.follow(filter, (line) => res.write(format(line)));
      res.on('close', stop);
      return;
    }
    this.notFound(res);
  }
}
