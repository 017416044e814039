// Input rules, endpoints and branch names: the pure functions behind the task's first checks.
import assert from 'node:assert/strict';
import { describeBranch } from '../../tasks/common/core/deploy/deploy';
import { resolveEndpoint } from '../../tasks/common/core/base/endpoints';
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
