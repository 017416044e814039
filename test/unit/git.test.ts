// git in-process, on real repositories in temp folders: resolving what to deploy, listing the commits
// between two releases, and fetching only the history a shallow checkout lacks.
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { TaskError } from '../../tasks/common/core/base/errors';
import { DIRECT } from '../../tasks/common/core/base/network';
import { commitsBetween, formatCommit } from '../../tasks/common/core/git/commit-diff';
import { commitSubject, hasCommit, isShallow, originUrl, resolveCommit } from '../../tasks/common/core/git/git';
import { ensureHistory } from '../../tasks/common/core/git/history';
import { FakeHost } from '../support/fake-host';
import { makeRepo, Repo, runCommand, gitEnv, tempDir } from '../support/git';

/** A repository with `count` commits on main (subjects `Commit 1`...), and their SHAs, oldest first. */
async function history(count: number): Promise<{ repo: Repo; shas: string[] }> {
  const repo = await makeRepo({ files: { 'a.txt': '0' }, message: 'Commit 0' });
  const shas = [await repo.head()];
  for (let i = 1; i < count; i++) shas.push(await repo.commit(`Commit ${i}`, { 'a.txt': String(i) }));
  return { repo, shas };
}

/** A depth-`depth` clone of `origin` (as a pipeline's fetchDepth does), with origin as its remote. */
async function shallowClone(origin: Repo, depth: number): Promise<Repo> {
  const dir = path.join(await tempDir('shallow-'), 'checkout');
  const cloned = await runCommand('git', ['clone', '--quiet', `--depth=${depth}`, `file://${origin.dir}`, dir], {
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
    assert.equal(await resolveCommit(repo.dir, 'HEAD'), shas[1]);
    assert.equal(await resolveCommit(repo.dir, 'HEAD~1'), shas[0]);
    assert.equal(await resolveCommit(repo.dir, 'main'), shas[1]);
    assert.equal(await commitSubject(repo.dir, sha(shas[0])), 'Commit 0');
    assert.equal(await isShallow(repo.dir), false);
    assert.equal(await originUrl(repo.dir), null);

    const empty = await tempDir('not-a-checkout-');
    await assert.rejects(
      resolveCommit(empty, 'HEAD'),
      (e: TaskError) => e.kind === 'git' && e.message.startsWith(`${empty} is not a git checkout. Point workingDirectory`),
    );
    await assert.rejects(
      resolveCommit(repo.dir, 'v9.9'),
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
});
