// Running tar, the CLI and a user's script: the whole process group stops at the deadline or on
// cancel, streamed lines are cut at their cap, and only the end of a large output is kept.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { splitLines } from '../../tasks/common/core/base/process-tree';
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
    assert.ok(Date.now() - started < 5000, 'Date.now() - started < 5000');
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
    assert.ok(result.stdout.endsWith('short\ntail'), "result.stdout.endsWith('short\\ntail')");
  });

  it('starts nothing when already cancelled, and says only that it was cancelled', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'run-process-'));
    try {
      const controller = new AbortController();
      controller.abort();
      const sink = new PassThrough();
      const result = await runProcess('sh', ['-c', 'touch ran; echo out; echo err >&2'], {
        cwd: dir,
        env,
        signal: controller.signal,
        timeoutMs: 5000,
        stdoutSink: sink,
      });
      assert.deepEqual(result, { code: 1, signal: null, stdout: '', stderr: '', timedOut: false, cancelled: true });
      assert.equal(sink.writableEnded, true, 'the sink is ended, so that whoever waits for it goes on');
      assert.equal(existsSync(path.join(dir, 'ran')), false, 'the program never ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the last 1 MB of an output by default', async () => {
    const mb = 1024 * 1024;
    const result = await runProcess(
      'sh',
      ['-c', `printf start; head -c ${mb} /dev/zero | tr '\\0' a; printf end; printf err >&2`],
      {
        cwd: '/',
        env,
      },
    );
    assert.equal(result.code, 0);
    assert.equal(result.stdout.length, mb, 'exactly 1 MB kept');
    assert.ok(result.stdout.startsWith('aaa') && result.stdout.endsWith('aaaend'), 'its end, without the start');
    assert.equal(result.stderr, 'err', 'a short output is kept whole');
  });

  it('keeps the start of stdout when asked (a list read from the top), and still the end of stderr', async () => {
    // Three writes, so that stdout comes in more than one chunk: the first already fills the cap.
    const script = "printf 'line 1\\nline 2\\n'; sleep 0.05; printf 'line 3\\n'; sleep 0.05; printf 'abcdefghijklmnop' >&2";
    const lines: string[] = [];
    const result = await runProcess('sh', ['-c', script], {
      cwd: '/',
      env,
      maxOutputChars: 10,
      keepStdoutStart: true,
      onStdoutLine: (line) => lines.push(line),
    });
    assert.equal(result.stdout, 'line 1\nlin');
    assert.equal(result.stderr, 'ghijklmnop');
    assert.deepEqual(lines, ['line 1', 'line 2', 'line 3'], 'streamed lines are not limited by the cap');
  });

  it('signals a program once when the task is cancelled after its deadline already stopped it', async () => {
    // A script that notes each SIGTERM, runs until the first, then carries on for half a second (well
    // within the 2 s before SIGKILL). The deadline leaves it ample time to set its trap first.
    const script =
      "trap 'echo TERM; t=1' TERM; t=0; k=0; while [ $k -lt 10 ]; do sleep 0.05; [ $t = 1 ] && k=$((k+1)); done; echo done";
    const controller = new AbortController();
    const lines: string[] = [];
    const result = await runProcess('sh', ['-c', script], {
      cwd: '/',
      env,
      signal: controller.signal,
      timeoutMs: 500,
      onStdoutLine: (line) => {
        lines.push(line);
        if (line === 'TERM') controller.abort(); // the deadline's SIGTERM has arrived: now the cancel
      },
    });
    assert.deepEqual(lines, ['TERM', 'done'], 'one SIGTERM, not one per reason to stop');
    assert.deepEqual([result.code, result.timedOut, result.cancelled], [0, true, true]);
  });

  it("takes its listener off the task's signal when the program ends (every step shares that signal)", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) await runProcess('sh', ['-c', 'exit 0'], { cwd: '/', env, signal: controller.signal });
    await runProcess('sh', ['-c', 'exit 0'], { cwd: '/', env, signal: controller.signal, ownGroup: false });
    // Left on, they would add up to Node's "Possible EventTarget memory leak detected" warning in the log.
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'no abort listener left');
  });

  it('returns the exit code, and rejects a program that does not exist', async () => {
    assert.equal((await runProcess('sh', ['-c', 'exit 7'], { cwd: '/', env })).code, 7);
    await assert.rejects(runProcess('no-such-program-here', [], { cwd: '/', env }), /ENOENT/);
  });
});

describe('streamed lines', () => {
  it('cuts a long line at its cap while it is still coming, before its end arrives', () => {
    const lines: string[] = [];
    const stream = splitLines((line) => lines.push(line), 100);
    stream.push('a'.repeat(250));
    assert.deepEqual(
      lines.map((l) => l.length),
      [100, 100],
      'the pieces of a full cap go out at once; the rest waits for more',
    );
    stream.push('b\nnext');
    stream.end();
    assert.deepEqual(lines.slice(2), [`${'a'.repeat(50)}b`, 'next'], 'the rest of the line, then the last line at the end');
  });

  it('keeps empty lines, and adds none where a line of exactly the cap ends in the next chunk', () => {
    const lines: string[] = [];
    const stream = splitLines((line) => lines.push(line), 4);
    stream.push('a\n\nb\n');
    stream.push('abcd');
    stream.push('\nlast');
    stream.end();
    assert.deepEqual(lines, ['a', '', 'b', 'abcd', 'last'], 'one line each, the empty one kept, no empty piece after abcd');
  });
});
