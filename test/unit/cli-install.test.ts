// HerokuCli's install path in-process (the task tests run it only through the bundle, where mutation
// testing cannot see it): which CLI a run gets (PATH, the tool cache, a download), the checks on a
// download, and what the log says about each.
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import sinon from 'sinon';
import { DIRECT } from '../../tasks/common/core/base/network';
import { runCli } from '../../tasks/common/core/cli/cli';
import { fetcher } from '../../tasks/common/core/cli/download';
import type { CliRequest, CliVersion, ToolCache } from '../../tasks/common/core/cli/types';
import { packCli, standInBuilds, standInCli, startAssetsServer, type AssetsServer } from '../support/cli-assets';
import { FakeHost } from '../support/fake-host';
import { runCommand, tempDir } from '../support/git';

/** A tool cache in a folder, recording what the run asked of it. */
class FolderCache implements ToolCache {
  readonly added: string[] = [];
  readonly prepended: string[] = [];
  constructor(private readonly dir: string) {}
  find(version: string): string | undefined {
    const folder = path.join(this.dir, version);
    return version && existsSync(folder) ? folder : undefined;
  }
  async add(folder: string, version: string): Promise<string> {
    const into = path.join(this.dir, version);
    await fs.cp(folder, into, { recursive: true });
    this.added.push(version);
    return into;
  }
  prependPath(dir: string): void {
    this.prepended.push(dir);
  }
}

describe('HerokuCli: which CLI a run gets', function () {
  this.timeout(60_000);
  let server: AssetsServer;
  let stableKb = 0;
  before(async () => {
    const builds = await standInBuilds(['11.9.0', '11.10.0']);
    stableKb = Math.round((builds.at(-1)?.tarball.length ?? 0) / 1024);
    server = await startAssetsServer(builds);
  });
  after(() => server.close());

  const request = async (
    cliVersion: CliVersion,
    tools: ToolCache,
    environment: NodeJS.ProcessEnv = { PATH: '/usr/bin:/bin' },
  ): Promise<CliRequest> => ({
    apiKey: 'HRKU-test-key',
    api: { url: 'https://api.heroku.example', isDefault: false, source: 'test' },
    network: DIRECT,
    cliVersion,
    assets: { url: server.url, isDefault: false },
    tools,
    script: {
      type: 'bash',
      source: { kind: 'inline', text: 'heroku --version' },
      arguments: '',
      workingDirectory: await tempDir('cli-cwd-'),
      failOnStandardError: false,
    },
    tempDirectory: await tempDir('cli-temp-'),
    environment,
    platform: process.platform,
    arch: process.arch,
    signal: new AbortController().signal,
  });
  const run = async (req: CliRequest) => {
    const host = new FakeHost();
    const outcome = await runCli(req, host.log, fetcher(req.network, req.signal));
    return { outcome, lines: host.lines };
  };

  it('downloads the stable CLI once, verified and cached, then takes it from the cache', async () => {
    const tools = new FolderCache(await tempDir('tool-cache-'));
    const first = await run(await request({ kind: 'stable' }, tools));
    assert.ok(first.outcome.ok, first.outcome.ok ? '' : first.outcome.failure.message);
    assert.equal(first.outcome.result.cli.source, 'download');
    assert.deepEqual(tools.added, ['11.10.0'], 'cached as its version');
    assert.deepEqual(tools.prepended, [first.outcome.result.cli.binDir], 'put first on PATH for later steps');
    assert.match(first.outcome.result.cli.versionLine, /^heroku\/11\.10\.0 /);
    assert.ok(
      first.lines.some((l) => l.startsWith('Downloading Heroku CLI 11.10.0 from ')),
      first.lines.join('\n'),
    );
    assert.ok(
      first.lines.some((l) => new RegExp(`^SHA-256 verified \\([0-9a-f]{64}, ${stableKb} KB\\)$`).test(l)),
      first.lines.join('\n'),
    );
    assert.ok(
      first.lines.includes(
        `Heroku CLI downloaded and cached (${first.outcome.result.cli.binDir}): ${first.outcome.result.cli.versionLine}`,
      ),
      first.lines.join('\n'),
    );

    assert.ok(!first.lines.some((l) => l.startsWith('No Heroku CLI on')), 'stable does not look at PATH');
    const tarballs = server.requests.filter((r) => r.endsWith('.tar.gz')).length;
    const second = await run(await request({ kind: 'stable' }, tools));
    assert.ok(second.outcome.ok, second.outcome.ok ? '' : second.outcome.failure.message);
    assert.equal(second.outcome.result.cli.source, 'cache');
    assert.equal(server.requests.filter((r) => r.endsWith('.tar.gz')).length, tarballs, 'no second download');
    assert.ok(
      second.lines.some((l) => l.startsWith("Heroku CLI from the agent's tool cache (")),
      second.lines.join('\n'),
    );
  });

  it('installs an exact version from the versions index, and says when there is no such version', async () => {
    const tools = new FolderCache(await tempDir('tool-cache-'));
    const exact = await run(await request({ kind: 'exact', version: '11.9.0' }, tools));
    assert.ok(exact.outcome.ok, exact.outcome.ok ? '' : exact.outcome.failure.message);
    assert.match(exact.outcome.result.cli.versionLine, /^heroku\/11\.9\.0 /);
    assert.deepEqual(tools.added, ['11.9.0']);

    const missing = await run(await request({ kind: 'exact', version: '9.9.9' }, tools));
    assert.ok(!missing.outcome.ok, '!missing.outcome.ok');
    assert.equal(missing.outcome.failure.kind, 'input');
    assert.match(missing.outcome.failure.message, /^Heroku CLI 9\.9\.9 does not exist for /);
  });

  it('uses the CLI on PATH when cliVersion is empty, and downloads only when there is none', async () => {
    const onPath = path.join(await standInCli('10.0.0'), 'heroku', 'bin');
    const tools = new FolderCache(await tempDir('tool-cache-'));
    const found = await run(await request({ kind: 'path-or-stable' }, tools, { PATH: `${onPath}:/usr/bin:/bin` }));
    assert.ok(found.outcome.ok, found.outcome.ok ? '' : found.outcome.failure.message);
    assert.equal(found.outcome.result.cli.source, 'path');
    assert.equal(found.outcome.result.cli.binDir, onPath);
    assert.deepEqual(tools.prepended, [], 'PATH already has it');
    assert.ok(
      found.lines.some((l) => l.startsWith(`Heroku CLI on the agent's PATH (${onPath}): heroku/10.0.0 `)),
      found.lines.join('\n'),
    );

    const none = await run(await request({ kind: 'path-or-stable' }, tools));
    assert.ok(none.outcome.ok, none.outcome.ok ? '' : none.outcome.failure.message);
    assert.equal(none.outcome.result.cli.source, 'download');
    assert.ok(none.lines.includes("No Heroku CLI on the agent's PATH: using the latest stable one."), none.lines.join('\n'));
  });

  it('downloads for stable even when PATH has a CLI', async () => {
    const onPath = path.join(await standInCli('10.0.0'), 'heroku', 'bin');
    const tools = new FolderCache(await tempDir('tool-cache-'));
    const stable = await run(await request({ kind: 'stable' }, tools, { PATH: `${onPath}:/usr/bin:/bin` }));
    assert.ok(stable.outcome.ok, stable.outcome.ok ? '' : stable.outcome.failure.message);
    assert.equal(stable.outcome.result.cli.source, 'download');
    assert.match(stable.outcome.result.cli.versionLine, /^heroku\/11\.10\.0 /);
  });

  it('says what went wrong when the tarball cannot be had or unpacked', async () => {
    const tools = new FolderCache(await tempDir('tool-cache-'));
    // A tarball that matches its manifest but is no gzip: tar refuses it.
    const broken = await startAssetsServer([{ version: '12.1.0', tarball: Buffer.from('not a tarball at all\n') }]);
    try {
      const req = { ...(await request({ kind: 'stable' }, tools)), assets: { url: broken.url, isDefault: false } };
      const unpacked = await run(req);
      assert.ok(!unpacked.outcome.ok, 'fails');
      assert.equal(unpacked.outcome.failure.kind, 'unexpected');
      assert.match(
        unpacked.outcome.failure.message,
        /^Extracting the Heroku CLI failed \(tar exited [1-9]\d*: (.|\n)*gzip(.|\n)*\S\)\. Check the agent's free disk space and re-run\.$/,
      );
      const noTar = await run({ ...req, environment: { PATH: '/nonexistent' } });
      assert.ok(!noTar.outcome.ok, 'fails');
      assert.equal(noTar.outcome.failure.kind, 'unexpected');
      assert.match(
        noTar.outcome.failure.message,
        /^tar could not run to extract the Heroku CLI \(.*ENOENT.*\): install tar on the agent\.$/,
      );
    } finally {
      await broken.close();
    }
    assert.deepEqual(tools.added, []);

    // A manifest whose tarball is missing (404), or whose server fails (500).
    let status = 404;
    const gone = http.createServer((req, res) => {
      if (req.url?.endsWith('-buildmanifest'))
        res
          .writeHead(200)
          .end(JSON.stringify({ version: '12.2.0', gz: 'channels/stable/gone.tar.gz', sha256gz: 'a'.repeat(64) }));
      else res.writeHead(status).end();
    });
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
    try {
      const req = { ...(await request({ kind: 'stable' }, tools)), assets: { url: base, isDefault: false } };
      const missing = await run(req);
      assert.ok(!missing.outcome.ok, 'fails');
      assert.equal(missing.outcome.failure.kind, 'not-found');
      assert.match(
        missing.outcome.failure.message,
        new RegExp(
          `^Could not download Heroku CLI 12\\.2\\.0: ${base}/channels/stable/gone\\.tar\\.gz answered 404\\. Check cliVersion `,
        ),
      );
      status = 500;
      const failing = await run(req);
      assert.ok(!failing.outcome.ok, 'fails');
      assert.equal(failing.outcome.failure.kind, 'network');
      assert.match(failing.outcome.failure.message, /answered 500\. If the agent cannot reach Heroku's downloads/);
    } finally {
      gone.closeAllConnections();
      await new Promise<void>((resolve) => gone.close(() => resolve()));
    }
  });

  it("quotes the end of tar's complaint", async () => {
    const bin = await tempDir('noisy-tar-');
    await fs.writeFile(path.join(bin, 'tar'), '#!/bin/sh\nprintf "HEAD%0600d\\n" 0 >&2\necho "disk full " >&2\nexit 2\n', {
      mode: 0o755,
    });
    const tools = new FolderCache(await tempDir('tool-cache-'));
    const { outcome } = await run(await request({ kind: 'stable' }, tools, { PATH: `${bin}:/usr/bin:/bin` }));
    assert.ok(!outcome.ok, 'fails');
    assert.equal(
      outcome.failure.message,
      `Extracting the Heroku CLI failed (tar exited 2: ${'0'.repeat(490)}\ndisk full). Check the agent's free disk space and re-run.`,
    );
  });

  it('stops extracting when the task is cancelled', async () => {
    const bin = await tempDir('slow-tar-');
    const fifo = path.join(bin, 'started');
    await runCommand('mkfifo', [fifo], { cwd: bin, timeoutMs: 10_000 });
    await fs.writeFile(path.join(bin, 'tar'), `#!/bin/sh\necho started > "${fifo}"\nsleep 20\n`, { mode: 0o755 });
    const tools = new FolderCache(await tempDir('tool-cache-'));
    const abort = new AbortController();
    const req = { ...(await request({ kind: 'stable' }, tools, { PATH: `${bin}:/usr/bin:/bin` })), signal: abort.signal };
    const pending = run(req);
    await fs.readFile(fifo, 'utf8');
    abort.abort();
    const { outcome } = await pending;
    assert.ok(!outcome.ok, 'fails');
    assert.equal(outcome.failure.kind, 'cancelled');
    assert.equal(outcome.failure.message, 'The task was cancelled while extracting the Heroku CLI.');
    assert.deepEqual(tools.added, []);
  });

  it('gives tar 10 minutes to extract, then says it ran out of time', async () => {
    const bin = await tempDir('stuck-tar-');
    const fifo = path.join(bin, 'started');
    await runCommand('mkfifo', [fifo], { cwd: bin, timeoutMs: 10_000 });
    await fs.writeFile(
      path.join(bin, 'tar'),
      `#!/bin/sh\necho started > "${fifo}"\necho "stuck on a slow disk" >&2\nexec sleep 30\n`,
      {
        mode: 0o755,
      },
    );
    const tools = new FolderCache(await tempDir('tool-cache-'));
    const req = await request({ kind: 'stable' }, tools, { PATH: `${bin}:/usr/bin:/bin` });
    const clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let settled = false;
      const pending = run(req).finally(() => (settled = true));
      await fs.readFile(fifo, 'utf8');
      await clock.tickAsync(10 * 60_000 - 1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(settled, false, 'tar still has time a millisecond before 10 minutes');
      await clock.tickAsync(1);
      const { outcome } = await pending;
      assert.ok(!outcome.ok, 'fails');
      assert.equal(outcome.failure.kind, 'unexpected');
      assert.equal(
        outcome.failure.message,
        "Extracting the Heroku CLI failed (tar ran out of time: stuck on a slow disk). Check the agent's free disk space and re-run.",
      );
    } finally {
      clock.restore();
    }
    assert.deepEqual(tools.added, []);
  });

  it('refuses a tarball that is not the one its manifest describes, and one without the CLI, extracting or caching nothing', async () => {
    const tools = new FolderCache(await tempDir('tool-cache-'));
    server.tamper = true;
    try {
      const altered = await run(await request({ kind: 'stable' }, tools));
      assert.ok(!altered.outcome.ok, '!altered.outcome.ok');
      assert.equal(altered.outcome.failure.kind, 'verification');
      assert.match(
        altered.outcome.failure.message,
        /is not the one its manifest describes \(SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}\): it was not extracted or run/,
      );
    } finally {
      server.tamper = false;
    }
    assert.deepEqual(tools.added, []);

    // A tarball whose folder has no bin/heroku.
    const root = await standInCli('12.0.0');
    await fs.rm(path.join(root, 'heroku', 'bin'), { recursive: true });
    const empty = await startAssetsServer([{ version: '12.0.0', tarball: await packCli(root) }]);
    try {
      const req = { ...(await request({ kind: 'stable' }, tools)), assets: { url: empty.url, isDefault: false } };
      const hollow = await run(req);
      assert.ok(!hollow.outcome.ok, '!hollow.outcome.ok');
      assert.equal(hollow.outcome.failure.kind, 'verification');
      assert.match(hollow.outcome.failure.message, /has no heroku\/bin\/heroku: it is not a CLI for /);
    } finally {
      await empty.close();
    }
    assert.deepEqual(tools.added, []);
  });
});
