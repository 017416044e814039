// Deploying with real git over smart HTTP: what the remote prints, what it refuses, and what
// the Platform API shows afterwards.
import assert from 'node:assert/strict';
import { gitEnv, Repo, runCommand } from '../support/git';
import { type ReleaseBody, eventually } from '../support/heroku-api';
import { buildHeld, httpRequest, pushOk, remoteLines, startPush, useEmulator, viaProxy } from '../support/emulator';

describe('emulator: git push', () => {
  const context = useEmulator();

  const newApp = async (prefix: string): Promise<string> => (await context.heroku.createApp(context.name(prefix))).name;
  const releases = async (app: string): Promise<ReleaseBody[]> =>
    (await context.api.get<ReleaseBody[]>(`/apps/${app}/releases`)).body;
  const versions = async (app: string): Promise<number[]> => (await releases(app)).map((r) => r.version);

  describe('a successful push of the sample app', () => {
    let app: string;
    let sha: string;
    let repo: Repo;
    let lines: string[];
    let stderr: string;

    before(async () => {
      app = await newApp('git-ok');
      repo = await context.repo();
      sha = await repo.head();
      stderr = (await pushOk(repo, context.gitUrl(app), context.heroku.apiKey)).stderr;
      lines = remoteLines(stderr);
    });

    it("prints the build and the release as Heroku's Node.js buildpack does", () => {
      const expected = [
        '-----> Building on the Heroku-24 stack',
        '-----> Node.js app detected',
        '-----> Build succeeded!',
        '-----> Discovering process types',
        '       Procfile declares types     -> web',
        '-----> Launching...',
        '       Released v3',
        `       ${context.heroku.webUrl(app)} deployed to Heroku`,
        'Verifying deploy... done.',
      ];
      let at = -1;
      for (const line of expected) {
        const found = lines.indexOf(line, at + 1);
        assert.ok(found > at, `"${line}" (in order) in:\n${lines.join('\n')}`);
        at = found;
      }
      assert.match(stderr, / \* \[new branch\] +HEAD -> main/);
    });

    it('records the pushed SHA as the commit of the release slug', async () => {
      const latest = (await releases(app)).at(-1) as ReleaseBody;
      assert.deepEqual(
        [latest.version, latest.status, latest.current, latest.description],
        [3, 'succeeded', true, `Deploy ${sha.slice(0, 8)}`],
      );
      const slug = await context.api.get<{ commit: string }>(`/apps/${app}/slugs/${latest.slug?.id}`);
      assert.equal(slug.body.commit, sha);
    });

    it('answers at its web_url through the proxy and at its router', async () => {
      const webUrl = context.heroku.webUrl(app);
      const proxied = await viaProxy(context.heroku.proxyUrl, webUrl);
      assert.equal(proxied.status, 200);
      assert.equal(proxied.body, 'hello from the sample app\n');
      assert.ok(
        context.heroku.proxy.requests.some((r) => r.url === webUrl),
        'context.heroku.proxy.requests.some((r) => r.url === webUrl)',
      );
      const health = await viaProxy(context.heroku.proxyUrl, `${webUrl}health`);
      assert.equal(health.body, 'ok\n');
      const direct = await httpRequest(context.heroku.routerUrl(app));
      assert.equal(direct.body, 'hello from the sample app\n');
    });

    it('answers 404 "No such app" through the proxy for an unknown herokuapp.com host', async () => {
      const answer = await viaProxy(context.heroku.proxyUrl, 'http://no-such-app-000000000000.herokuapp.com/');
      assert.equal(answer.status, 404);
      assert.match(answer.body, /No such app/);
    });

    it('says "Everything up-to-date" for the same commit again, and releases nothing', async () => {
      const before = await versions(app);
      const result = await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
      assert.match(result.stderr, /Everything up-to-date/);
      assert.deepEqual(remoteLines(result.stderr), []);
      assert.deepEqual(await versions(app), before);
    });
  });

  it('skips the build for a branch other than main or master, exits 0 and releases nothing', async () => {
    const app = await newApp('git-branch');
    const result = await (await context.repo()).push(context.gitUrl(app), context.heroku.apiKey, 'HEAD:refs/heads/feature');
    assert.equal(result.code, 0, result.stderr);
    assert.ok(remoteLines(result.stderr).includes('Pushed to branch other than [main, master], skipping build.'), result.stderr);
    assert.match(result.stderr, / \* \[new branch\] +HEAD -> feature/);
    assert.deepEqual(await versions(app), [1, 2]);
    assert.deepEqual((await context.api.get<unknown[]>(`/apps/${app}/builds`)).body, []);
  });

  it('builds pushes to master too', async () => {
    const app = await newApp('git-master');
    const result = await pushOk(await context.repo(), context.gitUrl(app), context.heroku.apiKey, 'HEAD:refs/heads/master');
    assert.ok(remoteLines(result.stderr).includes('       Released v3'), result.stderr);
  });

  it("rejects a push whose build script fails, with Heroku's reason, and releases nothing", async () => {
    const app = await newApp('git-buildfail');
    const repo = await context.repo();
    await repo.commit('break the build', {
      'package.json': JSON.stringify({
        name: 'sample-app',
        version: '1.0.0',
        scripts: { build: "echo 'compiling assets'; exit 1" },
      }),
    });
    const result = await repo.push(context.gitUrl(app), context.heroku.apiKey);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, / ! \[remote rejected\] HEAD -> main \(pre-receive hook declined\)/);
    const lines = remoteLines(result.stderr);
    for (const line of [
      '       compiling assets',
      '-----> Build failed',
      ' !     Push rejected, failed to compile Node.js app.',
      ' !     Push failed',
      `!\tPush rejected to ${app}.`,
    ]) {
      assert.ok(lines.includes(line), `"${line}" in:\n${lines.join('\n')}`);
    }
    assert.ok(!lines.some((l) => l.includes('Released')), 'nothing released');
    assert.deepEqual(await versions(app), [1, 2]);
    const builds = await context.api.get<Array<{ status: string }>>(`/apps/${app}/builds`);
    assert.deepEqual(
      builds.body.map((b) => b.status),
      ['failed'],
    );
    const refs = await runCommand('git', ['--git-dir', context.heroku.app(app).repoDir, 'show-ref']);
    assert.equal(refs.stdout, '', 'the ref was not updated');
  });

  describe('credentials', () => {
    let app: string;
    before(async () => {
      app = await newApp('git-auth');
    });

    it('refuses a bad key with 401 and WWW-Authenticate; git fails without prompting', async () => {
      const raw = await httpRequest(`${context.gitUrl(app)}/info/refs?service=git-receive-pack`, {
        headers: { Authorization: basic('HRKU-wrong') },
      });
      assert.equal(raw.status, 401);
      assert.match(String(raw.headers['www-authenticate']), /^Basic realm=/);
      const anonymous = await httpRequest(`${context.gitUrl(app)}/info/refs?service=git-receive-pack`);
      assert.equal(anonymous.status, 401);

      const result = await (await context.repo()).push(context.gitUrl(app), 'HRKU-wrong');
      assert.equal(result.code, 128);
      assert.match(result.stderr, /terminal prompts disabled|Authentication failed/);
      assert.deepEqual(await versions(app), [1, 2]);
    });

    it('refuses a key without access to the app with 403', async () => {
      const stranger = context.heroku.createAccount(`git-stranger-${Date.now()}@example.com`);
      const result = await (await context.repo()).push(context.gitUrl(app), stranger.apiKey);
      assert.equal(result.code, 128);
      assert.match(result.stderr, /403/);
      assert.match(result.stderr, /You do not have access to the app/);
    });

    it('accepts any user name with the key as the password', async () => {
      const raw = await httpRequest(`${context.gitUrl(app)}/info/refs?service=git-receive-pack`, {
        headers: { Authorization: `Basic ${Buffer.from(`someone@example.com:${context.heroku.apiKey}`).toString('base64')}` },
      });
      assert.equal(raw.status, 200);
    });
  });

  describe('shallow clones (real git, depth 1)', () => {
    let source: Repo;
    let parent: string;
    let tip: string;

    before(async () => {
      source = await context.repo();
      parent = await source.head();
      tip = await source.commit('second', { 'message.txt': 'from the tip\n' });
    });

    const shallowClone = async (): Promise<Repo> => {
      const clone = new Repo(await context.scratch('shallow-'));
      const result = await runCommand('git', ['clone', '--quiet', '--depth', '1', `file://${source.dir}`, clone.dir], {
        env: gitEnv(),
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(await clone.git('rev-parse', '--is-shallow-repository'), 'true');
      return clone;
    };

    it('to an empty app: "shallow update not allowed" with Heroku\'s line, nothing released', async () => {
      const app = await newApp('git-shallow');
      const result = await (await shallowClone()).push(context.gitUrl(app), context.heroku.apiKey);
      assert.notEqual(result.code, 0);
      assert.ok(
        remoteLines(result.stderr).includes(
          '!\tPush rejected, source repository is a shallow clone. Unshallow it with `git fetch --all --unshallow` and try pushing again.',
        ),
        result.stderr,
      );
      assert.match(result.stderr, / ! \[remote rejected\] HEAD -> main \(shallow update not allowed\)/);
      assert.deepEqual(await versions(app), [1, 2]);
    });

    it("of C when Heroku has C's parent: git refuses client-side (fetch first); after --deepen=1 the push succeeds", async () => {
      const app = await newApp('git-deepen');
      await pushOk(source, context.gitUrl(app), context.heroku.apiKey, `${parent}:refs/heads/main`);
      const clone = await shallowClone();
      assert.equal(await clone.head(), tip);

      const refused = await clone.push(context.gitUrl(app), context.heroku.apiKey);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, / ! \[rejected\] +HEAD -> main \(fetch first\)/);
      assert.deepEqual(remoteLines(refused.stderr), [], 'git refused before sending anything');
      assert.deepEqual(await versions(app), [1, 2, 3]);

      await clone.git('fetch', '--quiet', '--deepen=1', 'origin');
      const pushed = await pushOk(clone, context.gitUrl(app), context.heroku.apiKey);
      assert.ok(remoteLines(pushed.stderr).includes('       Released v4'), pushed.stderr);
      const latest = (await releases(app)).at(-1) as ReleaseBody;
      const slug = await context.api.get<{ commit: string }>(`/apps/${app}/slugs/${latest.slug?.id}`);
      assert.equal(slug.body.commit, tip);
      assert.equal((await httpRequest(context.heroku.routerUrl(app))).body, 'from the tip\n');
    });
  });

  describe('release phase', () => {
    it('a failing release command: the push exits 0, the release fails and the previous one stays current', async () => {
      const app = await newApp('git-relfail');
      const repo = await context.repo();
      await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
      await repo.commit('add a failing release phase', {
        Procfile: 'web: node server.js\nrelease: node -e "console.log(\'migrating\'); process.exit(1)"\n',
        'message.txt': 'never live\n',
      });
      const result = await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
      const lines = remoteLines(result.stderr);
      const expected = [
        ' !     Release command declared: this new release will not be available until the command succeeds.',
        '       Released v4',
        'Verifying deploy... done.',
        'Running release command...',
        'migrating',
        'Waiting for release.... failed.',
      ];
      let at = -1;
      for (const line of expected) {
        const found = lines.indexOf(line, at + 1);
        assert.ok(found > at, `"${line}" (in order) in:\n${lines.join('\n')}`);
        at = found;
      }
      const list = await releases(app);
      assert.deepEqual(
        list.slice(2).map((r) => [r.version, r.status, r.current]),
        [
          [3, 'succeeded', true],
          [4, 'failed', false],
        ],
      );
      assert.equal((await httpRequest(context.heroku.routerUrl(app))).body, 'hello from the sample app\n');
    });

    it('a succeeding release command: "done." and the new release is current', async () => {
      const app = await newApp('git-relok');
      const repo = await context.repo();
      await repo.commit('add a release phase', {
        Procfile: 'web: node server.js\nrelease: node -e "console.log(\'migrated\')"\n',
        'message.txt': 'after the release phase\n',
      });
      const result = await pushOk(repo, context.gitUrl(app), context.heroku.apiKey);
      const lines = remoteLines(result.stderr);
      assert.ok(lines.includes('migrated'), lines.join('\n'));
      assert.ok(lines.includes('Waiting for release.... done.'), lines.join('\n'));
      const latest = (await releases(app)).at(-1) as ReleaseBody;
      assert.deepEqual([latest.version, latest.status, latest.current], [3, 'succeeded', true]);
      await eventually(async () =>
        (await httpRequest(context.heroku.routerUrl(app))).body === 'after the release phase\n' ? true : undefined,
      );
    });
  });

  describe('pushes that overlap or go away', () => {
    it('rejects a second push while a build is in progress (the build lock)', async () => {
      const app = await newApp('git-lock');
      const held = buildHeld(context.heroku);
      const hold = context.heroku.faults.holdBuilds();
      const first = startPush(await context.repo(), context.gitUrl(app), context.heroku.apiKey);
      await held;
      const second = await (await context.repo()).push(context.gitUrl(app), context.heroku.apiKey);
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /\(pre-receive hook declined\)/);
      assert.ok(remoteLines(second.stderr).includes(' !     A build is already in progress for this app.'), second.stderr);
      hold.release();
      const done = await first.done;
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual(await versions(app), [1, 2, 3]);
    });

    it('a push killed mid-build leaves no release, no pending build and no lock', async () => {
      const app = await newApp('git-killed');
      const held = buildHeld(context.heroku);
      context.heroku.faults.holdBuilds();
      const push = startPush(await context.repo(), context.gitUrl(app), context.heroku.apiKey);
      await held;
      push.kill();
      await push.done;
      await eventually(
        () => (context.heroku.platform.buildLocks.has(context.heroku.app(app).id) ? undefined : true),
        10_000,
        'the build lock to be released',
      );
      const builds = await context.api.get<Array<{ status: string }>>(`/apps/${app}/builds`);
      assert.deepEqual(
        builds.body.map((b) => b.status),
        ['failed'],
      );
      assert.deepEqual(await versions(app), [1, 2]);
      // The app takes the next push normally.
      const next = await pushOk(await context.repo(), context.gitUrl(app), context.heroku.apiKey);
      assert.ok(remoteLines(next.stderr).includes('       Released v3'), next.stderr);
    });
  });
});

function basic(key: string): string {
  return `Basic ${Buffer.from(`heroku:${key}`).toString('base64')}`;
}
