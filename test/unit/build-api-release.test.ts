// The Build API release strategy in-process: the tarball packed and uploaded, the build started
// with its source blob, its output followed (resumed with Range when it drops), and each way it
// ends: released and proven, failed with its error lines quoted, refused (409), timed out, without
// a release, cancelled (the build DELETEd).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import type { Build } from '../../tasks/common/core/heroku/api';
import { HerokuApiError } from '../../tasks/common/core/heroku/api';
import {
  buildApiRelease,
  failureLines,
  formatBytes,
  prepareSource,
  uploadSource,
  type BuildTarget,
} from '../../tasks/common/core/deploy/build-api-release';
import { release } from '../support/in-process-deploy';
import { FakeHost } from '../support/fake-host';
import { makeRepo, tempDir } from '../support/git';
import { RecordingApi, type Route } from '../support/recording-api';

const SHA = 'abcdef1234567890abcdef1234567890abcdef12';
const OUT = 'https://build-output.example/b1';

/** One opening of the output stream: the chunks it gives, then whether it drops (an Error) or ends. */
interface Opening {
  chunks: string[];
  drop?: Error;
  done?: boolean;
}

/** RecordingApi with the build output stream and the storage upload scripted. */
class BuildApi extends RecordingApi {
  readonly opened: number[] = [];
  readonly uploads: string[] = [];
  openings: Opening[] = [];
  /** Each POST's path, and whether it was sent as safe to send again. */
  readonly posts: string[] = [];
  uploadFailure: Error | null = null;
  override post<T>(path: string, body: unknown, idempotent = false): Promise<T> {
    this.posts.push(`${path}${idempotent ? ' (idempotent)' : ''}`);
    return super.post(path, body);
  }
  openStream(url: string, from: number): Promise<{ body: AsyncIterable<Buffer>; done: boolean }> {
    this.calls.push(`OPEN ${url} from ${from}`);
    this.opened.push(from);
    const opening = this.openings.shift();
    if (!opening) return Promise.reject(new Error('no more openings'));
    async function* body(): AsyncIterable<Buffer> {
      await Promise.resolve();
      for (const chunk of opening!.chunks) yield Buffer.from(chunk);
      if (opening!.drop) throw opening!.drop;
    }
    return Promise.resolve({ body: body(), done: opening.done ?? false });
  }
  uploadFile(url: string, file: string, size: number): Promise<void> {
    this.uploads.push(`PUT ${url} ${path.basename(file)} ${size}`);
    return this.uploadFailure ? Promise.reject(this.uploadFailure) : Promise.resolve();
  }
}

/** my-app, whose build b1 answers `polls` in turn (the last one again and again). */
function buildApi(polls: Build[], more: Route = () => undefined): BuildApi {
  let poll = 0;
  return new BuildApi((method, p, body) => {
    const answer = more(method, p, body);
    if (answer !== undefined) return answer;
    if (method === 'GET' && p === '/apps/my-app/releases') return [release(2, { current: true })];
    if (method === 'POST' && p === '/apps/my-app/builds') return { id: 'b1', status: 'pending', output_stream_url: OUT };
    // A loop that never ends (a broken deadline or cancel) fails here instead of hanging the run.
    if (method === 'GET' && p === '/apps/my-app/builds/b1')
      return poll > 50 ? new Error('polled too often') : polls[Math.min(poll++, polls.length - 1)];
    if (method === 'GET' && p === '/apps/my-app/releases/rel-3') return release(3, { slug: { id: 'slug-3' } });
    if (method === 'DELETE' && p === '/apps/my-app/builds/b1') return {};
    return new Error(`no route for ${method} ${p}`);
  });
}

const succeeded: Build = {
  id: 'b1',
  status: 'succeeded',
  release: { id: 'rel-3' },
  slug: { id: 'slug-3' },
  source_blob: { version: SHA },
} as Build;
const pending = { id: 'b1', status: 'pending' } as Build;

describe('Build API release in-process', () => {
  let host: FakeHost;
  let sleeps: number[];
  beforeEach(() => {
    host = new FakeHost();
    sleeps = [];
  });
  afterEach(() => sinon.restore());

  const target = (api: BuildApi, more: Partial<BuildTarget> = {}): BuildTarget => ({
    app: api.client().forApp('my-app'),
    sha: SHA,
    subject: 'Add the API',
    source: { appDirectory: 'services/api', packageFrom: 'commit' },
    getUrl: 'https://storage.example/get',
    sha256: 'f00d',
    log: host.log,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    pollMs: 7,
    ...more,
  });
  const failure = async (work: Promise<unknown>): Promise<TaskError> => {
    const error = await work.then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof TaskError, `expected a TaskError, got ${String(error)}`);
    return error;
  };

  it('builds the source blob, prints its output line by line, and proves the release it made', async () => {
    const api = buildApi([pending, pending, succeeded]);
    api.openings = [{ chunks: ['-----> Building\r\n  npm inst', 'all\nfinal line without newline'] }];
    const strategy = buildApiRelease(target(api));
    assert.equal(strategy.title, 'Build abcdef12 from services/api');
    const pushed = await strategy.release();
    assert.equal(strategy.describe(pushed), 'built and released v3');
    assert.equal(pushed.outcome, 'released');
    assert.equal(pushed.release.version, 3);
    assert.equal(pushed.commit, SHA);
    assert.equal(pushed.previous?.version, 2);
    assert.ok(
      api.calls.includes(
        `POST /apps/my-app/builds ${JSON.stringify({
          source_blob: {
            url: 'https://storage.example/get',
            version: SHA,
            checksum: 'SHA256:f00d',
            version_description: 'Add the API',
          },
        })}`,
      ),
      api.calls.join('\n'),
    );
    assert.deepEqual(host.lines, [
      '[group] Heroku build of abcdef12: services/api (files of the commit)',
      '-----> Building',
      '  npm install',
      'final line without newline',
      '[endgroup]',
    ]);
    // Polled until it was no longer pending, at the poll interval.
    assert.equal(api.calls.filter((c) => c === 'GET /apps/my-app/builds/b1').length, 3);
    assert.deepEqual(sleeps, [7, 7]);
  });

  it('names the checkout root when there is no appDirectory, and follows no output without its URL', async () => {
    const api = buildApi([succeeded], (method, p) =>
      method === 'POST' && p === '/apps/my-app/builds' ? { id: 'b1', status: 'pending' } : undefined,
    );
    const strategy = buildApiRelease(target(api, { source: { appDirectory: '', packageFrom: 'directory' } }));
    assert.equal(strategy.title, 'Build abcdef12 from the checkout root');
    await strategy.release();
    assert.deepEqual(api.opened, [], 'no stream opened');
    assert.deepEqual(host.lines, ['[group] Heroku build of abcdef12: checkout root (folder on disk)', '[endgroup]']);
  });

  it('resumes a dropped output stream from the last byte read, without repeating a line, waiting longer each time', async () => {
    const api = buildApi([succeeded]);
    api.openings = [
      { chunks: ['one\ntw'], drop: new Error('socket hang up') },
      { chunks: [], drop: new Error('ECONNRESET') },
      { chunks: ['o\nthree\n'] },
    ];
    await buildApiRelease(target(api)).release();
    assert.deepEqual(api.opened, [0, 6, 6]);
    assert.deepEqual(sleeps.slice(0, 2), [500, 1000]);
    assert.deepEqual(host.lines.slice(1, -1), ['one', 'two', 'three']);
    assert.ok(
      host.debugLines.includes("the build's output stream dropped after 6 bytes (socket hang up): resuming from there"),
      host.debugLines.join('\n'),
    );
  });

  it('stops following the output after six drops, saying so, and still waits for the build', async () => {
    const api = buildApi([succeeded]);
    api.openings = Array.from({ length: 7 }, (_, i) => ({ chunks: [`line ${i}\n`], drop: new Error(`drop ${i}`) }));
    const pushed = await buildApiRelease(target(api)).release();
    assert.equal(pushed.release.version, 3);
    assert.equal(api.opened.length, 6);
    assert.deepEqual(sleeps.slice(0, 5), [500, 1000, 1500, 2000, 2500]);
    assert.ok(
      host.lines.includes("warn: The build's output stream dropped 6 times (drop 5): following the build without its output."),
      host.lines.join('\n'),
    );
  });

  it('reads nothing when the stream says the output is all read', async () => {
    const api = buildApi([succeeded]);
    api.openings = [{ chunks: ['never printed\n'], done: true }];
    await buildApiRelease(target(api)).release();
    assert.deepEqual(host.lines.slice(1, -1), []);
  });

  it('keeps the last 40 lines of a failed build and quotes its error lines', async () => {
    const failed = { id: 'b1', status: 'failed' } as Build;
    const api = buildApi([failed]);
    const lines = Array.from({ length: 45 }, (_, i) => `step ${i}`);
    lines[2] = 'npm ERR! too early to be kept';
    lines[5] = 'npm ERR! the oldest line kept';
    lines[43] = ' !     Push failed';
    api.openings = [{ chunks: [lines.join('\n') + '\n'] }];
    const error = await failure(buildApiRelease(target(api)).release());
    assert.equal(error.kind, 'build');
    assert.match(
      error.message,
      /^Heroku's build of abcdef12 failed, so nothing was released and my-app still runs its previous release\. Its last lines: npm ERR! the oldest line kept \/ ! {5}Push failed\. Fix the build/,
    );
    assert.deepEqual(error.details, ['npm ERR! the oldest line kept', ' !     Push failed']);
    assert.ok(!api.calls.some((c) => c.startsWith('GET /apps/my-app/releases/')), 'no release read');
  });

  it("quotes a failed build's last lines when none is an error, and '(none)' when it printed nothing", async () => {
    const failed = { id: 'b1', status: 'failed' } as Build;
    const api = buildApi([failed]);
    const lines = Array.from({ length: 45 }, (_, i) => ` step ${i} `);
    api.openings = [{ chunks: [lines.join('\n') + '\n'] }];
    const error = await failure(buildApiRelease(target(api)).release());
    assert.match(error.message, /Its last lines: step 40 \/ step 41 \/ step 42 \/ step 43 \/ step 44\. Fix/);
    assert.deepEqual(error.details, lines.slice(40));

    host = new FakeHost();
    const silent = buildApi([failed]);
    silent.openings = [{ chunks: [] }];
    const empty = await failure(buildApiRelease(target(silent)).release());
    assert.match(empty.message, /Its last lines: \(none\)\. Fix/);
  });

  it('says another build is running when Heroku refuses the build with 409', async () => {
    const api = buildApi([succeeded], (method, p) =>
      method === 'POST' && p === '/apps/my-app/builds'
        ? new HerokuApiError(409, 'conflict', 'A build is already in progress', 'POST', p)
        : undefined,
    );
    const error = await failure(buildApiRelease(target(api)).release());
    assert.equal(error.kind, 'busy');
    assert.match(error.message, /^Heroku refused the build: another build of my-app is in progress\./);
    assert.deepEqual(error.details, ['A build is already in progress']);
    assert.ok(!api.calls.some((c) => c.startsWith('GET /apps/my-app/builds/')), 'no build followed');
  });

  it('says it was starting the build when Heroku fails the POST otherwise', async () => {
    const api = buildApi([succeeded], (method, p) =>
      method === 'POST' && p === '/apps/my-app/builds'
        ? new HerokuApiError(422, 'invalid_params', 'Invalid source_blob', 'POST', p)
        : undefined,
    );
    const error = await failure(buildApiRelease(target(api)).release());
    assert.ok(error instanceof Error && error.message.includes('starting a build of abcdef12'), String(error));
  });

  it('refuses a build Heroku started without an id', async () => {
    const api = buildApi([succeeded], (method, p) =>
      method === 'POST' && p === '/apps/my-app/builds' ? { status: 'pending' } : undefined,
    );
    const error = await failure(buildApiRelease(target(api)).release());
    assert.equal(error.kind, 'api');
    assert.equal(error.message, 'Heroku started a build of my-app without an id: check `heroku builds -a my-app`.');
  });

  it('gives up on a build still pending past its deadline, saying how long it waited', async () => {
    const api = buildApi([pending]);
    api.openings = [{ chunks: [] }];
    // A clock that moves only when the task sleeps: 30 s per poll.
    let now = 1_000_000;
    sinon.stub(Date, 'now').callsFake(() => now);
    const clocked = target(api, {
      timeoutMs: 120_000,
      pollMs: 30_000,
      sleep: (ms) => {
        sleeps.push(ms);
        now += ms;
        return Promise.resolve();
      },
    });
    const error = await failure(buildApiRelease(clocked).release());
    // Polled at 0, 30, 60, 90, 120 s (not past the deadline yet) and 150 s (past it).
    assert.equal(api.calls.filter((c) => c === 'GET /apps/my-app/builds/b1').length, 6);
    assert.equal(error.kind, 'build');
    assert.ok(error.message.includes('still running after 2 minutes'), error.message);
    assert.ok(error.message.includes('heroku builds:info b1 -a my-app'), error.message);
  });

  it('waits an hour for a pending build by default', async () => {
    let now = 1_000_000;
    sinon.stub(Date, 'now').callsFake(() => now);
    const clocked = (api: BuildApi): BuildTarget =>
      target(api, {
        pollMs: 30 * 60_000,
        sleep: (ms) => {
          sleeps.push(ms);
          now += ms - 1;
          return Promise.resolve();
        },
      });
    // Polled at 0 and just under 30 and 60 minutes: still within the hour.
    const patient = buildApi([pending, pending, pending, succeeded]);
    patient.openings = [{ chunks: [] }];
    assert.equal((await buildApiRelease(clocked(patient)).release()).release.version, 3, 'built within the hour');

    const stuck = buildApi([pending]);
    stuck.openings = [{ chunks: [] }];
    const error = await failure(buildApiRelease(clocked(stuck)).release());
    assert.ok(error.message.includes('still running after 60 minutes'), error.message);
    assert.equal(stuck.calls.filter((c) => c === 'GET /apps/my-app/builds/b1').length, 4, 'polled past the hour once');
  });

  it('waits for the release a succeeded build lists late, and refuses a build that never lists one', async () => {
    const noRelease = { ...succeeded, release: undefined } as Build;
    const late = buildApi([pending, noRelease, noRelease, succeeded]);
    late.openings = [{ chunks: [] }];
    const pushed = await buildApiRelease(target(late)).release();
    assert.equal(pushed.release.version, 3);
    assert.deepEqual(sleeps, [7, 1000, 1000]);

    sleeps = [];
    const never = buildApi([noRelease]);
    never.openings = [{ chunks: [] }];
    const error = await failure(buildApiRelease(target(never)).release());
    assert.equal(error.kind, 'verification');
    assert.match(
      error.message,
      /^Heroku's build of abcdef12 succeeded but made no release\. Check `heroku builds:info b1 -a my-app`/,
    );
    assert.deepEqual(
      sleeps,
      Array.from({ length: 10 }, () => 1000),
    );
    assert.equal(never.calls.filter((c) => c === 'GET /apps/my-app/builds/b1').length, 11);
  });

  it('says what it was reading when the build or its release cannot be read', async () => {
    const noRelease = { ...succeeded, release: undefined } as Build;
    const broken = new HerokuApiError(500, null, 'Internal Server Error', 'GET', '/apps/my-app/builds/b1');
    const build = buildApi([noRelease, broken as unknown as Build]);
    build.openings = [{ chunks: [] }];
    const first = await failure(buildApiRelease(target(build)).release());
    assert.ok(first instanceof Error && first.message.includes('reading the build of abcdef12'), String(first));

    // The first read of the build, while it may still be pending, fails the same way.
    const unread = buildApi([broken as unknown as Build]);
    unread.openings = [{ chunks: [] }];
    const polled = await failure(buildApiRelease(target(unread)).release());
    assert.ok(polled.message.includes('reading the build of abcdef12'), String(polled));

    const rel = buildApi([succeeded], (method, p) =>
      method === 'GET' && p === '/apps/my-app/releases/rel-3'
        ? new HerokuApiError(500, null, 'Internal Server Error', 'GET', p)
        : undefined,
    );
    rel.openings = [{ chunks: [] }];
    const second = await failure(buildApiRelease(target(rel)).release());
    assert.ok(second instanceof Error && second.message.includes('reading the release of the build of abcdef12'), String(second));
  });

  it('cancels the build on Heroku when the task is cancelled while it runs', async () => {
    const controller = new AbortController();
    const api = buildApi([pending]);
    api.openings = [{ chunks: ['compiling\n'], drop: new Error('aborted') }];
    const cancelled = target(api, { signal: controller.signal });
    cancelled.log = {
      ...host.log,
      info: (line) => {
        host.log.info(line);
        controller.abort();
      },
    };
    const error = await failure(buildApiRelease(cancelled).release());
    assert.equal(error.kind, 'cancelled');
    assert.match(error.message, /Heroku was building abcdef12/);
    assert.ok(api.calls.includes('DELETE /apps/my-app/builds/b1'), api.calls.join('\n'));
    assert.ok(
      host.lines.includes("Cancelled Heroku's build of abcdef12 (b1): nothing of it is released."),
      host.lines.join('\n'),
    );
  });

  it('warns when the cancelled build cannot be cancelled on Heroku', async () => {
    const controller = new AbortController();
    const api = buildApi([pending], (method) => (method === 'DELETE' ? new Error('connect ECONNREFUSED') : undefined));
    api.openings = [{ chunks: ['compiling\n'], drop: new Error('aborted') }];
    const cancelled = target(api, { signal: controller.signal });
    cancelled.log = {
      ...host.log,
      info: (line) => {
        host.log.info(line);
        controller.abort();
      },
    };
    await failure(buildApiRelease(cancelled).release());
    const warning = host.lines.find((l) => l.startsWith("warn: Could not cancel Heroku's build b1 ("));
    assert.ok(warning, host.lines.join('\n'));
    assert.ok(warning.includes('cancelling the build of abcdef12'), warning);
    assert.ok(warning.includes('it may still release abcdef12. Check `heroku builds:info b1 -a my-app`.'), warning);
  });

  it('does not cancel the build when a failure is not a cancel', async () => {
    const api = buildApi([{ id: 'b1', status: 'failed' } as Build]);
    api.openings = [{ chunks: [] }];
    await failure(buildApiRelease(target(api)).release());
    assert.ok(!api.calls.some((c) => c.startsWith('DELETE')), api.calls.join('\n'));
  });
});

describe('Build API source upload', () => {
  it('creates a source URL, PUTs the tarball to it and returns where Heroku reads it', async () => {
    const api = new BuildApi((method, p) =>
      method === 'POST' && p === '/sources'
        ? { source_blob: { put_url: 'https://storage.example/put', get_url: 'https://storage.example/get' } }
        : new Error(`no route for ${method} ${p}`),
    );
    const getUrl = await uploadSource(api.client().forApp('my-app'), {
      file: '/tmp/x/source.tar.gz',
      bytes: 1234,
      sha256: 'aa',
      files: 3,
    });
    assert.equal(getUrl, 'https://storage.example/get');
    assert.deepEqual(api.calls, ['POST /sources {}']);
    // A source URL is only a URL: asking again is safe.
    assert.deepEqual(api.posts, ['/sources (idempotent)']);
    assert.deepEqual(api.uploads, ['PUT https://storage.example/put source.tar.gz 1234']);
  });

  it('says which step failed: creating the source URL, or uploading the tarball', async () => {
    const refused = new BuildApi(() => new HerokuApiError(503, 'unavailable', 'Service Unavailable', 'POST', '/sources'));
    const created = await uploadSource(refused.client().forApp('my-app'), { file: 'f', bytes: 1, sha256: 'a', files: 1 }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(created instanceof Error && created.message.includes('creating a source URL for the upload'), String(created));

    const api = new BuildApi(() => ({ source_blob: { put_url: 'https://p', get_url: 'https://g' } }));
    api.uploadFailure = new HerokuApiError(403, null, 'Forbidden', 'PUT', 'https://p');
    const uploaded = await uploadSource(api.client().forApp('my-app'), { file: 'f', bytes: 1, sha256: 'a', files: 1 }).then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(
      uploaded instanceof Error && uploaded.message.includes('uploading the source tarball to its storage URL'),
      String(uploaded),
    );
  });

  it('refuses an answer without put_url or get_url', async () => {
    for (const blob of [{ put_url: 'https://p' }, { get_url: 'https://g' }]) {
      const api = new BuildApi(() => ({ source_blob: blob }));
      const error = await uploadSource(api.client().forApp('my-app'), { file: 'f', bytes: 1, sha256: 'a', files: 1 }).then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(error instanceof TaskError, String(error));
      assert.equal(
        error.message,
        "Heroku's POST /sources answered without put_url and get_url: re-run the job, and check https://status.heroku.com.",
      );
      assert.deepEqual(api.uploads, [], 'nothing uploaded');
    }
  });

  it("tells a build's error lines from the rest", () => {
    // Heroku's ` !` lines (however indented), `err`, `error`, `ERR!` and `failed` are errors.
    const errors = ['!     Push rejected', '   ! Requested runtime', 'fatal err: x', 'Build failed', 'npm ERR! code 1'];
    const others = ['Done! Compressing', 'Erratic wording', 'terror', '-----> Launching'];
    for (const line of errors) assert.deepEqual(failureLines([...others, line, 'Love, Heroku']), [line], line);
    // None is an error: the last lines said, blank ones left out.
    assert.deepEqual(failureLines(['a', '   ', 'Done! Compressing', '', 'b']), ['a', 'Done! Compressing', 'b']);
  });

  it('says sizes in bytes, KB and MB', () => {
    assert.equal(formatBytes(1023), '1023 bytes');
    assert.equal(formatBytes(1024), '1.0 KB');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(1024 * 1024 - 1), '1024.0 KB');
    assert.equal(formatBytes(1024 * 1024), '1.0 MB');
    assert.equal(formatBytes(5 * 1024 * 1024 + 512 * 1024), '5.5 MB');
  });

  it('packs the folder into a temp folder it removes on discard, saying what it packed', async function () {
    this.timeout(20_000);
    const repo = await makeRepo({ files: { 'svc/package.json': '{}\n', 'svc/index.js': 'x\n' } });
    const sha = await repo.head();
    const root = await tempDir('prepare-');
    const host = new FakeHost();
    const packed = await prepareSource({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom: 'commit' }, host.log, root);
    assert.equal(path.basename(packed.file), 'source.tar.gz');
    assert.ok(path.basename(path.dirname(packed.file)).startsWith('heroku-source-'), packed.file);
    assert.equal(path.dirname(path.dirname(packed.file)), root);
    assert.equal((await fs.stat(packed.file)).size, packed.bytes);
    assert.deepEqual(host.lines, [
      `Packed svc (files of the commit): 2 files, ${formatBytes(packed.bytes)} gzipped (SHA-256 ${packed.sha256.slice(0, 12)}...).`,
    ]);
    await packed.discard();
    assert.deepEqual(await fs.readdir(root), [], 'the temp folder is gone');
    await packed.discard(); // a second discard (or one after the temp folder was cleaned) is harmless
  });
});
