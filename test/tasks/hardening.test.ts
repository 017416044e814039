// HerokuDeploy@1 under attack and faults: cancellation at every wait, hostile output and peers,
// slow and broken servers, two deploys racing, odd inputs. Each test runs the built task as the
// agent does, against the emulator or a small hostile server made here.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import type { AgentResult } from '../support/agent';

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

/** The `task.setvariable` commands the agent would obey, by variable name. */
function variablesSet(result: AgentResult): string[] {
  return result.commands.filter((c) => c.name === 'task.setvariable').map((c) => c.properties.variable ?? '');
}

describe('HerokuDeploy@1 under attack and faults', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

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
      assert.ok(result.stdout.includes('**[error]from the build'));
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
      assert.match(result.message, /The input configVars line 1 uses \$\(Token\.Part\), but the pipeline variable Token\.Part is not defined/);
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
});
