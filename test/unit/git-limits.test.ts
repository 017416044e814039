// git's own limits: a deadline after which it is stopped (its helpers with it), and cancel.
import assert from 'node:assert/strict';
import os from 'node:os';
import { TaskError } from '../../tasks/common/core/base/errors';
import { runGit } from '../../tasks/common/core/git/git';

// An alias that runs a shell command: git starts a helper process, as git-remote-https is for a push.
const slow: Array<[string, string]> = [['alias.slow', '!sleep 30']];

describe('git limits', () => {
  it('stops git and its helpers at the deadline, saying so', async () => {
    const started = Date.now();
    await assert.rejects(
      runGit(['slow'], { cwd: os.tmpdir(), config: slow, network: true, timeoutMs: 300 }),
      (error: TaskError) =>
        error.kind === 'git' && error.message.startsWith('git slow did not finish within 1s and was stopped. Re-run the job'),
    );
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms, not after the helper's 30 s`);
  });

  it('stops git and its helpers when cancelled', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(
      runGit(['slow'], { cwd: os.tmpdir(), config: slow, network: true, signal: controller.signal }),
      (error: TaskError) => error.kind === 'cancelled' && error.message === 'The task was cancelled: git slow was stopped.',
    );
    assert.ok(Date.now() - started < 5000, 'Date.now() - started < 5000');
  });

  it('kills a helper that ignores SIGTERM two seconds later, though git itself has exited', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    await assert.rejects(
      runGit(['stubborn'], {
        cwd: os.tmpdir(),
        config: [['alias.stubborn', `!sh -c 'trap "" TERM; sleep 20'`]],
        network: true,
        signal: controller.signal,
      }),
      (error: TaskError) => error.kind === 'cancelled',
    );
    assert.ok(Date.now() - started < 6000, `stopped in ${Date.now() - started} ms, not after the helper's 20 s`);
  });

  it('keeps all of a short output', async () => {
    const result = await runGit(['--version'], { cwd: os.tmpdir() });
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^git version \d+\.\d+/);
  });
});
