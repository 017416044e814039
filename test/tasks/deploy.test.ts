// HerokuDeploy@1, run as the agent runs it (the built bundle, as a child process) against the local
// Heroku: each outcome, both credential paths, what is reported.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { DeployFixture, describeRun } from '../support/deploy-fixture';

describe('HerokuDeploy@1 outcomes', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

  it('deploys a slashed branch from a detached HEAD and reports the release from the Platform API', async () => {
    const app = await fx.newApp('feature');
    const repo = await fx.newRepo();
    const sha = await repo.commit('Say hello from the feature', { 'message.txt': 'hello from feature/login\n' });
    await repo.git('checkout', '--quiet', '--detach', sha);

    const result = await fx.deploy(app, repo, {
      variables: {
        'Build.SourceBranch': 'refs/heads/feature/login',
        'Build.SourceBranchName': 'login',
        'Build.SourceVersion': sha,
      },
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));

    const releases = await fx.releases(app);
    const latest = releases.at(-1)!;
    assert.equal(latest.version, 3);
    assert.equal(latest.current, true);
    assert.equal(await fx.slugCommit(app, latest.slug!.id), sha, 'the release runs the pushed commit');
    const webUrl = fx.heroku.webUrl(app);

    assert.match(
      result.log,
      new RegExp(`^Released v3 of ${app} · commit ${sha.slice(0, 8)} · ${webUrl.replace(/[.]/g, '\\.')} · \\d+s$`, 'm'),
    );
    assert.match(result.log, /\(feature\/login\)/, 'logs the full branch name, not its last segment');
    assert.match(result.log, /Deploying as developer@example\.com\./);
    // Exactly the commit, to main (Heroku builds master too: only the refspec tells them apart).
    const pushes = result.gitCommands.filter((c) => c.startsWith('git push '));
    assert.deepEqual(pushes, [`git push --porcelain --no-verify ${fx.heroku.gitUrl}/${app}.git ${sha}:refs/heads/main`]);
    assert.deepEqual(result.outputs, {
      releaseVersion: '3',
      releaseId: latest.id,
      commit: sha,
      appUrl: webUrl,
      previousReleaseVersion: '2',
      rolledBack: 'false',
      healthCheckStatus: '',
    });

    // The push output streams inside a collapsible group.
    const groupStart = result.stdout.indexOf(`##[group]git push ${sha.slice(0, 8)} to ${app}`);
    const groupEnd = result.stdout.indexOf('##[endgroup]', groupStart);
    assert.ok(groupStart >= 0 && groupEnd > groupStart, 'push output is grouped');
    const pushLog = result.stdout.slice(groupStart, groupEnd);
    assert.match(pushLog, /remote: -----> Building on the Heroku-24 stack/);
    assert.match(pushLog, /remote:\s+Released v3/);

    assert.equal(result.summaries.length, 1);
    const summary = await fs.readFile(result.summaries[0]!, 'utf8');
    assert.match(summary, /\| Result \| Released v3 \(succeeded\) \|/);
    assert.match(summary, new RegExp(`\`${sha.slice(0, 8)}\` Say hello from the feature`));
    assert.match(summary, /\| Branch \| feature\/login \|/);
    assert.match(summary, /\| Previous release \| v2/);

    const page = await fx.fetchApp(app);
    assert.equal(page.text, 'hello from feature/login\n', 'the new code answers');
  });

  it('names the pull request for a PR build', async () => {
    const app = await fx.newApp('pr');
    const repo = await fx.newRepo();
    const result = await fx.deploy(app, repo, {
      variables: { 'Build.SourceBranch': 'refs/pull/42/merge', 'Build.SourceBranchName': 'merge' },
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.match(result.log, /\(pull request #42\)/);
  });

  it('deploys with a Heroku service connection, which wins over apiKey (with a warning)', async () => {
    const app = await fx.newApp('conn');
    const repo = await fx.newRepo();
    const result = await fx.deploy(app, repo, {
      inputs: { herokuConnection: 'heroku-prod', apiKey: 'a-key-that-would-be-rejected' },
      variables: { HEROKU_API_URL: '' },
      connections: [{ id: 'heroku-prod', url: fx.heroku.apiUrl, apitoken: fx.heroku.apiKey }],
    });
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.deepEqual(result.warnings, [
      'Both herokuConnection and apiKey are set: using the service connection and ignoring apiKey.',
    ]);
    assert.match(result.log, /Heroku API: http:\/\/127\.0\.0\.1:\d+ \(from the service connection/);
    assert.equal(result.outputs.releaseVersion, '3');
  });

  it('trims a trailing newline from the key', async () => {
    const app = await fx.newApp('trim');
    const repo = await fx.newRepo();
    const result = await fx.deploy(app, repo, { inputs: { apiKey: `${fx.heroku.apiKey}\n` } });
    assert.equal(result.result, 'Succeeded', describeRun(result));
  });

  it('succeeds without a new release when the live release already runs the commit', async () => {
    const app = await fx.newApp('same');
    const repo = await fx.newRepo();
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded');
    const before = await fx.releases(app);

    const again = await fx.deploy(app, repo);
    assert.equal(again.result, 'Succeeded', describeRun(again));
    assert.match(again.log, /already runs/);
    assert.match(again.log, new RegExp(`^Already deployed: v3 of ${app} runs this commit, no new release`, 'm'));
    assert.doesNotMatch(again.log, /^Released v/m, 'claims no new release');
    assert.equal(again.outputs.releaseVersion, '3');
    assert.deepEqual(
      (await fx.releases(app)).map((r) => r.version),
      before.map((r) => r.version),
      'no release was created',
    );
  });

  it('fails naming the release when the release phase fails, and says the previous release is still live', async () => {
    const app = await fx.newApp('phase');
    const repo = await fx.newRepo();
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded');
    await repo.commit('Add a migration that fails', {
      Procfile: 'web: node server.js\nrelease: node -e "console.log(\'running migrations\'); process.exit(1)"\n',
    });

    const result = await fx.deploy(app, repo);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /The release phase of v4 failed/);
    assert.match(result.message, /Heroku kept v3 live/);
    assert.match(result.log, /remote: running migrations/, 'the release command output is in the log');
    assert.match(result.log, /Waiting for release\.+ failed\./);
    const releases = await fx.releases(app);
    assert.equal(releases.find((r) => r.version === 4)?.status, 'failed');
    assert.equal(releases.find((r) => r.current)?.version, 3);
    assert.equal(result.outputs.releaseVersion, undefined, 'no output claims a release');

    // Fixed: the next release's previous release is the one that was live (v3), not the failed v4.
    await repo.commit('Fix the migration', { Procfile: 'web: node server.js\nrelease: node -e "console.log(\'migrated\')"\n' });
    const fixed = await fx.deploy(app, repo);
    assert.equal(fixed.result, 'Succeeded', describeRun(fixed));
    assert.equal(fixed.outputs.releaseVersion, '5');
    assert.equal(fixed.outputs.previousReleaseVersion, '3');
  });

  it('releases the commit again when Heroku has it but the live release runs another (failed release phase)', async () => {
    const app = await fx.newApp('retry');
    const repo = await fx.newRepo();
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded');
    const sha = await repo.commit('Migrate, then say so', {
      Procfile: 'web: node server.js\nrelease: echo migrated\n',
      'message.txt': 'migrated\n',
    });
    fx.heroku.faults.failNextReleasePhase();
    const failed = await fx.deploy(app, repo);
    assert.equal(failed.result, 'Failed', describeRun(failed));

    const retried = await fx.deploy(app, repo);
    assert.equal(retried.result, 'Succeeded', describeRun(retried));
    assert.match(retried.log, /releasing [0-9a-f]{8} again/);
    assert.match(
      retried.log,
      new RegExp(`^Released v5 of ${app} again from the existing build · commit ${sha.slice(0, 8)}`, 'm'),
    );
    const v5 = (await fx.releases(app)).find((r) => r.version === 5)!;
    assert.equal(v5.status, 'succeeded');
    assert.equal(v5.current, true);
    assert.equal(await fx.slugCommit(app, v5.slug!.id), sha);
    assert.equal(retried.outputs.releaseVersion, '5');
    assert.equal(retried.outputs.previousReleaseVersion, '3');
    assert.equal((await fx.fetchApp(app)).text, 'migrated\n');
  });

  it('releases the commit again after a rollback left another commit live', async () => {
    const app = await fx.newApp('rolled');
    const repo = await fx.newRepo();
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded'); // v3
    const sha = await repo.commit('Second version', { 'message.txt': 'second\n' });
    assert.equal((await fx.deploy(app, repo)).result, 'Succeeded'); // v4
    const v3 = (await fx.releases(app)).find((r) => r.version === 3)!;
    assert.equal((await fx.api.post(`/apps/${app}/releases`, { release: v3.id })).status, 201); // v5 = rollback to v3

    const result = await fx.deploy(app, repo);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.match(result.log, /rolled back/);
    const current = (await fx.releases(app)).find((r) => r.current)!;
    assert.equal(current.version, 6);
    assert.equal(await fx.slugCommit(app, current.slug!.id), sha);
  });

  it('fails quoting Heroku when the build fails, and nothing is released', async () => {
    const app = await fx.newApp('broken');
    const repo = await fx.newRepo();
    const pkg = JSON.parse(await fs.readFile(`${repo.dir}/package.json`, 'utf8')) as { scripts: Record<string, string> };
    pkg.scripts.build = 'node -e "console.error(\'TypeError: cannot compile\'); process.exit(2)"';
    await repo.commit('Break the build', { 'package.json': JSON.stringify(pkg, null, 2) });

    const result = await fx.deploy(app, repo);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /^Heroku rejected the push: the build of [0-9a-f]{8} failed/);
    assert.match(result.message, /Push rejected, failed to compile Node\.js app\./);
    assert.match(result.log, /TypeError: cannot compile/);
    assert.deepEqual(
      (await fx.releases(app)).map((r) => r.version),
      [1, 2],
    );
  });

  it('fails explaining force: true when Heroku has diverged history, and force replaces it', async () => {
    const app = await fx.newApp('diverged');
    const other = await fx.newRepo({
      'package.json': '{"name":"other","scripts":{"start":"node server.js"}}',
      'server.js': "require('http').createServer((q,s)=>s.end('other')).listen(process.env.PORT)",
      Procfile: 'web: node server.js\n',
    });
    const pushed = await other.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey, 'HEAD:refs/heads/main');
    assert.equal(pushed.code, 0, pushed.stderr);

    const repo = await fx.newRepo();
    const rejected = await fx.deploy(app, repo);
    assert.equal(rejected.result, 'Failed', describeRun(rejected));
    assert.match(rejected.message, /histories diverged/);
    assert.match(rejected.message, /set `force: true`/);

    const forced = await fx.deploy(app, repo, { inputs: { force: 'true' } });
    assert.equal(forced.result, 'Succeeded', describeRun(forced));
    assert.ok(
      forced.gitCommands.some((c) => / push .*--force /.test(c)),
      'pushes with --force',
    );
    assert.equal((await fx.fetchApp(app)).text, 'hello from the sample app\n');
  });

  it('fails when the API key is rejected, when the account has no access, and when the app does not exist', async () => {
    const repo = await fx.newRepo();
    const app = await fx.newApp('authz');

    const rejected = await fx.deploy(app, repo, { inputs: { apiKey: 'HRKU-not-a-real-key' } });
    assert.equal(rejected.result, 'Failed');
    assert.match(rejected.message, /^Heroku rejected the API key \(401 unauthorized\)/);
    assert.match(rejected.message, /heroku authorizations:create/);

    const stranger = fx.heroku.createAccount('stranger@example.com');
    const forbidden = await fx.deploy(app, repo, { inputs: { apiKey: stranger.apiKey } });
    assert.equal(forbidden.result, 'Failed');
    assert.match(
      forbidden.message,
      new RegExp(`The account stranger@example\\.com has no access to the app ${app} \\(403 forbidden`),
    );

    const missing = await fx.deploy('no-such-app-here', repo);
    assert.equal(missing.result, 'Failed');
    assert.match(missing.message, /^There is no Heroku app named no-such-app-here \(404 not_found\)/);
  });
});
