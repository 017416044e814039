// The Builds API's storage as strict as Heroku's where a Build API deploy relies on it: distinct
// pre-signed put/get URLs that expire and refuse an Authorization header (recorded), a build output
// stream that honours Range and can be told to drop, builds that fail on a non-gzip source, a source
// with no detectable app or a checksum that differs, and a build in progress that can be cancelled.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FIXTURE_APP, tempDir } from '../support/git';
import { eventually } from '../support/heroku-api';
import { httpRequest, tarball, useEmulator } from '../support/emulator';

interface SourceBody {
  source_blob: { get_url: string; put_url: string };
}
interface BuildBody {
  id: string;
  status: string;
  output_stream_url: string;
}

describe('emulator: Builds API sources and output streams', () => {
  const context = useEmulator();

  const source = async (): Promise<SourceBody['source_blob']> =>
    (await context.api.post<SourceBody>('/sources')).body.source_blob;

  /** Builds `data` (uploaded to a new source) on a new app; resolves with the finished build and its output. */
  async function buildOf(data: Buffer, checksum?: string): Promise<{ build: BuildBody; output: string; app: string }> {
    const app = (await context.heroku.createApp(context.name('src-build'))).name;
    const urls = await source();
    assert.equal((await httpRequest(urls.put_url, { method: 'PUT', body: data })).status, 200);
    const created = await context.api.post<BuildBody>(`/apps/${app}/builds`, {
      source_blob: { url: urls.get_url, version: 'v1', checksum: checksum ?? null },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const output = (await httpRequest(created.body.output_stream_url)).body;
    const build = await eventually(async () => {
      const answer = await context.api.get<BuildBody>(`/apps/${app}/builds/${created.body.id}`);
      return answer.body.status === 'pending' ? undefined : answer.body;
    });
    return { build, output, app };
  }

  it('gives distinct put and get URLs, each working only for its own method', async () => {
    const urls = await source();
    assert.notEqual(urls.put_url, urls.get_url);
    assert.equal((await httpRequest(urls.get_url, { method: 'PUT', body: 'x' })).status, 403, 'the get_url takes no PUT');
    assert.equal((await httpRequest(urls.put_url, { method: 'PUT', body: 'data' })).status, 200);
    assert.equal((await httpRequest(urls.put_url)).status, 403, 'the put_url takes no GET');
    const got = await httpRequest(urls.get_url);
    assert.equal(got.status, 200);
    assert.equal(got.body, 'data');
  });

  it('refuses (and records) a request carrying an Authorization header', async () => {
    const urls = await source();
    const before = context.heroku.state.storageRequests.length;
    const answer = await httpRequest(urls.put_url, { method: 'PUT', body: 'data', headers: { Authorization: 'Bearer HRKU-x' } });
    assert.equal(answer.status, 400);
    assert.match(answer.body, /Only one auth mechanism allowed/);
    const recorded = context.heroku.state.storageRequests.slice(before);
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]?.headers.authorization, 'Bearer HRKU-x');
  });

  it('expires both URLs', async () => {
    const ttl = context.heroku.platform.sourceUrlTtlMs;
    context.heroku.platform.sourceUrlTtlMs = 1;
    try {
      const urls = await source();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const put = await httpRequest(urls.put_url, { method: 'PUT', body: 'late' });
      assert.equal(put.status, 403);
      assert.match(put.body, /Request has expired/);
    } finally {
      context.heroku.platform.sourceUrlTtlMs = ttl;
    }
  });

  it('serves a build output stream from a byte offset (Range) and drops it when told to', async () => {
    const { build, output } = await buildOf(await tarball(FIXTURE_APP));
    assert.equal(build.status, 'succeeded', output);
    const tail = await httpRequest(build.output_stream_url, { headers: { Range: 'bytes=10-' } });
    assert.equal(tail.status, 206);
    assert.equal(tail.body, Buffer.from(output).subarray(10).toString());

    context.heroku.faults.dropNextBuildStream(25);
    const dropped = await httpRequest(build.output_stream_url).then(
      (answer) => answer.body,
      () => 'dropped',
    );
    assert.ok(dropped === 'dropped' || dropped.length === 25, `the connection dropped after 25 bytes (${dropped.length})`);
  });

  it('fails a build whose source is not gzip', async () => {
    const { build, output } = await buildOf(Buffer.from('plain text, not a tarball'));
    assert.equal(build.status, 'failed');
    assert.match(output, /The source is not a gzipped tarball/);
  });

  it('fails a build with no detectable app', async () => {
    const dir = await tempDir('no-app-');
    await fs.writeFile(path.join(dir, 'README.md'), '# docs only\n');
    await fs.writeFile(path.join(dir, 'notes.txt'), 'nothing to build\n');
    const { build, output, app } = await buildOf(await tarball(dir));
    assert.equal(build.status, 'failed', output);
    assert.match(output, /No default language could be detected for this app/);
    assert.equal(context.heroku.app(app).releases.length, 2, 'nothing released');
  });

  it('fails a build whose tarball differs from its checksum, and builds one that matches', async () => {
    const data = await tarball(FIXTURE_APP);
    const right = `SHA256:${createHash('sha256').update(data).digest('hex')}`;
    const wrong = `SHA256:${'0'.repeat(64)}`;
    const bad = await buildOf(data, wrong);
    assert.equal(bad.build.status, 'failed');
    assert.match(bad.output, /does not match source_blob\.checksum/);
    const good = await buildOf(data, right);
    assert.equal(good.build.status, 'succeeded', good.output);
  });

  it('cancels a build in progress (DELETE), which then releases nothing', async () => {
    const app = (await context.heroku.createApp(context.name('src-cancel'))).name;
    const hold = context.heroku.faults.holdBuilds();
    try {
      const urls = await source();
      await httpRequest(urls.put_url, { method: 'PUT', body: await tarball(FIXTURE_APP) });
      const created = await context.api.post<BuildBody>(`/apps/${app}/builds`, {
        source_blob: { url: urls.get_url, version: 'v1' },
      });
      const cancelled = await context.api.delete<BuildBody>(`/apps/${app}/builds/${created.body.id}`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      const build = await eventually(async () => {
        const answer = await context.api.get<BuildBody>(`/apps/${app}/builds/${created.body.id}`);
        return answer.body.status === 'pending' ? undefined : answer.body;
      });
      assert.equal(build.status, 'failed');
      assert.match((await httpRequest(created.body.output_stream_url)).body, /Build cancelled/);
      assert.equal(context.heroku.app(app).releases.length, 2);
      assert.equal(
        (await context.api.delete<{ id: string }>(`/apps/${app}/builds/${created.body.id}`)).status,
        422,
        'a finished build cannot be cancelled',
      );
    } finally {
      hold.release();
    }
  });
});
