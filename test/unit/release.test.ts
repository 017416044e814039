// Release logic in-process, with the Platform API stubbed: waiting out a release phase, finding the
// commit of a release on Cedar and Fir, and releasing an already-built commit again.
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import type { TaskLog } from '../../tasks/common/core/base/log';
import { HerokuApiError, type HerokuApi, type Release } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import {
  releaseAgain,
  releaseCommit,
  releaseSnapshot,
  rollBack,
  settleRelease,
  showReleaseOutput,
} from '../../tasks/common/core/heroku/releases';
import { FakeHost } from '../support/fake-host';
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

/** Heroku failing a call with a 500, for the message that says what the task was doing. */
const serverError = (method: string, path: string) =>
  new HerokuApiError(500, 'internal_server_error', 'Internal server error', method, path);

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
    assert.deepEqual(
      recent.map((r) => r.version),
      [5, 4, 3],
      "the caller's list of releases keeps its order",
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

  it('lists the newest 10 releases by default, newest first, and tells the newest from the live one', async () => {
    const { api, client } = fakeApi();
    const failed: Release = { id: 'r8', version: 8, status: 'failed', current: false };
    const live: Release = { id: 'r7', version: 7, status: 'succeeded', current: true };
    api.get.resolves([failed, live]);
    assert.deepEqual(await releaseSnapshot(client), { recent: [failed, live], latest: failed, current: live });
    assert.deepEqual(await releaseSnapshot(client, { count: 3 }), { recent: [failed, live], latest: failed, current: live });
    assert.deepEqual(api.get.args, [
      ['/apps/app/releases', 'version ..; order=desc, max=10'],
      ['/apps/app/releases', 'version ..; order=desc, max=3'],
    ]);
  });

  it('has no latest nor live release for an app without releases', async () => {
    const { api, client } = fakeApi();
    api.get.resolves([]);
    assert.deepEqual(await releaseSnapshot(client), { recent: [], latest: null, current: null });
  });

  it('says whose releases it was listing when Heroku fails, or what the caller says it was doing', async () => {
    const { api, client } = fakeApi();
    api.get.rejects(serverError('GET', '/apps/app/releases'));
    await assert.rejects(releaseSnapshot(client), /while listing the releases of app \(500/);
    await assert.rejects(releaseSnapshot(client, { doing: 'reading what is live' }), /while reading what is live \(500/);
  });

  it("reads a Fir release's commit from its OCI image, whatever other artifacts it lists first", async () => {
    const { api, client } = fakeApi();
    api.get.withArgs('/apps/app/oci-images/img-2').resolves([{ id: 'img-2', commit: sha }]);
    const release: Release = {
      version: 2,
      slug: null,
      artifacts: [{ type: 'oci-image' }, { type: 'slug', id: 'slug-2' }, { type: 'oci-image', id: 'img-2' }],
    };
    assert.equal(await releaseCommit(client, release), sha);
    sinon.assert.calledOnceWithExactly(api.get, '/apps/app/oci-images/img-2', undefined);
  });

  it('says which release it was reading the code of when Heroku fails', async () => {
    const { api, client } = fakeApi();
    api.get.rejects(serverError('GET', '/apps/app/slugs/s1'));
    await assert.rejects(releaseCommit(client, { version: 5, slug: { id: 's1' } }), /while reading the code of v5 of app \(500/);
  });

  it("prints nothing for a release without output, and never fails when its output can't be read", async () => {
    const { api, client } = fakeApi();
    api.followOutput.rejects(new Error('connect ECONNREFUSED'));
    const host = new FakeHost();
    await showReleaseOutput(client, { version: 3 }, { log: host.log });
    sinon.assert.notCalled(api.followOutput);
    await showReleaseOutput(
      client,
      { version: 4, output_stream_url: 'https://release-output.example/streams/r4' },
      { log: host.log },
    );
    assert.deepEqual(host.lines, ['[group] Release phase of v4', '[endgroup]']);
    assert.deepEqual(host.debugLines, ['could not read the release phase output: connect ECONNREFUSED']);
  });

  it('returns a release that is no longer pending as it is, without reading its output again', async () => {
    const { api, client } = fakeApi();
    const log = fakeLog();
    const done: Release = { id: 'r', version: 7, status: 'succeeded', output_stream_url: 'https://release-output.example/r' };
    assert.equal(await settleRelease(client, done, { log, sleep: () => Promise.resolve() }), done);
    sinon.assert.notCalled(api.followOutput);
    sinon.assert.notCalled(api.get);
    assert.deepEqual(log.lines, []);
  });

  it('says once that it waits for the release phase, however many times it polls', async () => {
    const { api, client } = fakeApi();
    api.get.onCall(0).resolves({ id: 'r', version: 7, status: 'pending' });
    api.get.onCall(1).resolves({ id: 'r', version: 7, status: 'pending' });
    api.get.onCall(2).resolves({ id: 'r', version: 7, status: 'failed' });
    const log = fakeLog();
    const release = await settleRelease(
      client,
      { id: 'r', version: 7, status: 'pending' },
      { log, sleep: () => Promise.resolve() },
    );
    assert.equal(release.status, 'failed');
    assert.equal(api.get.callCount, 3);
    assert.deepEqual(log.lines, ['Waiting for the release phase of v7...']);
  });

  it('waits 30 minutes by default, polling every 2 s, before giving up on a release phase', async () => {
    const clock = sinon.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date'] });
    const { api, client } = fakeApi();
    api.get.resolves({ id: 'r', version: 9, status: 'pending' });
    const waits: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      waits.push(ms);
      clock.tick(ms);
      return Promise.resolve();
    };
    const started = Date.now();
    await assert.rejects(
      settleRelease(client, { id: 'r', version: 9, status: 'pending' }, { log: fakeLog(), sleep }),
      /^TaskError: The release phase of v9 was still running after 30 minutes\. Check it with `heroku releases:output 9 -a app`; the previous release stays live until it ends\.$/,
    );
    assert.ok(Date.now() - started > 30 * 60_000, 'it gave up only once the 30 minutes had passed');
    assert.ok(Date.now() - started <= 30 * 60_000 + 2000, 'and no later than the poll after that');
    assert.deepEqual(new Set(waits), new Set([2000]));
  });

  it('stops waiting for a release phase when the task is cancelled, naming the release', async () => {
    const { api, client } = fakeApi();
    api.get.onCall(0).resolves({ id: 'r', version: 7, status: 'pending' });
    api.get.resolves({ id: 'r', version: 7, status: 'succeeded' });
    const controller = new AbortController();
    const sleep = (): Promise<void> => {
      controller.abort();
      return Promise.resolve();
    };
    await assert.rejects(
      settleRelease(client, { id: 'r', version: 7, status: 'pending' }, { log: fakeLog(), sleep, signal: controller.signal }),
      (error: TaskError) =>
        error.kind === 'cancelled' && error.message === 'The task was cancelled while v7 was in its release phase.',
    );
    assert.equal(api.get.callCount, 1, 'no poll after the cancel');
  });

  it('says which release it was waiting for when Heroku fails while polling', async () => {
    const { api, client } = fakeApi();
    api.get.rejects(serverError('GET', '/apps/app/releases/r'));
    await assert.rejects(
      settleRelease(client, { id: 'r', version: 7, status: 'pending' }, { log: fakeLog(), sleep: () => Promise.resolve() }),
      /while waiting for v7 of app \(500/,
    );
  });

  it('refuses to release an OCI image again, naming the rollback that would', async () => {
    const { api, client } = fakeApi();
    api.get.withArgs('/apps/app/oci-images/img-4').resolves([{ commit: sha }]);
    await assert.rejects(
      releaseAgain(client, sha, [{ id: 'r4', version: 4, slug: null, artifacts: [{ type: 'oci-image', id: 'img-4' }] }]),
      /^TaskError: Heroku already has aaaaaaaa \(v4\) but runs another release, and releasing an OCI image again is not possible through the API\. Push a new commit, or roll back with `heroku releases:rollback v4 -a app`/,
    );
    sinon.assert.notCalled(api.post);
  });

  it('says which commit it was releasing again when Heroku fails', async () => {
    const { api, client } = fakeApi();
    api.get.resolves({ commit: sha });
    api.post.rejects(serverError('POST', '/apps/app/releases'));
    await assert.rejects(
      releaseAgain(client, sha, [{ id: 'r4', version: 4, slug: { id: 's4' } }]),
      /while releasing aaaaaaaa again \(500/,
    );
  });

  it('rolls back by creating a release from the target and returns it once it succeeded', async () => {
    const { api, client } = fakeApi();
    api.post.resolves({ id: 'r13', version: 13, status: 'succeeded' });
    const rolled = await rollBack(client, { id: 'r10', version: 10 }, { log: fakeLog() });
    assert.equal(rolled.version, 13);
    sinon.assert.calledOnceWithExactly(api.post, '/apps/app/releases', { release: 'r10' }, false);
  });

  it('fails a rollback whose release did not succeed, saying how it ended', async () => {
    const { api, client } = fakeApi();
    api.post.resolves({ id: 'r13', version: 13, status: 'failed' });
    await assert.rejects(
      rollBack(client, { id: 'r10', version: 10 }, { log: fakeLog() }),
      (error: Error & { kind?: string }) =>
        error.kind === 'rollback' && error.message === 'the rollback release v13 ended failed',
    );
    api.post.resolves({ id: 'r14', version: 14 });
    await assert.rejects(
      rollBack(client, { id: 'r10', version: 10 }, { log: fakeLog() }),
      /^TaskError: the rollback release v14 ended in an unknown state$/,
    );
  });
});
