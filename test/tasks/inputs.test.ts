// Bad input is refused before anything is asked of Heroku: no API request, no git push.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { AgentRun } from '../support/agent';
import { DeployFixture, describeRun } from '../support/deploy-fixture';
import type { Repo } from '../support/git';

describe('HerokuDeploy@1 input checks', function () {
  this.timeout(60_000);
  const fx = DeployFixture.forSuite();
  let repo: Repo;
  let app: string;

  before(async () => {
    repo = await fx.newRepo();
    app = await fx.newApp('inputs');
  });

  /** Runs the task and asserts it failed with `pattern` without touching Heroku. */
  async function refused(run: Omit<AgentRun, 'cwd'>, pattern: RegExp): Promise<void> {
    const apiBefore = fx.heroku.api.requests.length;
    const gitBefore = fx.heroku.git.requests.length;
    const result = await fx.deploy(app, repo, run);
    assert.equal(result.result, 'Failed', describeRun(result));
    assert.match(result.message, pattern);
    assert.equal(fx.heroku.api.requests.length, apiBefore, 'no Platform API request was made');
    assert.equal(fx.heroku.git.requests.length, gitBefore, 'no git request reached Heroku');
    assert.ok(!result.gitCommands.some((c) => /^git (push|ls-remote|fetch)/.test(c)), 'no network git command ran');
  }

  it('refuses a run with no key, naming both ways to give one', async () => {
    await refused(
      { inputs: { apiKey: '' } },
      /No Heroku API key: set herokuConnection to a Heroku service connection, or set apiKey to a secret variable/,
    );
  });

  it('refuses a blank key', async () => {
    await refused({ inputs: { apiKey: '  \n ' } }, /No Heroku API key/);
  });

  it('names the undefined pipeline variable an input still refers to', async () => {
    await refused({ inputs: { apiKey: '$(HEROKU_API_KEY)' } }, /the pipeline variable HEROKU_API_KEY is not defined/);
    await refused(
      { inputs: { appName: '$(APP_NAME)' } },
      /The input appName reads \$\(APP_NAME\), but the pipeline variable APP_NAME is not defined/,
    );
  });

  it('refuses an app name Heroku would not accept, with the fix', async () => {
    await refused({ inputs: { appName: 'My_App' } }, /"My_App" is not a valid Heroku app name/);
    await refused({ inputs: { appName: 'MyApp' } }, /Did you mean "myapp"\?/);
    await refused({ inputs: { appName: 'ab' } }, /3 to 30 lowercase letters/);
    await refused({ inputs: { appName: '' } }, /The input appName is empty/);
  });

  it('refuses a force value that is not true or false', async () => {
    await refused({ inputs: { force: 'yes' } }, /The input force is "yes": use true or false/);
  });

  it('refuses a ref that is an option or not a commit', async () => {
    await refused({ inputs: { ref: '--upload-pack=touch /tmp/pwned' } }, /is not a git ref or commit/);
    await refused({ inputs: { ref: 'no-such-branch' } }, /The ref "no-such-branch" does not name a commit/);
  });

  it('refuses a working directory that does not exist or is not a checkout', async () => {
    await refused(
      { inputs: { workingDirectory: path.join(repo.dir, 'missing') } },
      /The workingDirectory .*missing does not exist/,
    );
    await refused({ inputs: { workingDirectory: path.dirname(repo.dir) } }, /is not a git checkout/);
  });

  it('refuses to send the key over plain http off this machine, and a URL that is no URL', async () => {
    await refused(
      { variables: { HEROKU_API_URL: 'http://api.example.com' } },
      /is plain http: the API key would cross the network unencrypted/,
    );
    await refused(
      { variables: { HEROKU_GIT_URL: 'http://git.example.com' } },
      /Heroku git URL from the variable HEROKU_GIT_URL \(http:\/\/git\.example\.com\) is plain http/,
    );
    await refused({ variables: { HEROKU_API_URL: 'api.heroku.com' } }, /is not a URL/);
    await refused({ variables: { HEROKU_API_URL: 'https://user:pass@api.example.com' } }, /contains credentials/);
  });

  it('refuses a service connection without a key', async () => {
    await refused(
      {
        inputs: { herokuConnection: 'empty', apiKey: '' },
        connections: [{ id: 'empty', url: 'https://api.heroku.com', apitoken: '' }],
      },
      /The Heroku service connection "empty" holds no API key/,
    );
  });
});
