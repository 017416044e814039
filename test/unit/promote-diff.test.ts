// What a promotion changes on one target, as the log and the summary say it (`heroku pipelines:diff`),
// from a real repository's history.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Release } from '../../tasks/common/core/heroku/api';
import { describeDiff, diffTarget, type DiffContext } from '../../tasks/common/core/promote/diff';
import { facts, type Target } from '../../tasks/common/core/promote/types';
import { FakeHost } from '../support/fake-host';
import { gitEnv, makeRepo, runCommand } from '../support/git';

const sourceRelease: Release = { id: 's12', version: 12, slug: { id: 'slug-12' } };

function target(current: Release | null, commit: string | null, stage: Target['stage'] = 'production'): Target {
  return {
    name: 'prod',
    id: 'app-prod',
    app: { id: 'app-prod', name: 'prod' },
    client: undefined as never,
    stage,
    healthUrl: null,
    current,
    before: current ? facts(current, commit) : null,
    diff: null,
  };
}

describe('the diff of a promotion', () => {
  it('lists the commits brought, newest first, and warns about those taken out', async () => {
    const repo = await makeRepo({ files: { 'a.txt': '0' } });
    const base = await repo.head();
    await repo.git('checkout', '--quiet', '-b', 'hotfix');
    const hotfix = await repo.commit('Hotfix on prod', { 'h.txt': 'h' });
    await repo.git('checkout', '--quiet', '--detach', base);
    const first = await repo.commit('First feature', { 'b.txt': '1' });
    const second = await repo.commit('Second feature', { 'b.txt': '2' });
    const host = new FakeHost();
    const prod = target({ id: 'p16', version: 16, slug: { id: 'slug-16' } }, hotfix);
    const context: DiffContext = { source: 'stg', sourceRelease, commit: second, workingDirectory: repo.dir, log: host.log };
    const diff = await diffTarget(prod, context);
    assert.equal(diff?.kind, 'listed');
    const s = (sha: string): string => sha.slice(0, 8);
    assert.deepEqual(host.lines.slice(0, 2), [
      `prod (production) runs v16, commit ${s(hotfix)}; stg runs v12, commit ${s(second)}.`,
      `2 commits to promote to prod (${s(hotfix)}..${s(second)}):`,
    ]);
    assert.match(host.lines[2] ?? '', new RegExp(`^  ${s(second)}  \\d{4}-\\d{2}-\\d{2}  Second feature  \\(Test Author\\)$`));
    assert.match(host.lines[3] ?? '', new RegExp(`^  ${s(first)}  .*  First feature  `));
    assert.equal(
      host.lines[4],
      `warn: prod runs 1 commit that stg's ${s(second)} does not have: the promotion takes it out of prod.`,
    );
    assert.match(host.lines[5] ?? '', new RegExp(`^  ${s(hotfix)}  .*  Hotfix on prod  `));
    assert.equal(describeDiff(prod, second, diff), `${s(hotfix)} -> ${s(second)}: 2 commits to promote, 1 taken out`);
  });

  it('says when there is nothing to list, and why', async () => {
    const same = 'a'.repeat(40);
    const other = 'b'.repeat(40);
    const cases: Array<[Target, string | null, string, string, string]> = [
      [
        target({ id: 'p', version: 16, slug: { id: 's' } }, same),
        same,
        'prod (production) runs v16, commit aaaaaaaa; stg runs v12, commit aaaaaaaa.',
        'prod is already at aaaaaaaa, the same commit: it is left out of the promotion (no new release).',
        'already at aaaaaaaa',
      ],
      [
        target(null, null),
        same,
        'prod (production) runs no release; stg runs v12, commit aaaaaaaa.',
        'prod has never run code: the promotion gives it its first release of code.',
        'no code -> aaaaaaaa',
      ],
      [
        target({ id: 'p', version: 1, slug: null }, null),
        same,
        'prod (production) runs v1, no code yet; stg runs v12, commit aaaaaaaa.',
        'prod has never run code: the promotion gives it its first release of code.',
        'no code -> aaaaaaaa',
      ],
      [
        target({ id: 'p', version: 16, slug: { id: 's' } }, null),
        same,
        'prod (production) runs v16, commit (none recorded); stg runs v12, commit aaaaaaaa.',
        'Heroku records no commit for one of the two slugs: the commits in between cannot be listed.',
        'no code -> aaaaaaaa',
      ],
      [
        target({ id: 'p', version: 16, slug: { id: 's' } }, other),
        null,
        'prod (production) runs v16, commit bbbbbbbb; stg runs v12, commit (none recorded).',
        'Heroku records no commit for one of the two slugs: the commits in between cannot be listed.',
        'bbbbbbbb -> ?',
      ],
    ];
    for (const [prod, commit, runs, said, described] of cases) {
      const host = new FakeHost();
      const diff = await diffTarget(prod, {
        source: 'stg',
        sourceRelease,
        commit,
        workingDirectory: '/nonexistent',
        log: host.log,
      });
      assert.equal(diff, null);
      assert.deepEqual(host.lines, [runs, said]);
      assert.equal(describeDiff(prod, commit, diff), described);
    }
    const host = new FakeHost();
    const unavailable = await diffTarget(target({ id: 'p', version: 16, slug: { id: 's' } }, other), {
      source: 'stg',
      sourceRelease,
      commit: same,
      workingDirectory: '/nonexistent',
      log: host.log,
    });
    assert.equal(unavailable?.kind, 'unavailable');
    assert.match(
      host.lines[1] ?? '',
      /^The commits in between are not listed: \/nonexistent does not exist .* Promoting bbbbbbbb -> aaaaaaaa\.$/,
    );
    assert.equal(
      describeDiff(target({ id: 'p', version: 16, slug: { id: 's' } }, other), same, unavailable),
      'bbbbbbbb -> aaaaaaaa',
    );
  });

  it('lists at most 50 commits and counts the others, without a warning when nothing is taken out', async () => {
    const repo = await makeRepo({ files: { 'a.txt': '0' } });
    const base = await repo.head();
    // 52 commits on top of base, made by one git process (dated after base: git walks history by date).
    const now = Math.floor(Date.now() / 1000);
    const stream = Array.from(
      { length: 52 },
      (_, i) =>
        `commit refs/heads/main\ncommitter Test Author <author@example.com> ${now + i + 1} +0000\ndata <<END\nChange ${i + 1}\nEND\n${i === 0 ? `from ${base}\n` : ''}\n`,
    ).join('');
    await fs.writeFile(path.join(repo.dir, '.git', 'commits.stream'), stream);
    const imported = await runCommand('sh', ['-c', 'git fast-import --quiet < .git/commits.stream'], {
      cwd: repo.dir,
      env: gitEnv(),
    });
    assert.equal(imported.code, 0, imported.stderr);
    const head = await repo.git('rev-parse', 'refs/heads/main');
    const host = new FakeHost();
    const prod = target({ id: 'p16', version: 16, slug: { id: 'slug-16' } }, base, null);
    const diff = await diffTarget(prod, {
      source: 'stg',
      sourceRelease,
      commit: head,
      workingDirectory: repo.dir,
      log: host.log,
    });
    const s = (sha: string): string => sha.slice(0, 8);
    assert.equal(host.lines[0], `prod runs v16, commit ${s(base)}; stg runs v12, commit ${s(head)}.`);
    assert.equal(host.lines[1], `52 commits to promote to prod (${s(base)}..${s(head)}):`);
    assert.match(host.lines[2] ?? '', / {2}Change 52 {2}/);
    assert.match(host.lines[51] ?? '', / {2}Change 3 {2}/);
    assert.deepEqual(host.lines.slice(52), ['  ... and 2 more']);
    assert.equal(describeDiff(prod, head, diff), `${s(base)} -> ${s(head)}: 52 commits to promote`);
  });

  it('only warns, naming them, when the target runs commits the source does not have', async () => {
    const repo = await makeRepo({ files: { 'a.txt': '0' } });
    const base = await repo.head();
    await repo.commit('Hotfix one', { 'h.txt': '1' });
    const ahead = await repo.commit('Hotfix two', { 'h.txt': '2' });
    const host = new FakeHost();
    const prod = target({ id: 'p16', version: 16, slug: { id: 'slug-16' } }, ahead);
    const diff = await diffTarget(prod, {
      source: 'stg',
      sourceRelease,
      commit: base,
      workingDirectory: repo.dir,
      log: host.log,
    });
    const s = (sha: string): string => sha.slice(0, 8);
    assert.equal(host.lines.length, 4);
    assert.equal(
      host.lines[1],
      `warn: prod runs 2 commits that stg's ${s(base)} does not have: the promotion takes them out of prod.`,
    );
    assert.match(host.lines[2] ?? '', / {2}Hotfix two {2}/);
    assert.match(host.lines[3] ?? '', / {2}Hotfix one {2}/);
    assert.equal(describeDiff(prod, base, diff), `${s(ahead)} -> ${s(base)}: 0 commits to promote, 2 taken out`);
  });
});
