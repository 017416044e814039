// Running tar, the CLI and a user's script: the whole process group stops at the deadline or on
// cancel, streamed lines are cut at their cap, and only the end of a large output is kept.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runProcess } from '../../tasks/common/core/base/run-process';

const env = { PATH: process.env.PATH };
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('runProcess', function () {
  this.timeout(20_000);
  if (process.platform === 'win32') return;

  it('stops the process and what it started at the deadline', async () => {
    let grandchild = 0;
    const started = Date.now();
    const result = await runProcess('sh', ['-c', 'sleep 30 & echo $!; wait'], {
      cwd: '/',
      env,
      timeoutMs: 300,
      onStdoutLine: (line) => (grandchild = Number(line)),
    });
    assert.equal(result.timedOut, true);
    assert.equal(result.cancelled, false);
    assert.ok(Date.now() - started < 5000);
    assert.ok(grandchild > 0 && !alive(grandchild), 'the sleep it started was stopped too');
  });

  it('stops on cancel, and does not start when already cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await runProcess('sleep', ['30'], { cwd: '/', env, signal: controller.signal });
    assert.equal(result.cancelled, true);
    assert.equal(result.signal, 'SIGTERM');
    const never = await runProcess('sh', ['-c', 'echo ran'], { cwd: '/', env, signal: controller.signal });
    assert.deepEqual([never.cancelled, never.stdout], [true, '']);
  });

  it('cuts streamed lines at their cap and keeps the end of a large output', async () => {
    const lines: string[] = [];
    const result = await runProcess('sh', ['-c', 'printf "%0300d\\nshort\\n" 0; printf "%s" tail'], {
      cwd: '/',
      env,
      maxLineChars: 100,
      maxOutputChars: 50,
      onStdoutLine: (line) => lines.push(line),
    });
    assert.equal(result.code, 0);
    assert.deepEqual(
      lines.map((l) => l.length),
      [100, 100, 100, 5, 4],
      'the 300-character line comes in pieces of 100',
    );
    assert.equal(result.stdout.length, 50);
    assert.ok(result.stdout.endsWith('short\ntail'));
  });

  it('returns the exit code, and rejects a program that does not exist', async () => {
    assert.equal((await runProcess('sh', ['-c', 'exit 7'], { cwd: '/', env })).code, 7);
    await assert.rejects(runProcess('no-such-program-here', [], { cwd: '/', env }), /ENOENT/);
  });
});
