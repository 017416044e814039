// The tarball a Build API deploy uploads: the folder's contents at the root, modes and symlinks
// kept, the SHA-256 of exactly the bytes written, untracked files only from disk, a size cap that
// stops the packer.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TaskError } from '../../tasks/common/core/base/errors';
import { checkAppDirectory, packSource } from '../../tasks/common/core/deploy/source-package';
import { makeRepo, runCommand, tempDir, type Repo } from '../support/git';

async function listing(file: string): Promise<string[]> {
  const result = await runCommand('tar', ['-tvzf', file]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => {
      const parts = line.trim().split(/\s+/);
      return `${parts[0]} ${parts.slice(5).join(' ')}`;
    })
    .sort();
}

describe('source package (deployMethod: build)', function () {
  this.timeout(30_000);
  let repo: Repo;
  let sha: string;
  before(async () => {
    repo = await makeRepo({ files: { 'README.md': 'root\n', 'svc/package.json': '{}\n', 'svc/lib/a.txt': 'a\n' } });
    await fs.writeFile(path.join(repo.dir, 'svc/run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    await fs.symlink('lib/a.txt', path.join(repo.dir, 'svc/link.txt'));
    sha = await repo.commit('Executable and symlink');
    await fs.writeFile(path.join(repo.dir, 'svc/untracked.txt'), 'local only\n');
  });

  const pack = async (packageFrom: 'commit' | 'directory', maxBytes?: number) => {
    const file = path.join(await tempDir('pack-'), 'source.tar.gz');
    const packed = await packSource({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom }, file, maxBytes);
    return { file, packed };
  };

  it('packs the commit: the folder at the root, the exec bit and the symlink kept, untracked files left out', async () => {
    const { file, packed } = await pack('commit');
    const entries = (await listing(file)).filter((e) => !e.startsWith('d'));
    assert.deepEqual(entries, [
      '-rw-rw-r-- lib/a.txt',
      '-rw-rw-r-- package.json',
      '-rwxrwxr-x run.sh',
      'lrwxrwxrwx link.txt -> lib/a.txt',
    ]);
    const bytes = await fs.readFile(file);
    assert.equal(packed.bytes, bytes.length);
    assert.equal(packed.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(packed.files, 4);
  });

  it('packs the directory as it is on disk, untracked files included, .git left out', async () => {
    await fs.mkdir(path.join(repo.dir, 'svc/vendor/.git'), { recursive: true });
    await fs.writeFile(path.join(repo.dir, 'svc/vendor/.git/HEAD'), 'ref: refs/heads/main\n');
    await fs.writeFile(path.join(repo.dir, 'svc/.git'), 'gitdir: ../.git/modules/svc\n');
    await fs.writeFile(path.join(repo.dir, 'svc/.gitmodules'), '[submodule "vendor"]\n');
    const { file, packed } = await pack('directory');
    const names = (await listing(file)).map((e) => e.split(' ')[1]);
    assert.ok(names.includes('./untracked.txt'), names.join(', '));
    assert.ok(names.includes('./run.sh'));
    assert.ok(!names.some((n) => n?.includes('.git')), 'neither .git nor .gitmodules');
    assert.equal(packed.files, 5);
    assert.equal(
      packed.sha256,
      createHash('sha256')
        .update(await fs.readFile(file))
        .digest('hex'),
    );
  });

  it('stops the packer past the size cap, saying so', async () => {
    await assert.rejects(
      pack('directory', 64),
      (error: unknown) => error instanceof TaskError && /packs to more than 0 MB: too big/.test(error.message),
    );
  });

  it('packs a source of exactly the cap, and stops the packer at once past it (the file is cut there)', async () => {
    const { packed } = await pack('commit');
    // The same commit packs to the same bytes: exactly the cap is allowed.
    const again = await pack('commit', packed.bytes);
    assert.equal(again.packed.sha256, packed.sha256);

    const big = await makeRepo({ files: { 'app/package.json': '{}\n' } });
    await fs.writeFile(path.join(big.dir, 'app/blob.bin'), randomBytes(2 * 1024 * 1024));
    const file = path.join(await tempDir('pack-'), 'source.tar.gz');
    await assert.rejects(
      packSource({ cwd: big.dir, sha: await big.head(), appDirectory: 'app', packageFrom: 'directory' }, file, 64 * 1024),
      (error: unknown) => error instanceof TaskError && /app packs to more than 0 MB: too big/.test(error.message),
    );
    const written = (await fs.stat(file)).size;
    assert.ok(written <= 64 * 1024, `the packer was stopped at the cap, but ${written} bytes were written`);
  });

  it('refuses a folder missing from the commit, naming the commit; warns about one Heroku cannot detect', async () => {
    await assert.rejects(
      checkAppDirectory({ cwd: repo.dir, sha, appDirectory: 'nope', packageFrom: 'commit' }),
      (error: unknown) =>
        error instanceof TaskError &&
        error.message.startsWith(`appDirectory nope does not exist in commit ${sha.slice(0, 8)} (packageFrom: commit`),
    );
    assert.deepEqual(await checkAppDirectory({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom: 'commit' }), {
      warning: null,
    });
    const { warning } = await checkAppDirectory({ cwd: repo.dir, sha, appDirectory: 'svc/lib', packageFrom: 'commit' });
    assert.ok(
      warning?.startsWith("appDirectory svc/lib has no Procfile and none of the files Heroku's buildpacks detect"),
      String(warning),
    );
  });

  it('refuses a folder that is a symlink in the commit', async () => {
    await assert.rejects(
      checkAppDirectory({ cwd: repo.dir, sha, appDirectory: 'svc/link.txt', packageFrom: 'commit' }),
      /appDirectory svc\/link\.txt is not a folder in commit/,
    );
  });
});
