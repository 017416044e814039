// The tarball a Build API deploy uploads: the folder's contents at the root, modes and symlinks
// kept, the SHA-256 of exactly the bytes written, untracked files only from disk, a size cap that
// stops the packer.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { deflateSync } from 'node:zlib';
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
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600, 'the tarball is readable by the agent user only');
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
    assert.ok(names.includes('./run.sh'), "names.includes('./run.sh')");
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
    // The same folder on disk packs to the same bytes (git archive of a tree stamps each file with the
    // time of packing, so two packs of the commit may differ): exactly the cap is allowed.
    const { packed } = await pack('directory');
    const again = await pack('directory', packed.bytes);
    assert.equal(again.packed.sha256, packed.sha256, 'the same bytes, packed within the cap');

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

  it('says a failed write of the tarball is a write failure, not a cancel, and names the file', async () => {
    const file = path.join(await tempDir('pack-'), 'missing-folder', 'source.tar.gz');
    for (const packageFrom of ['commit', 'directory'] as const) {
      await assert.rejects(
        packSource({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom }, file),
        (error: unknown) =>
          error instanceof TaskError &&
          error.kind === 'unexpected' &&
          error.message.startsWith(`Writing the tarball of appDirectory svc to ${file} failed: `) &&
          /ENOENT/.test(error.message),
      );
    }
  });

  it('reports a cancel as a cancel', async () => {
    const file = path.join(await tempDir('pack-'), 'source.tar.gz');
    const signal = AbortSignal.abort();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('packSource hung after a cancel (still waiting for the tarball)')), 5000);
    });
    await assert.rejects(
      Promise.race([
        packSource({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom: 'directory', signal }, file),
        hung,
      ]).finally(() => clearTimeout(timer)),
      (error: unknown) =>
        error instanceof TaskError &&
        error.kind === 'cancelled' &&
        error.message === 'The task was cancelled while packing appDirectory svc.',
    );
  });

  it("quotes the packer's last lines when it fails", async () => {
    const file = path.join(await tempDir('pack-'), 'source.tar.gz');
    const missing = 'f'.repeat(40);
    await assert.rejects(
      packSource({ cwd: repo.dir, sha: missing, appDirectory: 'svc', packageFrom: 'commit' }, file),
      (error: unknown) =>
        error instanceof TaskError &&
        error.kind === 'git' &&
        /^Packing appDirectory svc failed: git exited 128: fatal: [^/]*\.$/.test(error.message) &&
        error.message.includes(`${missing}:svc`),
    );
  });

  it('finds the folder from a workingDirectory below the repository top, and packs hidden or dotted folder names', async () => {
    const nested = await makeRepo({
      files: {
        'apps/web/package.json': '{}\n',
        'apps/web/lib/index.js': '1\n',
        'apps/.hidden/Procfile': 'web: x\n',
        'apps/v2./Gemfile': '\n',
      },
    });
    const head = await nested.head();
    const cwd = path.join(nested.dir, 'apps');
    const packedNames = async (appDirectory: string): Promise<string[]> => {
      const file = path.join(await tempDir('pack-'), 'source.tar.gz');
      const packed = await packSource({ cwd, sha: head, appDirectory, packageFrom: 'commit' }, file);
      const names = (await listing(file)).filter((e) => !e.startsWith('d')).map((e) => e.split(' ')[1] ?? '');
      assert.equal(packed.files, names.length);
      return names;
    };
    assert.deepEqual(await packedNames('web'), ['lib/index.js', 'package.json']);
    assert.deepEqual(await packedNames('.hidden'), ['Procfile']);
    assert.deepEqual(await packedNames('v2.'), ['Gemfile']);
    // workingDirectory itself: its tree in the commit, not the repository's.
    assert.deepEqual(await packedNames(''), ['.hidden/Procfile', 'v2./Gemfile', 'web/lib/index.js', 'web/package.json']);
    assert.deepEqual(await checkAppDirectory({ cwd, sha: head, appDirectory: 'web', packageFrom: 'commit' }), {
      warning: null,
    });
    const { warning } = await checkAppDirectory({ cwd, sha: head, appDirectory: '', packageFrom: 'commit' });
    assert.ok(warning?.startsWith('the checkout root has no Procfile'), String(warning));
  });

  it('refuses a file given as the folder, naming the commit', async () => {
    await assert.rejects(
      checkAppDirectory({ cwd: repo.dir, sha, appDirectory: 'README.md', packageFrom: 'commit' }),
      (error: unknown) =>
        error instanceof TaskError &&
        error.message ===
          `appDirectory README.md is not a folder in commit ${sha.slice(0, 8)} (a file or a symbolic link): give the folder that holds the app.`,
    );
  });

  it('detects an app by any of the files a buildpack looks for, a .csproj included', async () => {
    for (const name of ['Procfile', 'requirements.txt', 'go.mod', 'Api.csproj', 'global.json']) {
      const detected = await makeRepo({ files: { [`app/${name}`]: '\n', 'app/notes.txt': '\n' } });
      for (const packageFrom of ['commit', 'directory'] as const) {
        const checked = await checkAppDirectory({
          cwd: detected.dir,
          sha: await detected.head(),
          appDirectory: 'app',
          packageFrom,
        });
        assert.deepEqual(checked, { warning: null }, `${name} (${packageFrom})`);
      }
    }
    const plain = await makeRepo({ files: { 'app/notes.txt': '\n', 'app/csproj.md': '\n' } });
    for (const packageFrom of ['commit', 'directory'] as const) {
      const { warning } = await checkAppDirectory({ cwd: plain.dir, sha: await plain.head(), appDirectory: 'app', packageFrom });
      assert.ok(warning?.startsWith('appDirectory app has no Procfile and none of the files'), `${packageFrom}: ${warning}`);
    }
  });

  it('checks a folder on disk: missing, a file, or a symbolic link out of the checkout are refused', async () => {
    const disk = await makeRepo({ files: { 'app/package.json': '{}\n', 'notes.txt': '\n' } });
    const outside = await tempDir('outside-');
    await fs.symlink(outside, path.join(disk.dir, 'escape'));
    await fs.symlink('app', path.join(disk.dir, 'inside'));
    const realOutside = await fs.realpath(outside);
    const check = (appDirectory: string) =>
      checkAppDirectory({ cwd: disk.dir, sha: 'unused', appDirectory, packageFrom: 'directory' });
    await assert.rejects(
      check('build/out'),
      (error: unknown) =>
        error instanceof TaskError &&
        error.kind === 'input' &&
        error.message.startsWith(`appDirectory build/out does not exist on disk in ${disk.dir}. Check the path`),
    );
    await assert.rejects(
      check('notes.txt'),
      (error: unknown) =>
        error instanceof TaskError &&
        error.message === 'appDirectory notes.txt is a file, not a folder: give the folder that holds the app.',
    );
    await assert.rejects(
      check('escape'),
      (error: unknown) =>
        error instanceof TaskError &&
        error.message.startsWith(
          `appDirectory escape leads outside the checkout (a symbolic link to ${realOutside}): only folders`,
        ),
    );
    // A link to a folder inside the checkout is that folder.
    assert.deepEqual(await check('inside'), { warning: null });
    // From a workingDirectory below the top, a link up to the top is still inside.
    await fs.symlink('..', path.join(disk.dir, 'app', 'up'));
    const { warning } = await checkAppDirectory({
      cwd: path.join(disk.dir, 'app'),
      sha: 'unused',
      appDirectory: 'up',
      packageFrom: 'directory',
    });
    assert.ok(warning?.startsWith('appDirectory up has no Procfile'), 'checked as the top folder, not refused');
  });

  it('packs the checkout root and a dotted folder from the repository top', async () => {
    const top = await makeRepo({ files: { Procfile: 'web: x\n', '.app/package.json': '{}\n' } });
    const head = await top.head();
    const names = async (appDirectory: string): Promise<string[]> => {
      const file = path.join(await tempDir('pack-'), 'source.tar.gz');
      await packSource({ cwd: top.dir, sha: head, appDirectory, packageFrom: 'commit' }, file);
      return (await listing(file)).filter((e) => !e.startsWith('d')).map((e) => e.split(' ')[1] ?? '');
    };
    assert.deepEqual(await names(''), ['.app/package.json', 'Procfile'], 'the root tree of the commit');
    assert.deepEqual(await names('.app'), ['package.json'], 'the dotted folder, its dot kept');
    assert.deepEqual(await checkAppDirectory({ cwd: top.dir, sha: head, appDirectory: '', packageFrom: 'commit' }), {
      warning: null,
    });
  });

  it('names the step when the folder is not in a git checkout', async () => {
    const cwd = await tempDir('no-repo-');
    for (const packageFrom of ['commit', 'directory'] as const) {
      await assert.rejects(
        checkAppDirectory({ cwd, sha, appDirectory: '', packageFrom }),
        (error: unknown) =>
          error instanceof TaskError &&
          error.kind === 'git' &&
          error.message.startsWith('Finding the checkout failed: git rev-parse exited 128: fatal: not a git repository'),
        packageFrom,
      );
    }
  });

  it('names the step when the folder cannot be listed in the commit (a corrupt tree)', async () => {
    const corrupt = await makeRepo({ files: { 'app/package.json': '{}\n' } });
    const tree = (await corrupt.git('rev-parse', 'HEAD:app')).trim();
    const object = path.join(corrupt.dir, '.git', 'objects', tree.slice(0, 2), tree.slice(2));
    await fs.chmod(object, 0o644);
    // A tree by its header (git cat-file -t reads only that), but its entries cannot be read.
    await fs.writeFile(object, deflateSync(Buffer.from('tree 5\0garb', 'latin1')));
    await assert.rejects(
      checkAppDirectory({ cwd: corrupt.dir, sha: await corrupt.head(), appDirectory: 'app', packageFrom: 'commit' }),
      (error: unknown) =>
        error instanceof TaskError &&
        error.kind === 'git' &&
        error.message.startsWith('Listing appDirectory failed: git ls-tree exited 128: '),
    );
  });

  it('packs nothing when the task is already cancelled', async () => {
    const file = path.join(await tempDir('pack-'), 'source.tar.gz');
    for (const packageFrom of ['commit', 'directory'] as const) {
      await assert.rejects(
        packSource({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom, signal: AbortSignal.abort() }, file),
        (error: unknown) => error instanceof TaskError && error.kind === 'cancelled',
      );
      const size = await fs.stat(file).then(
        (stat) => stat.size,
        () => 0,
      );
      assert.equal(size, 0, `the packer never ran (${packageFrom})`);
    }
  });

  describe('with a stand-in packer on the PATH', () => {
    let savedPath: string | undefined;
    let realGit = '';
    before(async () => {
      realGit = (await runCommand('sh', ['-c', 'command -v git'])).stdout.trim();
      assert.ok(realGit, 'git is installed');
    });
    beforeEach(function () {
      if (process.platform === 'win32') this.skip(); // the stand-ins are shell scripts
      savedPath = process.env.PATH;
    });
    afterEach(() => {
      process.env.PATH = savedPath;
    });
    /** Puts the `scripts` first on the PATH (only them and git when `alone`). */
    const stand = async (scripts: Record<string, string>, alone = false): Promise<void> => {
      const bin = await tempDir('bin-');
      for (const [name, body] of Object.entries(scripts))
        await fs.writeFile(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      if (alone) await fs.symlink(realGit, path.join(bin, 'git'));
      process.env.PATH = alone ? bin : `${bin}${path.delimiter}${savedPath ?? ''}`;
    };
    const packDirectory = async () =>
      packSource(
        { cwd: repo.dir, sha, appDirectory: 'svc', packageFrom: 'directory' },
        path.join(await tempDir('pack-'), 'source.tar.gz'),
      );
    const failsWith = (message: string | RegExp) => (error: unknown) =>
      error instanceof TaskError &&
      error.kind === 'git' &&
      (typeof message === 'string' ? error.message === message : message.test(error.message));

    it('quotes the last three lines a failed packer said, and only says the exit code when it said nothing', async () => {
      await stand({ tar: "printf 'one\\ntwo\\nthree\\nfour\\n' >&2; exit 2" });
      await assert.rejects(packDirectory(), failsWith('Packing appDirectory svc failed: tar exited 2: two / three / four.'));
      await stand({ tar: 'exit 3' });
      await assert.rejects(packDirectory(), failsWith('Packing appDirectory svc failed: tar exited 3.'));
    });

    it("keeps only the end of a packer's endless error output", async () => {
      await stand({ tar: "head -c 200000 /dev/zero | tr '\\0' x >&2; echo >&2; echo last words >&2; exit 2" });
      await assert.rejects(packDirectory(), (error: unknown) => {
        assert.ok(error instanceof TaskError, String(error));
        assert.ok(error.message.endsWith('x / last words.'), error.message.slice(-40));
        assert.ok(error.message.length < 70_000, `the message is ${error.message.length} characters`);
        return true;
      });
    });

    it('stops a packer that runs past its time, saying so', async () => {
      await stand({ tar: 'exec sleep 30' });
      const file = path.join(await tempDir('pack-'), 'source.tar.gz');
      await assert.rejects(
        packSource({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom: 'directory' }, file, undefined, 200),
        failsWith('Packing appDirectory svc took more than 1s and was stopped: is the folder that large?'),
      );
    });

    it('says the packer must be installed when it cannot be run', async () => {
      await stand({}, true);
      await assert.rejects(
        packDirectory(),
        failsWith(/^Could not run tar to pack appDirectory svc: .*ENOENT.*\. Install tar on the agent\.$/),
      );
    });

    it('counts no files when git cannot list the packed commit', async () => {
      await stand({ git: `if [ "$1" = ls-tree ] && [ "$2" = -r ]; then echo a; echo b; exit 1; fi\nexec ${realGit} "$@"` });
      const file = path.join(await tempDir('pack-'), 'source.tar.gz');
      const packed = await packSource({ cwd: repo.dir, sha, appDirectory: 'svc', packageFrom: 'commit' }, file);
      assert.equal(packed.files, 0, 'a partial listing is not counted');
      assert.ok(packed.bytes > 0, 'the commit itself was packed');
    });
  });
});
