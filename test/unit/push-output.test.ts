// Reading git push output: porcelain status, and Heroku's lines in every variant seen in the wild.
import assert from 'node:assert/strict';
import { explainPushFailure, herokuReasonLines, parsePushOutput } from '../../tasks/common/core/git/push';

const ESC = String.fromCharCode(27);
const context = {
  app: 'my-app',
  sha: 'c'.repeat(40),
  herokuHead: 'p'.repeat(40),
  gitUrl: 'https://git.heroku.com',
  shallow: false,
};

describe('push output', () => {
  it('reads a new branch, a fast-forward and a forced update from porcelain output', () => {
    assert.equal(parsePushOutput('To x\n*\tabc:refs/heads/main\t[new branch]\nDone\n', '', 0).status, 'pushed');
    const ff = parsePushOutput('To x\n \tabc:refs/heads/main\t6a83c41..5478677\nDone\n', '', 0);
    assert.deepEqual([ff.status, ff.flag, ff.summary], ['pushed', ' ', '6a83c41..5478677']);
    const forced = parsePushOutput('To x\n+\tabc:refs/heads/main\t6a83c41...5478677 (forced update)\nDone\n', '', 0);
    assert.deepEqual([forced.status, forced.reason], ['pushed', 'forced update']);
    assert.equal(parsePushOutput('To x\n=\tabc:refs/heads/main\t[up to date]\nDone\n', '', 0).status, 'up-to-date');
  });

  it('reads rejections and their reasons', () => {
    const fetchFirst = parsePushOutput('To x\n!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone\n', '', 1);
    assert.deepEqual([fetchFirst.status, fetchFirst.reason], ['rejected', 'fetch first']);
    const declined = parsePushOutput(
      'To x\n!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n',
      '',
      1,
    );
    assert.deepEqual(
      [declined.status, declined.summary, declined.reason],
      ['rejected', '[remote rejected]', 'pre-receive hook declined'],
    );
  });

  it('reads a release phase that failed while git exited 0 (Heroku transcript)', () => {
    const stderr = [
      'remote: -----> Launching...',
      'remote:  !     Release command declared: this new release will not be available until the command succeeds.',
      'remote:        Released v15',
      'remote:        https://cryptic-gorge-80699.herokuapp.com/ deployed to Heroku',
      'remote:',
      'remote: Verifying deploy... done.',
      'remote: Running release command...',
      'remote: Waiting for release.... failed.',
      'To https://git.heroku.com/cryptic-gorge-80699.git',
    ].join('\n');
    const outcome = parsePushOutput(' \tabc:refs/heads/main\t6a83c41..5478677\n', stderr, 0);
    assert.equal(outcome.releasedVersion, 15);
    assert.equal(outcome.releasePhase, 'failed');
    assert.equal(outcome.status, 'pushed');
  });

  it('reads the older one-line launch, git padding and both skip messages', () => {
    assert.equal(parsePushOutput('', 'remote: -----> Launching... done, v5', 0).releasedVersion, 5);
    const padded = parsePushOutput('', `remote:        Released v7        ${ESC}[K\n`, 0);
    assert.equal(padded.releasedVersion, 7);
    assert.deepEqual(padded.remote, ['       Released v7']);
    assert.equal(
      parsePushOutput('', 'remote: Pushed to branch other than [main, master], skipping build.', 0).skippedBuild,
      true,
    );
    assert.equal(parsePushOutput('', 'remote: Pushed to non-master branch, skipping build.', 0).skippedBuild, true);
    assert.equal(parsePushOutput('', 'remote: Released v3', 0).skippedBuild, false);
  });

  it("quotes Heroku's reason lines for a failed build", () => {
    const outcome = parsePushOutput(
      '!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n',
      'remote:  !     Push rejected, failed to compile Node.js app.\nremote: \nremote:  !     Push failed\nremote: !\tPush rejected to my-app.\n',
      1,
    );
    assert.deepEqual(herokuReasonLines(outcome), [
      'Push rejected, failed to compile Node.js app.',
      'Push failed',
      'Push rejected to my-app.',
    ]);
    const error = explainPushFailure(outcome, context);
    assert.equal(error.kind, 'build');
    assert.match(error.message, /Heroku's reason: Push rejected, failed to compile Node\.js app\./);
  });

  it('explains each kind of failure with what to do', () => {
    const rejected = (reason: string) => parsePushOutput(`!\tabc:refs/heads/main\t[rejected] (${reason})\n`, '', 1);
    assert.equal(explainPushFailure(rejected('fetch first'), context).kind, 'non-fast-forward');
    assert.match(explainPushFailure(rejected('non-fast-forward'), context).message, /set `force: true`/);
    const shallow = parsePushOutput(
      '!\tabc:refs/heads/main\t[remote rejected] (shallow update not allowed)\n',
      'remote: !\tPush rejected, source repository is a shallow clone.',
      1,
    );
    assert.match(explainPushFailure(shallow, context).message, /fetchDepth: 0/);
    const failed = (stderr: string) => explainPushFailure(parsePushOutput('', stderr, 128), context);
    assert.equal(failed("fatal: could not read Username for 'https://git.heroku.com': terminal prompts disabled").kind, 'auth');
    assert.equal(
      failed("fatal: unable to access 'https://git.heroku.com/my-app.git/': The requested URL returned error: 403").kind,
      'permission',
    );
    assert.equal(failed("fatal: repository 'https://git.heroku.com/my-app.git/' not found").kind, 'not-found');
    assert.match(
      failed('error: RPC failed; curl 52 Empty reply from server\nfatal: the remote end hung up unexpectedly').message,
      /dropped during the push/,
    );
    assert.match(
      failed("fatal: unable to access 'https://git.heroku.com/my-app.git/': Could not resolve host: git.heroku.com").message,
      /Could not reach Heroku's git server/,
    );
    assert.match(
      failed(
        "fatal: unable to access 'https://git.heroku.com/x.git/': SSL certificate problem: self-signed certificate in certificate chain",
      ).message,
      /Agent\.CAInfo/,
    );
  });
});
