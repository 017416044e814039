// deployMethod, appDirectory and packageFrom checked together before any network call, and what a
// failed Build API build quotes.
import assert from 'node:assert/strict';
import { TaskError } from '../../tasks/common/core/base/errors';
import { describeSource, failureLines } from '../../tasks/common/core/deploy/build-api-release';
import { normalizeAppDirectory, parseDeploySource } from '../../tasks/common/core/deploy/source-package';

const refused = (run: () => unknown, message: RegExp): void =>
  assert.throws(run, (error: unknown) => error instanceof TaskError && error.kind === 'input' && message.test(error.message));

describe('deploy source inputs', () => {
  it('defaults to the git push, and to the commit for build', () => {
    assert.deepEqual(parseDeploySource({ ref: 'HEAD', force: false }), { method: 'git' });
    assert.deepEqual(parseDeploySource({ deployMethod: 'Build', ref: 'HEAD', force: false }), {
      method: 'build',
      appDirectory: '',
      packageFrom: 'commit',
    });
    assert.deepEqual(
      parseDeploySource({
        deployMethod: 'build',
        appDirectory: './services\\api/',
        packageFrom: 'directory',
        ref: 'HEAD',
        force: false,
      }),
      { method: 'build', appDirectory: 'services/api', packageFrom: 'directory' },
    );
  });

  it('refuses the build-only inputs with git, and the git-only ones with build, saying what to set', () => {
    refused(
      () => parseDeploySource({ appDirectory: 'services/api', ref: 'HEAD', force: false }),
      /appDirectory \("services\/api"\) only applies to `deployMethod: build`.*Set `deployMethod: build`/,
    );
    refused(
      () => parseDeploySource({ packageFrom: 'directory', ref: 'HEAD', force: false }),
      /packageFrom only applies to `deployMethod: build`/,
    );
    refused(
      () => parseDeploySource({ deployMethod: 'build', ref: 'main', force: false }),
      /The input ref \("main"\) only applies to `deployMethod: git`/,
    );
    refused(
      () => parseDeploySource({ deployMethod: 'build', ref: 'HEAD', force: true }),
      /force only applies to `deployMethod: git`/,
    );
    refused(
      () => parseDeploySource({ deployMethod: 'docker', ref: 'HEAD', force: false }),
      /deployMethod is "docker": use `git`.*or `build`/,
    );
    refused(
      () => parseDeploySource({ deployMethod: 'build', packageFrom: 'disk', ref: 'HEAD', force: false }),
      /packageFrom is "disk": use `commit`.*or `directory`/,
    );
  });

  it('takes the inputs as typed, spaces and case aside; `.` is the checkout root, fine with git', () => {
    assert.deepEqual(parseDeploySource({ deployMethod: 'git', appDirectory: '.', ref: 'HEAD', force: false }), { method: 'git' });
    assert.deepEqual(parseDeploySource({ deployMethod: 'git', appDirectory: './', ref: 'HEAD', force: false }), {
      method: 'git',
    });
    for (const packageFrom of ['commit', ' Directory ']) {
      assert.deepEqual(
        parseDeploySource({ deployMethod: 'build', appDirectory: ' svc ', packageFrom, ref: 'HEAD', force: false }),
        { method: 'build', appDirectory: 'svc', packageFrom: packageFrom.trim().toLowerCase() },
      );
    }
    refused(
      () => parseDeploySource({ deployMethod: 'git', appDirectory: ' svc ', ref: 'HEAD', force: false }),
      /^The input appDirectory \("svc"\) only applies/,
    );
  });

  it('takes a drive-like colon inside a relative appDirectory as part of a name', () => {
    assert.equal(normalizeAppDirectory('svc/a:b'), 'svc/a:b');
    assert.equal(normalizeAppDirectory(undefined), '', 'no input: the checkout root');
    refused(() => normalizeAppDirectory('C:/svc'), /is an absolute path/);
  });

  it('refuses an absolute appDirectory and any `..`', () => {
    refused(() => normalizeAppDirectory('/etc'), /is an absolute path/);
    refused(() => normalizeAppDirectory('C:\\app'), /is an absolute path/);
    refused(() => normalizeAppDirectory('services/../../x'), /leaves the checkout/);
    refused(() => normalizeAppDirectory('..'), /leaves the checkout/);
    assert.equal(normalizeAppDirectory(' . '), '');
    assert.equal(normalizeAppDirectory('a//b/./c/'), 'a/b/c');
  });

  it('describes the folder and how it is packed', () => {
    assert.equal(describeSource({ appDirectory: 'services/api', packageFrom: 'commit' }), 'services/api (files of the commit)');
    assert.equal(describeSource({ appDirectory: '', packageFrom: 'directory' }), 'checkout root (folder on disk)');
  });

  it("quotes a failed build's error lines rather than its sign-off, else its last lines", () => {
    const node = ['-----> Build', 'npm ERR! code ELIFECYCLE', 'npm ERR! errno 1', '', 'Love,', 'Heroku', ' !     Push failed'];
    assert.deepEqual(failureLines(node), ['npm ERR! code ELIFECYCLE', 'npm ERR! errno 1', ' !     Push failed']);
    assert.deepEqual(failureLines(['a', '', 'b', 'c', 'd', 'e', 'f']), ['b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(
      failureLines(['ERROR: failed to build: exit status 1', ...Array.from({ length: 10 }, (_, i) => `e${i} error`)]).length,
      5,
    );
  });
});
