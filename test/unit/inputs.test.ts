// Input rules, endpoints and branch names: the pure functions behind the task's first checks.
import assert from 'node:assert/strict';
import { describeBranch } from '../../tasks/common/core/deploy/deploy';
import {
  DEFAULT_API_URL,
  DEFAULT_GIT_URL,
  isLoopback,
  parseBaseUrl,
  resolveEndpoint,
} from '../../tasks/common/core/base/endpoints';
import { TaskError } from '../../tasks/common/core/base/errors';
import {
  normalizeApiKey,
  undefinedVariable,
  validateAppName,
  validateAppNames,
  validateCommitSha,
  validateRef,
} from '../../tasks/common/core/base/inputs';

describe('inputs', () => {
  it('follows Heroku app name rules', () => {
    for (const ok of ['abc', 'my-app', 'a1-b2', 'a'.repeat(30)]) assert.equal(validateAppName(ok), ok);
    for (const bad of ['ab', 'a'.repeat(31), '1app', 'app-', 'My-App', 'my_app', 'my app'])
      assert.throws(() => validateAppName(bad), TaskError, bad);
  });

  it('finds undefined $(VARIABLES) anywhere in a value', () => {
    assert.equal(undefinedVariable('$(HEROKU_API_KEY)'), 'HEROKU_API_KEY');
    assert.equal(undefinedVariable('$(app.name)-staging'), 'app.name');
    assert.equal(undefinedVariable('plain'), undefined);
    assert.throws(() => normalizeApiKey('$(KEY)', 'apiKey'), /pipeline variable KEY is not defined/);
  });

  it('trims keys but never checks their format', () => {
    assert.equal(normalizeApiKey('HRKU-abc\n', 'apiKey'), 'HRKU-abc');
    assert.equal(normalizeApiKey('01234567-89ab-cdef-0123-456789abcdef', 'apiKey'), '01234567-89ab-cdef-0123-456789abcdef');
    assert.equal(normalizeApiKey('anything-goes', 'apiKey'), 'anything-goes');
  });

  it('accepts refs and revisions, never options', () => {
    for (const ok of ['HEAD', 'main', 'feature/login', 'v1.2.3', 'HEAD~1', 'a1b2c3d']) assert.equal(validateRef(ok), ok);
    assert.equal(validateRef(''), 'HEAD');
    for (const bad of ['-x', '--upload-pack=evil', 'a b', 'a\tb']) assert.throws(() => validateRef(bad), TaskError, bad);
  });

  it('reads lists of app names (commas, spaces, lines) without repeats, each checked', () => {
    assert.deepEqual(validateAppNames('my-app, my-app-eu\nmy-app  my-app-us', 'targetApps'), [
      'my-app',
      'my-app-eu',
      'my-app-us',
    ]);
    assert.deepEqual(validateAppNames('  ', 'targetApps'), []);
    assert.throws(() => validateAppNames('my-app, My_App', 'targetApps'), /"My_App" is not a valid Heroku app name/);
    assert.throws(() => validateAppNames('$(targets)', 'targetApps'), /pipeline variable targets is not defined/);
  });

  it('takes a commit SHA, full or abbreviated, never a branch', () => {
    assert.equal(validateCommitSha('', 'expectedCommit'), null);
    assert.equal(validateCommitSha(' 3CCED9BE ', 'expectedCommit'), '3cced9be');
    assert.equal(validateCommitSha('a'.repeat(40), 'expectedCommit'), 'a'.repeat(40));
    for (const bad of ['main', 'abc12', 'HEAD~1', 'a'.repeat(65)])
      assert.throws(() => validateCommitSha(bad, 'expectedCommit'), /is not a commit SHA/, bad);
    assert.throws(
      () => validateCommitSha('$(deploy.commit)', 'expectedCommit'),
      /pipeline variable deploy\.commit is not defined/,
    );
  });

  it('names branches in full and pull requests by number', () => {
    assert.equal(describeBranch('refs/heads/feature/login'), 'feature/login');
    assert.equal(describeBranch('refs/pull/42/merge'), 'pull request #42');
    assert.equal(describeBranch('refs/tags/v1.0'), 'tag v1.0');
    assert.equal(describeBranch(undefined), null);
  });

  it('keeps the key off plain http except on this machine', () => {
    assert.deepEqual(resolveEndpoint('API', '', 'x', 'https://api.heroku.com'), {
      url: 'https://api.heroku.com',
      isDefault: true,
      source: 'the default',
    });
    assert.equal(resolveEndpoint('API', 'https://api.heroku.com/', 'x', 'https://api.heroku.com').isDefault, true);
    assert.equal(
      resolveEndpoint('API', 'https://proxy.example.com/heroku/', 'x', 'https://api.heroku.com').url,
      'https://proxy.example.com/heroku',
    );
    for (const loopback of ['http://127.0.0.1:5000', 'http://localhost:5000', 'http://[::1]:5000'])
      assert.equal(resolveEndpoint('API', loopback, 'x', 'https://api.heroku.com').isDefault, false);
    assert.throws(() => resolveEndpoint('API', 'http://10.0.0.5', 'x', 'https://api.heroku.com'), /plain http/);
    assert.throws(() => resolveEndpoint('git', 'ftp://git.example.com', 'x', 'https://git.heroku.com'), /must be http\(s\)/);
  });
});

describe('inputs: what each refusal tells the user', () => {
  it('says how to define a missing pipeline variable, or where to fix its name', () => {
    assert.throws(
      () => normalizeApiKey('$(HEROKU_API_KEY)', 'apiKey'),
      (e: Error) =>
        e.message ===
        'The input apiKey reads $(HEROKU_API_KEY), but the pipeline variable HEROKU_API_KEY is not defined. ' +
          'Define HEROKU_API_KEY (as a secret variable if it holds a key: Pipelines > Edit > Variables, or a variable group), or fix its name in the apiKey input.',
    );
  });

  it('asks for the app to deploy to when appName is empty or unset, naming the input and its role', () => {
    for (const empty of [undefined, '', '  \n'])
      assert.throws(
        () => validateAppName(empty),
        (e: Error) =>
          e instanceof TaskError &&
          e.message === 'The input appName is empty: give the name of the Heroku app to deploy to (as shown by `heroku apps`).',
        JSON.stringify(empty),
      );
    assert.throws(
      () => validateAppName('', 'sourceApp', 'to promote from'),
      /^TaskError: The input sourceApp is empty: give the name of the Heroku app to promote from \(as shown by `heroku apps`\)\.$/,
    );
    assert.equal(validateAppName(' my-app\n'), 'my-app');
  });

  it('suggests the lowercase name when only the case is wrong, and nothing when that would not help either', () => {
    assert.throws(
      () => validateAppName('My-App'),
      (e: Error) =>
        e.message ===
        '"My-App" is not a valid Heroku app name: app names are 3 to 30 lowercase letters, digits and dashes, start with a letter and end with a letter or digit. Did you mean "my-app"?',
    );
    assert.throws(
      () => validateAppName('my_app'),
      (e: Error) =>
        e.message ===
        '"my_app" is not a valid Heroku app name: app names are 3 to 30 lowercase letters, digits and dashes, start with a letter and end with a letter or digit.',
    );
  });

  it('names the input that still reads an undefined variable: an app name input, ref', () => {
    assert.throws(() => validateAppName('$(APP)', 'targetApp'), /^TaskError: The input targetApp reads \$\(APP\)/);
    assert.throws(() => validateRef('$(DEPLOY_REF)'), /^TaskError: The input ref reads \$\(DEPLOY_REF\)/);
  });

  it('says what a ref may be when given an option', () => {
    assert.throws(
      () => validateRef('--upload-pack=evil'),
      (e: Error) =>
        e.message ===
        'The input ref "--upload-pack=evil" is not a git ref or commit: use a branch, tag or commit SHA of the checkout, or leave it empty to deploy the checked-out commit (HEAD).',
    );
  });

  it('reads unset inputs as empty: no key, HEAD, no apps, no commit', () => {
    assert.equal(normalizeApiKey(undefined, 'apiKey'), '');
    assert.equal(validateRef(undefined), 'HEAD');
    assert.deepEqual(validateAppNames(undefined, 'targetApps'), []);
    assert.equal(validateCommitSha(undefined, 'expectedCommit'), null);
  });
});

describe('endpoints: where the key may be sent', () => {
  const api = (value: string | undefined) => resolveEndpoint('API', value, 'the variable HEROKU_API_URL', DEFAULT_API_URL);

  it("sends the key to Heroku's own API and git hosts by default", () => {
    assert.deepEqual(api(undefined), { url: 'https://api.heroku.com', isDefault: true, source: 'the default' });
    assert.deepEqual(resolveEndpoint('git', ' ', 'the variable HEROKU_GIT_URL', DEFAULT_GIT_URL), {
      url: 'https://git.heroku.com',
      isDefault: true,
      source: 'the default',
    });
  });

  it('keeps the path of a base URL without any trailing slashes, and says where it came from', () => {
    assert.deepEqual(api(' https://proxy.example.com/heroku// '), {
      url: 'https://proxy.example.com/heroku',
      isDefault: false,
      source: 'the variable HEROKU_API_URL',
    });
  });

  it('knows this machine by any of its loopback names, in any case', () => {
    for (const loopback of ['127.0.0.1', 'localhost', 'LocalHost', '::1', '[::1]'])
      assert.equal(isLoopback(loopback), true, loopback);
    for (const remote of ['10.0.0.5', 'api.heroku.com', 'localhost.example.com']) assert.equal(isLoopback(remote), false, remote);
  });

  it('takes every 127.x.y.z address for this machine, and no host name that merely ends like one', () => {
    for (const loopback of ['127.10.200.3', '127.255.255.254']) assert.equal(isLoopback(loopback), true, loopback);
    for (const remote of ['evil127.0.0.1', 'x.127.0.0.1', '127.0.0.1000']) assert.equal(isLoopback(remote), false, remote);
  });

  it('refuses what is not a URL, with an example of one', () => {
    assert.throws(
      () => api('api.heroku.com'),
      (e: Error) =>
        e.message ===
        'The Heroku API URL from the variable HEROKU_API_URL ("api.heroku.com") is not a URL: use a full URL such as https://api.heroku.com.',
    );
  });

  it('names the scheme and origin of a refused URL, and none for text that is not a URL', () => {
    assert.deepEqual(
      parseBaseUrl('api.heroku.com'),
      { ok: false, problem: 'not-a-url', protocol: '', origin: '' },
      'text that is not a URL has neither a scheme nor an origin to name',
    );
    assert.deepEqual(
      parseBaseUrl('http://proxy.example.com'),
      { ok: false, problem: 'plain-http', protocol: 'http:', origin: 'http://proxy.example.com' },
      'a refused URL is named by what it is',
    );
  });

  it('refuses credentials in the URL, even a user name alone, as the task sends the key itself', () => {
    for (const url of [
      'https://user:secret@proxy.example.com',
      'https://user@proxy.example.com',
      'https://:secret@proxy.example.com',
    ])
      assert.throws(
        () => api(url),
        (e: Error) =>
          e.message ===
          'The Heroku API URL from the variable HEROKU_API_URL contains credentials: remove them; the task sends the API key itself.',
        url,
      );
  });

  it('refuses a query or a fragment, either one alone', () => {
    for (const url of ['https://proxy.example.com/heroku?x=1', 'https://proxy.example.com/heroku#top'])
      assert.throws(
        () => api(url),
        (e: Error) =>
          e.message ===
          'The Heroku API URL from the variable HEROKU_API_URL must not have a query or fragment: use a base URL such as https://api.heroku.com.',
        url,
      );
  });

  it('says why plain http is refused off this machine, and where it is allowed', () => {
    assert.throws(
      () => api('http://10.0.0.5:8080/heroku'),
      (e: Error) =>
        e.message ===
        'The Heroku API URL from the variable HEROKU_API_URL (http://10.0.0.5:8080) is plain http: the API key would cross the network unencrypted. Use https, or http only on this machine (127.0.0.1, localhost, ::1).',
    );
  });
});
