// How API calls reach Heroku: the agent's proxy (CONNECT for https, proxied requests for http),
// its CA, and one kept-alive connection for successive calls — against local servers and a local proxy.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TaskError } from '../../tasks/common/core/base/errors';
import { isAxiosError, loadHttp } from '../../tasks/common/core/base/http-loader';
import { httpTransport } from '../../tasks/common/core/base/http-transport';
import { DIRECT, gitNetworkConfig, type NetworkSettings } from '../../tasks/common/core/base/network';
import { HerokuApi } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import { HEROKU_TEST_CERT, TEST_CA } from '../support/tls-front';

const TLS = path.resolve(__dirname, '../fixtures/tls');

/** An https server answering JSON, counting the TLS connections made to it. */
async function httpsServer(
  certificate: 'localhost' | 'heroku.test',
): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  const [key, cert] = certificate === 'localhost' ? ['server-key.pem', 'server.pem'] : ['heroku-test-key.pem', 'heroku-test.pem'];
  let connections = 0;
  const server = https.createServer(
    { key: readFileSync(path.join(TLS, key)), cert: readFileSync(path.join(TLS, cert)) },
    (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, authorization: req.headers.authorization ?? null }));
    },
  );
  server.on('secureConnection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A forward proxy on 127.0.0.1: CONNECT tunnels to the port asked, on this machine; a plain-http
 * request (absolute URL) it answers itself. Records each as `METHOD target proxy-authorization`.
 */
async function forwardProxy(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const tunnels = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers['proxy-authorization'] ?? '-'}`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"via":"proxy"}');
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url ?? ''} ${req.headers['proxy-authorization'] ?? '-'}`);
    tunnels.add(socket);
    const upstream = net.connect(Number((req.url ?? '').split(':').pop()), '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of tunnels) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('network: proxy, CA and connections of API calls', () => {
  it('goes direct with no proxy at all, so git gets no proxy setting either', () => {
    assert.equal(DIRECT.proxyFor('https://api.heroku.com'), null);
    assert.deepEqual(gitNetworkConfig('https://git.heroku.com/a.git', DIRECT), []);
  });

  it("trusts the agent's CA file besides the usual roots, and keeps one connection for successive calls", async () => {
    const server = await httpsServer('localhost');
    const network: NetworkSettings = { ...DIRECT, caFile: TEST_CA };
    const api = new HerokuApi({ baseUrl: `https://127.0.0.1:${server.port}`, apiKey: 'KEY', network, maxRetries: 0 });
    assert.deepEqual(await api.get('/account'), { path: '/account', authorization: 'Bearer KEY' });
    assert.deepEqual(await api.get('/apps'), { path: '/apps', authorization: 'Bearer KEY' });
    await server.close();
    assert.equal(server.connections(), 1);
  });

  it('keeps one connection for successive plain-http calls too', async () => {
    let connections = 0;
    const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const api = new HerokuApi({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'KEY' });
    await api.get('/account');
    await api.get('/apps');
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    assert.equal(connections, 1);
  });

  it("sets its transport up when prepared, the agent's CA read then: an unprepared client reads it at its first call", async () => {
    const server = await httpsServer('localhost');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'agent-ca-'));
    const caFile = path.join(dir, 'ca.pem');
    copyFileSync(TEST_CA, caFile);
    const options = { baseUrl: `https://127.0.0.1:${server.port}`, apiKey: 'KEY', network: { ...DIRECT, caFile }, maxRetries: 0 };
    const prepared = new HerokuApi(options);
    const unprepared = new HerokuApi(options);
    try {
      HerokuClient.connect(options, prepared).prepare(); // a task prepares its client, which prepares its API
      await loadHttp(); // the prepared client's transport is made as soon as the stack is loaded
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(
        await prepared.get('/account'),
        { path: '/account', authorization: 'Bearer KEY' },
        'the prepared client trusts the CA it read before the file went',
      );
      await assert.rejects(unprepared.get('/account'), /The agent's CA file \(Agent\.CAInfo\) .*ca\.pem cannot be read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.close();
    }
  });

  it("tells axios's errors (marked isAxiosError: true) from any other thrown value", () => {
    assert.equal(isAxiosError({ isAxiosError: true, message: 'connect ECONNREFUSED' }), true, "axios's mark");
    for (const [value, what] of [
      [new Error('socket hang up'), 'an Error'],
      [{ isAxiosError: 'true' }, 'a mark that is not true itself'],
      [{ isAxiosError: 1 }, 'a truthy mark'],
      [{}, 'an object without the mark'],
      [null, 'null'],
      [undefined, 'undefined'],
      ['isAxiosError', 'a string'],
      [Object.assign(() => undefined, { isAxiosError: true }), 'a function, even marked'],
    ] as const)
      assert.equal(isAxiosError(value), false, what);
  });

  it("refuses a CA file it cannot read, naming it and the agent's setting", () => {
    assert.throws(
      () => httpTransport('https://api.heroku.com', { ...DIRECT, caFile: '/nonexistent/ca.pem' }),
      (error: TaskError) =>
        error instanceof TaskError &&
        error.kind === 'input' &&
        /^The agent's CA file \(Agent\.CAInfo\) \/nonexistent\/ca\.pem cannot be read: .*ENOENT.*\. Fix the agent's certificate settings\.$/.test(
          error.message,
        ),
    );
  });

  it("tunnels https through the agent's proxy with its credentials, trusting the CA behind the tunnel, once for successive calls", async () => {
    const server = await httpsServer('heroku.test');
    const proxy = await forwardProxy();
    const network: NetworkSettings = {
      proxyConfigured: true,
      caFile: HEROKU_TEST_CERT,
      proxyFor: () => ({ url: proxy.url, username: 'agent', password: 'p@ss word' }),
    };
    const api = new HerokuApi({ baseUrl: `https://api.heroku.test:${server.port}`, apiKey: 'KEY', network, maxRetries: 0 });
    assert.deepEqual(await api.get('/account'), { path: '/account', authorization: 'Bearer KEY' });
    assert.deepEqual(await api.get('/apps'), { path: '/apps', authorization: 'Bearer KEY' });
    await proxy.close();
    await server.close();
    assert.deepEqual(proxy.seen, [`CONNECT api.heroku.test:${server.port} ${basic('agent', 'p@ss word')}`]);
    assert.equal(server.connections(), 1);
  });

  it("sends plain-http calls to the agent's proxy, with its credentials (an empty password when it has none)", async () => {
    const proxy = await forwardProxy();
    const through = (proxySettings: NetworkSettings['proxyFor']) =>
      new HerokuApi({
        baseUrl: 'http://api.heroku.test',
        apiKey: 'KEY',
        network: { proxyConfigured: true, proxyFor: proxySettings },
        maxRetries: 0,
      });
    assert.deepEqual(await through(() => ({ url: proxy.url, username: 'agent' })).get('/account'), { via: 'proxy' });
    assert.deepEqual(await through(() => ({ url: proxy.url })).get('/apps'), { via: 'proxy' });
    await proxy.close();
    assert.deepEqual(proxy.seen, [
      `GET http://api.heroku.test/account ${basic('agent', '')}`,
      'GET http://api.heroku.test/apps -',
    ]);
  });

  it("takes the proxy's default port from its scheme when its URL names none", () => {
    const via = (url: string) =>
      httpTransport('http://api.heroku.test', { proxyConfigured: true, proxyFor: () => ({ url }) }).proxy;
    assert.deepEqual(via('http://proxy.example'), { protocol: 'http', host: 'proxy.example', port: 80 });
    assert.deepEqual(via('https://proxy.example'), { protocol: 'https', host: 'proxy.example', port: 443 });
    assert.deepEqual(via('http://proxy.example:3128'), { protocol: 'http', host: 'proxy.example', port: 3128 });
  });
});
