// An HTTPS front on 127.0.0.1 for a plain-http server (the emulator's API or git), with a
// certificate from the test CA in test/fixtures/tls: a client trusts it only if given that CA.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TLS = path.resolve(__dirname, '../fixtures/tls');
export const TEST_CA = path.join(TLS, 'ca.pem');

export async function startTlsFront(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(target);
  const server = https.createServer(
    { key: readFileSync(path.join(TLS, 'server-key.pem')), cert: readFileSync(path.join(TLS, 'server.pem')) },
    (req, res) => {
      const upstream = http.request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
