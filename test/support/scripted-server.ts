// A scripted HTTP peer for in-process tests: answers in order, every request recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'reset';

/** An HTTP server on 127.0.0.1 that gives `answers` in order (then 200 `{}`), recording each request. */
export async function scriptedServer(
  answers: Answer[],
): Promise<{ url: string; requests: http.IncomingHttpHeaders[]; calls: string[]; close(): Promise<void> }> {
  const requests: http.IncomingHttpHeaders[] = [];
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    calls.push(`${req.method ?? ''} ${req.url ?? ''}`);
    const answer = answers.shift() ?? { status: 200, body: {} };
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function refusingUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
