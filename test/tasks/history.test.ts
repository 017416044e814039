// Shallow checkouts (Azure Pipelines' default fetchDepth: 1): the task fetches only the history
// Heroku needs, with the pipeline's token sent to origin alone, or fails with the exact fix.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import { gitEnv, makeRepo, Repo, runCommand, tempDir } from '../support/git';
import { startOriginServer, type OriginServer } from '../support/origin-server';

/** A repository with `count` commits on main, published as a bare `origin.git`. */
async function originWithHistory(count: number): Promise<{ source: Repo; bare: string; shas: string[] }> {
  const source = await makeRepo();
  const shas = [await source.head()];
  for (let i = 2; i <= count; i++) shas.push(await source.commit(`Change ${i}`, { 'message.txt': `version ${i}\n` }));
  const bare = path.join(await tempDir('origin-'), 'app.git');
  await source.git('clone', '--quiet', '--bare', source.dir, bare);
  return { source, bare, shas };
}

/** `git clone --depth 1` of `url`, detached at its tip, as the agent's checkout does. */
async function shallowClone(url: string, env: NodeJS.ProcessEnv = gitEnv()): Promise<Repo> {
  const dir = path.join(await tempDir('checkout-'), 's');
  const cloned = await runCommand('git', ['clone', '--quiet', '--depth', '1', '--no-single-branch', url, dir], { env });
  assert.equal(cloned.code, 0, cloned.stderr);
  const repo = new Repo(dir);
  await repo.git('checkout', '--quiet', '--detach');
  assert.equal(await repo.git('rev-parse', '--is-shallow-repository'), 'true');
  return repo;
}

describe('HerokuDeploy@1 from shallow checkouts', function () {
  this.timeout(120_000);
  const fx = DeployFixture.forSuite();

  it('fetches the full history for an app never pushed to (Heroku refuses shallow pushes)', async () => {
    const { bare, shas } = await originWithHistory(3);
    const checkout = await shallowClone(`file://${bare}`);
    const app = await fx.newApp('first');

    const result = await fx.deploy(app, checkout);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.ok(
      result.gitCommands.some((c) => c.includes('fetch --no-tags --quiet --unshallow origin')),
      result.gitCommands.join('\n'),
    );
    assert.equal(result.outputs.commit, shas[2]);
  });

  it('deepens by one commit when Heroku has the parent of the commit to deploy', async () => {
    const { source, bare, shas } = await originWithHistory(3);
    const app = await fx.newApp('deepen');
    const pushed = await source.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey, `${shas[1]}:refs/heads/main`);
    assert.equal(pushed.code, 0, pushed.stderr);
    const checkout = await shallowClone(`file://${bare}`);

    const result = await fx.deploy(app, checkout);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    const fetches = result.gitCommands.filter((c) => c.startsWith('git fetch'));
    assert.deepEqual(fetches, ['git fetch --no-tags --quiet --deepen=1 origin'], 'fetched one commit, nothing more');
    assert.match(result.log, /Fetched 1 more commit\(s\) of history from origin/);
    assert.equal(await checkout.git('rev-parse', '--is-shallow-repository'), 'true', 'the checkout stays shallow');
    assert.equal(result.outputs.releaseVersion, '4');
  });

  it('deepens further when Heroku is several commits behind', async () => {
    const { source, bare, shas } = await originWithHistory(6);
    const app = await fx.newApp('behind');
    assert.equal((await source.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey, `${shas[1]}:refs/heads/main`)).code, 0);
    const checkout = await shallowClone(`file://${bare}`);

    const result = await fx.deploy(app, checkout);
    assert.equal(result.result, 'Succeeded', describeRun(result));
    assert.deepEqual(
      result.gitCommands.filter((c) => c.startsWith('git fetch')),
      ['git fetch --no-tags --quiet --deepen=1 origin', 'git fetch --no-tags --quiet --deepen=8 origin'],
    );
  });

  it('replaces diverged history with force: true from a shallow checkout', async () => {
    const { bare } = await originWithHistory(2);
    const app = await fx.newApp('forceshallow');
    const unrelated = await makeRepo();
    await unrelated.commit('Unrelated history', { 'message.txt': 'unrelated\n' });
    assert.equal((await unrelated.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey)).code, 0);
    const checkout = await shallowClone(`file://${bare}`);

    const rejected = await fx.deploy(app, checkout);
    assert.equal(rejected.result, 'Failed', describeRun(rejected));
    assert.match(rejected.message, /set `force: true`/);

    const forced = await fx.deploy(app, checkout, { inputs: { force: 'true' } });
    assert.equal(forced.result, 'Succeeded', describeRun(forced));
    const page = await fx.fetchApp(app);
    assert.equal(page.text, 'version 2\n', fx.heroku.platform.logs(fx.heroku.app(app)).recent(40).join('\n'));
  });

  it('fails with the fetchDepth: 0 fix when origin cannot be fetched from', async () => {
    const { bare } = await originWithHistory(2);
    const checkout = await shallowClone(`file://${bare}`);
    await fs.rm(bare, { recursive: true, force: true });
    const app = await fx.newApp('noorigin');

    const result = await fx.deploy(app, checkout);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, /fetching it from origin failed/);
    assert.match(result.message, /Set `fetchDepth: 0` on the checkout step/);
  });

  describe('with an Azure Repos origin that needs the pipeline token', () => {
    const token = 'system-access-token-0123456789abcdef';
    let origin: OriginServer;
    let source: Repo;
    let shas: string[];

    before(async () => {
      const made = await originWithHistory(2);
      source = made.source;
      shas = made.shas;
      origin = await startOriginServer(made.bare, [token, 'persisted-token']);
    });
    after(async () => {
      await origin.close();
    });

    const cloneWithToken = () =>
      shallowClone(
        origin.url,
        gitEnv({
          GIT_CONFIG_COUNT: '1',
          GIT_CONFIG_KEY_0: `http.${origin.url}.extraHeader`,
          GIT_CONFIG_VALUE_0: `AUTHORIZATION: bearer ${token}`,
        }),
      );

    it('sends the token to origin only, never to Heroku, and never in argv', async () => {
      const app = await fx.newApp('azrepos');
      assert.equal((await source.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey, `${shas[0]}:refs/heads/main`)).code, 0);
      const checkout = await cloneWithToken();
      origin.requests.length = 0;
      const herokuBefore = fx.heroku.git.requests.length;

      const result = await fx.deploy(app, checkout, {
        systemAccessToken: token,
        variables: { 'Build.Repository.Provider': 'TfsGit', 'Build.Repository.Uri': origin.url },
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.ok(
        origin.requests.some((r) => r.authorization === `bearer ${token}`),
        'origin got the bearer token',
      );
      const herokuAuth = fx.heroku.git.requests.slice(herokuBefore).map((r) => r.authorization ?? '');
      assert.ok(
        herokuAuth.length > 0 && herokuAuth.every((a) => a.startsWith('Basic ') && !a.includes(token)),
        'Heroku saw only its Basic credentials',
      );
      assert.ok(!result.gitCommands.some((c) => c.includes(token)), 'the token is not in any git argv');
      assert.ok(result.secrets.includes(token), 'the token is registered as a secret');
    });

    it('does not send the token when origin is not Azure Repos', async () => {
      const app = await fx.newApp('github');
      assert.equal((await source.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey, `${shas[0]}:refs/heads/main`)).code, 0);
      const checkout = await cloneWithToken();
      origin.requests.length = 0;

      const result = await fx.deploy(app, checkout, {
        systemAccessToken: token,
        variables: { 'Build.Repository.Provider': 'GitHub', 'Build.Repository.Uri': origin.url },
      });
      assert.equal(result.result, 'Failed', describeRun(result));
      assert.match(result.message, /fetchDepth: 0/);
      assert.ok(
        origin.requests.length > 0 && origin.requests.every((r) => r.authorization === null),
        'no token went to a non-Azure origin',
      );
    });

    it('uses the credentials the checkout persisted instead of adding the token', async () => {
      const app = await fx.newApp('persisted');
      assert.equal((await source.push(`${fx.heroku.gitUrl}/${app}.git`, fx.heroku.apiKey, `${shas[0]}:refs/heads/main`)).code, 0);
      const checkout = await cloneWithToken();
      await checkout.git('config', `http.${origin.url}.extraheader`, 'AUTHORIZATION: bearer persisted-token');
      origin.requests.length = 0;

      const result = await fx.deploy(app, checkout, {
        systemAccessToken: token,
        variables: { 'Build.Repository.Provider': 'TfsGit', 'Build.Repository.Uri': origin.url },
      });
      assert.equal(result.result, 'Succeeded', describeRun(result));
      assert.ok(origin.requests.length > 0, 'origin.requests.length > 0');
      assert.ok(
        origin.requests.every((r) => r.authorization === 'bearer persisted-token'),
        JSON.stringify(origin.requests),
      );
    });
  });
});
