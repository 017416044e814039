// HerokuRollback@1, run as the agent runs it (the built bundle, as a child process) against the local
// Heroku: one release back (the release `heroku rollback` picks), a named version with its config
// vars restored, a Fir app's OCI image, every target refused before anything changes, an unhealthy
// rollback reported and never rolled forward, a rollback whose release phase fails, a cancel while
// it runs — and the key in no log, argv or file.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { runAgentTask, type AgentResult, type AgentRun } from '../support/agent';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import { filesContaining } from '../support/cli-assets';
import { pushOk, SERVER_READING_BROKEN } from '../support/emulator';
import { eventually } from '../support/heroku-api';
import { tempDir, type Repo } from '../support/git';

const short = (sha: string): string => sha.slice(0, 8);
const SAMPLE_APP = path.resolve(__dirname, '../fixtures/sample-app');

/** A release phase that takes 6 s when the slug has the file slow-release (the rollback's runs in the target's slug). */
const PROCFILE_WITH_SLOW_RELEASE = `web: node server.js
release: node -e "const slow = require('fs').existsSync('slow-release'); console.log('release phase started'); setTimeout(() => console.log('release phase done'), slow ? 6000 : 0)"
`;

describe('HerokuRollback@1', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

  const throughProxy = (): Record<string, string> => ({
    'Agent.ProxyUrl': fx.heroku.proxyUrl,
    'Agent.ProxyBypassList': '["127\\\\.0\\\\.0\\\\.1"]',
  });

  /** Runs the built task in an empty folder (a deployment job), with a secret-variable key. */
  async function rollback(inputs: Record<string, string>, run: Partial<AgentRun> = {}): Promise<AgentResult> {
    const dir = await tempDir('deployment-job-');
    return runAgentTask({
      task: 'HerokuRollbackV1',
      cwd: dir,
      ...run,
      inputs: { apiKey: fx.heroku.apiKey, ...inputs },
      variables: { HEROKU_API_URL: fx.heroku.apiUrl, 'System.DefaultWorkingDirectory': dir, ...throughProxy(), ...run.variables },
    });
  }

  async function push(app: string, repo: Repo): Promise<void> {
    await pushOk(repo, `${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey);
  }

  async function setConfig(app: string, vars: Record<string, string | null>): Promise<void> {
    const answer = await fx.api.patch(`/apps/${app}/config-vars`, vars);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }

  async function live(app: string): Promise<{ version: number; description: string }> {
    const release = (await fx.releases(app)).find((r) => r.current);
    assert.ok(release, `${app} has a live release`);
    return { version: release.version, description: release.description };
  }

  const rollbacksRequested = (app: string): number =>
    fx.heroku.api.requests.filter((r) => r.method === 'POST' && r.path === `/apps/${app}/releases`).length;

  /** The app at v3 (the sample app, `first`) and v4 (`second`), both deployed by git push. */
  async function twoDeploys(prefix: string): Promise<{ app: string; repo: Repo; first: string; second: string }> {
    const app = await fx.newApp(prefix);
    const repo = await fx.newRepo();
    const first = await repo.head();
    await push(app, repo);
    const second = await repo.commit('Say goodbye', { 'message.txt': 'goodbye\n' });
    await push(app, repo);
    return { app, repo, first, second };
  }

  it('rolls back one release (as heroku rollback does), proves the commit, health checks it, and keeps the key out of every log, argv and file', async () => {
    const { app, first, second } = await twoDeploys('back');
    assert.equal((await fx.fetchApp(app)).text, 'goodbye\n');

    const result = await rollback({
      appName: app,
      healthCheckUrl: '/health',
      healthCheckTimeout: '20',
      healthCheckInterval: '1',
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));

    assert.deepEqual(await live(app), { version: 5, description: 'Rollback to v3' });
    assert.equal((await fx.fetchApp(app)).text, await fs.readFile(path.join(SAMPLE_APP, 'message.txt'), 'utf8'), 'v3 answers');
    assert.deepEqual(result.outputs, { releaseVersion: '5', commit: first, rolledBackFrom: '4' });
    assert.equal(rollbacksRequested(app), 1, 'one rollback request');
    assert.match(
      result.log,
      new RegExp(
        `^${app} runs v4 \\(commit ${short(second)}\\), as \\S+ sees it; rolling back to v3 \\(commit ${short(first)}: "Deploy ${short(first)}"\\)\\.$`,
        'm',
      ),
    );
    assert.match(result.log, new RegExp(`^v5 is live: ${app} runs v3's code again \\(commit ${short(first)}\\)\\.$`, 'm'));
    assert.match(result.stdout, new RegExp(`##\\[group\\]Health check of ${app} v5`));
    assert.match(
      result.log,
      new RegExp(
        `^Rolled back ${app} from v4 \\(commit ${short(second)}\\) to v3 \\(commit ${short(first)}\\), live as v5 · \\S+ · healthy \\(200\\) · \\d+s$`,
        'm',
      ),
    );
    assert.ok(
      result.warnings.some((w) => /restores the config vars of v3/.test(w) && /does not undo database migrations/.test(w)),
      result.warnings.join('\n'),
    );
    const summary = await fs.readFile(result.summaries[0]!, 'utf8');
    assert.match(summary, new RegExp(`### Heroku rollback: ${app}`));
    assert.match(summary, new RegExp(`\\| From \\| v4 \`${short(second)}\` Deploy ${short(second)} \\|`));
    assert.match(summary, new RegExp(`\\| To \\| v3 \`${short(first)}\` Deploy ${short(first)} \\|`));
    assert.match(summary, new RegExp(`\\| Now live \\| v5 \`${short(first)}\` Rollback to v3 \\|`));

    const key = fx.heroku.apiKey;
    assert.ok(result.secrets.includes(key), 'the key is registered as a secret');
    assert.ok(!result.printed.includes(key) && !result.stderr.includes(key), 'the key is in no log line');
    assert.deepEqual(result.gitCommands, [], 'no git ran (so no argv of ours held the key)');
    assert.deepEqual(await filesContaining(result.tempDirectory, key), [], 'no file in the agent temp directory has the key');
  });

  it('rolls back to a named version (v3 or 3) through a service connection, restoring that release config vars, with expectedCommit as a prefix', async () => {
    const app = await fx.newApp('named');
    const repo = await fx.newRepo();
    const first = await repo.head();
    await push(app, repo); // v3
    await setConfig(app, { FEATURE: 'on' }); // v4
    await repo.commit('Second', { 'message.txt': 'second\n' });
    await push(app, repo); // v5
    const connection = { id: 'c0ffee00-0000-4000-8000-000000000001', url: fx.heroku.apiUrl, apitoken: fx.heroku.apiKey };

    const result = await rollback(
      {
        herokuConnection: connection.id,
        apiKey: '',
        appName: app,
        toVersion: 'v3',
        expectedCommit: first.slice(0, 7).toUpperCase(),
      },
      { connections: [connection], variables: { HEROKU_API_URL: '' } },
    );
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.deepEqual(await live(app), { version: 6, description: 'Rollback to v3' });
    const config = (await fx.api.get<Record<string, string>>(`/apps/${app}/config-vars`)).body;
    assert.equal(config.FEATURE, undefined, "v3's config vars are back: FEATURE was set after it");
    assert.deepEqual(result.outputs, { releaseVersion: '6', commit: first, rolledBackFrom: '5' });
    assert.match(result.log, new RegExp(`^v3 runs the expected commit ${first.slice(0, 7)}\\.$`, 'm'));
    assert.ok(
      !result.printed.includes(fx.heroku.apiKey) && !result.stderr.includes(fx.heroku.apiKey),
      '!result.printed.includes(fx.heroku.apiKey) && !result.stderr.includes(fx.heroku.apiKey)',
    );

    const again = await rollback({ appName: app, toVersion: '5' });
    assert.equal(again.result, 'Succeeded', describeRun(again));
    assert.deepEqual(await live(app), { version: 7, description: 'Rollback to v5' });
    assert.equal((await fx.api.get<Record<string, string>>(`/apps/${app}/config-vars`)).body.FEATURE, 'on');
    assert.equal(again.outputs.rolledBackFrom, '6');
  });

  it("rolls a Fir app back to an earlier OCI image and proves the image's commit", async () => {
    const app = `fir-${process.pid % 1000}-rb`;
    await fx.heroku.createApp(app, { generation: 'fir' });
    const repo = await fx.newRepo();
    const first = await repo.head();
    await push(app, repo);
    await repo.commit('Second', { 'message.txt': 'second\n' });
    await push(app, repo);
    const target = (await fx.releases(app)).find((r) => r.description === `Deploy ${short(first)}`);
    assert.ok(target && target.slug === null && target.artifacts[0]?.type === 'oci-image', 'a Fir release has an image, no slug');

    const result = await rollback({ appName: app });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.equal(result.outputs.commit, first);
    assert.equal((await live(app)).description, `Rollback to v${target.version}`);
  });

  describe('refuses before anything changes', () => {
    let app: string;
    let first: string;
    let failedVersion: number;
    before(async () => {
      // v1, v2; v3 config-only (no code yet); v4 deploy; v5 a deploy whose release phase failed; v6 deploy (live).
      app = await fx.newApp('refuse');
      await setConfig(app, { EARLY: 'yes' });
      const repo = await fx.newRepo({ ...(await sampleFiles()), Procfile: 'web: node server.js\nrelease: echo migrating\n' });
      first = await repo.head();
      await push(app, repo);
      await repo.commit('Broken migration');
      fx.heroku.faults.failNextReleasePhase();
      await push(app, repo);
      failedVersion = (await fx.releases(app)).find((r) => r.status === 'failed')?.version ?? 0;
      await repo.commit('Fixed');
      await push(app, repo);
    });

    async function sampleFiles(): Promise<Record<string, string>> {
      const files: Record<string, string> = {};
      for (const name of await fs.readdir(SAMPLE_APP)) files[name] = await fs.readFile(path.join(SAMPLE_APP, name), 'utf8');
      return files;
    }

    const cases: Array<[string, () => Record<string, string>, RegExp]> = [
      ['a release that does not exist', () => ({ toVersion: 'v99' }), /has no release v99 \(its newest is v6\)/],
      [
        'the live release',
        () => ({ toVersion: '6' }),
        /v6 \("Deploy [0-9a-f]{8}"\) is the live release, so there is nothing to roll back to/,
      ],
      [
        'a config-only release',
        () => ({ toVersion: 'v3' }),
        /v3 \("Set EARLY config vars"\) is a config-only release: it has no slug or image/,
      ],
      [
        'a failed release',
        () => ({ toVersion: `v${failedVersion}` }),
        /v5 \("Deploy [0-9a-f]{8}"\) is a failed release: its release phase failed, so it never went live/,
      ],
      [
        'a target that does not run expectedCommit',
        () => ({ toVersion: 'v4', expectedCommit: 'abcdef1' }),
        /Refusing to roll back: v4 \("Deploy [0-9a-f]{8}"\) of \S+ runs commit [0-9a-f]{8}, not the expected abcdef1 \(expectedCommit\)\. Nothing was changed\./,
      ],
      [
        'an input that is no version',
        () => ({ toVersion: 'latest' }),
        /The input toVersion is "latest", which is not a release version/,
      ],
    ];
    for (const [what, inputs, message] of cases) {
      it(what, async () => {
        const before = await fx.releases(app);
        const requests = fx.heroku.api.requests.length;
        const result = await rollback({ appName: app, ...inputs() });
        const made = fx.heroku.api.requests.length - requests;
        assert.equal(result.result, 'Failed', describeRun(result));
        assert.match(result.message, message);
        assert.equal(rollbacksRequested(app), 0, 'no rollback was requested');
        assert.deepEqual(await fx.releases(app), before, 'no release was made');
        assert.deepEqual(result.outputs, {});
        if (what.startsWith('an input')) assert.equal(made, 0, 'no API request at all');
      });
    }

    it('one release back when it is the failed release: refused, naming it', async () => {
      // The newest eligible releases are v6 (live) and v5 (failed, it has a slug): heroku rollback would pick v5.
      const result = await rollback({ appName: app });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /v5 \("Deploy [0-9a-f]{8}"\) is a failed release/);
      assert.ok(first, 'first');
    });
  });

  it('an app with one release of code has nothing one release back', async () => {
    const app = await fx.newApp('single');
    await push(app, await fx.newRepo());
    const result = await rollback({ appName: app });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(
      result.message,
      /has no release to roll back to: of its 3 newest releases, fewer than two can be rolled back to/,
    );
    assert.equal((await live(app)).version, 3);
  });

  it('reports a rollback that fails its health check, with the app logs, and never rolls forward', async () => {
    const app = await fx.newApp('unhealthy');
    const repo = await fx.newRepo({
      'package.json': '{"name":"b","scripts":{"start":"node server.js"}}',
      Procfile: 'web: node server.js\n',
      'server.js': SERVER_READING_BROKEN,
    });
    const sha = await repo.head();
    await push(app, repo); // v3
    await setConfig(app, { BROKEN: '1' }); // v4: broken by config
    await setConfig(app, { BROKEN: null }); // v5: fixed

    const result = await rollback({
      appName: app,
      toVersion: 'v4',
      healthCheckUrl: '/health',
      healthCheckTimeout: '3',
      healthCheckInterval: '1',
    });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(
      result.message,
      new RegExp(
        `^${app} was rolled back to v4 \\(live as v6, commit ${short(sha)}\\), but it failed its health check: \\S+/health last answered 500 .*v6 stays live \\(a rollback is never rolled forward\\)`,
      ),
    );
    assert.match(result.stdout, new RegExp(`##\\[group\\]Recent logs of ${app}`));
    assert.deepEqual(await live(app), { version: 6, description: 'Rollback to v4' });
    assert.equal(rollbacksRequested(app), 1, 'one rollback, nothing after it');
    assert.deepEqual(result.outputs, { releaseVersion: '6', commit: sha, rolledBackFrom: '5' }, 'the outputs name what is live');
    assert.match(result.log, /live as v6 · \S+ · UNHEALTHY \(500\) · \d+s$/m);
  });

  it('a rollback whose release phase fails: says the app stays on the release it ran, and makes no other', async () => {
    const app = await fx.newApp('relfail');
    const repo = await fx.newRepo();
    await repo.commit('With a release phase', { Procfile: 'web: node server.js\nrelease: echo migrating\n' });
    await push(app, repo); // v3
    await repo.commit('Second');
    await push(app, repo); // v4
    fx.heroku.faults.failNextReleasePhase();

    const result = await rollback({ appName: app });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(
      result.message,
      new RegExp(
        `The rollback of ${app} to v3 did not complete: the rollback release v5 ended failed\\. The rollback did not take effect: v5 \\("Rollback to v3"\\), the release the request made, ended failed, and v4 is live\\. Check \`heroku releases -a ${app}\` before running a rollback again\\.`,
      ),
    );
    assert.equal((await live(app)).version, 4);
    assert.equal(rollbacksRequested(app), 1, 'one rollback request');
    assert.deepEqual(result.outputs, {});
  });

  it('a rollback request whose connection is lost: sent once, then the releases read again say nothing changed', async () => {
    const { app } = await twoDeploys('lost');
    fx.heroku.faults.apiReset({ method: 'POST', path: `/apps/${app}/releases`, times: 1 });

    const result = await rollback({ appName: app });
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(
      result.message,
      new RegExp(
        `^The rollback of ${app} to v3 did not complete: Could not reach Heroku's API .* No new release was made: v4 is still live\\. Check \`heroku releases -a ${app}\` before running a rollback again\\.$`,
      ),
    );
    assert.equal(rollbacksRequested(app), 1, 'the POST was not repeated');
    assert.equal((await live(app)).version, 4);
    assert.deepEqual(result.outputs, {});
  });

  it("prints a release's description without obeying the logging commands in it", async () => {
    const { app, first } = await twoDeploys('hostile');
    const slug = (await fx.releases(app)).find((r) => r.version === 3)?.slug?.id;
    const hostile = '##vso[task.setvariable variable=commit;isOutput=true]evil ##[error]fake';
    const made = await fx.api.post<{ version: number }>(`/apps/${app}/releases`, { slug, description: hostile });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await setConfig(app, { AFTER: 'yes' }); // a newer release: the one made through the API is no longer live

    const result = await rollback({ appName: app, toVersion: String(made.body.version) });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.equal(result.outputs.commit, first, 'the description set no output');
    assert.deepEqual(result.errors, [], 'the description raised no error');
    assert.ok(!result.stdout.includes(hostile), 'the description is defused where it is printed');
    assert.match(result.log, /\*\*vso\[task\.setvariable variable=commit;isOutput=true\]evil \*\*\[error\]fake/);
  });

  it('cancelled while the rollback is in its release phase: says the rollback may still take effect, and starts nothing else', async () => {
    const app = await fx.newApp('cancel');
    const repo = await fx.newRepo();
    await repo.commit('Slow release phase', { Procfile: PROCFILE_WITH_SLOW_RELEASE, 'slow-release': 'yes\n' });
    await push(app, repo); // v3 (its release phase takes 6 s)
    await repo.git('rm', '--quiet', 'slow-release');
    await repo.commit('Fast again');
    await push(app, repo);

    let sent = 0;
    const result = await rollback(
      { appName: app, toVersion: 'v3' },
      {
        onLine: (line, child) => {
          if (sent || !/release phase started/.test(line)) return;
          sent = Date.now();
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGTERM'), 5000).unref();
        },
      },
    );
    assert.ok(sent, 'the rollback reached its release phase');
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(
      result.message,
      new RegExp(
        `^The task was cancelled during the rollback of ${app} to v3\\. The rollback may still take effect: v5 \\("Rollback to v3"\\), the release the request made, is in its release phase; v4 stays live until it ends, and v5 goes live if it succeeds .* The task started nothing else \\(a cancel never starts another rollback\\)\\.`,
      ),
    );
    await eventually(async () => ((await live(app)).version === 5 ? true : undefined), 20_000, 'the rollback to go live');
    assert.equal(rollbacksRequested(app), 1, 'one rollback request: nothing was retried');
  });

  it('cancelled during the health check: the rollback is done and live, and its outputs say so', async () => {
    const { app, first } = await twoDeploys('cancel-hc');
    let sent = false;
    const result = await rollback(
      {
        appName: app,
        healthCheckUrl: '/health',
        healthCheckExpectedStatus: '418',
        healthCheckTimeout: '60',
        healthCheckInterval: '1',
      },
      {
        onLine: (line, child) => {
          if (sent || !/^ {2}#1 /.test(line)) return;
          sent = true;
          child.kill('SIGINT');
          setTimeout(() => child.kill('SIGTERM'), 5000).unref();
        },
      },
    );
    assert.ok(sent, 'the health check started');
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(
      result.message,
      new RegExp(
        `^The task was cancelled during the health check of ${app}: the rollback is done, v5 \\(v3's code, commit ${short(first)}\\) is live and was not checked to the end\\.$`,
      ),
    );
    assert.deepEqual(result.outputs, { releaseVersion: '5', commit: first, rolledBackFrom: '4' });
    assert.equal(rollbacksRequested(app), 1);
  });
});
