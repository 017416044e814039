// HerokuDeploy@1 under attack and faults: cancellation at every wait, hostile output and peers,
// slow and broken servers, two deploys racing, odd inputs. Each test runs the built task as the
// agent does, against the emulator or a small hostile server made here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import type { AgentResult, AgentRun } from '../support/agent';
import type { Repo } from '../support/git';

const exec = promisify(execFile);

/** Starts a plain HTTP server on 127.0.0.1 with `handler`; closed by the returned function. */
async function hostileServer(handler: http.RequestListener): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The emulator's API behind a front that answers `overrides` itself (by `METHOD /path`) and forwards
 * everything else: a broken or hostile Heroku API in front of a real one.
 */
async function interposedApi(
  apiUrl: string,
  overrides: Record<string, http.RequestListener>,
): Promise<{ url: string; close(): Promise<void> }> {
  const to = new URL(apiUrl);
  return hostileServer((req, res) => {
    const override = overrides[`${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`];
    if (override) return void override(req, res);
    const upstream = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}

/** Answers 200 with `first`, then one byte a second, never ending. */
function trickle(first = ''): http.RequestListener {
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(first);
    const timer = setInterval(() => res.write(' '), 1000);
    res.on('close', () => clearInterval(timer));
  };
}

/** An app with a worker process at 1 dyno, deployed once (v3): ready for a safe deploy to stop it. */
async function appWithWorker(prefix: string): Promise<{ app: string; repo: Repo }> {
  const app = await fx.newApp(prefix);
  const repo = await fx.newRepo();
  await repo.commit('Worker', { Procfile: 'web: node server.js\nworker: node -e "setInterval(() => {}, 1000)"\n' });
  const first = await fx.deploy(app, repo);
  assert.equal(first.result, 'Succeeded', describeRun(first));
  await fx.api.patch(`/apps/${app}/formation/worker`, { quantity: 1 });
  await repo.commit('Next', { 'message.txt': 'next\n' });
  return { app, repo };
}

/** The app's maintenance flag and worker quantity, as Heroku has them now. */
async function appState(app: string): Promise<{ maintenance: boolean; worker: number | undefined }> {
  const info = (await fx.api.get<{ maintenance: boolean }>(`/apps/${app}`)).body;
  const formation = (await fx.api.get<Array<{ type: string; quantity: number }>>(`/apps/${app}/formation`)).body;
  return { maintenance: info.maintenance, worker: formation.find((f) => f.type === 'worker')?.quantity };
}

/**
 * Sends SIGINT as the agent does at the first log line matching `match` (seen after one matching
 * `after`, when given), SIGTERM 5 s later; `sentAt()` is when SIGINT went.
 */
function cancelOn(match: RegExp, after?: RegExp): { onLine: NonNullable<AgentRun['onLine']>; sentAt: () => number | null } {
  let sentAt: number | null = null;
  let armed = after === undefined;
  return {
    onLine: (line, child) => {
      if (sentAt !== null) return;
      if (!armed) {
        armed = after?.test(line) ?? true;
        return;
      }
      if (!match.test(line)) return;
      sentAt = Date.now();
      child.kill('SIGINT');
      setTimeout(() => child.kill('SIGTERM'), 5000).unref();
    },
    sentAt: () => sentAt,
  };
}

/** The `task.setvariable` commands the agent would obey, by variable name. */
function variablesSet(result: AgentResult): string[] {
  return result.commands.filter((c) => c.name === 'task.setvariable').map((c) => c.properties.variable ?? '');
}

let fx: DeployFixture;

describe('HerokuDeploy@1 under attack and faults', function () {
  this.timeout(120_000);
  fx = DeployFixture.forSuite();

  describe('4. the key goes to the configured git host only', () => {
    /** A git host that redirects every request to `to` (another port or host), which forwards to the emulator. */
    async function redirectingGit(toHost: string): Promise<{
      gitUrl: string;
      seen: Array<{ path: string; authorization: string | undefined }>;
      close(): Promise<void>;
    }> {
      const seen: Array<{ path: string; authorization: string | undefined }> = [];
      const emulatorGit = new URL(fx.heroku.gitUrl);
      // The other host serves the repository without asking for credentials (it has its own), so
      // git goes on to POST the pack there: what a client sends it is what leaks.
      const own = `Basic ${Buffer.from(`heroku:${fx.heroku.apiKey}`).toString('base64')}`;
      const target = await hostileServer((req, res) => {
        seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
        const headers = { ...req.headers, authorization: own };
        const upstream = http.request(
          { host: emulatorGit.hostname, port: emulatorGit.port, method: req.method, path: req.url, headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        req.pipe(upstream);
      });
      const redirector = await hostileServer((req, res) => {
        res.writeHead(302, { Location: `http://${toHost}:${target.port}${req.url ?? '/'}` });
        res.end();
      });
      return {
        gitUrl: redirector.url,
        seen,
        close: async () => {
          await redirector.close();
          await target.close();
        },
      };
    }

    for (const toHost of ['127.0.0.1', 'localhost']) {
      it(`does not follow a git redirect to ${toHost === '127.0.0.1' ? 'another port' : 'another host'}, and says so`, async () => {
        const app = await fx.newApp('redirect');
        const repo = await fx.newRepo();
        const git = await redirectingGit(toHost);
        try {
          const result = await fx.deploy(app, repo, { variables: { HEROKU_GIT_URL: git.gitUrl } });
          assert.equal(result.result, 'Failed', describeRun(result));
          assert.deepEqual(
            git.seen.filter((r) => r.authorization !== undefined),
            [],
            'the redirect target never got the key',
          );
          assert.match(result.message, /redirect/i);
          assert.match(result.message, /HEROKU_GIT_URL/);
          assert.deepEqual(
            (await fx.releases(app)).map((r) => r.version),
            [1, 2],
            'nothing was released',
          );
        } finally {
          await git.close();
        }
      });
    }
  });

  describe('5. text from outside never becomes a logging command', () => {
    it('defuses ##vso[ and ##[ in commit subjects, build output, app logs and the health-check body', async () => {
      const app = await fx.newApp('inject');
      const repo = await fx.newRepo();
      await repo.commit('##vso[task.setvariable variable=FROM_SUBJECT]pwned', {
        'package.json': JSON.stringify({
          name: 'inject',
          scripts: { build: "echo '##vso[task.setvariable variable=FROM_BUILD]pwned' && echo '##[error]from the build'" },
        }),
        'server.js': [
          "const http = require('node:http');",
          "console.log('##vso[task.setvariable variable=FROM_APP_LOG]pwned');",
          'http.createServer((req, res) => {',
          "  res.writeHead(500, { 'Content-Type': 'text/plain' });",
          "  res.end('##vso[task.setvariable variable=FROM_BODY]pwned');",
          '}).listen(Number(process.env.PORT));',
        ].join('\n'),
      });
      const result = await fx.deploy(app, repo, {
        inputs: { healthCheckUrl: '/', healthCheckTimeout: '3', healthCheckInterval: '1', rollbackOnFailure: 'false' },
        variables: { 'Agent.ProxyUrl': fx.heroku.proxyUrl },
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.deepEqual(
        variablesSet(result).filter((name) => name.startsWith('FROM_')),
        [],
        'no outside text set a variable',
      );
      assert.ok(!result.stdout.split('\n').some((l) => l.startsWith('##[error]from')), 'no ##[error] line from the build');
      // Each source was printed, defused: the test would prove nothing if they were not shown at all.
      for (const source of ['FROM_SUBJECT', 'FROM_BUILD', 'FROM_APP_LOG', 'FROM_BODY'])
        assert.ok(result.stdout.includes(`**vso[task.setvariable variable=${source}]pwned`), `${source} is shown, defused`);
      assert.ok(result.stdout.includes('**[error]from the build'), "result.stdout.includes('**[error]from the build')");
      assert.ok(!result.message.includes('##vso['), 'the failure message (with the body excerpt) is defused too');
    });

    it("defuses Heroku's own error messages", async () => {
      const app = await fx.newApp('inject-api');
      const repo = await fx.newRepo();
      fx.heroku.faults.apiError(422, {
        path: `/apps/${app}`,
        id: 'invalid_params',
        message: '##vso[task.setvariable variable=FROM_API]pwned',
      });
      const result = await fx.deploy(app, repo);
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.deepEqual(
        variablesSet(result).filter((name) => name.startsWith('FROM_')),
        [],
      );
      assert.match(result.message, /\*\*vso\[task\.setvariable variable=FROM_API\]pwned/);
    });
  });

  describe('8. loopback never goes through a proxy', () => {
    it('sends a plain-http loopback API and git URL direct, even with Agent.ProxyUrl set', async () => {
      const app = await fx.newApp('loopback');
      const repo = await fx.newRepo();
      fx.heroku.proxy.requests.length = 0;
      const result = await fx.deploy(app, repo, { variables: { 'Agent.ProxyUrl': fx.heroku.proxyUrl } });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.deepEqual(
        fx.heroku.proxy.requests.map((r) => r.url),
        [],
        'the proxy saw nothing (so never the key in clear)',
      );
    });
  });

  describe('12. inputs read the way they are typed', () => {
    it('reads CR, LF and CRLF config var lines alike and ignores spaces around =', async () => {
      const app = await fx.newApp('crlf');
      const repo = await fx.newRepo();
      const result = await fx.deploy(app, repo, { inputs: { configVars: 'FIRST=1\rSECOND = two words \r\nTHIRD=3' } });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      const vars = (await fx.api.get<Record<string, string>>(`/apps/${app}/config-vars`)).body;
      assert.deepEqual([vars.FIRST, vars.SECOND, vars.THIRD], ['1', 'two words', '3']);
    });

    it('names an undefined $(VARIABLE) in configVars, never the text around it, before any change', async () => {
      const app = await fx.newApp('macro');
      const repo = await fx.newRepo();
      const result = await fx.deploy(app, repo, { inputs: { configVars: 'TOKEN=hunter2$(Token.Part)suffix' } });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(
        result.message,
        /The input configVars line 1 uses \$\(Token\.Part\), but the pipeline variable Token\.Part is not defined/,
      );
      assert.ok(!/hunter2|suffix/.test(result.stdout), 'the value around the macro is not printed');
      assert.deepEqual(
        (await fx.releases(app)).map((r) => r.version),
        [1, 2],
      );
    });

    it('says so when workingDirectory is a file', async () => {
      const app = await fx.newApp('wdfile');
      const repo = await fx.newRepo();
      const result = await fx.deploy(app, repo, { inputs: { workingDirectory: `${repo.dir}/server.js` } });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /The workingDirectory .*server\.js is a file, not a folder/);
    });
  });

  describe('1. cancel reaches every API call and wait, and the undo still runs', () => {
    it('undoes maintenance and stopped workers when cancelled while the API hangs after the push', async () => {
      const { app, repo } = await appWithWorker('cancel-api');
      // After the push, the release reads hang (as an API that stopped answering).
      fx.heroku.faults.apiDelay(60_000, { method: 'GET', path: `/apps/${app}/releases`, times: 10 });
      // After git has exited: the push group's end comes after Heroku's last line.
      const cancel = cancelOn(/^##\[endgroup\]/, /deployed to Heroku/);
      const result = await fx.deploy(app, repo, {
        inputs: { maintenanceMode: 'true', stopProcessTypes: 'worker' },
        onLine: cancel.onLine,
      });
      const stoppedAfter = Date.now() - (cancel.sentAt() ?? Date.now());
      assert.ok(cancel.sentAt(), 'the push ran');
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /cancelled/);
      assert.ok(stoppedAfter < 7000, `the task ended ${stoppedAfter} ms after SIGINT, before the agent kills it`);
      assert.deepEqual(await appState(app), { maintenance: false, worker: 1 }, 'maintenance off and the worker back');
    });

    it('starts no step after cancel: no config var release when cancelled during a slow stop', async () => {
      const { app, repo } = await appWithWorker('cancel-step');
      fx.heroku.faults.apiDelay(3000, { method: 'PATCH', path: `/apps/${app}/formation`, times: 1 });
      const before = (await fx.releases(app)).length;
      const cancel = cancelOn(/##\[group\]Stop worker/);
      const result = await fx.deploy(app, repo, {
        inputs: { stopProcessTypes: 'worker', configVars: 'NEW_FLAG=on' },
        onLine: cancel.onLine,
      });
      assert.ok(cancel.sentAt(), 'the stop step started');
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /cancelled/);
      await new Promise((resolve) => setTimeout(resolve, 3500)); // the slow call lands meanwhile
      const vars = (await fx.api.get<Record<string, string>>(`/apps/${app}/config-vars`)).body;
      assert.equal(vars.NEW_FLAG, undefined, 'the config vars were not set');
      assert.equal((await fx.releases(app)).length, before, 'no release was made');
      assert.match(result.log, /Restore worker: back to worker=1/, 'the undo ran');
    });
  });

  describe('2. cancel during the health check is cancel, not unhealthy', () => {
    it('rolls nothing back and says which release is live', async () => {
      const app = await fx.newApp('cancel-health');
      const repo = await fx.newRepo();
      assert.equal((await fx.deploy(app, repo)).result, 'Succeeded'); // v3, a release to roll back to
      await repo.commit('Slow to start', { 'message.txt': 'next\n' });
      const unhealthy = await hostileServer((_req, res) => {
        res.writeHead(503);
        res.end('warming up');
      });
      try {
        const cancel = cancelOn(/#2 {2}503/);
        const result = await fx.deploy(app, repo, {
          inputs: { healthCheckUrl: `${unhealthy.url}/health`, healthCheckTimeout: '60', healthCheckInterval: '1' },
          onLine: cancel.onLine,
        });
        assert.ok(cancel.sentAt(), 'the health check ran');
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(result.message, /cancelled during the health check of .*: v4 is live .*Nothing was rolled back/);
        assert.doesNotMatch(result.stdout, /ROLLBACK|Rolling back/);
        assert.equal(result.outputs.rolledBack, 'false');
        assert.deepEqual(
          (await fx.releases(app)).map((r) => r.version),
          [1, 2, 3, 4],
          'no rollback release',
        );
      } finally {
        await unhealthy.close();
      }
    });
  });

  describe('6. every request has a total deadline and every body a cap', () => {
    it('gives up on an API that trickles its answer, within the API budget', async () => {
      const app = await fx.newApp('trickle-api');
      const repo = await fx.newRepo();
      const api = await interposedApi(fx.heroku.apiUrl, { 'GET /account': trickle('{') });
      try {
        const started = Date.now();
        const result = await fx.deploy(app, repo, { variables: { HEROKU_API_URL: api.url } });
        const elapsed = Date.now() - started;
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(result.message, /Could not reach Heroku's API at .* while checking the API key \(ETIMEDOUT, 2 attempts\)/);
        assert.ok(elapsed < 40_000, `gave up within the 30 s budget (${elapsed} ms)`);
      } finally {
        await api.close();
      }
    });

    it('refuses an API answer over 10 MB, saying so', async () => {
      const app = await fx.newApp('huge-api');
      const repo = await fx.newRepo();
      const api = await interposedApi(fx.heroku.apiUrl, {
        'GET /account': (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ email: 'x@example.com', padding: 'x'.repeat(11 * 1024 * 1024) }));
        },
      });
      try {
        const result = await fx.deploy(app, repo, { variables: { HEROKU_API_URL: api.url } });
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(result.message, /gave an answer the task cannot use .*GET \/account answered with more than 10 MB/);
      } finally {
        await api.close();
      }
    });

    it('keeps healthCheckTimeout with a health endpoint that trickles, and reads only the start of an endless body', async () => {
      const app = await fx.newApp('trickle-health');
      const repo = await fx.newRepo();
      const slow = await hostileServer(trickle('o'));
      const endless = await hostileServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'k');
        res.write('ok ');
        const pump = (): void => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        pump();
      });
      try {
        const started = Date.now();
        const trickled = await fx.deploy(app, repo, {
          inputs: {
            healthCheckUrl: `${slow.url}/health`,
            healthCheckTimeout: '5',
            healthCheckInterval: '1',
            rollbackOnFailure: 'false',
          },
        });
        assert.equal(trickled.result, 'Failed', describeRun(trickled));
        assert.match(
          trickled.message,
          /failed its health check: .* last answered no answer after \d+ ms \(no answer: no full answer within \d+s\) within 5 s/,
        );
        assert.ok(Date.now() - started < 25_000, 'the 5 s health check did not run on');

        const healthy = await fx.deploy(app, repo, {
          inputs: { healthCheckUrl: `${endless.url}/`, healthCheckExpectedText: 'ok', healthCheckTimeout: '10' },
        });
        assert.equal(healthy.result, 'Succeeded', describeRun(healthy));
        assert.equal(healthy.outputs.healthCheckStatus, '200');
      } finally {
        await slow.close();
        await endless.close();
      }
    });

    it('stops git when the git host accepts and never answers, saying so', async () => {
      const app = await fx.newApp('silent-git');
      const repo = await fx.newRepo();
      const silent = await hostileServer(() => undefined);
      try {
        const started = Date.now();
        // GIT_HTTP_LOW_SPEED_TIME shortens the window of the low-speed limit the task sets (300 s).
        const result = await fx.deploy(app, repo, {
          variables: { HEROKU_GIT_URL: silent.url },
          env: { GIT_HTTP_LOW_SPEED_TIME: '3' },
        });
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(result.message, /sent nothing for/);
        assert.ok(Date.now() - started < 30_000, 'Date.now() - started < 30_000');
      } finally {
        await silent.close();
      }
    });
  });

  describe('7. a /regex/ can never hang the task', () => {
    it('stops a catastrophic pattern within a second per attempt and explains it', async () => {
      const app = await fx.newApp('redos');
      const repo = await fx.newRepo();
      const body = await hostileServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`${'a'.repeat(41)}!`);
      });
      try {
        const started = Date.now();
        const result = await fx.deploy(app, repo, {
          inputs: {
            healthCheckUrl: `${body.url}/`,
            healthCheckExpectedText: '/(a+)+$/',
            healthCheckTimeout: '3',
            healthCheckInterval: '1',
            rollbackOnFailure: 'false',
          },
        });
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(result.message, /\/\(a\+\)\+\$\/ took over 1 s to match and was stopped: simplify the pattern/);
        assert.ok(Date.now() - started < 30_000, 'Date.now() - started < 30_000');
      } finally {
        await body.close();
      }
    });

    it('refuses a pattern that does not compile before any change', async () => {
      const app = await fx.newApp('badregex');
      const repo = await fx.newRepo();
      const result = await fx.deploy(app, repo, { inputs: { healthCheckUrl: '/health', healthCheckExpectedText: '/(/' } });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /healthCheckExpectedText is not a valid regular expression/);
      assert.deepEqual(
        (await fx.releases(app)).map((r) => r.version),
        [1, 2],
      );
    });
  });

  describe('9. answers of the wrong shape fail early, naming the host', () => {
    it('explains an HTML page where the API should answer JSON', async () => {
      const app = await fx.newApp('html-api');
      const repo = await fx.newRepo();
      const api = await interposedApi(fx.heroku.apiUrl, {
        'GET /account': (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          res.end('<html><body>Sign in to the corporate network</body></html>');
        },
      });
      try {
        const result = await fx.deploy(app, repo, { variables: { HEROKU_API_URL: api.url } });
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(
          result.message,
          new RegExp(
            `^The Heroku API at ${api.url} gave an answer the task cannot use while checking the API key: GET /account answered 200 with text/html instead of JSON`,
          ),
        );
      } finally {
        await api.close();
      }
    });

    it('explains a releases list that is not a list', async () => {
      const app = await fx.newApp('shape-api');
      const repo = await fx.newRepo();
      const api = await interposedApi(fx.heroku.apiUrl, {
        [`GET /apps/${app}/releases`]: (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end('{"releases":[]}');
        },
      });
      try {
        const result = await fx.deploy(app, repo, { variables: { HEROKU_API_URL: api.url } });
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(result.message, /GET \/apps\/.*\/releases answered with a JSON object where a list was expected/);
        assert.doesNotMatch(result.message, /is not a function|Unexpected error/);
      } finally {
        await api.close();
      }
    });
  });

  describe('3. git dies with the task', () => {
    it('stops git when the task is killed (SIGKILL) mid-push, and no release lands afterwards', async function () {
      if (process.platform === 'win32') this.skip(); // no process groups: see the README's limits
      const app = await fx.newApp('killed');
      const repo = await fx.newRepo();
      const hold = fx.heroku.faults.holdBuilds();
      let killed = false;
      try {
        const result = await fx.deploy(app, repo, {
          onLine: (line, child) => {
            if (killed || !line.includes('Building source:')) return;
            killed = true;
            child.kill('SIGKILL'); // as the agent does when a task outlives its cancel timeout
          },
        });
        assert.ok(killed, 'the build started');
        assert.equal(result.signal, 'SIGKILL');
        let left: string[] = [];
        for (let i = 0; i < 50; i++) {
          const { stdout } = await exec('ps', ['-eo', 'args']);
          left = stdout.split('\n').filter((l) => l.includes(`${app}.git`));
          if (left.length === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.deepEqual(left, [], 'no git process is left');
      } finally {
        hold.release();
      }
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(
        (await fx.releases(app)).map((r) => r.version),
        [1, 2],
        'no release landed after the kill',
      );
    });
  });

  describe('10. two deploys of one app: the loser leaves the winner alone', () => {
    it("does not undo maintenance or restore workers under the winner's build", async () => {
      const { app, repo } = await appWithWorker('race');
      // A second commit on top of what Heroku runs, beside the first: either push is a fast-forward.
      const next = await repo.head();
      await repo.git('checkout', '--quiet', '--detach', 'HEAD~1');
      const alternative = await repo.commit('Alternative', { 'message.txt': 'alternative\n' });
      await repo.git('checkout', '--quiet', '--detach', next);
      // Both runs read the app and its formation before either changes them, as two jobs started together do.
      fx.heroku.faults.apiBarrier(2, { method: 'GET', path: new RegExp(`^/apps/${app}$`) });
      fx.heroku.faults.apiBarrier(2, { method: 'GET', path: `/apps/${app}/formation` });
      const hold = fx.heroku.faults.holdBuilds();
      const inputs = { maintenanceMode: 'true', stopProcessTypes: 'worker' };
      let winnerDone!: Promise<AgentResult>;
      let loser: AgentResult;
      try {
        const held = new Promise<void>((resolve) => (fx.heroku.faults.onBuildHeld = resolve));
        const first = fx.deploy(app, repo, { inputs });
        const second = fx.deploy(app, repo, { inputs: { ...inputs, ref: alternative } });
        await held;
        // One build holds the lock; the other run is refused by it and ends while that build runs.
        const ended = await Promise.race([first.then((r) => ({ r, other: second })), second.then((r) => ({ r, other: first }))]);
        loser = ended.r;
        winnerDone = ended.other;
        assert.equal(loser.result, 'Failed', describeRun(loser));
        assert.match(loser.message, /another build of .* is in progress/);
        assert.deepEqual(await appState(app), { maintenance: true, worker: 0 }, "the winner's changes stand during its build");
        assert.ok(
          loser.warnings.some((w) => /Maintenance mode off: not done, another deploy .* is running/.test(w)),
          loser.warnings.join('\n'),
        );
      } finally {
        hold.release();
      }
      const winner = await winnerDone;
      assert.equal(winner.result, 'Succeeded', describeRun(winner));
      assert.deepEqual(await appState(app), { maintenance: false, worker: 1 }, 'the winner undid them at its end');
    });
  });

  describe("11. the release is the build's, from the Platform API", () => {
    it('is not fooled by a release command that prints "Released v2"', async () => {
      const app = await fx.newApp('schema');
      const repo = await fx.newRepo();
      assert.equal((await fx.deploy(app, repo)).result, 'Succeeded'); // v3
      await repo.commit('Migrations', {
        Procfile: 'web: node server.js\nrelease: echo "Released v2 of the schema"\n',
      });
      const result = await fx.deploy(app, repo);
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.match(result.stdout, /Released v2 of the schema/, 'the release command printed it');
      assert.equal(result.outputs.releaseVersion, '4');
      assert.equal(result.outputs.previousReleaseVersion, '3');
    });
  });
});
