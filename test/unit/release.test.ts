// Release logic in-process, with the Platform API stubbed: waiting out a release phase, finding the
// commit of a release on Cedar and Fir, and releasing an already-built commit again.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import type { TaskLog } from '../../tasks/common/core/base/log';
import type { HerokuApi, Release } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import { releaseAgain, releaseCommit, rollBack, settleRelease } from '../../tasks/common/core/heroku/releases';
import { scriptedServer } from '../support/scripted-server';

function fakeLog(): TaskLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => lines.push(line),
    warn: (line) => lines.push(`warn: ${line}`),
    debug: () => undefined,
    group: async (title, body) => {
      lines.push(`[${title}]`);
      return body();
    },
    secret: () => undefined,
  };
}

/** The product's client for the app `app`, over a stubbed transport. */
function fakeApi() {
  const api = { get: sinon.stub(), post: sinon.stub(), followOutput: sinon.stub().resolves() };
  return {
    api,
    client: HerokuClient.connect({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' }, api as unknown as HerokuApi).forApp(
      'app',
    ),
  };
}

const sha = 'a'.repeat(40);

describe('releases', () => {
  afterEach(() => sinon.restore());

  it('follows the release phase output, then polls until the release is no longer pending', async () => {
    const { api, client } = fakeApi();
    api.followOutput.callsFake((_url: string, onLine: (l: string) => void) => {
      onLine('Running migrations');
      return Promise.resolve();
    });
    api.get.onFirstCall().resolves({ id: 'r', version: 7, status: 'pending' });
    api.get.onSecondCall().resolves({ id: 'r', version: 7, status: 'succeeded' });
    const log = fakeLog();
    const sleep = sinon.stub().resolves();
    const release = await settleRelease(
      client,
      { id: 'r', version: 7, status: 'pending', output_stream_url: 'https://release-output.example/streams/r' },
      { log, sleep, pollMs: 10 },
    );
    assert.equal(release.status, 'succeeded');
    assert.equal(api.get.callCount, 2);
    sinon.assert.alwaysCalledWith(api.get, '/apps/app/releases/r');
    assert.deepEqual(log.lines.slice(0, 2), ['[Release phase of v7]', 'Running migrations']);
    assert.equal(sleep.callCount, 2);
  });

  it('gives up on a release phase that outlives its time, naming the command to inspect it', async () => {
    const { api, client } = fakeApi();
    api.get.resolves({ id: 'r', version: 9, status: 'pending' });
    await assert.rejects(
      settleRelease(
        client,
        { id: 'r', version: 9, status: 'pending' },
        { log: fakeLog(), sleep: () => new Promise((r) => setTimeout(r, 5)), timeoutMs: 20, pollMs: 1 },
      ),
      /still running after .*heroku releases:output 9 -a app/,
    );
  });

  it('reads the commit from the slug on Cedar and from the OCI image on Fir', async () => {
    const { api, client } = fakeApi();
    api.get.withArgs('/apps/app/slugs/s1').resolves({ id: 's1', commit: sha });
    api.get.withArgs('/apps/app/oci-images/i1').resolves([{ id: 'i1', commit: 'b'.repeat(40) }]);
    assert.equal(await releaseCommit(client, { slug: { id: 's1' } }), sha);
    assert.equal(await releaseCommit(client, { slug: null, artifacts: [{ type: 'oci-image', id: 'i1' }] }), 'b'.repeat(40));
    assert.equal(await releaseCommit(client, { slug: null, artifacts: [] }), null);
  });

  it("releases a commit again from the slug of the release that ran it, keeping today's config", async () => {
    const { api, client } = fakeApi();
    const recent: Release[] = [
      { id: 'r5', version: 5, description: 'Rollback to v3', slug: { id: 's3' } },
      { id: 'r4', version: 4, description: `Deploy ${sha.slice(0, 8)}`, slug: { id: 's4' } },
      { id: 'r3', version: 3, description: 'Deploy cccccccc', slug: { id: 's3' } },
    ];
    api.get.withArgs('/apps/app/slugs/s4').resolves({ commit: sha });
    api.get.withArgs('/apps/app/slugs/s3').resolves({ commit: 'c'.repeat(40) });
    api.post.resolves({ id: 'r6', version: 6, status: 'succeeded' });
    const release = await releaseAgain(client, sha, recent);
    assert.equal(release.version, 6);
    sinon.assert.calledOnceWithExactly(
      api.post,
      '/apps/app/releases',
      { slug: 's4', description: `Deploy ${sha.slice(0, 8)} (released again from v4)` },
      false,
    );
    assert.equal(
      api.get.firstCall.args[0],
      '/apps/app/slugs/s4',
      'the release described as deploying the commit is checked first',
    );
  });

  it('refuses to guess when no recent release ran the commit', async () => {
    const { api, client } = fakeApi();
    api.get.resolves({ commit: 'c'.repeat(40) });
    await assert.rejects(
      releaseAgain(client, sha, [{ id: 'r3', version: 3, slug: { id: 's3' } }]),
      /none of the last 1 releases ran aaaaaaaa/,
    );
    sinon.assert.notCalled(api.post);
  });

  it('never repeats a rollback POST that may have taken effect (503), and explains the failure', async () => {
    const heroku = await scriptedServer([{ status: 503, body: { id: 'service_unavailable', message: 'Try again' } }]);
    const app = HerokuClient.connect({ baseUrl: heroku.url, apiKey: 'KEY', sleep: () => Promise.resolve() }).forApp('app');
    try {
      await assert.rejects(
        rollBack(app, { id: 'rel-3', version: 3 }, { log: fakeLog() }),
        /^TaskError: Heroku's API failed while rolling back to v3 \(503 service_unavailable: Try again\)/,
      );
    } finally {
      await heroku.close();
    }
    assert.deepEqual(heroku.calls, ['POST /apps/app/releases'], 'sent once');
  });
});
