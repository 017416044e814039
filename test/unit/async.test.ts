// The injectable wait every polling loop and retry uses, on a fake clock.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import sinon from 'sinon';
import { sleep } from '../../tasks/common/core/base/async';

describe('sleep', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  /** Whether `promise` has settled once pending callbacks have run. */
  async function settledYet(promise: Promise<void>): Promise<boolean> {
    let done = false;
    void promise.then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    return done;
  }

  it('waits the time asked, and no less', async () => {
    const wait = sleep(5000);
    await clock.tickAsync(4999);
    assert.equal(await settledYet(wait), false);
    await clock.tickAsync(1);
    assert.equal(await settledYet(wait), true);
  });

  it('ends at once when its signal aborts meanwhile, and leaves no listener on the signal', async () => {
    const controller = new AbortController();
    const wait = sleep(60_000, controller.signal);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    controller.abort();
    assert.equal(await settledYet(wait), true, 'no minute passed');
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  it('does not wait at all on a signal already aborted (a cancelled task)', async () => {
    const controller = new AbortController();
    controller.abort();
    assert.equal(await settledYet(sleep(60_000, controller.signal)), true);
    assert.equal(clock.countTimers(), 0, 'no timer left behind');
  });

  it('takes its listener off the signal when the time is up (one task signal sees many waits)', async () => {
    const controller = new AbortController();
    const waits = [sleep(10, controller.signal), sleep(20, controller.signal)];
    await clock.tickAsync(20);
    await Promise.all(waits);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    assert.equal(controller.signal.aborted, false);
  });
});
