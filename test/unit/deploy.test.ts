// A deploy in-process: real git pushing to a bare repository standing in for Heroku's, and the
// product's client over a recorded Platform API. Which release went live, and each way it can end.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import { formatBytes } from '../../tasks/common/core/deploy/build-api-release';
import { deploy, describeBranch } from '../../tasks/common/core/deploy/deploy';
import { deployReport } from '../../tasks/common/core/deploy/report';
import type { DeployRequest } from '../../tasks/common/core/deploy/types';
import { HerokuApiError } from '../../tasks/common/core/heroku/api';
import { NO_SAFEGUARDS } from '../../tasks/common/core/workflow/safeguards';
import { FakeHost } from '../support/fake-host';
import { gitEnv, makeRepo, runCommand, tempDir, type Repo } from '../support/git';
import { assertReleasePhaseFailed, connectTo, deployRequest, gitHost, heroku, release } from '../support/in-process-deploy';
import type { RecordingApi, Route } from '../support/recording-api';

describe('deploy in-process', () => {
  let current: RecordingApi;
  let repo: Repo;
  let gitUrl: string;
  beforeEach(async () => {
    connectTo(() => current);
    repo = await makeRepo({ files: { 'a.txt': '1' } });
    gitUrl = await gitHost('my-app');
  });
  afterEach(() => sinon.restore());

  const request = (more: Partial<DeployRequest> = {}): DeployRequest => deployRequest(repo.dir, gitUrl, more);

  it('pushes the commit, finds its release, checks it runs the commit, and reports the release live before', async () => {
    const sha = await repo.head();
    current = heroku(
      // After the push: v6 (ours), v5 whose release phase failed, v4 live before.
      () => [release(6), release(5, { status: 'failed' }), release(4)],
      { 'slug-6': sha },
    );
    const host = new FakeHost();
    const outcome = await deploy(request(), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    const { result } = outcome;
    assert.equal(result.outcome, 'released');
    assert.deepEqual(result.release, { id: 'rel-6', version: 6, status: 'succeeded', description: '' });
    assert.deepEqual(result.previous, { id: 'rel-4', version: 4, commit: null }, 'the failed v5 never went live');
    assert.equal(result.commit, sha);
    assert.equal(result.branch, 'feature/x');
    assert.equal(result.subject, 'Initial commit');
    assert.equal(result.appUrl, 'https://my-app.herokuapp.com/');
    assert.equal(result.account, 'dev@example.com');
    assert.equal(
      (
        await runCommand('git', ['--git-dir', path.join(gitUrl.slice('file://'.length), 'my-app.git'), 'rev-parse', 'main'], {
          cwd: repo.dir,
        })
      ).stdout.trim(),
      sha,
    );
    // A plain deploy reads the app only with its release, so the line before the push has no URL.
    assert.ok(
      host.lines.includes(`Deploying commit ${sha.slice(0, 8)} "Initial commit" (feature/x) to my-app.`),
      'host.lines.includes(`Deploying commit ${sha.slice(0, 8)} "Initial commit" (feature/x) to my-app.`)',
    );
  });

  it('proves the commit from the build that made the release (one round trip), reading the slug only when the build cannot', async () => {
    const first = await repo.head();
    const built =
      (sha: string, release: string, slug?: string): Route =>
      (method, p) =>
        method === 'GET' && p === '/apps/my-app/builds'
          ? [
              {
                id: `build-${release}`,
                status: 'succeeded',
                source_blob: { version: sha },
                release: { id: release },
                ...(slug ? { slug: { id: slug } } : {}),
              },
            ]
          : undefined;

    // The build names the slug the release runs: nothing more to read.
    current = heroku(
      () => [release(6), release(5, { current: true })],
      { 'slug-6': 'f'.repeat(40) },
      built(first, 'rel-6', 'slug-6'),
    );
    const proven = await deploy(request(), new FakeHost().log);
    assert.ok(proven.ok, proven.ok ? '' : proven.failure.message);
    assert.equal(proven.result.release.version, 6);
    assert.deepEqual(current.calls, ['GET /account', 'GET /apps/my-app', 'GET /apps/my-app/releases', 'GET /apps/my-app/builds']);

    // A build without a slug (Fir builds have none): the release's own artifact says which commit.
    const second = await repo.commit('Next', { 'a.txt': '2' });
    current = heroku(() => [release(7), release(6, { current: true })], { 'slug-7': second }, built(second, 'rel-7'));
    const read = await deploy(request(), new FakeHost().log);
    assert.ok(read.ok, read.ok ? '' : read.failure.message);
    assert.ok(current.calls.includes('GET /apps/my-app/slugs/slug-7'), current.calls.join('\n'));

    // The release runs another slug than the build made: read, and refused when it is another commit.
    const third = await repo.commit('Third', { 'a.txt': '3' });
    current = heroku(
      () => [release(8), release(7, { current: true })],
      { 'slug-8': 'e'.repeat(40) },
      built(third, 'rel-8', 'slug-x'),
    );
    const raced = await deploy(request(), new FakeHost().log);
    assert.ok(!raced.ok, '!raced.ok');
    assert.match(raced.failure.message, /^Heroku's release v8 runs commit eeeeeeee, not the deployed [0-9a-f]{8}/);
  });

  it('sends the account and app reads once git is pushing, never before, and logs the account after the push', async () => {
    const sha = await repo.head();
    const seen: string[] = [];
    const host = new FakeHost();
    current = heroku(
      () => [release(6), release(5)],
      { 'slug-6': sha },
      (method, p) => {
        const started = host.lines.some((line) => line.startsWith('[group] git push'));
        const ended = host.lines.includes('[endgroup]');
        seen.push(`${method} ${p}: ${!started ? 'before the push' : ended ? 'after the push' : 'while git pushes'}`);
        return undefined;
      },
    );
    const outcome = await deploy(request(), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.deepEqual(
      seen,
      [
        'GET /account: while git pushes',
        'GET /apps/my-app: while git pushes',
        'GET /apps/my-app/releases: after the push',
        'GET /apps/my-app/builds: after the push',
        'GET /apps/my-app/slugs/slug-6: after the push',
      ],
      'the checks go out while git pushes, the release reads after it',
    );
    const account = host.lines.indexOf('Deploying as dev@example.com.');
    assert.ok(
      account > host.lines.indexOf('[endgroup]'),
      `the account is logged after the push's output:\n${host.lines.join('\n')}`,
    );
  });

  it('names the step by what it did, logs a non-default git host, and times the deploy', async () => {
    const sha = await repo.head();
    current = heroku(() => [release(6, { current: true }), release(5)], { 'slug-6': sha });
    const host = new FakeHost();
    const started = Date.now();
    const first = await deploy(request(), host.log);
    assert.ok(first.ok, first.ok ? '' : first.failure.message);
    assert.deepEqual(first.result.steps[0], { name: `Deploy ${sha.slice(0, 8)}`, outcome: 'done', detail: 'released v6' });
    assert.ok(
      host.lines.includes(`Heroku git: ${gitUrl} (from test, not the default https://git.heroku.com)`),
      host.lines.join('\n'),
    );
    assert.ok(first.result.durationMs >= 0 && first.result.durationMs <= Date.now() - started, String(first.result.durationMs));

    const again = await deploy(request({ git: { url: gitUrl, isDefault: true, source: 'the default' } }), host.log);
    assert.ok(again.ok, 'again.ok');
    assert.equal(again.result.steps[0]?.detail, 'already live as v6');
    assert.equal(host.lines.filter((l) => l.startsWith('Heroku git:')).length, 1, 'the default git host is not logged');
  });

  it('takes the release of the newest succeeded build of the pushed commit, never a failed build or another commit', async () => {
    const sha = await repo.head();
    current = heroku(
      () => [release(8), release(7), release(6, { current: true })],
      { 'slug-7': sha, 'slug-8': 'a'.repeat(40) },
      (method, p) =>
        method === 'GET' && p === '/apps/my-app/builds'
          ? [
              {
                id: 'b-other',
                status: 'succeeded',
                source_blob: { version: 'a'.repeat(40) },
                release: { id: 'rel-8' },
                slug: { id: 'slug-8' },
              },
              { id: 'b-failed', status: 'failed', source_blob: { version: sha }, release: { id: 'rel-8' } },
              {
                id: 'b-ours',
                status: 'succeeded',
                source_blob: { version: sha },
                release: { id: 'rel-7' },
                slug: { id: 'slug-7' },
              },
            ]
          : undefined,
    );
    const outcome = await deploy(request(), new FakeHost().log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.release.version, 7);
    assert.ok(!current.calls.some((c) => c.includes('/slugs/')), 'the build proved the commit');
  });

  it("explains diverged history with Heroku's head, read after the refused push", async () => {
    // Someone deployed another history to Heroku's main.
    const other = await makeRepo({ files: { 'b.txt': 'other' } });
    const url = `${gitUrl}/my-app.git`;
    const pushed = await runCommand('git', ['push', '--quiet', url, 'HEAD:refs/heads/main'], { cwd: other.dir, env: gitEnv() });
    assert.equal(pushed.code, 0, pushed.stderr);
    const theirs = await other.head();
    current = heroku(() => [release(2, { current: true })], {});
    const outcome = await deploy(request(), new FakeHost().log);
    assert.ok(!outcome.ok, '!outcome.ok');
    assert.equal(outcome.failure.kind, 'non-fast-forward');
    assert.match(
      outcome.failure.message,
      new RegExp(`^Heroku's main branch of my-app \\(${theirs.slice(0, 8)}\\) has commits that`),
    );
  });

  it("from a shallow checkout, reads Heroku's head first and pushes nothing when Heroku already has the commit", async () => {
    const sha = await repo.head();
    const url = `${gitUrl}/my-app.git`;
    const seeded = await runCommand('git', ['push', '--quiet', url, 'HEAD:refs/heads/main'], { cwd: repo.dir, env: gitEnv() });
    assert.equal(seeded.code, 0, seeded.stderr);
    const shallow = path.join(await tempDir('shallow-'), 'checkout');
    const cloned = await runCommand('git', ['clone', '--quiet', '--depth', '1', `file://${repo.dir}`, shallow], {
      cwd: repo.dir,
      env: gitEnv(),
    });
    assert.equal(cloned.code, 0, cloned.stderr);
    current = heroku(() => [release(6, { current: true })], { 'slug-6': sha });
    const host = new FakeHost();
    const outcome = await deploy(request({ workingDirectory: shallow }), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.outcome, 'already-deployed');
    assert.ok(
      host.lines.includes(`Heroku's main branch of my-app is already at ${sha.slice(0, 8)}: nothing to push.`),
      "host.lines.includes(`Heroku's main branch of my-app is already at ${sha.slice(0, 8)}: nothing to push.`)",
    );
    assert.ok(!host.lines.some((l) => l.startsWith('[group] git push')), 'no push group');
  });

  it('describes the branch the pipeline built', () => {
    assert.equal(describeBranch('refs/heads/feature/login'), 'feature/login');
    assert.equal(describeBranch('refs/pull/42/merge'), 'pull request #42');
    assert.equal(describeBranch('refs/pull/42/head'), 'pull request #42');
    assert.equal(describeBranch('refs/tags/v1.2'), 'tag v1.2');
    assert.equal(describeBranch('xrefs/pull/42/merge'), 'xrefs/pull/42/merge');
    assert.equal(describeBranch('refs/pull/42/merged'), 'refs/pull/42/merged');
    assert.equal(describeBranch(undefined), null);
  });

  it("logs the app's URL when a safeguard read the app first, and notes a HEAD that is not Build.SourceVersion", async () => {
    const sha = await repo.head();
    current = heroku(() => [release(6, { current: true, description: undefined })], { 'slug-6': sha });
    const createApp = { region: null, team: null, stack: null };
    const host = new FakeHost();
    const outcome = await deploy(
      request({ sourceVersion: 'b'.repeat(40), safeguards: { ...NO_SAFEGUARDS, createApp } }),
      host.log,
    );
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.ok(
      host.lines.includes(
        `Deploying commit ${sha.slice(0, 8)} "Initial commit" (feature/x) to my-app (https://my-app.herokuapp.com/).`,
      ),
      host.lines.join('\n'),
    );
    assert.ok(
      host.lines.includes(
        `Note: the checkout's HEAD (${sha.slice(0, 8)}) is not Build.SourceVersion (bbbbbbbb); deploying HEAD, what the job checked out.`,
      ),
      "host.lines.includes( `Note: the checkout's HEAD (${sha.slice(0, 8)}) is not Build.SourceVersion (bbbbbbbb);...",
    );
    assert.equal(outcome.result.release.description, '', 'a release without a description reports an empty one');
    assert.ok(current.calls.includes('GET /apps/my-app'), "current.calls.includes('GET /apps/my-app')");

    // The commit the pipeline built, or a ref asked for by name: no note.
    for (const more of [{ sourceVersion: sha }, { sourceVersion: 'b'.repeat(40), ref: 'main' }]) {
      const quiet = new FakeHost();
      assert.ok((await deploy(request(more), quiet.log)).ok, '(await deploy(request(more), quiet.log)).ok');
      assert.ok(!quiet.lines.some((l) => l.startsWith('Note:')), quiet.lines.join('\n'));
    }
  });

  it('names the account "unknown account" when Heroku gives no email, and every property of a created app', async () => {
    const sha = await repo.head();
    current = heroku(
      () => [release(2, { current: true })],
      { 'slug-2': sha },
      (method, p) => {
        if (method === 'GET' && p === '/account') return {};
        if (method === 'GET' && p === '/apps/my-app') return new HerokuApiError(404, 'not_found', 'Not found', 'GET', p);
        if (method === 'POST' && p === '/teams/apps')
          return { id: 'app-1', name: 'my-app', region: { name: 'eu' }, stack: { name: 'heroku-24' }, team: { name: 'acme' } };
        return undefined;
      },
    );
    const host = new FakeHost();
    const createApp = { region: 'eu', team: 'acme', stack: 'heroku-24' };
    const outcome = await deploy(request({ safeguards: { ...NO_SAFEGUARDS, createApp } }), host.log);
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.equal(outcome.result.account, 'unknown account');
    assert.ok(host.lines.includes('Deploying as unknown account.'), "host.lines.includes('Deploying as unknown account.')");
    assert.deepEqual(outcome.result.steps[0], {
      name: 'Create the app my-app',
      outcome: 'done',
      detail: 'region eu, stack heroku-24, team acme',
    });
  });

  it('succeeds without a release when the live release already runs the commit, and releases it again when it does not', async () => {
    const sha = await repo.head();
    current = heroku(() => [release(6, { current: true })], { 'slug-6': sha });
    assert.ok((await deploy(request(), new FakeHost().log)).ok, '(await deploy(request(), new FakeHost().log)).ok');
    const again = await deploy(request(), new FakeHost().log);
    assert.ok(again.ok, 'again.ok');
    assert.equal(again.result.outcome, 'already-deployed');
    assert.equal(again.result.release.version, 6);

    let reReleased = false;
    current = heroku(
      () =>
        reReleased
          ? [release(8, { current: true }), release(7), release(6)]
          : [release(7, { current: true }), release(6, { description: `Deploy ${sha.slice(0, 8)}` })],
      { 'slug-6': sha, 'slug-7': 'c'.repeat(40), 'slug-8': sha },
      (method, p) => {
        if (method !== 'POST' || p !== '/apps/my-app/releases') return undefined;
        reReleased = true;
        return release(8, { slug: { id: 'slug-6' } });
      },
    );
    const rereleased = await deploy(request(), new FakeHost().log);
    assert.ok(rereleased.ok, rereleased.ok ? '' : rereleased.failure.message);
    assert.equal(rereleased.result.outcome, 're-released');
    assert.ok(
      current.calls.includes(
        `POST /apps/my-app/releases {"slug":"slug-6","description":"Deploy ${sha.slice(0, 8)} (released again from v6)"}`,
      ),
      'current.calls.includes( `POST /apps/my-app/releases {"slug":"slug-6","description":"Deploy ${sha.slice(0, 8...',
    );
    assert.equal(rereleased.result.previous?.version, 7);
  });

  it('fails a failed release phase naming what stays live, and a release that runs another commit', async () => {
    const sha = await repo.head();
    current = heroku(() => [release(5, { status: 'failed' }), release(4, { current: true })], { 'slug-5': sha });
    const failed = await deploy(request(), new FakeHost().log);
    assertReleasePhaseFailed(failed, 5, 'Heroku kept v4 live', sha);

    await repo.commit('Next', { 'a.txt': '2' });
    // The build of the pushed commit says it made v6, but v6 runs another commit.
    const pushed = await repo.head();
    current = heroku(
      () => [release(6, { current: true })],
      { 'slug-6': 'd'.repeat(40) },
      (method, p) =>
        method === 'GET' && p === '/apps/my-app/builds'
          ? [{ id: 'b', status: 'succeeded', source_blob: { version: pushed }, release: { id: 'rel-6' } }]
          : undefined,
    );
    const raced = await deploy(request(), new FakeHost().log);
    assert.ok(!raced.ok, '!raced.ok');
    assert.equal(raced.failure.kind, 'verification');
    assert.match(
      raced.failure.message,
      /^Heroku's release v6 runs commit dddddddd, not the deployed [0-9a-f]{8}: another deploy may have raced this one\./,
    );
  });

  it('creates the app when asked and it does not exist, and names a missing app otherwise', async () => {
    const sha = await repo.head();
    const missing: Route = (method, p) =>
      method === 'GET' && p === '/apps/my-app' ? new HerokuApiError(404, 'not_found', 'Not found', 'GET', p) : undefined;
    current = heroku(() => [], {}, missing);
    // Heroku's git host has no repository for an app that does not exist either.
    const noRepos = { url: `file://${await tempDir('no-apps-')}`, isDefault: false, source: 'test' };
    const absent = await deploy(request({ git: noRepos }), new FakeHost().log);
    assert.ok(!absent.ok, '!absent.ok');
    assert.equal(absent.failure.kind, 'not-found');
    assert.match(
      absent.failure.message,
      /^There is no Heroku app named my-app \(404 not_found\) visible to dev@example\.com\. Check the appName input/,
    );

    current = heroku(
      () => [release(2, { current: true })],
      { 'slug-2': sha },
      (method, p, body) => {
        if (method === 'POST' && p === '/apps')
          return { id: 'app-1', name: 'my-app', web_url: 'https://my-app.herokuapp.com/', region: { name: 'eu' } };
        return missing(method, p, body);
      },
    );
    const created = await deploy(
      request({ safeguards: { ...NO_SAFEGUARDS, createApp: { region: 'eu', team: null, stack: null } } }),
      new FakeHost().log,
    );
    assert.ok(created.ok, created.ok ? '' : created.failure.message);
    assert.ok(
      current.calls.includes('POST /apps {"name":"my-app","region":"eu"}'),
      'current.calls.includes(\'POST /apps {"name":"my-app","region":"eu"}\')',
    );
    assert.deepEqual(created.result.steps[0], { name: 'Create the app my-app', outcome: 'done', detail: 'region eu' });
    assert.equal(created.result.previous, null);
  });

  it('names what it was reading when the app read fails, with createApp set or not', async () => {
    for (const createApp of [{ region: 'eu', team: null, stack: null }, null]) {
      current = heroku(
        () => [],
        {},
        (method, p) =>
          method === 'GET' && p === '/apps/my-app' ? new HerokuApiError(503, 'unavailable', 'Try again', 'GET', p) : undefined,
      );
      const outcome = await deploy(request({ safeguards: { ...NO_SAFEGUARDS, createApp } }), new FakeHost().log);
      assert.ok(!outcome.ok, 'a failed read of the app fails the deploy');
      assert.match(
        outcome.failure.message,
        /reading the app my-app/,
        `createApp ${String(!!createApp)}: ${outcome.failure.message}`,
      );
      assert.ok(!current.calls.some((c) => c.startsWith('POST /apps')), 'no app is created when it could not be read');
    }
  });

  it('deploys a folder through the Build API: packs it, uploads it, builds it, and reports how', async () => {
    const sha = await repo.commit('Add the web app', { 'web/package.json': '{}\n' });
    let built = false;
    const routes: Route = (method, p) => {
      if (method === 'POST' && p === '/sources')
        return { source_blob: { put_url: 'https://storage.example/put', get_url: 'https://storage.example/get' } };
      if (method === 'POST' && p === '/apps/my-app/builds') {
        built = true;
        return { id: 'b1', status: 'pending' };
      }
      if (method === 'GET' && p === '/apps/my-app/builds/b1')
        return { id: 'b1', status: 'succeeded', release: { id: 'rel-3' }, slug: { id: 'slug-3' }, source_blob: { version: sha } };
      if (method === 'GET' && p === '/apps/my-app/releases/rel-3') return release(3);
      return undefined;
    };
    const uploads: string[] = [];
    const api = heroku(() => (built ? [release(3), release(2)] : [release(2)]), { 'slug-3': sha }, routes);
    current = Object.assign(api, {
      uploadFile: (url: string, file: string, size: number): Promise<void> => {
        uploads.push(`PUT ${url} ${path.basename(file)} ${size}`);
        return Promise.resolve();
      },
    });
    const host = new FakeHost();
    const temp = await tempDir('agent-temp-');
    const outcome = await deploy(
      request({
        sourceBranch: undefined,
        source: { method: 'build', appDirectory: 'web', packageFrom: 'commit' },
        tempDirectory: temp,
      }),
      host.log,
    );
    assert.ok(outcome.ok, outcome.ok ? '' : outcome.failure.message);
    assert.deepEqual(await fs.readdir(temp), [], 'the tarball is deleted from the agent temp folder once deployed');
    assert.equal(outcome.result.release.version, 3);
    assert.deepEqual(outcome.result.source, { method: 'build', appDirectory: 'web', packageFrom: 'commit' });
    assert.equal(uploads.length, 1, uploads.join(', '));
    const upload = /^PUT https:\/\/storage\.example\/put source\.tar\.gz (\d+)$/.exec(uploads[0] ?? '');
    assert.ok(upload, `the tarball is uploaded to the source URL: ${uploads[0]}`);
    // No branch: the line names none.
    assert.ok(host.lines.includes(`Deploying commit ${sha.slice(0, 8)} "Add the web app" to my-app.`), host.lines.join('\n'));
    assert.ok(
      host.lines.includes(`[group] Upload the source (${formatBytes(Number(upload[1]))})`),
      'the upload is its own group, with the size of the tarball',
    );
    assert.ok(
      deployReport('my-app', outcome).summary?.markdown.includes('| Method | Build API: web (files of the commit) |'),
      'the summary says how it was deployed',
    );
  });
});
