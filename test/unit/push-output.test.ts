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

describe('push failures explained', () => {
  const rejected = (summary: string, stderr = '') => parsePushOutput(`!\tabc:refs/heads/main\t${summary}\n`, stderr, 1);
  const failed = (stderr: string, exitCode = 128) => explainPushFailure(parsePushOutput('', stderr, exitCode), context);

  it('reads an outcome without a status line as failed, keeping only the non-empty lines git printed', () => {
    assert.deepEqual(parsePushOutput('', 'fatal: first\n\nremote: Heroku said\n\nfatal: second\n', 128), {
      status: 'failed',
      flag: null,
      summary: '',
      reason: null,
      remote: ['Heroku said'],
      local: ['fatal: first', 'fatal: second'],
      exitCode: 128,
      releasedVersion: null,
      releasePhase: null,
      skippedBuild: false,
    });
  });

  it("keeps only Heroku's ` !` lines as reasons, without the mark, and none that is empty", () => {
    const outcome = rejected(
      '[remote rejected] (pre-receive hook declined)',
      'remote: -----> Building on the Heroku-24 stack\nremote:  !\nremote:  !     Push failed\n',
    );
    assert.deepEqual(herokuReasonLines(outcome), ['Push failed']);
  });

  it("names Heroku's commit that the push would drop, or its last deploy when it is not known", () => {
    const diverged = rejected('[rejected] (fetch first)');
    assert.match(
      explainPushFailure(diverged, context).message,
      /^Heroku's main branch of my-app \(pppppppp\) has commits that cccccccc does not contain: the histories diverged/,
    );
    assert.match(
      explainPushFailure(diverged, { ...context, herokuHead: null }).message,
      /^Heroku's main branch of my-app \(its last deploy\) has commits that cccccccc does not contain/,
    );
  });

  it('says another build is in progress when Heroku says so among its reasons', () => {
    const error = explainPushFailure(
      rejected(
        '[remote rejected] (pre-receive hook declined)',
        'remote:  !     Build in progress for this app.\nremote:  !     Push rejected to my-app.\n',
      ),
      context,
    );
    assert.equal(error.kind, 'busy', "another deploy's build lock: its temporary changes are not undone");
    assert.match(
      error.message,
      /^Heroku rejected the push: another build of my-app is in progress\. Re-run when it has finished/,
    );
  });

  it("quotes every one of Heroku's reasons for a failed build, or points at the log when it gave none", () => {
    const declined = '[remote rejected] (pre-receive hook declined)';
    const reasons = explainPushFailure(
      rejected(declined, 'remote:  !     No default language could be detected.\nremote:  !     Push failed\n'),
      context,
    );
    assert.match(
      reasons.message,
      /the build of cccccccc failed, so nothing was released.*Heroku's reason: No default language could be detected\. \/ Push failed\. Fix the build/,
    );
    assert.match(
      explainPushFailure(rejected(declined), context).message,
      /Heroku's reason: see the push log above\. Fix the build/,
    );
  });

  it('repeats the reason of any other refusal, or the summary when git gave no reason', () => {
    assert.equal(
      explainPushFailure(
        rejected('[remote rejected] (deny updating a hidden ref)', 'remote:  !     One\nremote:  !     Two\n'),
        context,
      ).message,
      'Heroku refused the push (deny updating a hidden ref). One / Two',
    );
    const bare = explainPushFailure(rejected('[remote failure]'), context);
    assert.equal(bare.kind, 'build');
    assert.equal(bare.message, 'Heroku refused the push ([remote failure]).');
  });

  it('says what to do about a rejected key, a key without access, and an app git does not know', () => {
    const auth = failed("fatal: Authentication failed for 'https://git.heroku.com/my-app.git/'");
    assert.equal(auth.kind, 'auth');
    assert.match(auth.message, /^Heroku's git server \(https:\/\/git\.heroku\.com\) rejected the API key\./);
    assert.match(auth.message, /`heroku authorizations:create`/);

    const denied = explainPushFailure(
      parsePushOutput(
        '',
        'remote:  !     You do not have access to the app my-app.\nfatal: Could not read from remote repository.',
        128,
      ),
      context,
    );
    assert.equal(denied.kind, 'permission');
    assert.match(
      denied.message,
      /^Heroku's git server refused access to my-app \(403\).*\(`heroku access:add <email> -a my-app`\)\.$/,
    );

    const missing = failed("fatal: repository 'https://git.heroku.com/my-app.git/' not found");
    assert.match(
      missing.message,
      /^Heroku's git server has no repository for my-app \(https:\/\/git\.heroku\.com\/my-app\.git answered 404\)\. Check appName and the HEROKU_GIT_URL variable/,
    );
  });

  it("quotes git's own line for a certificate it does not trust, a dropped connection and an unreachable server", () => {
    const certificate = 'fatal: unable to access: SSL certificate problem: unable to get local issuer certificate';
    assert.match(failed(certificate).message, new RegExp(`git said: ${certificate}$`));
    assert.match(
      failed('error: RPC failed; curl 56 Recv failure: Connection reset by peer\nfatal: the remote end hung up unexpectedly')
        .message,
      /dropped during the push \(error: RPC failed; curl 56 Recv failure: Connection reset by peer\)\. Heroku did not confirm the push/,
    );
    assert.match(
      failed('send-pack: unexpected disconnect while reading sideband packet').message,
      /dropped during the push \(the remote hung up\)\./,
    );
    assert.equal(
      failed(
        "fatal: unable to access 'https://git.heroku.com/my-app.git/': Failed to connect to git.heroku.com port 443: Connection refused",
      ).message,
      "Could not reach Heroku's git server at https://git.heroku.com: fatal: unable to access 'https://git.heroku.com/my-app.git/': Failed to connect to git.heroku.com port 443: Connection refused. Check the agent's network access, its proxy settings (Agent.ProxyUrl) and firewall (HTTPS to git.heroku.com must be allowed).",
    );
  });

  it("reports any other failure with git's exit code and its last three lines", () => {
    const other = failed('hint: one\nhint: two\nerror: three\nfatal: four\n');
    assert.equal(other.kind, 'git');
    assert.equal(other.message, 'git push to Heroku failed (exit 128): hint: two / error: three / fatal: four.');
    assert.equal(failed('', 1).message, 'git push to Heroku failed (exit 1): no output.');
  });
});

describe('push output: the variants git and Heroku print', () => {
  it('takes the status only from a line that starts with a porcelain flag', () => {
    const stray = parsePushOutput('To x\nwarning: +\tabc:refs/heads/main\t[new branch]\nDone\n', 'fatal: no status', 128);
    assert.deepEqual([stray.status, stray.flag, stray.summary], ['failed', null, '']);
  });

  it('reads the summary and the reason whatever the spacing around the parentheses', () => {
    const padded = parsePushOutput('!\tabc:refs/heads/main\t[rejected] (fetch first)  \n', '', 1);
    assert.deepEqual([padded.summary, padded.reason], ['[rejected]', 'fetch first']);
    const tight = parsePushOutput('!\tabc:refs/heads/main\t[rejected](non-fast-forward)\n', '', 1);
    assert.deepEqual([tight.summary, tight.reason], ['[rejected]', 'non-fast-forward']);
    const bare = parsePushOutput('=\tabc:refs/heads/main\t[up to date]  \n', '', 0);
    assert.deepEqual([bare.status, bare.summary, bare.reason], ['up-to-date', '[up to date]', null]);
  });

  it('shows a remote reason that holds parentheses of its own whole, as git printed it', () => {
    const outcome = parsePushOutput('!\tabc:refs/heads/main\t[remote rejected] (failed (exit 1) badly)\n', '', 1);
    assert.deepEqual(
      [outcome.status, outcome.summary, outcome.reason],
      ['rejected', '[remote rejected] (failed (exit 1) badly)', null],
    );
    assert.equal(
      explainPushFailure(outcome, context).message,
      'Heroku refused the push ([remote rejected] (failed (exit 1) badly)).',
    );
  });

  it('keeps a `remote:` line as Heroku printed it after the one separating space', () => {
    assert.deepEqual(parsePushOutput('', 'remote:-----> Building on the Heroku-24 stack\nremote:   indented line', 0).remote, [
      '-----> Building on the Heroku-24 stack',
      '  indented line',
    ]);
  });

  it('reads a release version of several digits from the older one-line launch', () => {
    assert.equal(parsePushOutput('', 'remote: -----> Launching... done, v128', 0).releasedVersion, 128);
  });

  it("reads the release phase from Heroku's line however it is indented, and not from a release command quoting it", () => {
    assert.equal(parsePushOutput('', 'remote:        Waiting for release.... done.', 0).releasePhase, 'done');
    const quoted = parsePushOutput('', 'remote: bin/release: Waiting for release.... failed. (a test fixture)', 0);
    assert.equal(quoted.releasePhase, null);
  });

  it("keeps a reason that follows Heroku's ` !` mark without a space", () => {
    assert.deepEqual(herokuReasonLines(parsePushOutput('', 'remote: !Push rejected to my-app.\n', 1)), [
      'Push rejected to my-app.',
    ]);
  });
});

describe('push failures explained: redirects and a silent server', () => {
  const failed = (stderr: string) => explainPushFailure(parsePushOutput('', stderr, 128), context);

  it('says the git host answered with a redirect, which the task never follows, and which URL to set', () => {
    for (const code of ['301', '302', '303', '307', '308']) {
      const error = failed(
        `error: RPC failed; HTTP ${code} curl 22 The requested URL returned error: ${code}\nfatal: the remote end hung up unexpectedly`,
      );
      assert.equal(error.kind, 'network', code);
      assert.match(
        error.message,
        new RegExp(
          `^https://git\\.heroku\\.com answered the push with a redirect \\(HTTP ${code}\\)\\. The task never follows git redirects, so the key only ever goes to the configured git host: set HEROKU_GIT_URL`,
        ),
      );
    }
    assert.doesNotMatch(
      failed('error: RPC failed; HTTP 304 curl 22 The requested URL returned error: 304').message,
      /redirect/,
      'a 304 is no redirect to follow',
    );
  });

  it('says the git server sent nothing for the seconds git waited, so nothing new was released', () => {
    const silent = failed(
      'error: RPC failed; curl 28 Operation too slow. Less than 1 bytes/sec transferred the last 300 seconds\nfatal: the remote end hung up unexpectedly',
    );
    assert.equal(silent.kind, 'network');
    assert.match(
      silent.message,
      /^Heroku's git server \(https:\/\/git\.heroku\.com\) sent nothing for 300 seconds, so the push was stopped; Heroku did not confirm it, so nothing new was released \(check `heroku releases -a my-app`\)\. Re-run the job/,
    );
    assert.match(
      failed('error: RPC failed; curl 28 Operation too slow. Less than 10 bytes/sec transferred the last 60 seconds').message,
      /sent nothing for 60 seconds/,
      'whatever limits curl reports',
    );
  });
});
