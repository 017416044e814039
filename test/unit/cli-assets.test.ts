// Where HerokuCli@1 finds Heroku's standalone builds: the assets host (or a mirror), the platform
// names, the stable channel's manifest and an exact version through the versions index; and the
// downloads' deadlines, size caps and cancel.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadHttp } from '../../tasks/common/core/base/http-loader';
import { DIRECT } from '../../tasks/common/core/base/network';
import { platformTarget, resolveAssets, stableBuild, versionBuild } from '../../tasks/common/core/cli/assets';
import { fetcher, type Fetcher } from '../../tasks/common/core/cli/download';

const SHA = 'a'.repeat(64);
const mirror = resolveAssets('https://mirror.corp/heroku-cli/');

/** A Fetcher answering from a map of URL -> JSON, recording what was asked. */
function fakeFetcher(answers: Record<string, unknown>): Fetcher & { asked: string[]; what: string[] } {
  const asked: string[] = [];
  const what: string[] = [];
  return {
    asked,
    what,
    json(url, about) {
      asked.push(url);
      what.push(about);
      if (!(url in answers)) return Promise.reject(new Error(`unexpected ${url}`));
      return Promise.resolve(answers[url]);
    },
    file: () => Promise.reject(new Error('no downloads here')),
  };
}

describe('HerokuCli assets', () => {
  it('takes HEROKU_CLI_ASSETS_URL as a base URL: https, or http on this machine only', () => {
    assert.deepEqual(resolveAssets(undefined), { url: 'https://cli-assets.heroku.com', isDefault: true });
    assert.deepEqual(resolveAssets(' https://cli-assets.heroku.com/ '), {
      url: 'https://cli-assets.heroku.com',
      isDefault: true,
    });
    assert.deepEqual(mirror, { url: 'https://mirror.corp/heroku-cli', isDefault: false });
    assert.deepEqual(
      resolveAssets('http://127.0.0.1:8080'),
      { url: 'http://127.0.0.1:8080', isDefault: false },
      'a mirror is not the default host',
    );
    assert.throws(() => resolveAssets('http://mirror.corp'), /must be an https URL .*, not http:\/\/mirror\.corp: the CLI/);
    assert.throws(() => resolveAssets('ftp://mirror.corp'), /must be an https URL .*, not ftp:: the CLI/);
    assert.throws(() => resolveAssets('https://mirror.corp/cli?token=x'), /without credentials, query or fragment/);
    assert.throws(() => resolveAssets('mirror.corp'), /is not a URL/);
    assert.throws(() => resolveAssets('https://u:p@mirror.corp'), /without credentials/);
    assert.deepEqual(resolveAssets('   '), { url: 'https://cli-assets.heroku.com', isDefault: true }, 'blank is unset');
  });

  it("names the platform as Heroku's builds do, and refuses one Heroku does not build for", () => {
    assert.equal(platformTarget('linux', 'x64'), 'linux-x64');
    assert.equal(platformTarget('darwin', 'arm64'), 'darwin-arm64');
    assert.equal(platformTarget('win32', 'ia32'), 'win32-x86');
    assert.throws(() => platformTarget('freebsd', 'x64'), /no standalone CLI for freebsd-x64: install the CLI on the agent/);
    assert.throws(() => platformTarget('linux', 'riscv64'), /linux-riscv64/);
  });

  it("reads the stable channel's manifest, and fetches its tarball's path from the mirror", async () => {
    const http = fakeFetcher({
      'https://mirror.corp/heroku-cli/channels/stable/heroku-linux-x64-buildmanifest': {
        version: '11.10.0',
        sha: 'f00ba12',
        gz: 'https://cli-assets.heroku.com/channels/stable/heroku-v11.10.0-f00ba12-linux-x64.tar.gz',
        sha256gz: SHA.toUpperCase(),
      },
    });
    assert.deepEqual(await stableBuild(mirror, 'linux-x64', http), {
      version: '11.10.0',
      url: 'https://mirror.corp/heroku-cli/channels/stable/heroku-v11.10.0-f00ba12-linux-x64.tar.gz',
      sha256: SHA,
      baseDir: 'heroku',
    });
  });

  it('builds the versioned tarball URL when a manifest has no gz, and refuses a manifest without a SHA-256', async () => {
    const url = 'https://mirror.corp/heroku-cli/channels/stable/heroku-linux-x64-buildmanifest';
    const noGz = await stableBuild(
      mirror,
      'linux-x64',
      fakeFetcher({ [url]: { version: '9.0.0', sha: 'abc1234', sha256gz: SHA, baseDir: 'cli' } }),
    );
    assert.equal(noGz.url, 'https://mirror.corp/heroku-cli/versions/9.0.0/abc1234/heroku-v9.0.0-abc1234-linux-x64.tar.gz');
    assert.equal(noGz.baseDir, 'cli');
    for (const manifest of [{ version: '9.0.0', gz: 'x.tar.gz' }, { version: 'nine', gz: 'x.tar.gz', sha256gz: SHA }, '<html>'])
      await assert.rejects(stableBuild(mirror, 'linux-x64', fakeFetcher({ [url]: manifest })), /is not one of Heroku's/);
  });

  it('finds an exact version through the versions index and its own manifest', async () => {
    const tarball = 'https://cli-assets.heroku.com/versions/11.10.0/f00ba12/heroku-v11.10.0-f00ba12-linux-x64.tar.gz';
    const http = fakeFetcher({
      'https://mirror.corp/heroku-cli/versions/heroku-linux-x64-tar-gz.json': { '11.9.0': 'elsewhere', '11.10.0': tarball },
      'https://mirror.corp/heroku-cli/versions/11.10.0/f00ba12/heroku-v11.10.0-f00ba12-linux-x64-buildmanifest': {
        version: '11.10.0',
        gz: tarball,
        sha256gz: SHA,
      },
    });
    const build = await versionBuild(mirror, 'linux-x64', '11.10.0', http);
    assert.equal(build.url, 'https://mirror.corp/heroku-cli/versions/11.10.0/f00ba12/heroku-v11.10.0-f00ba12-linux-x64.tar.gz');
    assert.equal(build.sha256, SHA);
    await assert.rejects(
      versionBuild(mirror, 'linux-x64', '1.0.0', http),
      /Heroku CLI 1\.0\.0 does not exist for linux-x64 \(.* lists 2 versions, the last ones 11\.9\.0, 11\.10\.0\): set cliVersion/,
    );
  });

  it('refuses a version manifest that describes another version', async () => {
    const tarball = 'versions/2.0.0/abc1234/heroku-v2.0.0-abc1234-linux-x64.tar.gz';
    const http = fakeFetcher({
      'https://mirror.corp/heroku-cli/versions/heroku-linux-x64-tar-gz.json': { '2.0.0': tarball },
      'https://mirror.corp/heroku-cli/versions/2.0.0/abc1234/heroku-v2.0.0-abc1234-linux-x64-buildmanifest': {
        version: '3.0.0',
        gz: tarball,
        sha256gz: SHA,
      },
    });
    await assert.rejects(versionBuild(mirror, 'linux-x64', '2.0.0', http), /is for 3\.0\.0, not 2\.0\.0/);
  });

  it("moves each form of a manifest's tarball URL onto the assets host, and names what it fetches", async () => {
    const url = 'https://mirror.corp/heroku-cli/channels/stable/heroku-linux-x64-buildmanifest';
    const onMirror = async (gz: string): Promise<string> => {
      const http = fakeFetcher({ [url]: { version: '9.0.0', gz, sha256gz: SHA } });
      const build = await stableBuild(mirror, 'linux-x64', http);
      assert.deepEqual(http.what, ["the Heroku CLI's stable build manifest"]);
      return build.url;
    };
    assert.equal(
      await onMirror('http://cli-assets.heroku.com/channels/stable/a.tar.gz'),
      'https://mirror.corp/heroku-cli/channels/stable/a.tar.gz',
    );
    assert.equal(
      await onMirror('https://cli-assets.heroku.com//channels/b.tar.gz'),
      'https://mirror.corp/heroku-cli/channels/b.tar.gz',
    );
    assert.equal(
      await onMirror('versions/9.0.0/https://c.tar.gz'),
      'https://mirror.corp/heroku-cli/versions/9.0.0/https://c.tar.gz',
    );
  });

  it('refuses a manifest without a usable version, SHA-256 or tarball', async () => {
    const url = 'https://mirror.corp/heroku-cli/channels/stable/heroku-linux-x64-buildmanifest';
    for (const manifest of [
      { version: '9.0.0', sha256gz: SHA },
      { version: '9.0.0', sha: 1234567, sha256gz: SHA },
      { version: '9.0.0', gz: 'x.tar.gz', sha256gz: `${SHA}0` },
      { version: '9.0.0', gz: 'x.tar.gz', sha256gz: `0${SHA}` },
    ])
      await assert.rejects(
        stableBuild(mirror, 'linux-x64', fakeFetcher({ [url]: manifest })),
        /The build manifest at .* is not one of Heroku's \(it needs version, gz and sha256gz\)/,
        JSON.stringify(manifest),
      );
  });

  it('lists the last five versions the index has when the one asked for is missing, and names what it fetches', async () => {
    const index = 'https://mirror.corp/heroku-cli/versions/heroku-linux-x64-tar-gz.json';
    const versions = ['1.0.0', '2.0.0', '3.0.0', '4.0.0', '5.0.0', '6.0.0', '7.0.0'];
    const many = fakeFetcher({
      [index]: Object.fromEntries([...versions, 'latest'].map((v) => [v, `versions/${v}/abc1234/x.tar.gz`])),
    });
    await assert.rejects(
      versionBuild(mirror, 'linux-x64', '8.0.0', many),
      /^TaskError: Heroku CLI 8\.0\.0 does not exist for linux-x64 \(https:\/\/mirror\.corp\/heroku-cli\/versions\/heroku-linux-x64-tar-gz\.json lists 7 versions, the last ones 3\.0\.0, 4\.0\.0, 5\.0\.0, 6\.0\.0, 7\.0\.0\): set cliVersion to one of them, or to stable\.$/,
    );
    assert.deepEqual(many.what, ["the Heroku CLI's versions index"]);
    for (const answer of [null, {}, '<html>'])
      await assert.rejects(
        versionBuild(mirror, 'linux-x64', '8.0.0', fakeFetcher({ [index]: answer })),
        /^TaskError: Heroku CLI 8\.0\.0 does not exist for linux-x64 \(.* lists 0 versions\): set cliVersion/,
        JSON.stringify(answer),
      );
  });

  it("refuses an index entry without the build hash, and names the version's manifest it fetches", async () => {
    const index = 'https://mirror.corp/heroku-cli/versions/heroku-linux-x64-tar-gz.json';
    for (const hash of ['abc123', 'abc1234x', 'xabc1234', 'ABC1234'])
      await assert.rejects(
        versionBuild(mirror, 'linux-x64', '2.0.0', fakeFetcher({ [index]: { '2.0.0': `versions/2.0.0/${hash}/x.tar.gz` } })),
        /^TaskError: The versions index at https:\/\/mirror\.corp\/heroku-cli\/versions\/heroku-linux-x64-tar-gz\.json gives 2\.0\.0 a URL without its build hash: check HEROKU_CLI_ASSETS_URL\.$/,
        hash,
      );
    const tarball = 'versions/2.0.0/abc1234/heroku-v2.0.0-abc1234-linux-x64.tar.gz';
    const http = fakeFetcher({
      [index]: { '2.0.0': tarball },
      'https://mirror.corp/heroku-cli/versions/2.0.0/abc1234/heroku-v2.0.0-abc1234-linux-x64-buildmanifest': {
        version: '2.0.0',
        gz: tarball,
        sha256gz: SHA,
      },
    });
    assert.equal((await versionBuild(mirror, 'linux-x64', '2.0.0', http)).url, `https://mirror.corp/heroku-cli/${tarball}`);
    assert.deepEqual(http.what, ["the Heroku CLI's versions index", 'the build manifest of Heroku CLI 2.0.0']);
  });

  describe('downloads', () => {
    let server: http.Server;
    let base = '';
    let dir = '';
    before(async () => {
      // The HTTP stack loads on first use; loaded here, its first evaluation (slow under load) is not
      // counted against the 300 ms deadlines below.
      await loadHttp();
      server = http.createServer((req, res) => {
        if (req.url === '/big') {
          res.writeHead(200); // no Content-Length: the cap must be counted
          res.end(Buffer.alloc(4096));
        } else if (req.url === '/announced') {
          res.writeHead(200, { 'Content-Length': '999999999' });
          res.end();
        } else if (req.url === '/slow') {
          res.writeHead(200);
          res.write('{');
        } else if (req.url === '/exact') {
          res.writeHead(200, { 'Content-Length': '1024' });
          res.end(Buffer.alloc(1024));
        } else if (req.url === '/exact-counted') {
          res.writeHead(200);
          res.end(Buffer.alloc(1024));
        } else if (req.url === '/created') {
          res.writeHead(201).end('{}');
        } else if (req.url === '/ok') {
          res.writeHead(200).end('hello');
        } else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-download-'));
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fs.rm(dir, { recursive: true, force: true });
    });
    const limits = { jsonTimeoutMs: 300, jsonMaxBytes: 1024, fileTimeoutMs: 300, fileMaxBytes: 1024 };
    const get = (signal = new AbortController().signal) => fetcher(DIRECT, signal, limits);

    it('hashes what it writes', async () => {
      assert.deepEqual(await get().file(`${base}/ok`, path.join(dir, 'ok'), 'x'), {
        sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
        bytes: 5,
      });
    });

    it('stops a download past its size cap, announced or not', async () => {
      await assert.rejects(
        get().file(`${base}/big`, path.join(dir, 'big'), 'the tarball'),
        /larger than the 0 MB a Heroku CLI tarball can be/,
      );
      await assert.rejects(
        get().file(`${base}/announced`, path.join(dir, 'a'), 'the tarball'),
        /is 954 MB, more than the 0 MB a Heroku CLI tarball can be/,
      );
      assert.equal((await get().file(`${base}/exact`, path.join(dir, 'exact'), 'x')).bytes, 1024, 'the cap itself is allowed');
      assert.equal((await get().file(`${base}/exact-counted`, path.join(dir, 'counted'), 'x')).bytes, 1024, 'counted too');
      await assert.rejects(get().json(`${base}/big`, 'the manifest'), /Could not download the manifest/);
    });

    it('gives each request a deadline for the whole answer', async () => {
      await assert.rejects(get().json(`${base}/slow`, 'the manifest'), /did not answer in full within 0 s/);
      await assert.rejects(get().file(`${base}/slow`, path.join(dir, 'slow'), 'the tarball'), /did not answer in full/);
    });

    it('stops at a cancel', async () => {
      const controller = new AbortController();
      const pending = get(controller.signal).file(`${base}/slow`, path.join(dir, 'cancel'), 'the tarball');
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, /cancelled while downloading the tarball/);
    });

    it('takes only a 200, and only JSON where JSON is expected', async () => {
      await assert.rejects(
        get().json(`${base}/created`, 'the manifest'),
        /^TaskError: Could not download the manifest: .*\/created answered 201\. If the agent/,
      );
      await assert.rejects(
        get().json(`${base}/ok`, 'the manifest'),
        /^TaskError: the manifest at .*\/ok is not JSON: something that is not Heroku's download server answered \(a login page, a wrong HEROKU_CLI_ASSETS_URL\?\)\. If the agent/,
      );
    });

    it('says which file is missing', async () => {
      await assert.rejects(get().json(`${base}/missing`, 'the manifest'), /answered 404\. Check cliVersion/);
    });
  });
});
