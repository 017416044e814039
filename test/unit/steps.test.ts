// Steps and their undo handles: an undo is run by its handle, never found by its title, exactly once,
// and every undo still pending runs on every exit path.
import assert from 'node:assert/strict';
import { TaskError } from '../../tasks/common/core/base/errors';
import { Steps } from '../../tasks/common/core/workflow/steps';
import { FakeHost } from '../support/fake-host';

describe('steps and undo handles', () => {
  it('runs the undo a handle names, once, even when two undos share a title', async () => {
    const steps = new Steps(new FakeHost().log);
    const ran: string[] = [];
    const first = steps.undoLater('Restore', () => (ran.push('first'), Promise.resolve('a')), 'by hand a');
    steps.undoLater('Restore', () => (ran.push('second'), Promise.resolve('b')), 'by hand b');
    await steps.undoNow(first);
    await steps.undoNow(first);
    assert.deepEqual(ran, ['first']);
    await steps.undoingOnExit('deploy', () => Promise.resolve());
    assert.deepEqual(ran, ['first', 'second'], 'the other one still ran at the end');
    assert.deepEqual(
      steps.records.map((r) => [r.name, r.outcome, r.detail]),
      [
        ['Restore', 'restored', 'a'],
        ['Restore', 'restored', 'b'],
      ],
    );
  });

  it('undoes newest first on failure, and reports an undo that fails along with what had failed', async () => {
    const host = new FakeHost();
    const steps = new Steps(host.log);
    const ran: string[] = [];
    steps.undoLater('Maintenance mode off', () => (ran.push('maintenance'), Promise.resolve('off')), 'heroku maintenance:off');
    steps.undoLater(
      'Restore worker',
      () => (ran.push('worker'), Promise.reject(new Error('503 from Heroku'))),
      'heroku ps:scale',
    );
    const failing = steps.undoingOnExit('deploy', () => Promise.reject(new TaskError('build', 'The build failed.', ['reason'])));
    await assert.rejects(failing, (error: TaskError) => {
      assert.equal(error.kind, 'undo');
      assert.equal(error.message, 'Restore worker failed: 503 from Heroku (The deploy had failed: The build failed.)');
      assert.deepEqual(error.details, ['reason']);
      return true;
    });
    assert.deepEqual(ran, ['worker', 'maintenance'], 'each undo attempted, newest first');
    assert.ok(
      host.lines.includes('warn: Restore worker FAILED: 503 from Heroku'),
      "host.lines.includes('warn: Restore worker FAILED: 503 from Heroku')",
    );
  });

  it('fails a task that succeeded when an undo fails at the end', async () => {
    const steps = new Steps(new FakeHost().log);
    steps.undoLater('Maintenance mode off', () => Promise.reject(new Error('timeout')), 'heroku maintenance:off');
    await assert.rejects(
      steps.undoingOnExit('deploy', () => Promise.resolve('released')),
      /Maintenance mode off failed: timeout/,
    );
  });

  it('starts no step once cancelled, and then runs every pending undo at once, without log groups', async () => {
    const host = new FakeHost();
    const steps = new Steps(host.log, host.signal);
    const started: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    steps.undoLater('Maintenance mode off', () => (started.push('maintenance'), slow.then(() => 'off')), 'm');
    steps.undoLater('Restore worker', () => (started.push('worker'), Promise.resolve('back to worker=1')), 'w');
    host.controller.abort();
    await assert.rejects(
      steps.run('Config vars', () => Promise.resolve('set')),
      (e: TaskError) => e.kind === 'cancelled' && /starting the step "Config vars": it was not started/.test(e.message),
    );
    const exit = steps.undoingOnExit('deploy', () => Promise.reject(new TaskError('cancelled', 'The task was cancelled.')));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(started.sort(), ['maintenance', 'worker'], 'the second undo did not wait for the first');
    release();
    await assert.rejects(exit, /The task was cancelled\./);
    assert.ok(host.lines.includes('Restore worker: back to worker=1'), "host.lines.includes('Restore worker: back to worker=1')");
    assert.ok(!host.lines.some((l) => l.startsWith('[group]')), 'no interleaved groups');
    assert.deepEqual(
      steps.records.map((r) => r.outcome),
      ['restored', 'restored'],
      'the step never started is not in the summary',
    );
  });

  it('leaves pending undos undone with a warning naming the command, when the changes are no longer its own', async () => {
    const host = new FakeHost();
    const steps = new Steps(host.log);
    let ran = false;
    steps.undoLater('Maintenance mode off', () => ((ran = true), Promise.resolve('off')), 'heroku maintenance:off -a my-app');
    steps.leaveUndone('another deploy of my-app is running and puts it back when it ends');
    await assert.rejects(
      steps.undoingOnExit('deploy', () => Promise.reject(new TaskError('busy', 'locked'))),
      /locked/,
    );
    assert.equal(ran, false);
    assert.ok(
      host.lines.includes(
        'warn: Maintenance mode off: not done, another deploy of my-app is running and puts it back when it ends. If it stays so, run `heroku maintenance:off -a my-app`.',
      ),
      "host.lines.includes( 'warn: Maintenance mode off: not done, another deploy of my-app is running and puts it...",
    );
    assert.deepEqual(steps.records, [
      {
        name: 'Maintenance mode off',
        outcome: 'not restored',
        detail: 'left as it is: another deploy of my-app is running and puts it back when it ends',
      },
    ]);
  });
});

describe('steps: log groups and undo failures', () => {
  it('runs each step and each undo in a log group of its own, one after the other, unless the step makes its own', async () => {
    const host = new FakeHost();
    const steps = new Steps(host.log);
    const undo = steps.undoLater('Maintenance mode off', () => (host.log.info('switching'), Promise.resolve('off')), 'm');
    steps.undoLater('Restore worker', () => Promise.resolve('back to worker=1'), 'w');
    await steps.run('Config vars', () => (host.log.info('setting'), Promise.resolve()));
    await steps.run(
      'Deploy',
      () => (host.log.info('[group] Build'), Promise.resolve()),
      () => '',
      { group: false },
    );
    await steps.undoNow(undo);
    await steps.undoingOnExit('deploy', () => Promise.resolve());
    assert.deepEqual(host.lines, [
      '[group] Config vars',
      'setting',
      '[endgroup]',
      '[group] Build',
      '[group] Maintenance mode off',
      'switching',
      '[endgroup]',
      '[group] Restore worker',
      '[endgroup]',
    ]);
  });

  it('fails at once when an undo run by its handle fails', async () => {
    const steps = new Steps(new FakeHost().log);
    const undo = steps.undoLater('Restore worker', () => Promise.reject(new Error('503 from Heroku')), 'w');
    await assert.rejects(steps.undoNow(undo), (error: TaskError) => {
      assert.equal(error.kind, 'undo');
      assert.equal(error.message, 'Restore worker failed: 503 from Heroku');
      return true;
    });
  });

  it('reports every undo that failed at the end, in one message', async () => {
    const steps = new Steps(new FakeHost().log);
    steps.undoLater('Maintenance mode off', () => Promise.reject(new Error('timeout')), 'm');
    steps.undoLater('Restore worker', () => Promise.reject(new Error('503')), 'w');
    await assert.rejects(
      steps.undoingOnExit('deploy', () => Promise.resolve()),
      (error: TaskError) => error.message === 'Restore worker failed: 503 Maintenance mode off failed: timeout',
    );
  });
});
