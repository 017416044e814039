// Following a pipeline promotion with the Platform API stubbed and time injected: it polls with the
// injected sleep until the promotion completes, settles each target's release as it appears, and
// gives up at its deadline on the injected clock.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import type { HerokuApi } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import { promoteAndFollow } from '../../tasks/common/core/promote/follow';
import type { Target } from '../../tasks/common/core/promote/types';
import { FakeHost } from '../support/fake-host';

function setUp() {
  const api = {
    get: sinon.stub(),
    post: sinon.stub().resolves({ id: 'p1', status: 'pending' }),
    followOutput: sinon.stub().resolves(),
  };
  const client = HerokuClient.connect({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' }, api as unknown as HerokuApi);
  const target: Target = {
    name: 'my-app',
    id: 'app-1',
    app: { id: 'app-1', name: 'my-app' },
    client: client.forApp('my-app', 'targetApps'),
    stage: 'production',
    healthUrl: null,
    current: null,
    before: null,
    diff: null,
  };
  const source = { app: { id: 'src-1', name: 'my-app-staging' }, release: { id: 'rel-12', version: 12 } };
  return { api, client, target, source, host: new FakeHost() };
}

describe('following a promotion', () => {
  it('polls with the injected sleep until completed, settling the target release once', async () => {
    const { api, client, target, source, host } = setUp();
    api.get.withArgs('/pipeline-promotions/p1').onFirstCall().resolves({ id: 'p1', status: 'pending' });
    api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'completed' });
    const entry = { app: { id: 'app-1' }, release: { id: 'rel-17' }, status: 'succeeded' };
    api.get.withArgs('/pipeline-promotions/p1/promotion-targets').resolves([entry]);
    api.get.withArgs('/apps/my-app/releases/rel-17').resolves({ id: 'rel-17', version: 17, status: 'succeeded' });
    const sleep = sinon.stub().resolves();

    const followed = await promoteAndFollow('pipe-1', source, [target], { client, log: host.log, pollMs: 250, sleep });
    sinon.assert.calledOnceWithExactly(sleep, 250, undefined);
    assert.equal(followed.promotion.id, 'p1');
    assert.deepEqual(followed.targets, [entry]);
    assert.equal(followed.releases.get('app-1')?.version, 17);
    assert.equal(
      api.get.withArgs('/apps/my-app/releases/rel-17').callCount,
      1,
      'a target release is read once, not on every poll',
    );
    sinon.assert.calledOnceWithMatch(api.post, '/pipeline-promotions', {
      pipeline: { id: 'pipe-1' },
      source: { app: { id: 'src-1' }, release: { id: 'rel-12' } },
      targets: [{ app: { id: 'app-1' } }],
    });
    assert.deepEqual(
      host.lines.filter((l) => l.startsWith('Waiting') || l.startsWith('my-app:')),
      ['my-app: the promotion made v17.', 'Waiting for the promotion to complete...'],
    );
  });

  it('gives up at its deadline on the injected clock, saying how to check each target', async () => {
    const { api, client, target, source, host } = setUp();
    api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'pending' });
    api.get.withArgs('/pipeline-promotions/p1/promotion-targets').resolves([]);
    let clock = 0;
    const sleep = sinon.stub().callsFake((ms: number) => ((clock += ms), Promise.resolve()));
    const follow = promoteAndFollow('pipe-1', source, [target], {
      client,
      log: host.log,
      pollMs: 60_000,
      timeoutMs: 5 * 60_000,
      sleep,
      now: () => clock,
    });
    await assert.rejects(
      follow,
      /^TaskError: The promotion p1 was still running after 5 minutes\. Check each target with `heroku releases -a <app>`/,
    );
    assert.equal(sleep.callCount, 6, 'polled once a minute until past the 5 minutes, then stopped');
  });
});
