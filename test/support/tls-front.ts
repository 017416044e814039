// An HTTPS front on 127.0.0.1 for a plain-http server (the emulator's API or git), with a
// certificate from the test CA in test/fixtures/tls: a client trusts it only if given that CA.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TLS = path.resolve(__dirname, '../fixtures/tls');
export const TEST_CA = path.join(TLS, 'ca.pem');

/** A self-signed certificate for `heroku.test` and `*.heroku.test` (it is its own CA). */
export const HEROKU_TEST_CERT = path.join(TLS, 'heroku-test.pem');

/**
 * `certificate: 'heroku.test'` serves the `heroku.test` certificate (reach it through the emulator's
 * proxy, which tunnels that name to 127.0.0.1); the default one is for 127.0.0.1 and localhost.
 */
export async function startTlsFront(
  target: string,
  certificate: 'localhost' | 'heroku.test' = 'localhost',
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const to = new URL(target);
  const [key, cert] = certificate === 'localhost' ? ['server-key.pem', 'server.pem'] : ['heroku-test-key.pem', 'heroku-test.pem'];
  const server = https.createServer(
    { key: readFileSync(path.join(TLS, key)), cert: readFileSync(path.join(TLS, cert)) },
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
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
