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
    const first = steps.undoLater('Restore', () => (ran.push('first'), Promise.resolve('a')));
    steps.undoLater('Restore', () => (ran.push('second'), Promise.resolve('b')));
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
    steps.undoLater('Maintenance mode off', () => (ran.push('maintenance'), Promise.resolve('off')));
    steps.undoLater('Restore worker', () => (ran.push('worker'), Promise.reject(new Error('503 from Heroku'))));
    const failing = steps.undoingOnExit('deploy', () => Promise.reject(new TaskError('build', 'The build failed.', ['reason'])));
    await assert.rejects(failing, (error: TaskError) => {
      assert.equal(error.kind, 'undo');
      assert.equal(error.message, 'Restore worker failed: 503 from Heroku (The deploy had failed: The build failed.)');
      assert.deepEqual(error.details, ['reason']);
      return true;
    });
    assert.deepEqual(ran, ['worker', 'maintenance'], 'each undo attempted, newest first');
    assert.ok(host.lines.includes('warn: Restore worker FAILED: 503 from Heroku'));
  });

  it('fails a task that succeeded when an undo fails at the end', async () => {
    const steps = new Steps(new FakeHost().log);
    steps.undoLater('Maintenance mode off', () => Promise.reject(new Error('timeout')));
    await assert.rejects(
      steps.undoingOnExit('deploy', () => Promise.resolve('released')),
      /Maintenance mode off failed: timeout/,
    );
  });
});
