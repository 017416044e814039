// Heroku's rendezvous service: where an attached one-off dyno's output is read. The client opens TLS
// to the attach_url's host and port (`rendezvous://<host>:<port>/<secret>`), writes the URL's path
// without its leading `/` and `\r\n`; the server greets it with `rendezvous\r\n` (Heroku's CLI
// discards that first chunk: `_readData` in src/lib/run/dyno.ts) and then relays the process.
// The certificate comes from the test CA (test/fixtures/tls): clients trust it only when told to.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

const TLS_DIR = path.resolve(__dirname, '../fixtures/tls');
/** How long a client may take to send its secret, and its longest line. */
const HELLO_TIMEOUT_MS = 10_000;
const MAX_HELLO = 1024;

export type RendezvousCertificate = 'localhost' | 'heroku.test';

export class RendezvousServer {
  private readonly server: tls.Server;
  private readonly waiting = new Map<string, (socket: tls.TLSSocket) => void>();
  private readonly sockets = new Set<tls.TLSSocket>();
  /** Every secret presented, known or not (tests check what a client sent). */
  readonly hellos: string[] = [];

  /**
   * `host` is the name attach URLs carry: 127.0.0.1 by default (certificate for 127.0.0.1 and
   * localhost), or a `*.heroku.test` name (self-signed certificate) reached through the emulator's proxy.
   */
  constructor(
    readonly host = '127.0.0.1',
    certificate: RendezvousCertificate = 'localhost',
  ) {
    const [key, cert] =
      certificate === 'localhost' ? ['server-key.pem', 'server.pem'] : ['heroku-test-key.pem', 'heroku-test.pem'];
    this.server = tls.createServer(
      { key: readFileSync(path.join(TLS_DIR, key)), cert: readFileSync(path.join(TLS_DIR, cert)) },
      (socket) => this.greet(socket),
    );
    this.server.on('tlsClientError', () => undefined);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** A new attach URL; `onAttach` receives the client's socket once it has sent this URL's secret. */
  expect(onAttach: (socket: tls.TLSSocket) => void): { url: string; cancel(): void } {
    const secret = randomBytes(24).toString('hex');
    this.waiting.set(secret, onAttach);
    return { url: `rendezvous://${this.host}:${this.port}/${secret}`, cancel: () => this.waiting.delete(secret) };
  }

  private greet(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    let hello = '';
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    socket.on('error', () => socket.destroy());
    const onData = (chunk: Buffer): void => {
      hello += chunk.toString('latin1');
      const end = hello.indexOf('\r\n');
      if (end < 0) {
        if (hello.length > MAX_HELLO) socket.destroy();
        return;
      }
      socket.off('data', onData);
      clearTimeout(timer);
      const secret = hello.slice(0, end);
      this.hellos.push(secret);
      const attach = this.waiting.get(secret);
      if (!attach) {
        socket.end('invalid secret\r\n');
        return;
      }
      this.waiting.delete(secret);
      socket.write('rendezvous\r\n');
      attach(socket);
    };
    socket.on('data', onData);
  }

  async close(): Promise<void> {
    this.waiting.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
