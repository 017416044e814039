// HerokuDeploy@1 when things go wrong around it: a flaky or dead API, a dropped git connection,
// a concurrent build, the agent's proxy, cancellation — and the key never leaking anywhere.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import { basicCredentials } from '../../tasks/common/core/git/push';
import { HEROKU_TEST_CERT, startTlsFront, TEST_CA } from '../support/tls-front';

const exec = promisify(execFile);

/** Every file under `dir` (recursively) that contains `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of await fs.readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && (await fs.readFile(full)).includes(needle)) found.push(full);
    }
  };
  await walk(dir);
  return found;
}

describe('HerokuDeploy@1 reliability and secrecy', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

  it('rides out one 503 and two 429s from the API', async () => {
    const app = await fx.newApp('flaky');
    const repo = await fx.newRepo();
    fx.heroku.faults.apiError(503, { path: '/account', times: 1 });
    fx.heroku.faults.apiError(429, { path: `/apps/${app}`, times: 2, retryAfter: 1 });

    const result = await fx.deploy(app, repo);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    // The reads after the push go out together: which of the app's reads took the two 429s varies.
    const fired = fx.heroku.faults.fired.map((f) => `${f.effect} ${f.path}`);
    assert.equal(fired.filter((f) => f === 'status /account').length, 1, fired.join(', '));
    assert.equal(fired.filter((f) => f.startsWith(`status /apps/${app}`)).length, 2, fired.join(', '));
    assert.equal(fired.length, 3, fired.join(', '));
  });

  it('rides out connection resets', async () => {
    const app = await fx.newApp('resets');
    const repo = await fx.newRepo();
    fx.heroku.faults.apiReset({ path: `/apps/${app}/releases`, times: 2 });
    const result = await fx.deploy(app, repo);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.equal(fx.heroku.faults.fired.length, 2);
  });

  it('fails within the retry budget when the API stays down, saying so', async () => {
    const app = await fx.newApp('dead');
    const repo = await fx.newRepo();
    fx.heroku.faults.apiError(503, { times: 100 });
    const started = Date.now();
    const result = await fx.deploy(app, repo);
    const elapsed = Date.now() - started;
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /Heroku's API failed while checking the API key \(503 service_unavailable: .*, 5 attempts\)/);
    const attempts = fx.heroku.faults.fired.filter((f) => f.path === '/account').length;
    assert.equal(attempts, 5, 'one attempt and four retries');
    assert.ok(elapsed < 35_000, `gave up within the budget (${elapsed} ms)`);
  });

  it('fails within the retry budget when nothing listens at the API URL', async () => {
    const app = await fx.newApp('refused');
    const repo = await fx.newRepo();
    const started = Date.now();
    const result = await fx.deploy(app, repo, { variables: { HEROKU_API_URL: 'http://127.0.0.1:9' } });
    const elapsed = Date.now() - started;
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /^Could not reach Heroku's API at http:\/\/127\.0\.0\.1:9 .*\(ECONNREFUSED, 5 attempts\)/);
    // Four backoffs of at most 0.5 + 1 + 2 + 4 s, plus the task's own start.
    assert.ok(elapsed < 12_000, `gave up after the retries, within the budget (${elapsed} ms)`);
  });

  it('does not repeat a release that may have been created', async () => {
    const app = await fx.newApp('noretry');
    const repo = await fx.newRepo();
    await repo.commit('Release phase', { Procfile: 'web: node server.js\nrelease: echo ok\n' });
    fx.heroku.faults.failNextReleasePhase();
    assert.equal((await fx.deploy(app, repo)).result, 'Failed');
    fx.heroku.faults.apiError(503, { method: 'POST', path: `/apps/${app}/releases`, times: 3 });

    const result = await fx.deploy(app, repo);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.equal(
      fx.heroku.api.requests.filter((r) => r.method === 'POST' && r.path === `/apps/${app}/releases`).length,
      1,
      'the POST was sent once',
    );
    assert.match(result.message, /failed while releasing [0-9a-f]{8} again \(503 service_unavailable: [^,]*\)\./, 'not retried');
    assert.match(result.message, /whether the change was made/);
  });

  it('fails clearly when the git connection drops mid-push, and nothing is released', async () => {
    const app = await fx.newApp('dropped');
    const repo = await fx.newRepo();
    fx.heroku.faults.dropNextGitPush();
    const result = await fx.deploy(app, repo);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /The connection to Heroku's git server dropped during the push/);
    assert.deepEqual(
      (await fx.releases(app)).map((r) => r.version),
      [1, 2],
    );
  });

  it('fails clearly when another build of the app is in progress', async () => {
    const app = await fx.newApp('locked');
    const other = await fx.newRepo();
    const hold = fx.heroku.faults.holdBuilds();
    const held = new Promise<void>((resolve) => (fx.heroku.faults.onBuildHeld = resolve));
    const concurrent = other.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey);
    await held;

    const repo = await fx.newRepo();
    await repo.commit('Mine', { 'message.txt': 'mine\n' });
    const result = await fx.deploy(app, repo);
    hold.release();
    assert.equal((await concurrent).code, 0);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /another build of .* is in progress/);
  });

  it('goes through the agent proxy for the API and git, and not for bypassed hosts', async () => {
    const app = await fx.newApp('proxied');
    const repo = await fx.newRepo();
    // Loopback never goes through a proxy: reach the emulator as https://heroku.test:<port>, a name
    // only the emulator's proxy knows (it tunnels it to 127.0.0.1).
    const api = await startTlsFront(fx.heroku.apiUrl, 'heroku.test');
    const git = await startTlsFront(fx.heroku.gitUrl, 'heroku.test');
    try {
      fx.heroku.proxy.requests.length = 0;
      fx.heroku.proxy.requireCredentials('proxyuser', 'proxy-secret-pw');
      const result = await fx.deploy(app, repo, {
        variables: {
          HEROKU_API_URL: `https://heroku.test:${api.port}`,
          HEROKU_GIT_URL: `https://heroku.test:${git.port}`,
          'Agent.CAInfo': HEROKU_TEST_CERT,
          'Agent.ProxyUrl': fx.heroku.proxyUrl,
          'Agent.ProxyUsername': 'proxyuser',
        },
        secretVariables: { 'Agent.ProxyPassword': 'proxy-secret-pw' },
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      const passed = fx.heroku.proxy.requests.filter((r) => r.status !== 407);
      assert.ok(
        passed.some((r) => r.method === 'CONNECT' && r.url === `heroku.test:${api.port}`),
        'API calls go through the proxy',
      );
      assert.ok(
        passed.some((r) => r.method === 'CONNECT' && r.url === `heroku.test:${git.port}`),
        'git goes through the proxy, with its credentials',
      );
      assert.ok(result.secrets.includes('proxy-secret-pw'), "result.secrets.includes('proxy-secret-pw')");
      assert.ok(!result.gitCommands.some((c) => c.includes('proxy-secret-pw')), 'the proxy password is not in argv');

      fx.heroku.proxy.requests.length = 0;
      const bypassed = await fx.deploy(app, repo, {
        variables: {
          HEROKU_API_URL: `https://heroku.test:${api.port}`,
          HEROKU_GIT_URL: `https://heroku.test:${git.port}`,
          'Agent.CAInfo': HEROKU_TEST_CERT,
          'Agent.ProxyUrl': fx.heroku.proxyUrl,
          'Agent.ProxyBypassList': '["heroku\\\\.test"]',
        },
      });
      // Bypassed, the task goes direct, where nothing resolves heroku.test: it fails to reach it.
      assert.equal(fx.heroku.proxy.requests.length, 0, 'bypassed hosts go direct');
      assert.equal(bypassed.result, 'Failed', describeRun(bypassed));
      assert.match(bypassed.message, /Could not reach Heroku's API at https:\/\/heroku\.test/);
    } finally {
      await api.close();
      await git.close();
    }
  });

  it("trusts the agent's CA (Agent.CAInfo) for the API and for git, and says what to do without it", async () => {
    const app = await fx.newApp('tls');
    const repo = await fx.newRepo();
    const api = await startTlsFront(fx.heroku.apiUrl);
    const git = await startTlsFront(fx.heroku.gitUrl);
    try {
      const variables = { HEROKU_API_URL: api.url, HEROKU_GIT_URL: git.url };
      const untrusted = await fx.deploy(app, repo, { variables });
      assert.equal(untrusted.result, 'Failed', describeRun(untrusted));
      assert.match(untrusted.message, /The TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted .*Agent\.CAInfo/);

      const trusted = await fx.deploy(app, repo, { variables: { ...variables, 'Agent.CAInfo': TEST_CA } });
      assert.equal(trusted.result, 'Succeeded', describeRun(trusted));
      assert.equal(trusted.outputs.releaseVersion, '3', 'the push went through git over TLS as well');
    } finally {
      await api.close();
      await git.close();
    }
  });

  it('stops git when cancelled mid-push, and no release lands afterwards', async () => {
    const app = await fx.newApp('cancel');
    const repo = await fx.newRepo();
    const hold = fx.heroku.faults.holdBuilds();
    let sent = false;
    fx.heroku.faults.onBuildHeld = () => undefined;
    const result = await fx.deploy(app, repo, {
      onLine: (line, child) => {
        // The build is held on Heroku: cancel as the agent does (SIGINT, then SIGTERM).
        if (!sent && line.includes('Building source:')) {
          sent = true;
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGTERM'), 5000).unref();
        }
      },
    });
    assert.ok(sent, 'the build started');
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /cancelled/);
    const { stdout } = await exec('ps', ['-eo', 'args']);
    assert.ok(!stdout.split('\n').some((l) => l.includes(`${app}.git`)), 'no git process is left');
    hold.release();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(
      (await fx.releases(app)).map((r) => r.version),
      [1, 2],
      'no release landed after the cancel',
    );
  });

  it('never writes the key or its Basic form anywhere but ##vso[task.setsecret]', async () => {
    const app = await fx.newApp('secret');
    const repo = await fx.newRepo();
    const key = fx.heroku.apiKey;
    const basic = basicCredentials(key);
    const ok = await fx.deploy(app, repo);
    await repo.commit('Broken build', { 'package.json': '{"name":"x","scripts":{"build":"exit 1","start":"node server.js"}}' });
    const failed = await fx.deploy(app, repo);
    assert.equal(ok.result, 'Succeeded', describeRun(ok));
    assert.equal(failed.result, 'Failed', describeRun(failed));

    for (const result of [ok, failed]) {
      assert.ok(result.secrets.includes(key) && result.secrets.includes(basic), 'both forms are registered as secrets');
      assert.ok(!result.printed.includes(key) && !result.printed.includes(basic), 'stdout has no key');
      assert.ok(!result.stderr.includes(key) && !result.stderr.includes(basic), 'stderr has no key');
      assert.ok(!result.gitCommands.some((c) => c.includes(key) || c.includes(basic)), 'no git argv has the key');
      assert.deepEqual(await filesContaining(result.tempDirectory, key), [], 'no file in the agent temp directory has the key');
      assert.deepEqual(await filesContaining(result.tempDirectory, basic), []);
    }
    assert.deepEqual(await filesContaining(repo.dir, key), [], 'no file in the checkout (.git/config included) has the key');
    assert.deepEqual(await filesContaining(repo.dir, basic), []);
    assert.equal(await repo.git('remote'), '', 'no remote was added to the checkout');
  });
});
