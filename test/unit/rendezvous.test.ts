// The rendezvous attach in-process: through the agent's proxy (a CONNECT tunnel, its credentials, its
// refusal explained with the port), and a cancel while the attach is under way.
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT, type NetworkSettings, type ProxySettings } from '../../tasks/common/core/base/network';
import { openRendezvous } from '../../tasks/common/core/heroku/rendezvous';
import { RendezvousServer } from '../emulator/rendezvous';
import { HEROKU_TEST_CERT, TEST_CA } from '../support/tls-front';

const TLS = path.dirname(TEST_CA);

/**
 * A CONNECT proxy on 127.0.0.1 (or `host`): tunnels every authority to 127.0.0.1 at its port, or
 * refuses with `refuse`; over TLS with `secure` (the test CA's certificate for 127.0.0.1).
 */
async function connectProxy(
  refuse: number | null,
  { secure = false, host = '127.0.0.1' } = {},
): Promise<{ url: string; seen: Array<{ path: string; headers: http.IncomingHttpHeaders }>; close(): Promise<void> }> {
  const seen: Array<{ path: string; headers: http.IncomingHttpHeaders }> = [];
  const server = secure
    ? https.createServer({
        key: readFileSync(path.join(TLS, 'server-key.pem')),
        cert: readFileSync(path.join(TLS, 'server.pem')),
      })
    : http.createServer();
  server.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    client.on('error', () => undefined);
    if (refuse !== null) {
      client.end(`HTTP/1.1 ${refuse} Proxy Authentication Required\r\n\r\n`);
      return;
    }
    const port = Number(new URL(`http://${req.url ?? ''}`).port);
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return {
    url: `${secure ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const through = (proxy: ProxySettings): NetworkSettings => ({
  proxyFor: () => proxy,
  proxyConfigured: true,
  caFile: HEROKU_TEST_CERT,
});

describe('the rendezvous attach (in-process)', function () {
  this.timeout(10_000);
  const rendezvous = new RendezvousServer('rendezvous.heroku.test', 'heroku.test');
  before(() => rendezvous.listen());
  after(() => rendezvous.close());
  const noSignal = new AbortController().signal;

  it('opens a CONNECT tunnel through the proxy, with its credentials, and sends the secret over TLS', async () => {
    const proxy = await connectProxy(null);
    try {
      let greeted: (text: string) => void = () => undefined;
      const read = new Promise<string>((resolve) => (greeted = resolve));
      const attach = rendezvous.expect((socket) => socket.write('hello\n'));
      const socket = await openRendezvous(attach.url, through({ url: proxy.url, username: 'u', password: 'p:w' }), noSignal);
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
        if (text.endsWith('hello\n')) greeted(text);
      });
      assert.equal(await read, 'rendezvous\r\nhello\n');
      socket.destroy();
      const authority = `rendezvous.heroku.test:${rendezvous.port}`;
      assert.deepEqual(
        proxy.seen.map((s) => [s.path, s.headers.host, s.headers['proxy-authorization']]),
        [[authority, authority, `Basic ${Buffer.from('u:p:w').toString('base64')}`]],
      );
      assert.equal(rendezvous.hellos.at(-1), attach.url.slice(attach.url.lastIndexOf('/') + 1));
    } finally {
      await proxy.close();
    }
  });

  it("trusts an https proxy's certificate from the agent's CA, and reaches a proxy at an IPv6 address", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'rendezvous-ca-'));
    const bundle = path.join(dir, 'agent-ca.pem');
    await fs.writeFile(bundle, [readFileSync(HEROKU_TEST_CERT, 'utf8'), readFileSync(TEST_CA, 'utf8')].join('\n'));
    const secure = await connectProxy(null, { secure: true });
    const v6 = await connectProxy(null, { host: '::1' });
    try {
      for (const proxy of [secure, v6]) {
        const attach = rendezvous.expect((socket) => socket.end('hi\n'));
        const socket = await openRendezvous(attach.url, { ...through({ url: proxy.url }), caFile: bundle }, noSignal);
        socket.destroy();
        assert.equal(proxy.seen.length, 1, `${proxy.url} tunnelled the attach`);
      }
      // Without the CA that signed the proxy's certificate, the proxy is not trusted.
      await assert.rejects(
        openRendezvous(rendezvous.expect(() => undefined).url, through({ url: secure.url }), noSignal),
        (e: unknown) =>
          e instanceof TaskError && /^Could not reach the agent's proxy 127\.0\.0\.1:\d+ to attach to the dyno: /.test(e.message),
      );
    } finally {
      await secure.close();
      await v6.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('sends no credentials to a proxy without a user, and an empty password when none is set', async () => {
    const proxy = await connectProxy(null);
    try {
      for (const settings of [{ url: proxy.url }, { url: proxy.url, username: 'u' }]) {
        const attach = rendezvous.expect((socket) => socket.end());
        const socket = await openRendezvous(attach.url, through(settings), noSignal);
        socket.destroy();
      }
      assert.deepEqual(
        proxy.seen.map((s) => s.headers['proxy-authorization']),
        [undefined, `Basic ${Buffer.from('u:').toString('base64')}`],
      );
    } finally {
      await proxy.close();
    }
  });

  it("explains a proxy's refusal with the port to allow", async () => {
    const proxy = await connectProxy(407);
    try {
      const attach = rendezvous.expect(() => undefined);
      const host = new URL(proxy.url).host;
      const authority = `rendezvous.heroku.test:${rendezvous.port}`;
      await assert.rejects(
        openRendezvous(attach.url, through({ url: proxy.url }), noSignal),
        (e: unknown) =>
          e instanceof TaskError &&
          e.kind === 'network' &&
          e.message.startsWith(
            `The agent's proxy ${host} refused to open a tunnel to ${authority} (HTTP 407 Proxy Authentication Required). One-off dynos are attached over TLS on port ${rendezvous.port} of Heroku's rendezvous hosts`,
          ),
      );
    } finally {
      await proxy.close();
    }
  });

  it('attaches to an IPv6 rendezvous host, asking the proxy for it in brackets', async () => {
    const proxy = await connectProxy(null);
    try {
      const secret =
        rendezvous
          .expect(() => undefined)
          .url.split('/')
          .at(-1) ?? '';
      const authority = `[2001:db8::1]:${rendezvous.port}`;
      // The proxy tunnels to the test's server, whose certificate does not name that address.
      await assert.rejects(
        openRendezvous(`rendezvous://${authority}/${secret}`, through({ url: proxy.url }), noSignal),
        (e: unknown) =>
          e instanceof TaskError &&
          e.message.startsWith(
            `The TLS certificate of the dyno's rendezvous host ${authority} is not trusted (ERR_TLS_CERT_ALTNAME_INVALID: `,
          ),
      );
      assert.deepEqual(
        proxy.seen.map((s) => [s.path, s.headers.host]),
        [[authority, authority]],
        'CONNECT [2001:db8::1]:port',
      );
    } finally {
      await proxy.close();
    }
  });

  it('names a proxy it cannot reach', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const host = `127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      openRendezvous(rendezvous.expect(() => undefined).url, through({ url: `http://${host}` }), noSignal),
      (e: unknown) =>
        e instanceof TaskError &&
        e.kind === 'network' &&
        new RegExp(`^Could not reach the agent's proxy ${host} to attach to the dyno: .*ECONNREFUSED`).test(e.message),
    );
  });

  it('is cancelled at once when the signal aborts during the attach', async () => {
    const controller = new AbortController();
    const silent = net.createServer(() => controller.abort());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const where = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await assert.rejects(
        openRendezvous(`rendezvous://${where}/s`, through({ url: 'http://127.0.0.1:9' }), controller.signal),
        (e: unknown) =>
          e instanceof TaskError && e.kind === 'cancelled' && e.message.includes(`attaching to the dyno at ${where}`),
      );
    } finally {
      silent.close();
    }
  });

  it('connects to nothing when the task was cancelled before the attach', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const where = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(
        openRendezvous(`rendezvous://${where}/s`, through({ url: 'http://127.0.0.1:9' }), AbortSignal.abort()),
        (e: unknown) =>
          e instanceof TaskError && e.kind === 'cancelled' && e.message.includes(`attaching to the dyno at ${where}`),
      );
      assert.equal(connections, 0, 'no connection is made once cancelled');
    } finally {
      server.close();
    }
  });
  it("reaches a proxy given without a port on its scheme's port: 80 for http, 443 for https", async () => {
    for (const [url, port] of [
      ['http://127.0.0.1', 80],
      ['https://127.0.0.1', 443],
    ] as const) {
      await assert.rejects(
        openRendezvous(rendezvous.expect(() => undefined).url, through({ url }), noSignal),
        (e: unknown) =>
          e instanceof TaskError &&
          new RegExp(
            `^Could not reach the agent's proxy 127\\.0\\.0\\.1 to attach to the dyno: .*127\\.0\\.0\\.1:${port}\\b`,
          ).test(e.message),
        `${url} is tried on port ${port}`,
      );
    }
  });

  describe('with a connect deadline the test fires', () => {
    /** The deadlines openRendezvous asked for, and the controllers that fire them. */
    let deadlines: Array<{ ms: number; fire: AbortController }>;
    beforeEach(() => {
      deadlines = [];
      sinon.stub(AbortSignal, 'timeout').callsFake((ms: number) => {
        const fire = new AbortController();
        deadlines.push({ ms, fire });
        return fire.signal;
      });
    });
    afterEach(() => sinon.restore());

    it('gives up on a host that never completes the TLS handshake, saying it waited 30 s', async () => {
      const silent = net.createServer(() => deadlines.forEach((d) => d.fire.abort(new DOMException('late', 'TimeoutError'))));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      try {
        const where = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
        await assert.rejects(
          openRendezvous(`rendezvous://${where}/s`, { ...DIRECT, caFile: HEROKU_TEST_CERT }, noSignal),
          (e: unknown) =>
            e instanceof TaskError &&
            e.kind === 'network' &&
            e.message ===
              `Could not attach to the dyno at ${where} within 30 s: check that the agent may reach ${where} (TLS), directly or through its proxy.`,
        );
        assert.deepEqual(
          deadlines.map((d) => d.ms),
          [30_000],
          'one 30 s deadline',
        );
      } finally {
        silent.close();
      }
    });

    it('leaves the connection open once attached: the deadline covers the attach only', async () => {
      let attach = { url: '' };
      const dyno = new Promise<net.Socket>((resolve) => (attach = rendezvous.expect(resolve)));
      const proxy = await connectProxy(null);
      const socket = await openRendezvous(attach.url, through({ url: proxy.url }), noSignal);
      try {
        deadlines.forEach((d) => d.fire.abort(new DOMException('late', 'TimeoutError')));
        assert.equal(socket.destroyed, false, 'the deadline passing after the attach does not close the connection');
        const read = new Promise<string>((resolve) => {
          let text = '';
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => {
            text += chunk;
            if (text.endsWith('later\n')) resolve(text);
          });
        });
        (await dyno).write('later\n');
        assert.match(await read, /later\n$/, 'what the dyno writes after the deadline is read');
      } finally {
        socket.destroy();
        await proxy.close();
      }
    });
  });
});
