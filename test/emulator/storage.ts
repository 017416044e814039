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

  /**
   * A source blob's pre-signed URLs, as S3's: the put_url takes a PUT, the get_url a GET, each only
   * with its own signature and before it expires; a request carrying an Authorization header is
   * refused (S3 allows one auth mechanism), and every request is recorded.
   */
  private async source(req: http.IncomingMessage, res: http.ServerResponse, id: string, url: URL): Promise<void> {
    const { state } = this.platform;
    state.storageRequests.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: { ...req.headers } });
    const refuse = (status: number, code: string, message: string): void => {
      res.writeHead(status, { 'Content-Type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    const blob = state.sources.get(id);
    if (!blob) return refuse(404, 'NoSuchKey', 'The specified key does not exist.');
    if (req.headers.authorization !== undefined)
      return refuse(
        400,
        'InvalidArgument',
        'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter should be specified',
      );
    const signature = url.searchParams.get('X-Amz-Signature');
    const wanted = req.method === 'PUT' ? blob.putSignature : req.method === 'GET' ? blob.getSignature : null;
    if (!wanted || signature !== wanted)
      return refuse(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    if (Date.now() > blob.expiresAt) return refuse(403, 'AccessDenied', 'Request has expired');
    if (req.method === 'PUT') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      blob.data = Buffer.concat(chunks);
      const last = blob.data.length - 1;
      if (this.platform.faults.takeSourceCorruption() && last >= 0) blob.data[last] = (blob.data[last] ?? 0) ^ 0xff;
      res.writeHead(200, { ETag: '"emulated"' });
      res.end();
      return;
    }
    if (!blob.data) return refuse(404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.data.length });
    res.end(blob.data);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://storage.invalid');
    const [, kind, id, sub] = url.pathname.split('/');
    const { state } = this.platform;
    if (kind === 'sources' && id) return this.source(req, res, id, url);
    if (kind === 'streams' && id && sub) {
      let stream: OutputStream | null | undefined;
      for (const app of state.apps.values()) {
        if (id === 'builds') stream ??= app.builds.find((b) => b.id === sub)?.output;
        if (id === 'releases') stream ??= app.releases.find((r) => r.id === sub)?.output;
      }
      if (!stream) return this.notFound(res);
      state.storageRequests.push({ method: req.method ?? 'GET', url: req.url ?? '', headers: { ...req.headers } });
      // Heroku's build output honours `Range: bytes=N-` (a client resumes a dropped stream there).
      const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
      let skip = range ? Number(range[1]) : 0;
      const drop = id === 'builds' ? this.platform.faults.takeBuildStreamDrop() : undefined;
      let budget = drop ?? Infinity;
      res.writeHead(skip > 0 ? 206 : 200, { 'Content-Type': 'text/plain; charset=utf-8' });
      for await (const text of stream.follow()) {
        if (res.destroyed) return;
        let chunk = Buffer.from(text, 'utf8');
        if (skip > 0) {
          const skipped = Math.min(skip, chunk.length);
          skip -= skipped;
          chunk = chunk.subarray(skipped);
        }
        if (chunk.length === 0) continue;
        if (chunk.length >= budget) {
          // The fault: the connection drops mid-stream, after exactly `drop` bytes (mid-line as it happens).
          res.write(chunk.subarray(0, budget));
          await new Promise((resolve) => setTimeout(resolve, 20));
          res.socket?.destroy();
          return;
        }
        budget -= chunk.length;
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
