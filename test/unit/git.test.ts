// git in-process, on real repositories in temp folders: resolving what to deploy, listing the commits
// between two releases, and fetching only the history a shallow checkout lacks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { commitsBetween, formatCommit } from '../../tasks/common/core/git/commit-diff';
import {
  hasCommit,
  hasPersistedCredentials,
  isAncestor,
  isShallow,
  originUrl,
  readCommit,
} from '../../tasks/common/core/git/git';
import { ensureHistory, fetchFailure, type HistoryRequest } from '../../tasks/common/core/git/history';
import type { NetworkSettings } from '../../tasks/common/core/base/network';
import { FakeHost } from '../support/fake-host';
import { makeRepo, Repo, runCommand, gitEnv, tempDir } from '../support/git';
import { startOriginServer, type OriginServer } from '../support/origin-server';

/** A repository with `count` commits on main (subjects `Commit 1`...), and their SHAs, oldest first. */
async function history(count: number): Promise<{ repo: Repo; shas: string[] }> {
  const repo = await makeRepo({ files: { 'a.txt': '0' }, message: 'Commit 0' });
  const shas = [await repo.head()];
  for (let i = 1; i < count; i++) shas.push(await repo.commit(`Commit ${i}`, { 'a.txt': String(i) }));
  return { repo, shas };
}

/**
 * A repository with `count` commits on main (subjects `Commit 0`..., one second apart on 2023-11-14),
 * written in one `git fast-import` run, and their SHAs, oldest first.
 */
async function longHistory(count: number): Promise<{ repo: Repo; shas: string[] }> {
  const repo = new Repo(await tempDir('long-history-'));
  await repo.git('init', '--quiet', '--initial-branch=main');
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  let stream = '';
  for (let i = 0; i < count; i++) {
    stream += `commit refs/heads/main\nmark :${i + 1}\ncommitter Test Author <author@example.com> ${1_700_000_000 + i} +0000\n`;
    stream += data(`Commit ${i}`) + (i > 0 ? `from :${i}\n` : '') + `M 644 inline a.txt\n${data(String(i))}\n`;
  }
  const imported = await new Promise<number | null>((resolve) => {
    const child = spawn('git', ['fast-import', '--quiet'], {
      cwd: repo.dir,
      env: gitEnv(),
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    child.on('close', resolve);
    child.stdin.end(stream);
  });
  assert.equal(imported, 0);
  await repo.git('reset', '--quiet', '--hard', 'main');
  return { repo, shas: (await repo.git('rev-list', '--reverse', 'main')).split('\n') };
}

/** A depth-`depth` clone of `origin` (as a pipeline's fetchDepth does), with origin as its remote. */
async function shallowClone(origin: Repo, depth: number, extraArgs: string[] = []): Promise<Repo> {
  const dir = path.join(await tempDir('shallow-'), 'checkout');
  const cloned = await runCommand('git', ['clone', '--quiet', `--depth=${depth}`, ...extraArgs, `file://${origin.dir}`, dir], {
    cwd: os.tmpdir(),
    env: gitEnv(),
  });
  assert.equal(cloned.code, 0, cloned.stderr);
  return new Repo(dir);
}

const sha = (s: string | undefined): string => s ?? assert.fail('no such commit');

describe('git in-process', () => {
  it('resolves refs to full SHAs and explains a folder that is no checkout, or a ref it lacks', async () => {
    const { repo, shas } = await history(2);
    assert.deepEqual(await readCommit(repo.dir, 'HEAD'), { sha: shas[1], subject: 'Commit 1', shallow: false });
    assert.deepEqual(await readCommit(repo.dir, 'HEAD~1'), { sha: shas[0], subject: 'Commit 0', shallow: false });
    assert.equal((await readCommit(repo.dir, 'main')).sha, shas[1]);
    assert.equal(await isShallow(repo.dir), false);
    assert.equal(await originUrl(repo.dir), null);

    const empty = await tempDir('not-a-checkout-');
    await assert.rejects(
      readCommit(empty, 'HEAD'),
      (e: TaskError) => e.kind === 'git' && e.message.startsWith(`${empty} is not a git checkout. Point workingDirectory`),
    );
    await assert.rejects(
      readCommit(repo.dir, 'HEAD~1..HEAD'),
      (e: TaskError) => e.kind === 'git' && e.message.startsWith('The ref "HEAD~1..HEAD" does not name a commit'),
      'a range is not a commit',
    );
    // A one-word line inside the first paragraph is part of the subject, not a paragraph break; an indent is trimmed.
    await repo.commit('A subject\n  that\nwraps\n\nAnd a body.', { 'b.txt': 'b' });
    assert.equal((await readCommit(repo.dir, 'HEAD')).subject, 'A subject that wraps');
    // A ref that starts with a dash is a ref to both git commands, never an option: its commit and its subject.
    await repo.git('update-ref', 'refs/heads/-dashed', shas[1] ?? '');
    assert.deepEqual(
      await readCommit(repo.dir, '-dashed'),
      { sha: shas[1], subject: 'Commit 1', shallow: false },
      'the commit of a ref named -dashed, with its subject',
    );
    await assert.rejects(
      readCommit(repo.dir, 'v9.9'),
      (e: TaskError) => e.kind === 'git' && e.message.startsWith(`The ref "v9.9" does not name a commit in ${repo.dir}.`),
    );
  });

  it('lists the commits a promotion brings, and those it takes out, newest first', async () => {
    const { repo, shas } = await history(4);
    await repo.git('checkout', '--quiet', '-b', 'hotfix', sha(shas[1]));
    const hotfix = await repo.commit('Hotfix', { 'h.txt': 'h' });
    const diff = await commitsBetween(repo.dir, hotfix, sha(shas[3]));
    assert.equal(diff.kind, 'listed');
    if (diff.kind !== 'listed') return;
    assert.deepEqual(
      diff.added.commits.map((c) => c.subject),
      ['Commit 3', 'Commit 2'],
    );
    assert.equal(diff.added.total, 2);
    assert.deepEqual(
      diff.removed.commits.map((c) => c.sha),
      [hotfix],
    );
    assert.equal(diff.removed.total, 1);
    const line = formatCommit(diff.removed.commits[0]!);
    assert.match(line, new RegExp(`^${hotfix.slice(0, 8)}  \\d{4}-\\d{2}-\\d{2}  Hotfix  \\(Test Author\\)$`));
  });

  it('says why the commits cannot be listed: no folder, no checkout, a commit the checkout lacks', async () => {
    const { repo, shas } = await history(1);
    const missing = path.join(os.tmpdir(), 'surely-missing-folder');
    assert.deepEqual(await commitsBetween(missing, sha(shas[0]), sha(shas[0])), {
      kind: 'unavailable',
      reason: `${missing} does not exist (a deployment job checks out nothing unless it has a \`checkout: self\` step)`,
    });
    const plain = await tempDir('plain-');
    assert.deepEqual(await commitsBetween(plain, sha(shas[0]), sha(shas[0])), {
      kind: 'unavailable',
      reason: `${plain} is not a git checkout (a deployment job checks out nothing unless it has a \`checkout: self\` step)`,
    });
    const unknown = 'f'.repeat(40);
    const lacking = await commitsBetween(repo.dir, unknown, sha(shas[0]));
    assert.equal(lacking.kind, 'unavailable');
    assert.match(
      lacking.kind === 'unavailable' ? lacking.reason : '',
      /^the checkout at .* does not have ffffffff \(a shallow checkout has only recent history/,
    );
    const neither = await commitsBetween(repo.dir, unknown, 'e'.repeat(40));
    assert.match(
      neither.kind === 'unavailable' ? neither.reason : '',
      /does not have ffffffff and eeeeeeee \(a shallow checkout/,
    );
  });

  it("fetches only as much history as a shallow checkout needs to contain Heroku's commit", async () => {
    const { repo: origin, shas } = await history(12);
    const checkout = await shallowClone(origin, 1);
    const herokuHead = sha(shas[9]);
    assert.equal(await hasCommit(checkout.dir, herokuHead), false);
    const host = new FakeHost();
    await ensureHistory({
      cwd: checkout.dir,
      sha: sha(shas[11]),
      herokuHead,
      force: false,
      originAccess: null,
      network: DIRECT,
      log: host.log,
    });
    assert.equal(await hasCommit(checkout.dir, herokuHead), true);
    assert.equal(await isShallow(checkout.dir), true, 'not the whole history');
    assert.equal((await readCommit(checkout.dir, 'HEAD')).shallow, true, 'readCommit says so too');
    assert.equal(await hasCommit(checkout.dir, sha(shas[0])), false, 'the oldest commits were not fetched');
    assert.deepEqual(host.lines, [
      `The checkout is shallow: fetching history from origin until Heroku's current commit ${herokuHead.slice(0, 8)} is found.`,
      `Fetched 9 more commit(s) of history from origin: Heroku's ${herokuHead.slice(0, 8)} is an ancestor of ${sha(shas[11]).slice(0, 8)}.`,
    ]);
  });

  it('fetches the whole history for an app never pushed to, and explains a shallow checkout without origin', async () => {
    const { repo: origin, shas } = await history(3);
    const checkout = await shallowClone(origin, 1);
    const host = new FakeHost();
    await ensureHistory({
      cwd: checkout.dir,
      sha: sha(shas[2]),
      herokuHead: null,
      force: false,
      originAccess: null,
      network: DIRECT,
      log: host.log,
    });
    assert.equal(await isShallow(checkout.dir), false);
    assert.match(
      host.lines[0] ?? '',
      /never been pushed to: Heroku refuses shallow pushes, so fetching the full history from origin\.$/,
    );

    const orphan = await shallowClone(origin, 1);
    await orphan.git('remote', 'remove', 'origin');
    await assert.rejects(
      ensureHistory({
        cwd: orphan.dir,
        sha: sha(shas[2]),
        herokuHead: sha(shas[0]),
        force: false,
        originAccess: null,
        network: DIRECT,
        log: host.log,
      }),
      (e: TaskError) =>
        e.kind === 'shallow' &&
        e.message.startsWith(
          'The checkout is shallow and has no origin remote to fetch the missing history from. Set `fetchDepth: 0`',
        ),
    );
  });
  it('takes the .git folder itself for no checkout, and resolves the 64-digit commits of a SHA-256 repository', async () => {
    const { repo, shas } = await history(1);
    const gitDir = path.join(repo.dir, '.git');
    await assert.rejects(
      readCommit(gitDir, 'HEAD'),
      (e: TaskError) => e.kind === 'git' && e.message.startsWith(`${gitDir} is not a git checkout.`),
    );
    assert.deepEqual(await commitsBetween(gitDir, sha(shas[0]), sha(shas[0])), {
      kind: 'unavailable',
      reason: `${gitDir} is not a git checkout (a deployment job checks out nothing unless it has a \`checkout: self\` step)`,
    });

    const modern = new Repo(await tempDir('sha256-'));
    await modern.git('init', '--quiet', '--object-format=sha256');
    const head = await modern.commit('First', { 'a.txt': 'a' });
    assert.match(head, /^[0-9a-f]{64}$/);
    assert.equal((await readCommit(modern.dir, 'HEAD')).sha, head);
  });

  it('answers what the deploy asks of a checkout: ancestry, commits it has, subjects', async () => {
    const { repo, shas } = await history(2);
    const [older, newer] = [sha(shas[0]), sha(shas[1])];
    assert.equal(await isAncestor(repo.dir, older, newer), true);
    assert.equal(await isAncestor(repo.dir, newer, older), false);
    assert.equal(await hasCommit(repo.dir, newer), true);
    assert.equal(await hasCommit(repo.dir, 'f'.repeat(40)), false);

    const plain = await tempDir('plain-');
    await assert.rejects(
      isShallow(plain),
      (e: TaskError) =>
        e.kind === 'git' &&
        /^Checking for a shallow checkout failed: git rev-parse exited 128: fatal: not a git repository/.test(e.message),
    );
  });

  it("reads origin's URL (none when it is empty), and whether the checkout persisted credentials", async () => {
    const { repo } = await history(1);
    assert.equal(await hasPersistedCredentials(repo.dir), false);
    const url = 'https://org@dev.azure.com/org/project/_git/app';
    await repo.git('remote', 'add', 'origin', url);
    assert.equal(await originUrl(repo.dir), url);
    await repo.git('config', 'http.sslVerify', 'true');
    assert.equal(await hasPersistedCredentials(repo.dir), false, 'other http settings are no credentials');
    // What `persistCredentials: true` on the checkout step leaves in .git/config.
    await repo.git('config', `http.${url}.extraheader`, 'AUTHORIZATION: bearer persisted');
    assert.equal(await hasPersistedCredentials(repo.dir), true);

    await repo.git('config', 'remote.origin.url', '');
    assert.equal(await originUrl(repo.dir), null);
  });

  it('counts every commit of a range but lists only the newest 50', async () => {
    const { repo, shas } = await longHistory(56);
    const diff = await commitsBetween(repo.dir, sha(shas[0]), sha(shas[55]));
    assert.equal(diff.kind, 'listed');
    if (diff.kind !== 'listed') return;
    assert.equal(diff.added.total, 55);
    assert.equal(diff.added.commits.length, 50);
    assert.deepEqual(diff.added.commits[0], {
      sha: shas[55],
      date: '2023-11-14',
      subject: 'Commit 55',
      author: 'Test Author',
    });
    assert.deepEqual(diff.removed, { commits: [], total: 0 });
  });

  it('takes the .git folder itself for no checkout when listing commits', async () => {
    const { repo, shas } = await history(1);
    const gitDir = path.join(repo.dir, '.git');
    assert.deepEqual(await commitsBetween(gitDir, sha(shas[0]), sha(shas[0])), {
      kind: 'unavailable',
      reason: `${gitDir} is not a git checkout (a deployment job checks out nothing unless it has a \`checkout: self\` step)`,
    });
  });

  it('says git could not count the commits when git rev-list fails', async function () {
    if (process.platform === 'win32') this.skip(); // the failing git is a shell script
    const { repo, shas } = await history(2);
    const real = (await runCommand('sh', ['-c', 'command -v git'])).stdout.trim();
    const bin = await tempDir('failing-rev-list-');
    const script = `#!/bin/sh\nif [ "$1" = rev-list ]; then echo "fatal: cannot count" >&2; exit 128; fi\nexec ${real} "$@"\n`;
    await fs.writeFile(path.join(bin, 'git'), script, { mode: 0o755 });
    const savedPath = process.env.PATH;
    try {
      process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ''}`;
      const failed = await commitsBetween(repo.dir, sha(shas[0]), sha(shas[1]));
      assert.deepEqual(failed, {
        kind: 'unavailable',
        reason: 'git could not list them: Counting the commits to promote failed: git rev-list exited 128: fatal: cannot count',
      });
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('says git could not list the commits when git log fails, and stops when the task is cancelled', async () => {
    const { repo, shas } = await history(2);
    await repo.git('config', 'log.date', 'bogus'); // a setting git log refuses
    const failed = await commitsBetween(repo.dir, sha(shas[0]), sha(shas[1]));
    assert.equal(failed.kind, 'unavailable');
    assert.match(
      failed.kind === 'unavailable' ? failed.reason : '',
      /^git could not list them: Listing the commits to promote failed: git log exited 128: fatal: unknown date format bogus$/,
    );

    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      commitsBetween(repo.dir, sha(shas[0]), sha(shas[1]), controller.signal),
      (e: TaskError) => e.kind === 'cancelled',
    );
  });
});

describe('shallow checkouts: fetching the history Heroku needs', () => {
  /** What ensureHistory needs to bring `cwd` to where a push of `sha` over Heroku's `herokuHead` is accepted. */
  const request = (cwd: string, herokuHead: string | undefined, head: string | undefined, host: FakeHost): HistoryRequest => ({
    cwd,
    sha: sha(head),
    herokuHead: sha(herokuHead),
    force: false,
    originAccess: null,
    network: DIRECT,
    log: host.log,
  });
  const short = (s: string | undefined): string => sha(s).slice(0, 8);

  it("fetches nothing for a full checkout, for Heroku's own commit, or when the checkout already has Heroku's", async () => {
    const { repo: origin, shas } = await history(4);
    const host = new FakeHost();
    await ensureHistory(request(origin.dir, shas[0], shas[3], host)); // a full checkout, and no origin to fetch from

    const orphan = await shallowClone(origin, 1);
    await orphan.git('remote', 'remove', 'origin');
    await ensureHistory(request(orphan.dir, shas[3], shas[3], host)); // Heroku already runs this commit

    const recent = await shallowClone(origin, 3);
    await ensureHistory(request(recent.dir, shas[2], shas[3], host));
    assert.equal(await hasCommit(recent.dir, sha(shas[0])), false, 'nothing was fetched');
    assert.deepEqual(host.lines, []);
  });

  it("fetches the whole history when Heroku's commit is on another branch, then expects a non-fast-forward unless forced", async () => {
    const { repo: origin, shas } = await history(3);
    await origin.git('checkout', '--quiet', '-b', 'elsewhere', sha(shas[0]));
    const elsewhere = await origin.commit('Deployed from elsewhere', { 'b.txt': 'b' });
    await origin.git('checkout', '--quiet', 'main');

    for (const force of [false, true]) {
      const checkout = await shallowClone(origin, 1, ['--no-single-branch']);
      assert.equal(await hasCommit(checkout.dir, elsewhere), true, "the checkout has Heroku's commit, not its history");
      const host = new FakeHost();
      await ensureHistory({ ...request(checkout.dir, elsewhere, shas[2], host), force });
      assert.equal(await isShallow(checkout.dir), false, 'the whole history was fetched');
      assert.deepEqual(host.lines, [
        `The checkout is shallow: fetching history from origin until Heroku's current commit ${short(elsewhere)} is found.`,
      ]);
      assert.deepEqual(
        host.debugLines,
        force ? [] : [`Heroku's ${elsewhere} is not an ancestor of ${shas[2]}: expecting a non-fast-forward rejection.`],
      );
    }
  });

  it("deepens up to 585 commits, then fetches the whole history when Heroku's commit is older still", async () => {
    const { repo: origin, shas } = await longHistory(700);
    const deepening = `The checkout is shallow: fetching history from origin until Heroku's current commit`;

    const checkout = await shallowClone(origin, 1);
    const host = new FakeHost();
    await ensureHistory(request(checkout.dir, shas[599], shas[699], host)); // 100 commits back
    assert.equal(await hasCommit(checkout.dir, sha(shas[599])), true);
    assert.equal(await isShallow(checkout.dir), true, 'the last deepening step was enough');
    assert.deepEqual(host.lines, [
      `${deepening} ${short(shas[599])} is found.`,
      `Fetched 585 more commit(s) of history from origin: Heroku's ${short(shas[599])} is an ancestor of ${short(shas[699])}.`,
    ]);

    const oldest = await shallowClone(origin, 1);
    const unshallowed = new FakeHost();
    await ensureHistory(request(oldest.dir, shas[0], shas[699], unshallowed));
    assert.equal(await isShallow(oldest.dir), false);
    assert.deepEqual(unshallowed.lines, [
      `${deepening} ${short(shas[0])} is found.`,
      "Heroku's current commit is not in the recent history: fetching the full history from origin.",
    ]);
    assert.deepEqual(unshallowed.debugLines, [], 'an ancestor after all');
  });

  describe('from an Azure Repos origin on loopback, which never goes through the agent proxy', () => {
    const token = 'pipeline-token-0123456789';
    let originRepo: string;
    let server: OriginServer;
    let network: NetworkSettings;
    let shas: string[];

    before(async () => {
      const made = await history(3);
      shas = made.shas;
      const bare = path.join(await tempDir('origin-'), 'app.git');
      await made.repo.git('clone', '--quiet', '--bare', made.repo.dir, bare);
      server = await startOriginServer(bare, [token, 'persisted-token']);
      originRepo = `${new URL(server.url).origin}/project/_git/app`;
      // A proxy that does not exist: were it used, every fetch would fail.
      network = { proxyConfigured: true, proxyFor: () => ({ url: 'http://127.0.0.1:1' }) };
    });
    after(() => server.close());

    async function checkout(): Promise<Repo> {
      const dir = path.join(await tempDir('azure-checkout-'), 's');
      const auth = `AUTHORIZATION: bearer ${token}`;
      const cloned = await runCommand(
        'git',
        ['-c', `http.extraHeader=${auth}`, 'clone', '--quiet', '--depth=1', originRepo, dir],
        { env: gitEnv() },
      );
      assert.equal(cloned.code, 0, cloned.stderr);
      server.requests.length = 0;
      return new Repo(dir);
    }

    const fetchRequest = (cwd: string, repositoryUrl: string, host: FakeHost): HistoryRequest => ({
      ...request(cwd, shas[1], shas[2], host),
      originAccess: { token, repositoryUrl },
      network,
    });

    it("sends the pipeline's token to origin, direct", async () => {
      const repo = await checkout();
      await ensureHistory(fetchRequest(repo.dir, originRepo, new FakeHost()));
      assert.equal(await hasCommit(repo.dir, sha(shas[1])), true);
      assert.ok(server.requests.length > 0, 'origin was fetched from, not through the proxy');
      assert.deepEqual(new Set(server.requests.map((r) => r.authorization)), new Set([`bearer ${token}`]));
    });

    it('lets the credentials the checkout persisted speak for themselves', async () => {
      const repo = await checkout();
      await repo.git('config', `http.${originRepo}.extraheader`, 'AUTHORIZATION: bearer persisted-token');
      await ensureHistory(fetchRequest(repo.dir, originRepo, new FakeHost()));
      assert.equal(await hasCommit(repo.dir, sha(shas[1])), true);
      assert.deepEqual(new Set(server.requests.map((r) => r.authorization)), new Set(['bearer persisted-token']));
    });

    it("keeps the token from an origin on another host, and quotes git's reason when the fetch fails", async () => {
      const repo = await checkout();
      await assert.rejects(
        ensureHistory(fetchRequest(repo.dir, 'https://dev.azure.com/org/project/_git/app', new FakeHost())),
        (e: TaskError) =>
          e.kind === 'shallow' &&
          e.message.startsWith(
            `The checkout is shallow and Heroku needs history it lacks, but fetching it from origin failed: fatal: could not read Username for '${new URL(server.url).origin}': terminal prompts disabled. Set \`fetchDepth: 0\` on the checkout step`,
          ),
      );
      assert.ok(server.requests.length > 0, 'server.requests.length > 0');
      assert.deepEqual(new Set(server.requests.map((r) => r.authorization)), new Set([null]), 'no token went to another host');
    });
  });
});

describe("shallow checkouts: how origin's history is fetched", function () {
  before(function () {
    if (process.platform !== 'linux') this.skip(); // the recording git reads /proc
  });

  let savedPath: string | undefined;
  afterEach(() => (process.env.PATH = savedPath));

  /** Real git behind a `git` first on PATH that records each fetch: its arguments, configuration and process group. */
  async function recordFetches() {
    const real = (await runCommand('sh', ['-c', 'command -v git'])).stdout.trim();
    const bin = await tempDir('fetch-recorder-');
    const script = [
      '#!/bin/sh',
      'dir=$(dirname "$0")',
      'if [ "$1" = fetch ]; then',
      '  echo "$*" >> "$dir/fetches"',
      '  env | grep "^GIT_CONFIG_" > "$dir/config"',
      '  echo "$(cut -d" " -f5 /proc/$$/stat) $$" > "$dir/group"',
      'fi',
      `exec ${real} "$@"`,
    ];
    await fs.writeFile(path.join(bin, 'git'), `${script.join('\n')}\n`, { mode: 0o755 });
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ''}`;
    const read = (name: string) => fs.readFile(path.join(bin, name), 'utf8').catch(() => '');
    return {
      fetches: async () => (await read('fetches')).trimEnd().split('\n').filter(Boolean),
      config: async () => (await read('config')).trimEnd().split('\n'),
      ownGroup: async () => {
        const [group, pid] = (await read('group')).trim().split(' ');
        return group === pid;
      },
    };
  }

  it("fetches with the agent's network settings, in a process group of its own, and stops deepening once the checkout is complete", async () => {
    const { repo: origin, shas } = await history(3);
    await origin.git('checkout', '--quiet', '-b', 'elsewhere', sha(shas[0]));
    const elsewhere = await origin.commit('Deployed from elsewhere', { 'b.txt': 'b' });
    await origin.git('checkout', '--quiet', 'main');
    const checkout = await shallowClone(origin, 1, ['--no-single-branch']);
    const recorder = await recordFetches();
    const network: NetworkSettings = { proxyConfigured: false, proxyFor: () => null, caFile: '/etc/agent-ca.pem' };
    await ensureHistory({
      cwd: checkout.dir,
      sha: sha(shas[2]),
      herokuHead: elsewhere,
      force: true,
      originAccess: null,
      network,
      log: new FakeHost().log,
    });
    assert.equal(await isShallow(checkout.dir), false);
    assert.deepEqual(await recorder.fetches(), [
      'fetch --no-tags --quiet --deepen=1 origin',
      'fetch --no-tags --quiet --deepen=8 origin',
    ]);
    const originUrl = await checkout.git('config', '--get', 'remote.origin.url');
    assert.ok((await recorder.config()).includes(`GIT_CONFIG_VALUE_2=/etc/agent-ca.pem`), (await recorder.config()).join('\n'));
    assert.ok(
      (await recorder.config()).includes(`GIT_CONFIG_KEY_2=http.${originUrl}.sslCAInfo`),
      '(await recorder.config()).includes(`GIT_CONFIG_KEY_2=http.${originUrl}.sslCAInfo`)',
    );
    assert.equal(await recorder.ownGroup(), true, 'a cancel stops its helpers too');
  });
});

describe('shallow checkouts: what a failed fetch says', () => {
  it("quotes git's fatal line, not the hints after it, without doubling the period", () => {
    const stderr =
      "error: RPC failed; HTTP 403 curl 22\nfatal: unable to access 'https://dev.azure.com/o/p/_git/r/': The requested URL returned error: 403.\nhint: see 'git help config'\n";
    assert.equal(
      fetchFailure(stderr, 128),
      "fatal: unable to access 'https://dev.azure.com/o/p/_git/r/': The requested URL returned error: 403",
    );
    assert.equal(fetchFailure('remote: Repository not found\n', 128), 'remote: Repository not found');
  });

  it("takes git's own fatal line over a server's `remote: error:` line printed after it", () => {
    assert.equal(
      fetchFailure('fatal: the remote end hung up unexpectedly\nremote: error: pack-objects died of signal 9\n', 128),
      'fatal: the remote end hung up unexpectedly',
      "the server's line is no line of git's",
    );
  });

  it('gives the exit code when git said nothing', () => {
    assert.equal(fetchFailure('', 1), 'git fetch exited 1');
    assert.equal(fetchFailure('\n  \n', null), 'git fetch exited on a signal');
  });
});
