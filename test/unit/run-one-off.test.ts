// HerokuRun@1 in-process: the exit-status marker (as Heroku's CLI 11.10.0 writes and reads it), the
// attach URL, the entry's inputs -> request, and the report.
import assert from 'node:assert/strict';
import { TaskError } from '../../tasks/common/core/base/errors';
import { attachTarget } from '../../tasks/common/core/heroku/rendezvous';
import { DynoOutput, withExitStatus } from '../../tasks/common/core/run/exit-status';
import { runReport } from '../../tasks/common/core/run/report';
import { oneOffTask } from '../../tasks/HerokuRunV1/run-task';
import { FakeHost } from '../support/fake-host';

function read(chunks: string[]): { lines: string[]; status: number | null } {
  const lines: string[] = [];
  const output = new DynoOutput((line) => lines.push(line));
  for (const chunk of chunks) output.push(chunk);
  output.end();
  return { lines, status: output.status };
}

describe('HerokuRun@1 in-process', () => {
  describe('the exit status marker', () => {
    it('is appended after " ; " as the CLI does (the first word stays a bare process type)', () => {
      assert.equal(withExitStatus('rake db:migrate'), 'rake db:migrate ; echo "\uFFFF heroku-command-exit-status: $?"');
      assert.equal(withExitStatus('web').split(/\s+/)[0], 'web');
    });

    it('is read and stripped; the greeting is dropped; CRLF becomes lines', () => {
      assert.deepEqual(read(['rendezvous\r\n', 'one\r\ntwo\n', '\uFFFF heroku-command-exit-status: 3\n']), {
        lines: ['one', 'two'],
        status: 3,
      });
    });

    it('is found across chunks, and after a last line without newline', () => {
      assert.deepEqual(read(['rendezvous\r\nhalf', ' a line\uFFFF heroku-command-', 'exit-status: 0\n']), {
        lines: ['half a line'],
        status: 0,
      });
    });

    it('keeps a first line that is not the greeting, and a later "rendezvous" line', () => {
      assert.deepEqual(read(['output first\nrendezvous\n']), { lines: ['output first', 'rendezvous'], status: null });
    });

    it('takes the last marker (the echo runs after everything the command printed)', () => {
      assert.equal(
        read(['\uFFFF heroku-command-exit-status: 0\n', 'more\n', '\uFFFF heroku-command-exit-status: 2\n']).status,
        2,
      );
    });

    it('ignores a marker not followed by a number alone, and reports none when the stream ends without one', () => {
      const { lines, status } = read(['\uFFFF heroku-command-exit-status: soon\n', 'last words']);
      assert.equal(status, null);
      assert.deepEqual(lines, ['\uFFFF heroku-command-exit-status: soon', 'last words']);
    });

    it('keeps carriage returns inside a line, drops every one at its end', () => {
      assert.deepEqual(read(['rendezvous\r\n', '10%\r50%\r100%\r\r\n']).lines, ['10%\r50%\r100%']);
    });

    it('reads a status of several digits, and no status from a marker with text before or after the number', () => {
      const marker = '\uFFFF heroku-command-exit-status: ';
      assert.equal(read([`${marker}127\n`]).status, 127);
      assert.deepEqual(read([`${marker}x 5\n`, `${marker}5 later\n`]), {
        lines: [`${marker}x 5`, `${marker}5 later`],
        status: null,
      });
    });

    it('takes no status from a long line of digits without the marker', () => {
      const digits = '1234567890'.repeat(8);
      assert.deepEqual(read([`${digits}\n`]), { lines: [digits], status: null });
    });

    it('flushes the last line once: a second end() adds nothing', () => {
      const lines: string[] = [];
      const output = new DynoOutput((line) => lines.push(line));
      output.push('first\nlast');
      output.end();
      output.end();
      assert.deepEqual(lines, ['first', 'last']);
    });

    it('cuts a line over 64 KB and drops its rest, whatever the chunks', () => {
      const { lines, status } = read(['x'.repeat(70 * 1024), 'y'.repeat(10), 'z\nnext\n\uFFFF heroku-command-exit-status: 0\n']);
      assert.equal(lines.length, 2);
      assert.match(lines[0] ?? '', /^x{65536} \[line cut at 64 KB\]$/);
      assert.equal(lines[1], 'next');
      assert.equal(status, 0);
    });

    it('passes on a line of exactly 64 KB whole', () => {
      const { lines } = read(['x'.repeat(64 * 1024), '\nnext\n']);
      assert.deepEqual(lines, ['x'.repeat(64 * 1024), 'next']);
    });

    it('after a cut line, keeps the lines that follow its end, in this chunk or the next ones', () => {
      const cut = 'x'.repeat(70 * 1024);
      assert.deepEqual(read([cut, '\nnext\n']).lines.slice(1), ['next'], 'the newline at the start of a chunk ends the cut line');
      assert.deepEqual(read([cut, 'rest\nnext\n', 'after\n']).lines.slice(1), ['next', 'after']);
    });
  });

  describe('the attach URL', () => {
    it("sends the URL's path and query without the leading slash", () => {
      assert.deepEqual(attachTarget('rendezvous://rendezvous.runtime.heroku.com:5000/abc123?x=1'), {
        host: 'rendezvous.runtime.heroku.com',
        port: 5000,
        secret: 'abc123?x=1',
      });
    });

    it('takes an IPv6 host without its brackets (as a socket wants it)', () => {
      assert.deepEqual(attachTarget('rendezvous://[2001:db8::1]:5000/abc'), { host: '2001:db8::1', port: 5000, secret: 'abc' });
    });

    it('refuses an attach URL it cannot parse, showing its first 40 characters only', () => {
      const url = `not a url ${'s'.repeat(60)}`;
      assert.throws(
        () => attachTarget(url),
        (e: unknown) =>
          e instanceof TaskError &&
          e.kind === 'api' &&
          e.message === `Heroku gave the one-off dyno an attach URL the task cannot read (${url.slice(0, 40)}…).`,
      );
    });

    it('refuses an SSH-style (https) attach URL, naming HerokuCli@1', () => {
      assert.throws(
        () => attachTarget('https://ssh.example/dyno'),
        (e: unknown) => e instanceof TaskError && /over https .*HerokuCli@1/.test(e.message),
      );
    });
  });

  describe('the entry', () => {
    const request = (inputs: Record<string, string>) => {
      const host = new FakeHost({ inputs: { appName: 'my-app', apiKey: 'k', command: 'rake db:migrate', ...inputs } });
      return oneOffTask.read(host, oneOffTask.subject(host));
    };

    it('reads the defaults: type run, 60 minutes, fail on a non-zero exit, no size, no env', () => {
      const r = request({});
      assert.deepEqual(
        { command: r.command, type: r.type, size: r.size, env: r.env, timeout: r.timeoutSeconds, fail: r.failOnExitCode },
        { command: 'rake db:migrate', type: 'run', size: null, env: {}, timeout: 3600, fail: true },
      );
    });

    it('takes decimal minutes, size, type and env lines (KEY= is an empty value)', () => {
      const r = request({ timeout: '0.5', size: 'standard-2x', type: 'worker', env: 'A=1\n\nB=\n# note\nC = x y ' });
      assert.deepEqual([r.timeoutSeconds, r.size, r.type, r.env], [30, 'standard-2x', 'worker', { A: '1', B: '', C: 'x y' }]);
      assert.equal(request({ timeout: '1440' }).timeoutSeconds, 86_400);
    });

    it('names an undefined variable in the command or env, never the text around it', () => {
      assert.throws(() => request({ command: 'rake $(Task.Name)' }), /The input command reads \$\(Task\.Name\)/);
      assert.throws(
        () => request({ env: 'TOKEN=abc$(Missing.Var)def' }),
        (e: unknown) => e instanceof TaskError && /line 1 uses \$\(Missing\.Var\)/.test(e.message) && !e.message.includes('abc'),
      );
    });

    it('refuses a timeout of 0 and a type with spaces', () => {
      assert.throws(() => request({ timeout: '0' }), /The input timeout is "0"/);
      assert.throws(() => request({ type: 'one off' }), /The input type is "one off"/);
    });
  });

  describe('the report', () => {
    it('sets exitCode and dynoName, and names the command, dyno and app', () => {
      const report = runReport('my-app', {
        ok: true,
        result: { app: 'my-app', command: 'rake db:migrate', dynoName: 'run.1234', exitCode: 0, durationMs: 4200 },
      });
      assert.deepEqual(report.outputs, { exitCode: '0', dynoName: 'run.1234' });
      assert.equal(report.line, '`rake db:migrate` exited 0 in run.1234 of my-app · 4s');
      assert.match(report.summary?.markdown ?? '', /\| Exit code \| 0 \|/);
    });

    it('writes the whole summary, named after the app', () => {
      const report = runReport('my-app', {
        ok: true,
        result: { app: 'my-app', command: 'echo a|b', dynoName: 'run.1234', exitCode: 2, durationMs: 61_000 },
      });
      assert.equal(report.summary?.name, 'heroku-run-my-app');
      assert.equal(
        report.summary?.markdown,
        [
          '### HerokuRun: my-app',
          '',
          '| | |',
          '|---|---|',
          '| Command | `echo a\\|b` |',
          '| Dyno | run.1234 |',
          '| Exit code | 2 |',
          '| Duration | 1m01s |',
          '',
        ].join('\n'),
      );
    });

    it('names a failure summary after the app, or "no app" when there was none', () => {
      const failure = new TaskError('input', 'no app given');
      const named = runReport('my-app', { ok: false, failure, partial: null }).summary;
      assert.equal(named?.name, 'heroku-run-my-app');
      assert.match(named?.markdown ?? '', /^### HerokuRun: my-app\n\n\*\*Failed:\*\* no app given/);
      const unnamed = runReport(null, { ok: false, failure, partial: null }).summary;
      assert.equal(unnamed?.name, 'heroku-run-app');
      assert.match(unnamed?.markdown ?? '', /^### HerokuRun: no app\n/);
    });

    it('on failure sets what the run got to: the dyno, and the exit code when one came', () => {
      const failure = new TaskError('script', 'exited 3');
      assert.deepEqual(runReport('my-app', { ok: false, failure, partial: { dynoName: 'run.1', exitCode: 3 } }).outputs, {
        dynoName: 'run.1',
        exitCode: '3',
      });
      assert.deepEqual(runReport('my-app', { ok: false, failure, partial: { dynoName: 'run.1', exitCode: null } }).outputs, {
        dynoName: 'run.1',
      });
      assert.deepEqual(runReport(null, { ok: false, failure, partial: null }).outputs, {});
    });
  });
});
