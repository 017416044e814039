// An HTTP server on 127.0.0.1 (an ephemeral port unless one is asked for) that can be closed with
// its open connections: what every part of the emulator listens with.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export class LoopbackServer {
  readonly server: http.Server;
  url = '';

  constructor(handler: http.RequestListener) {
    this.server = http.createServer(handler);
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
