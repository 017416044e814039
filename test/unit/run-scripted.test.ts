// HerokuRun@1's operation in-process against a scripted Platform API and the emulator's rendezvous
// server (each test decides what Heroku answers and what the dyno writes): the dyno's create body, the
// log lines, the refusals, the stop on every exit without a status, the output cap.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type tls from 'node:tls';
import sinon from 'sinon';
import { DIRECT } from '../../tasks/common/core/base/network';
import { runOneOff } from '../../tasks/common/core/run/run';
import type { RunRequest } from '../../tasks/common/core/run/types';
import { RendezvousServer } from '../emulator/rendezvous';
import { FakeHost } from '../support/fake-host';
import { TEST_CA } from '../support/tls-front';

const MARKER = '\uFFFF heroku-command-exit-status: ';

interface Call {
  method: string;
  path: string;
  body: unknown;
}
type Reply = { status: number; body?: unknown };

/** A Platform API whose answers the test scripts by `METHOD path`; every call recorded with its body. */
async function fakeApi(
  route: (call: Call) => Reply | undefined,
): Promise<{ url: string; calls: Call[]; close(): Promise<void> }> {
  const calls: Call[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const call = { method: req.method ?? '', path: req.url ?? '', body: text ? (JSON.parse(text) as unknown) : undefined };
      calls.push(call);
      const reply = route(call) ?? { status: 404, body: { id: 'not_found', message: 'Not found.' } };
      res.writeHead(reply.status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(reply.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('HerokuRun@1 operation against a scripted Heroku (in-process)', function () {
  this.timeout(20_000);
  const rendezvous = new RendezvousServer();
  let api: Awaited<ReturnType<typeof fakeApi>>;
  /** What the app answers, the create's answer and the stop's, changed by each test. */
  let generation = 'cedar';
  let created: Reply;
  let stopReplies: Reply[];
  let dynoWrites: (socket: tls.TLSSocket) => void;

  before(async () => {
    await rendezvous.listen();
    api = await fakeApi(({ method, path }) => {
      if (method === 'GET' && path === '/account') return { status: 200, body: { id: 'u1', email: 'dev@example.com' } };
      if (method === 'GET' && path === '/apps/my-app')
        return { status: 200, body: { id: 'a1', name: 'my-app', generation: { name: generation } } };
      if (method === 'GET' && path === '/apps/other-app')
        return { status: 422, body: { id: 'invalid_params', message: 'Bad app.' } };
      if (method === 'POST' && path === '/apps/my-app/dynos') return created;
      if (method === 'POST' && path === '/apps/my-app/dynos/run.1/actions/stop') return stopReplies.shift() ?? { status: 202 };
      return undefined;
    });
  });
  after(async () => {
    await api.close();
    await rendezvous.close();
  });
  beforeEach(() => {
    api.calls.length = 0;
    generation = 'cedar';
    stopReplies = [];
    dynoWrites = (socket) => socket.end(`done\n${MARKER}0\n`);
    created = { status: 201, body: { name: 'run.1', attach_url: rendezvous.expect((socket) => dynoWrites(socket)).url } };
  });

  const request = (more: Partial<RunRequest> = {}): RunRequest => ({
    api: { url: api.url, isDefault: false, source: 'the test' },
    apiKey: 'KEY',
    network: { ...DIRECT, caFile: TEST_CA },
    signal: new AbortController().signal,
    appName: 'my-app',
    command: 'rake db:migrate',
    size: null,
    type: 'run',
    env: {},
    timeoutSeconds: 120,
    failOnExitCode: true,
    ...more,
  });
  const posted = (path: string): unknown[] => api.calls.filter((c) => c.method === 'POST' && c.path === path).map((c) => c.body);
  const stops = (): number => posted('/apps/my-app/dynos/run.1/actions/stop').length;
  const afterRunning = (lines: string[]): string[] => lines.slice(lines.findIndex((l) => l.startsWith('Running `')));

  it('sends the command with its marker, no TTY, the type and time to live; size and env only when given', async () => {
    const host = new FakeHost();
    const outcome = await runOneOff(request(), host.log);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.deepEqual(posted('/apps/my-app/dynos'), [
      {
        command: `rake db:migrate ; echo "${MARKER}$?"`,
        attach: true,
        force_no_tty: true,
        type: 'run',
        time_to_live: 120,
      },
    ]);
    assert.deepEqual(afterRunning(host.lines), [
      'Running `rake db:migrate` on my-app in the one-off dyno run.1, for at most 2m00s:',
      'done',
    ]);
    assert.equal(stops(), 0, 'a dyno that reported its status is not stopped');
    assert.ok(outcome.result.durationMs >= 0 && outcome.result.durationMs < 20_000, `duration ${outcome.result.durationMs}`);
  });

  it('sends size and env, and names them (env values not shown)', async () => {
    created = { status: 201, body: { ...(created.body as object), size: 'standard-2x' } };
    const host = new FakeHost();
    const outcome = await runOneOff(
      request({ size: 'standard-2x', env: { A: 'secret-a', B: '' }, timeoutSeconds: 1, type: 'worker' }),
      host.log,
    );
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.deepEqual(posted('/apps/my-app/dynos'), [
      {
        command: `rake db:migrate ; echo "${MARKER}$?"`,
        attach: true,
        force_no_tty: true,
        type: 'worker',
        time_to_live: 1,
        size: 'standard-2x',
        env: { A: 'secret-a', B: '' },
      },
    ]);
    assert.equal(
      afterRunning(host.lines)[0],
      'Running `rake db:migrate` on my-app in the one-off dyno run.1 (standard-2x), for at most 1s with 2 variables of env (values not shown):',
    );
  });

  it('says which exit code failed the task, and where', async () => {
    dynoWrites = (socket) => socket.end(`${MARKER}3\n`);
    const outcome = await runOneOff(request(), new FakeHost().log);
    assert.ok(!outcome.ok, 'a non-zero exit fails');
    assert.equal(
      outcome.failure.message,
      '`rake db:migrate` exited with code 3 in run.1 of my-app: its output is above. (Set failOnExitCode: false to let the job go on after a non-zero exit.)',
    );
  });

  it('refuses a Fir app before starting a dyno, naming HerokuCli@1', async () => {
    generation = 'fir';
    const outcome = await runOneOff(request(), new FakeHost().log);
    assert.ok(!outcome.ok, 'a Fir app is refused');
    assert.equal(outcome.failure.kind, 'input');
    assert.match(
      outcome.failure.message,
      /^my-app is a Fir-generation app\. .*`heroku run:inside <dyno> --exit-code -a my-app -- <command>`/,
    );
    assert.deepEqual(posted('/apps/my-app/dynos'), [], 'no dyno started');
  });

  it('says what it was doing when Heroku refuses the app or the dyno', async () => {
    created = { status: 422, body: { id: 'invalid_params', message: 'Size not allowed.' } };
    const refused = await runOneOff(request(), new FakeHost().log);
    assert.ok(!refused.ok, 'a refused create fails');
    assert.match(refused.failure.message, /starting a one-off dyno/);
    assert.match(refused.failure.message, /Size not allowed/);
    const missing = await runOneOff(request({ appName: 'other-app' }), new FakeHost().log);
    assert.ok(!missing.ok, 'a missing app fails');
    assert.match(missing.failure.message, /reading the app other-app/);
  });

  it('without an attach URL, stops the dyno and says why nothing can be read', async () => {
    created = { status: 201, body: { name: 'run.1', attach_url: null } };
    const host = new FakeHost();
    const outcome = await runOneOff(request(), host.log);
    assert.ok(!outcome.ok, 'no attach URL fails');
    assert.equal(
      outcome.failure.message,
      'Heroku started run.1 without an attach URL, so its output and exit status cannot be read. The dyno run.1 was stopped.',
    );
    assert.ok(
      host.lines.includes('Stopped the one-off dyno run.1 (POST /apps/my-app/dynos/run.1/actions/stop).'),
      host.lines.join('\n'),
    );
    assert.equal(stops(), 1);
  });

  it('a dyno that had already ended is not an error of the stop; a stop that fails names the command to run', async () => {
    created = { status: 201, body: { name: 'run.1', attach_url: null } };
    stopReplies = [{ status: 404, body: { id: 'not_found', message: 'Couldn’t find that dyno.' } }];
    const ended = await runOneOff(request(), new FakeHost().log);
    assert.ok(!ended.ok, 'no attach URL fails');
    assert.match(ended.failure.message, / The dyno run\.1 had already ended\.$/);

    stopReplies = [{ status: 422, body: { id: 'invalid_params', message: 'Cannot stop.' } }];
    const host = new FakeHost();
    const failed = await runOneOff(request(), host.log);
    assert.ok(!failed.ok, 'no attach URL fails');
    assert.match(
      failed.failure.message,
      / Stopping the dyno run\.1 FAILED: it may still be running; stop it with `heroku ps:stop run\.1 -a my-app`\.$/,
    );
    const warning = host.lines.find((l) => l.startsWith('warn: Could not stop the one-off dyno run.1: ')) ?? '';
    assert.ok(warning.includes('stopping the one-off dyno run.1'), host.lines.join('\n'));
    assert.ok(warning.endsWith('Stop it yourself: `heroku ps:stop run.1 -a my-app`.'), warning);
  });

  it('sends the stop again after a 503 (stopping twice is harmless)', async () => {
    created = { status: 201, body: { name: 'run.1', attach_url: null } };
    stopReplies = [{ status: 503, body: { id: 'service_unavailable', message: 'Try again.' } }, { status: 202 }];
    const outcome = await runOneOff(request(), new FakeHost().log);
    assert.ok(!outcome.ok, 'no attach URL fails');
    assert.match(outcome.failure.message, / The dyno run\.1 was stopped\.$/);
    assert.equal(stops(), 2);
  });

  it('names the connection failure when the dyno connection breaks without a status', async () => {
    // A TCP relay in front of the rendezvous server that resets the connection once the dyno wrote.
    const relay = net.createServer((client) => {
      const upstream = net.connect(rendezvous.port, '127.0.0.1');
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        if (chunk.length > 0 && client.writable) client.write(chunk, () => client.resetAndDestroy());
      });
      upstream.on('error', () => undefined);
      client.on('error', () => undefined);
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', () => resolve()));
    const attach = rendezvous.expect((socket) => socket.write('one\n'));
    created = {
      status: 201,
      body: {
        name: 'run.1',
        attach_url: attach.url.replace(`:${rendezvous.port}/`, `:${(relay.address() as AddressInfo).port}/`),
      },
    };
    const outcome = await runOneOff(request(), new FakeHost().log).finally(() => relay.close());
    assert.ok(!outcome.ok, 'no status fails');
    assert.match(
      outcome.failure.message,
      /^The dyno run\.1 ended without reporting an exit status for `rake db:migrate` \(the connection failed: .+\): it was killed/,
    );
    assert.equal(stops(), 1);
  });

  it('a connection that closes after the time to live is a timeout', async () => {
    dynoWrites = (socket) => setTimeout(() => socket.end('still going\n'), 300);
    const outcome = await runOneOff(request({ timeoutSeconds: 0.2 }), new FakeHost().log);
    assert.ok(!outcome.ok, 'no status fails');
    assert.equal(outcome.failure.kind, 'timeout');
    assert.match(
      outcome.failure.message,
      /did not finish within the timeout \(1s\) in run\.1\. The dyno run\.1 was stopped\. Raise/,
    );
  });

  it('a cancel while the attach hangs ends the run at once and stops the dyno', async () => {
    const controller = new AbortController();
    // Accepts the connection and never answers the TLS handshake; the task is cancelled meanwhile.
    const silent = net.createServer(() => controller.abort());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      created = {
        status: 201,
        body: { name: 'run.1', attach_url: `rendezvous://127.0.0.1:${(silent.address() as AddressInfo).port}/s` },
      };
      const started = Date.now();
      const outcome = await runOneOff(request({ signal: controller.signal }), new FakeHost().log);
      assert.ok(!outcome.ok, 'cancel fails');
      assert.ok(Date.now() - started < 3_000, 'does not wait for the attach');
      assert.equal(outcome.failure.kind, 'cancelled');
      assert.equal(
        outcome.failure.message,
        'The task was cancelled while `rake db:migrate` ran in run.1 of my-app. The dyno run.1 was stopped.',
      );
      assert.equal(stops(), 1);
    } finally {
      silent.close();
    }
  });

  it('prints nothing more of the dyno once cancelled, not even the line it was writing', async () => {
    dynoWrites = (socket) => socket.write('started\nhalf a li');
    const controller = new AbortController();
    const host = new FakeHost();
    const log = { ...host.log, info: (line: string) => (host.log.info(line), line === 'started' && controller.abort()) };
    const outcome = await runOneOff(request({ signal: controller.signal }), log);
    assert.ok(!outcome.ok, 'cancel fails');
    assert.equal(outcome.failure.kind, 'cancelled');
    assert.equal(stops(), 1);
    assert.deepEqual(afterRunning(host.lines).slice(1), [
      'started',
      'Stopped the one-off dyno run.1 (POST /apps/my-app/dynos/run.1/actions/stop).',
    ]);
  });

  it('an untrusted rendezvous certificate fails at once, names the agent CA setting, and stops the dyno', async () => {
    const outcome = await runOneOff(request({ network: DIRECT }), new FakeHost().log);
    assert.ok(!outcome.ok, 'an untrusted certificate fails');
    assert.equal(outcome.failure.kind, 'network');
    assert.match(
      outcome.failure.message,
      /^The TLS certificate of the dyno's rendezvous host 127\.0\.0\.1:\d+ is not trusted \([A-Z_]+: .+\)\. .*Agent\.CAInfo.* The dyno run\.1 was stopped\.$/,
    );
    assert.equal(stops(), 1);
  });

  it('a rendezvous host that refuses the connection is named, and the dyno stopped', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    created = { status: 201, body: { name: 'run.1', attach_url: `rendezvous://127.0.0.1:${port}/s` } };
    const outcome = await runOneOff(request(), new FakeHost().log);
    assert.ok(!outcome.ok, 'a refused attach fails');
    assert.equal(outcome.failure.kind, 'network');
    assert.match(
      outcome.failure.message,
      new RegExp(
        `^Could not attach to the dyno at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\. The dyno run\\.1 was stopped\\.$`,
      ),
    );
    assert.equal(stops(), 1);
  });

  it('prints the output up to 50 MB, then says it cut, and still reads the status', async () => {
    const long = 'x'.repeat(51_200);
    const block = `${long}\n`.repeat(64);
    dynoWrites = (socket) => {
      let sent = 0;
      const next = (): void => {
        if (sent++ < 16) socket.write(block, next);
        else socket.end(`over\nmore\nlast\n${MARKER}0\n`);
      };
      next();
    };
    const kept: string[] = [];
    let longLines = 0;
    const host = new FakeHost();
    const log = { ...host.log, info: (line: string) => (line === long ? longLines++ : kept.push(line)) };
    const outcome = await runOneOff(request(), log);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(longLines, 1024, 'every line up to exactly 50 MB printed');
    assert.deepEqual(
      afterRunning(kept).slice(1),
      ['[output cut: more than 50 MB printed; the rest is read for the exit status only]'],
      'the cut is said once, when the output crosses 50 MB, and nothing after it is printed',
    );
  });
  it('a connection that closes without a status names the clean close', async () => {
    dynoWrites = (socket) => socket.end('partial\n');
    const outcome = await runOneOff(request(), new FakeHost().log);
    assert.ok(!outcome.ok, 'no status fails');
    assert.equal(outcome.failure.kind, 'script');
    assert.match(
      outcome.failure.message,
      /^The dyno run\.1 ended without reporting an exit status for `rake db:migrate` \(the connection closed\): it was killed or crashed, or the connection dropped\. .* The dyno run\.1 was stopped\.$/,
    );
  });

  it('a connection that closes at the very end of the time to live is a timeout', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    try {
      dynoWrites = (socket) => socket.write('started\n');
      let dyno: tls.TLSSocket | undefined;
      const attach = rendezvous.expect((socket) => ((dyno = socket), dynoWrites(socket)));
      created = { status: 201, body: { name: 'run.1', attach_url: attach.url } };
      const host = new FakeHost();
      const log = {
        ...host.log,
        info: (line: string) => {
          host.log.info(line);
          if (line !== 'started') return;
          // Exactly the time to live (200 ms) after the dyno was created, the connection closes.
          clock.tick(200);
          dyno?.end();
        },
      };
      const outcome = await runOneOff(request({ timeoutSeconds: 0.2 }), log);
      assert.ok(!outcome.ok, 'no status fails');
      assert.equal(outcome.failure.kind, 'timeout', outcome.failure.message);
      assert.equal(stops(), 1);
    } finally {
      clock.restore();
    }
  });

  describe('with a deadline the test fires', () => {
    let fireDeadline: () => void;
    beforeEach(() => {
      const original = AbortSignal.timeout.bind(AbortSignal);
      // The run's own deadline (time to live plus grace: over an hour here) fires when the test says;
      // the others (each API request's, the attach's 30 s) stay real.
      sinon.stub(AbortSignal, 'timeout').callsFake((ms: number) => {
        if (ms <= 3_600_000) return original(ms);
        const deadline = new AbortController();
        fireDeadline = () => deadline.abort(new DOMException('late', 'TimeoutError'));
        return deadline.signal;
      });
    });
    afterEach(() => sinon.restore());

    it('a deadline passing while the attach hangs is a timeout, and the dyno is stopped', async () => {
      const silent = net.createServer(() => fireDeadline());
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
      try {
        created = {
          status: 201,
          body: { name: 'run.1', attach_url: `rendezvous://127.0.0.1:${(silent.address() as AddressInfo).port}/s` },
        };
        const outcome = await runOneOff(request({ timeoutSeconds: 3_600 }), new FakeHost().log);
        assert.ok(!outcome.ok, 'a timeout fails');
        assert.equal(outcome.failure.kind, 'timeout', outcome.failure.message);
        assert.match(
          outcome.failure.message,
          /^`rake db:migrate` did not finish within the timeout \(.+\) in run\.1\. The dyno run\.1 was stopped\. Raise the timeout/,
        );
        assert.equal(stops(), 1);
      } finally {
        silent.close();
      }
    });

    it('a deadline passing while the dyno still writes ends the run as a timeout, and the dyno is stopped', async () => {
      dynoWrites = (socket) => socket.write('started\n');
      const host = new FakeHost();
      const log = { ...host.log, info: (line: string) => (host.log.info(line), line === 'started' && fireDeadline()) };
      const outcome = await runOneOff(request({ timeoutSeconds: 3_600 }), log);
      assert.ok(!outcome.ok, 'a timeout fails');
      assert.equal(outcome.failure.kind, 'timeout', outcome.failure.message);
      assert.equal(stops(), 1);
    }).timeout(5_000);
  });

  it('ends the run 10 s after the exit status when the connection stays open, without stopping the dyno', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let dyno: tls.TLSSocket | undefined;
    try {
      let statusRead: () => void = () => undefined;
      const read = new Promise<void>((resolve) => (statusRead = resolve));
      dynoWrites = (socket) => {
        dyno = socket;
        socket.write(`done\n${MARKER}0\n`);
      };
      const host = new FakeHost();
      const log = { ...host.log, info: (line: string) => (host.log.info(line), line === 'done' && statusRead()) };
      let settled = false;
      const outcome = runOneOff(request(), log).finally(() => (settled = true));
      await read;
      await clock.tickAsync(9_999);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, 'still reading 9.999 s after the status');
      await clock.tickAsync(1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, true, 'the run ended 10 s after the status');
      const result = await outcome;
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.result.exitCode, 0);
      assert.equal(stops(), 0, 'a dyno that reported its status is not stopped');
    } finally {
      dyno?.destroy();
      clock.restore();
    }
  });
});
