// A stand-in for the pipeline's origin repository on Azure Repos: git over smart HTTP (real
// `git http-backend`) that answers only to `Authorization: bearer <the pipeline's token>`, and
// records what each request sent.
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface OriginServer {
  /** URL of the repository, e.g. http://127.0.0.1:4567/project/_git/app */
  url: string;
  requests: Array<{ method: string; path: string; authorization: string | null }>;
  close(): Promise<void>;
}

/** Serves the bare repository `bareRepo` at `<url>`; one of `tokens` is required as a bearer token. */
export async function startOriginServer(bareRepo: string, tokens: string[]): Promise<OriginServer> {
  const requests: OriginServer['requests'] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin.invalid');
    requests.push({ method: req.method ?? 'GET', path: url.pathname, authorization: req.headers.authorization ?? null });
    const bearer = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.includes(bearer)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="origin"' });
      res.end('unauthorized\n');
      return;
    }
    const prefix = '/project/_git/app';
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404);
      res.end();
      return;
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: path.dirname(bareRepo),
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${path.basename(bareRepo)}${url.pathname.slice(prefix.length)}`,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: '127.0.0.1',
      GIT_CONFIG_NOSYSTEM: '1',
      // Fetching a shallow clone deeper needs the server to allow it.
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'uploadpack.allowReachableSHA1InWant',
      GIT_CONFIG_VALUE_0: 'true',
    };
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);
    const backend = spawn('git', ['http-backend'], { env });
    req.pipe(backend.stdin);
    let head = Buffer.alloc(0);
    let sentHeaders = false;
    backend.stdout.on('data', (chunk: Buffer) => {
      if (sentHeaders) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sentHeaders = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    backend.on('close', () => res.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/project/_git/app`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
