// git push and ls-remote against a bare repository standing in for the app's on Heroku (file://),
// with a pre-receive hook that talks like Heroku's build: what the push reports, line by line.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DIRECT } from '../../tasks/common/core/base/network';
import { herokuHeads, herokuReasonLines, pushToHeroku, type PushRequest } from '../../tasks/common/core/git/push';
import { gitEnv, makeRepo, runCommand, tempDir, type Repo } from '../support/git';

const ESC = String.fromCharCode(27);

/** A bare `my-app.git` whose pre-receive hook prints a build, and fails it when `fail` is set. */
async function herokuRepo(options: { fail?: boolean } = {}): Promise<string> {
  const bare = path.join(await tempDir('heroku-git-'), 'my-app.git');
  const made = await runCommand('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], { env: gitEnv() });
  assert.equal(made.code, 0, made.stderr);
  const build = ['echo "-----> Building on the Heroku-24 stack"'];
  if (options.fail) build.push('echo " !     Push rejected, failed to compile Node.js app."', 'exit 1');
  await fs.writeFile(path.join(bare, 'hooks', 'pre-receive'), `#!/bin/sh\n${build.join('\n')}\n`, { mode: 0o755 });
  return `file://${bare}`;
}

describe('pushing to Heroku git', function () {
  before(function () {
    if (process.platform === 'win32') this.skip(); // the stand-in's hook is a shell script
  });

  let repo: Repo;
  beforeEach(async () => {
    repo = await makeRepo({ files: { 'a.txt': 'a' } });
  });

  const push = (repoUrl: string, sha: string, more: Partial<PushRequest> = {}) =>
    pushToHeroku({ cwd: repo.dir, sha, repoUrl, apiKey: 'KEY', force: false, network: DIRECT, onLine: () => undefined, ...more });
  const heads = (repoUrl: string) => herokuHeads({ cwd: repo.dir, repoUrl, apiKey: 'KEY', network: DIRECT });

  it("pushes the commit to main and hands over Heroku's lines as they come, without git's padding", async () => {
    const url = await herokuRepo();
    assert.deepEqual(await heads(url), { head: null, outcome: null }, 'an app never pushed to');
    const sha = await repo.head();
    const lines: string[] = [];
    const outcome = await push(url, sha, { onLine: (line) => lines.push(line) });
    assert.deepEqual([outcome.status, outcome.flag, outcome.summary, outcome.exitCode], ['pushed', '*', '[new branch]', 0]);
    assert.deepEqual(outcome.remote, ['-----> Building on the Heroku-24 stack']);
    assert.ok(lines.includes('remote: -----> Building on the Heroku-24 stack'), lines.join('\n'));
    assert.ok(
      lines.every((line) => line !== '' && line === line.trimEnd()),
      'no empty or padded lines',
    );
    assert.deepEqual(await heads(url), { head: sha, outcome: null });
  });

  it('is refused for diverged histories unless forced', async () => {
    const url = await herokuRepo();
    const first = await repo.head();
    const deployed = await repo.commit('Deployed from elsewhere', { 'b.txt': 'b' });
    assert.equal((await push(url, deployed)).status, 'pushed');
    await repo.git('reset', '--quiet', '--hard', first);
    const rewritten = await repo.commit('Rewritten', { 'c.txt': 'c' });

    const refused = await push(url, rewritten);
    assert.deepEqual([refused.status, refused.reason], ['rejected', 'non-fast-forward']);
    assert.deepEqual((await heads(url)).head, deployed, 'Heroku kept its commit');

    const forced = await push(url, rewritten, { force: true });
    assert.deepEqual([forced.status, forced.flag, forced.reason], ['pushed', '+', 'forced update']);
    assert.deepEqual((await heads(url)).head, rewritten);
  });

  it("reads Heroku's refusal of a failed build", async () => {
    const url = await herokuRepo({ fail: true });
    const outcome = await push(url, await repo.head());
    assert.deepEqual([outcome.status, outcome.reason], ['rejected', 'pre-receive hook declined']);
    assert.deepEqual(herokuReasonLines(outcome), ['Push rejected, failed to compile Node.js app.']);
    assert.deepEqual(await heads(url), { head: null, outcome: null }, 'nothing was pushed');
  });

  it("takes main as Heroku's head, master when it has only that, and says why it could not ask", async () => {
    const url = await herokuRepo();
    const master = await repo.head();
    await push(url, master);
    const bare = new URL(url).pathname;
    await runCommand('git', ['--git-dir', bare, 'branch', '-m', 'main', 'master'], { env: gitEnv() });
    assert.deepEqual(await heads(url), { head: master, outcome: null });

    const main = await repo.commit('Second', { 'b.txt': 'b' });
    await push(url, main);
    assert.deepEqual(await heads(url), { head: main, outcome: null });

    const missing = await heads(`file://${path.join(await tempDir('no-app-'), 'none.git')}`);
    assert.equal(missing.head, null);
    assert.equal(missing.outcome?.status, 'failed');
    assert.match(missing.outcome?.local.join('\n') ?? '', /does not appear to be a git repository/);
  });
});

/**
 * A `git` first on PATH that records its arguments, its GIT_CONFIG_* environment and its process
 * group, then prints `stdout` and `stderr` and exits with `code`.
 */
async function recordingGit(output: { stdout?: string; stderr?: string; code?: number }) {
  const bin = await tempDir('recording-git-');
  await fs.writeFile(path.join(bin, 'stdout'), output.stdout ?? '');
  await fs.writeFile(path.join(bin, 'stderr'), output.stderr ?? '');
  const script = [
    '#!/bin/sh',
    'dir=$(dirname "$0")',
    'printf "%s\\n" "$@" > "$dir/args"',
    'env | grep "^GIT_CONFIG_" > "$dir/config"',
    'echo $$ > "$dir/pid"',
    'cut -d" " -f5 /proc/$$/stat > "$dir/pgid"',
    'cat "$dir/stdout"',
    'cat "$dir/stderr" >&2',
    `exit ${output.code ?? 0}`,
  ];
  await fs.writeFile(path.join(bin, 'git'), `${script.join('\n')}\n`, { mode: 0o755 });
  const read = (name: string) => fs.readFile(path.join(bin, name), 'utf8');
  return {
    bin,
    args: async () => (await read('args')).trimEnd().split('\n'),
    /** The run's configuration, as [key, value] pairs in order. */
    config: async () => {
      const env = new Map(
        (await read('config'))
          .trimEnd()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const count = Number(env.get('GIT_CONFIG_COUNT'));
      return Array.from({ length: count }, (_, i) => [env.get(`GIT_CONFIG_KEY_${i}`), env.get(`GIT_CONFIG_VALUE_${i}`)]);
    },
    /** Whether git ran as the leader of its own process group. */
    ownGroup: async () => (await read('pid')).trim() === (await read('pgid')).trim(),
  };
}

describe("what git is asked to do for Heroku's repository", function () {
  before(function () {
    if (process.platform !== 'linux') this.skip(); // the recording git reads /proc
  });

  const url = 'https://git.heroku.com/my-app.git';
  const sha = 'c'.repeat(40);
  const auth = `Authorization: Basic ${Buffer.from('heroku:KEY').toString('base64')}`;
  let savedPath: string | undefined;
  beforeEach(() => (savedPath = process.env.PATH));
  afterEach(() => (process.env.PATH = savedPath));

  it('pushes the commit to refs/heads/main with the key, no redirects, the silence limit, in its own process group', async () => {
    const git = await recordingGit({
      stdout: `To ${url}\n*\t${sha}:refs/heads/main\t[new branch]\nDone\n`,
      stderr: `remote: -----> Building   ${ESC}[K\n\n   ${ESC}[K\nremote: Released v3\n`,
    });
    process.env.PATH = `${git.bin}${path.delimiter}${savedPath ?? ''}`;
    const lines: string[] = [];
    const cwd = await tempDir('push-cwd-');
    const outcome = await pushToHeroku({
      cwd,
      sha,
      repoUrl: url,
      apiKey: 'KEY',
      force: false,
      network: DIRECT,
      onLine: (l) => lines.push(l),
    });
    assert.deepEqual(await git.args(), ['push', '--porcelain', '--no-verify', url, `${sha}:refs/heads/main`]);
    const config = await git.config();
    for (const entry of [
      [`http.${url}.extraHeader`, auth],
      ['http.followRedirects', 'false'],
      ['http.lowSpeedLimit', '1'],
      ['http.lowSpeedTime', '300'],
    ])
      assert.ok(
        config.some(([k, v]) => k === entry[0] && v === entry[1]),
        `${entry[0]} in ${JSON.stringify(config)}`,
      );
    assert.equal(await git.ownGroup(), true, 'a cancel stops the helpers holding the connection');
    assert.deepEqual(lines, ['remote: -----> Building', 'remote: Released v3'], 'no blank or padded lines reach the log');
    assert.deepEqual([outcome.status, outcome.releasedVersion], ['pushed', 3]);

    await pushToHeroku({ cwd, sha, repoUrl: url, apiKey: 'KEY', force: true, network: DIRECT, onLine: () => undefined });
    assert.deepEqual(await git.args(), ['push', '--porcelain', '--no-verify', '--force', url, `${sha}:refs/heads/main`]);
  });

  it("asks for Heroku's heads with the key and the silence limit, in its own process group", async () => {
    const git = await recordingGit({ stdout: `${sha}\trefs/heads/main\n` });
    process.env.PATH = `${git.bin}${path.delimiter}${savedPath ?? ''}`;
    const heads = await herokuHeads({ cwd: await tempDir('heads-cwd-'), repoUrl: url, apiKey: 'KEY', network: DIRECT });
    assert.deepEqual(heads, { head: sha, outcome: null });
    assert.deepEqual(await git.args(), ['ls-remote', url, 'refs/heads/main', 'refs/heads/master']);
    const config = await git.config();
    for (const entry of [
      [`http.${url}.extraHeader`, auth],
      ['http.followRedirects', 'false'],
      ['http.lowSpeedLimit', '1'],
      ['http.lowSpeedTime', '300'],
    ])
      assert.ok(
        config.some(([k, v]) => k === entry[0] && v === entry[1]),
        `${entry[0]} in ${JSON.stringify(config)}`,
      );
    assert.equal(await git.ownGroup(), true);
  });
});
