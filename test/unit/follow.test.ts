// Following a pipeline promotion with the Platform API stubbed and time injected: it polls with the
// injected sleep until the promotion completes, settles each target's release as it appears, and
// gives up at its deadline on the injected clock.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import type { TaskError } from '../../tasks/common/core/base/errors';
import { HerokuApiError, type HerokuApi } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import { promoteAndFollow } from '../../tasks/common/core/promote/follow';
import type { Target } from '../../tasks/common/core/promote/types';
import { FakeHost } from '../support/fake-host';

/** The app `name` (id `id`) as a target of the promotion. */
function targetOf(client: HerokuClient, name: string, id: string): Target {
  return {
    name,
    id,
    app: { id, name },
    client: client.forApp(name, 'targetApps'),
    stage: 'production',
    healthUrl: null,
    current: null,
    before: null,
    diff: null,
  };
}

function setUp() {
  const api = {
    get: sinon.stub(),
    post: sinon.stub().resolves({ id: 'p1', status: 'pending' }),
    followOutput: sinon.stub().resolves(),
  };
  const client = HerokuClient.connect({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' }, api as unknown as HerokuApi);
  const target = targetOf(client, 'my-app', 'app-1');
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

  it('promotes to every target at once and settles the release each target got, whatever the order Heroku lists them', async () => {
    const { api, client, target, source, host } = setUp();
    const eu = targetOf(client, 'my-app-eu', 'app-2');
    api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'completed' });
    const entries = [
      { app: { id: 'app-2' }, release: { id: 'rel-5' }, status: 'succeeded' },
      { app: { id: 'app-1' }, release: { id: 'rel-17' }, status: 'succeeded' },
    ];
    api.get.withArgs('/pipeline-promotions/p1/promotion-targets').resolves(entries);
    api.get.withArgs('/apps/my-app/releases/rel-17').resolves({ id: 'rel-17', version: 17, status: 'succeeded' });
    api.get.withArgs('/apps/my-app-eu/releases/rel-5').resolves({ id: 'rel-5', version: 5, status: 'succeeded' });

    const followed = await promoteAndFollow('pipe-1', source, [target, eu], { client, log: host.log, sleep: sinon.stub() });
    assert.deepEqual(
      [...followed.releases].map(([app, release]) => `${app}: v${release.version}`),
      ['app-2: v5', 'app-1: v17'],
    );
    sinon.assert.calledOnceWithMatch(api.post, '/pipeline-promotions', {
      targets: [{ app: { id: 'app-1' } }, { app: { id: 'app-2' } }],
    });
    assert.deepEqual(host.lines, [
      'Promotion p1 created: Heroku copies the slug of my-app-staging v12 to my-app, my-app-eu.',
      'my-app-eu: the promotion made v5.',
      'my-app: the promotion made v17.',
    ]);
  });

  it('says once that it waits, however many times it polls', async () => {
    const { api, client, target, source, host } = setUp();
    const read = api.get.withArgs('/pipeline-promotions/p1');
    read.resolves({ id: 'p1', status: 'completed' });
    read.onFirstCall().resolves({ id: 'p1', status: 'pending' });
    read.onSecondCall().resolves({ id: 'p1', status: 'pending' });
    api.get.withArgs('/pipeline-promotions/p1/promotion-targets').resolves([]);
    const sleep = sinon.stub().resolves();
    await promoteAndFollow('pipe-1', source, [target], { client, log: host.log, sleep });
    assert.equal(sleep.callCount, 2);
    assert.deepEqual(
      host.lines.filter((l) => l.startsWith('Waiting')),
      ['Waiting for the promotion to complete...'],
    );
  });

  it('stops following when the task is cancelled, saying that Heroku carries the promotion on', async () => {
    const { api, client, target, source, host } = setUp();
    api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'pending' });
    api.get.withArgs('/pipeline-promotions/p1/promotion-targets').resolves([]);
    const controller = new AbortController();
    controller.abort();
    const sleep = sinon.stub().resolves();
    await assert.rejects(
      promoteAndFollow('pipe-1', source, [target], { client, log: host.log, sleep, signal: controller.signal }),
      (error: TaskError) =>
        error.kind === 'cancelled' &&
        error.message ===
          'The task was cancelled while the promotion p1 was running: Heroku carries it on. Check each target with `heroku releases -a <app>`.',
    );
    sinon.assert.notCalled(sleep);
  });

  it("names the promotion when the cancel reaches it during a target's release phase", async () => {
    const { api, client, target, source, host } = setUp();
    api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'pending' });
    api.get.withArgs('/pipeline-promotions/p1/promotion-targets').resolves([{ app: { id: 'app-1' }, release: { id: 'rel-17' } }]);
    api.get.withArgs('/apps/my-app/releases/rel-17').resolves({ id: 'rel-17', version: 17, status: 'pending' });
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      promoteAndFollow('pipe-1', source, [target], {
        client,
        log: host.log,
        sleep: sinon.stub().resolves(),
        signal: controller.signal,
      }),
      (error: TaskError) =>
        error.kind === 'cancelled' && error.message.startsWith('The task was cancelled while the promotion p1 was running'),
    );
  });

  it('says what it was doing when Heroku fails', async () => {
    const failing = (method: string, path: string) =>
      new HerokuApiError(503, 'unavailable', 'Service unavailable.', method, path);
    const cases: Array<[(api: ReturnType<typeof setUp>['api']) => void, RegExp]> = [
      [
        (api) =>
          api.post.rejects(new HerokuApiError(422, 'invalid_params', 'Pipeline not found.', 'POST', '/pipeline-promotions')),
        /^TaskError: Heroku refused POST \/pipeline-promotions while creating the promotion to my-app \(422 invalid_params/,
      ],
      [
        (api) => api.get.withArgs('/pipeline-promotions/p1').rejects(failing('GET', '/pipeline-promotions/p1')),
        /^TaskError: Heroku's API failed while reading the promotion p1 \(503/,
      ],
      [
        (api) => {
          api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'completed' });
          api.get
            .withArgs('/pipeline-promotions/p1/promotion-targets')
            .rejects(failing('GET', '/pipeline-promotions/p1/promotion-targets'));
        },
        /^TaskError: Heroku's API failed while reading the targets of the promotion p1 \(503/,
      ],
      [
        (api) => {
          api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'completed' });
          api.get
            .withArgs('/pipeline-promotions/p1/promotion-targets')
            .resolves([{ app: { id: 'app-1' }, release: { id: 'rel-17' } }]);
          api.get.withArgs('/apps/my-app/releases/rel-17').rejects(failing('GET', '/apps/my-app/releases/rel-17'));
        },
        /^TaskError: Heroku's API failed while reading the new release of my-app \(503/,
      ],
    ];
    for (const [script, message] of cases) {
      const { api, client, target, source, host } = setUp();
      script(api);
      await assert.rejects(promoteAndFollow('pipe-1', source, [target], { client, log: host.log, sleep: sinon.stub() }), message);
    }
  });
});

describe("following a promotion: each target's release phase", () => {
  const OUTPUT = 'https://release-output.example/17';

  /** Follows a completed promotion whose target release reads as `releases` in turn (the last one repeats). */
  async function follow(...releases: Array<Record<string, unknown>>) {
    const { api, client, target, source, host } = setUp();
    api.get.withArgs('/pipeline-promotions/p1').resolves({ id: 'p1', status: 'completed' });
    api.get.withArgs('/pipeline-promotions/p1/promotion-targets').resolves([{ app: { id: 'app-1' }, release: { id: 'rel-17' } }]);
    const read = api.get.withArgs('/apps/my-app/releases/rel-17');
    releases.forEach((release, i) => read.onCall(i).resolves({ id: 'rel-17', version: 17, ...release }));
    read.resolves({ id: 'rel-17', version: 17, ...releases.at(-1) });
    api.followOutput.callsFake((_url: string, onLine: (line: string) => void) => {
      onLine('Running release command...');
      return Promise.resolve();
    });
    const followed = await promoteAndFollow('pipe-1', source, [target], { client, log: host.log, sleep: sinon.stub() });
    return { followed, api, lines: host.lines.slice(1) };
  }

  it('shows the output of a release phase that had already failed when it was read', async () => {
    const { followed, api, lines } = await follow({ status: 'failed', output_stream_url: OUTPUT });
    assert.equal(followed.releases.get('app-1')?.status, 'failed');
    sinon.assert.calledOnceWithMatch(api.followOutput, OUTPUT);
    assert.deepEqual(lines, [
      'my-app: the promotion made v17.',
      '[group] Release phase of v17 of my-app (failed)',
      'Running release command...',
      '[endgroup]',
    ]);
  });

  it('does not show the output of a release that had already succeeded', async () => {
    const { api, lines } = await follow({ status: 'succeeded', output_stream_url: OUTPUT });
    sinon.assert.notCalled(api.followOutput);
    assert.deepEqual(lines, ['my-app: the promotion made v17.']);
  });

  it('follows a release phase still running, and does not show its output again when it fails', async () => {
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'Date'] });
    try {
      const following = follow({ status: 'pending', output_stream_url: OUTPUT }, { status: 'failed', output_stream_url: OUTPUT });
      await clock.tickAsync(2000);
      const { followed, api, lines } = await following;
      assert.equal(followed.releases.get('app-1')?.status, 'failed');
      sinon.assert.calledOnce(api.followOutput);
      assert.deepEqual(lines, [
        'my-app: the promotion made v17, in its release phase.',
        '[group] Release phase of v17',
        'Running release command...',
        '[endgroup]',
        'Waiting for the release phase of v17...',
      ]);
    } finally {
      clock.restore();
    }
  });
});
