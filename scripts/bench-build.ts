// `npm run bench`, the Build API section: the first deploy of a depth-1 checkout of a repository with
// 10,000 commits (a few MB of history, about 1 MB of tree) to an empty app, `deployMethod: git`
// (fetches the history from origin, then pushes it all) against `deployMethod: build` (packs the tree
// and uploads it). Wall time of each, bytes sent to Heroku (the pack Heroku's repository received vs
// the tarball uploaded), bytes fetched from origin. Goal: build at least 5x faster, sending at most
// the gzipped tree. Also runs alone: `npx tsx scripts/bench-build.ts` (after `npm run build`).
// The repository is generated with one `git fast-import` (seconds), not 10,000 `git commit`s.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startEmulator, type Emulator } from '../test/emulator';
import { agentEnvironment, taskEntry } from '../test/support/agent';
import { runCommand, tempDir } from '../test/support/git';
import { startOriginServer, type OriginServer } from '../test/support/origin-server';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 10_000);
const FILES = 250;
const LINES = 64; // about 4 KB a file: 250 files, about 1 MB of tree
const TOKEN = 'bench-origin-token';

const FIXTURE = {
  'package.json': JSON.stringify({ name: 'bench-app', version: '1.0.0', scripts: { start: 'node server.js' } }, null, 2),
  Procfile: 'web: node server.js\n',
  'server.js': "require('node:http').createServer((q, r) => r.end('bench\\n')).listen(Number(process.env.PORT || 5000));\n",
};

/** Deterministic text that compresses like source code does (words, not noise). */
function lineOf(seed: number): string {
  const words = ['const', 'value', 'return', 'import', 'export', 'function', 'await', 'deploy', 'heroku', 'release', 'build'];
  let x = (seed * 2654435761) >>> 0;
  const out: string[] = [];
  for (let i = 0; i < 9; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(`${words[x % words.length]}${x % 97}`);
  }
  return out.join(' ');
}

/** A bare repository with COMMITS commits, written by one `git fast-import`. */
async function generateRepository(bare: string): Promise<void> {
  const init = await runCommand('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  if (init.code !== 0) throw new Error(`git init failed: ${init.stderr}`);
  const files = Array.from({ length: FILES }, (_, f) => Array.from({ length: LINES }, (_, l) => lineOf(f * LINES + l)));
  const child = spawn('git', ['fast-import', '--quiet'], { cwd: bare, stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  // Written in batches of about 1 MB: one small write per commit would cost more than the import.
  let batch = '';
  const flush = async (): Promise<void> => {
    if (!child.stdin.write(batch)) await new Promise((resolve) => child.stdin.once('drain', resolve));
    batch = '';
  };
  const write = async (text: string): Promise<void> => {
    batch += text;
    if (batch.length > 1024 * 1024) await flush();
  };
  const inline = (name: string, content: string): string =>
    `M 100644 inline ${name}\ndata ${Buffer.byteLength(content)}\n${content}\n`;
  const start = 1_700_000_000;
  for (let i = 1; i <= COMMITS; i++) {
    const message = `Change ${i}`;
    let changes = '';
    if (i === 1) {
      for (const [name, content] of Object.entries(FIXTURE)) changes += inline(name, content);
      files.forEach((lines, f) => (changes += inline(`src/module-${f}.txt`, `${lines.join('\n')}\n`)));
    } else {
      // Runs of commits on one file, as real history has: fast-import deltas each blob against the last.
      const f = Math.floor(i / 40) % FILES;
      const lines = files[f]!;
      lines[i % LINES] = `${lineOf(i * 7919)} // change ${i}`;
      changes = inline(`src/module-${f}.txt`, `${lines.join('\n')}\n`);
    }
    await write(
      `commit refs/heads/main\ncommitter Bench <bench@example.com> ${start + i * 60} +0000\ndata ${Buffer.byteLength(message)}\n${message}\n${changes}\n`,
    );
  }
  await flush();
  child.stdin.end();
  if ((await done) !== 0) throw new Error(`git fast-import failed: ${stderr}`);
}

/** Bytes of a repository's object store (packs and loose objects). */
async function objectBytes(gitDir: string): Promise<number> {
  const result = await runCommand('git', ['count-objects', '-v'], { cwd: gitDir });
  const kb = (name: string): number => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(result.stdout)?.[1] ?? 0);
  return (kb('size') + kb('size-pack')) * 1024;
}

async function shallowClone(origin: OriginServer): Promise<string> {
  const dir = path.join(await tempDir('bench-checkout-'), 's');
  const env = {
    ...process.env,
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${origin.url}.extraHeader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: bearer ${TOKEN}`,
  };
  const cloned = await runCommand('git', ['clone', '--quiet', '--depth', '1', origin.url, dir], { env });
  if (cloned.code !== 0) throw new Error(`the depth-1 clone failed: ${cloned.stderr}`);
  await runCommand('git', ['checkout', '--quiet', '--detach'], { cwd: dir });
  return dir;
}

/** Runs the built task as the agent does; its wall time in ms, or throws with its log's end. */
async function runTask(env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const started = process.hrtime.bigint();
  const [code, out] = await new Promise<[number | null, string]>((resolve) => {
    const child = spawn(process.execPath, [taskEntry('HerokuDeployV1')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.resume();
    child.on('close', (exitCode) => resolve([exitCode, stdout]));
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  const complete = /##vso\[task\.complete result=(\w+)/.exec(out)?.[1];
  if (code !== 0 || (complete && complete !== 'Succeeded'))
    throw new Error(`the task failed:\n${out.split('\n').slice(-15).join('\n')}`);
  return elapsed;
}

interface Run {
  ms: number;
  sentBytes: number;
  fetchedBytes: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`;

/** The section: prints its figures (never asserts them). */
export async function benchBuildApi(heroku: Emulator, runs = Number(process.env.BENCH_RUNS ?? 3)): Promise<void> {
  const scratch = await tempDir('bench-build-');
  const bare = path.join(scratch, 'app.git');
  const generatedIn = process.hrtime.bigint();
  await generateRepository(bare);
  const generatedMs = Number(process.hrtime.bigint() - generatedIn) / 1e6;
  const historyBytes = await objectBytes(bare);
  const gzTree = (await runCommand('sh', ['-c', 'git archive --format=tar.gz main | wc -c'], { cwd: bare })).stdout.trim();
  const origin = await startOriginServer(bare, [TOKEN]);
  const results: Record<'git' | 'build', Run[]> = { git: [], build: [] };
  try {
    for (let i = 0; i < runs; i++) {
      for (const method of i % 2 ? (['build', 'git'] as const) : (['git', 'build'] as const)) {
        const app = await heroku.createApp(`bench-${method}-${i}-${Date.now() % 100000}`);
        const checkout = await shallowClone(origin);
        const before = await objectBytes(path.join(checkout, '.git'));
        const storageBefore = heroku.state.storageRequests.length;
        const env = agentEnvironment(
          {
            cwd: checkout,
            inputs: { appName: app.name, apiKey: heroku.apiKey, ...(method === 'build' ? { deployMethod: 'build' } : {}) },
            variables: {
              HEROKU_API_URL: heroku.apiUrl,
              HEROKU_GIT_URL: heroku.gitUrl,
              'Build.Repository.Provider': 'TfsGit',
              'Build.Repository.Uri': origin.url,
            },
            systemAccessToken: TOKEN,
          },
          await tempDir('bench-agent-'),
        );
        const ms = await runTask(env, checkout);
        const fetchedBytes = (await objectBytes(path.join(checkout, '.git'))) - before;
        const sentBytes =
          method === 'git'
            ? await objectBytes(app.repoDir)
            : heroku.state.storageRequests
                .slice(storageBefore)
                .filter((r) => r.method === 'PUT')
                .reduce((sum, r) => sum + Number(r.headers['content-length'] ?? 0), 0);
        results[method].push({ ms, sentBytes, fetchedBytes });
      }
    }
  } finally {
    await origin.close();
    await fs.rm(scratch, { recursive: true, force: true });
  }
  const git = median(results.git.map((r) => r.ms));
  const build = median(results.build.map((r) => r.ms));
  console.log(
    `\n  Build API: first deploy of a depth-1 checkout, ${COMMITS} commits (history ${kb(historyBytes)}, gzipped tree ${kb(Number(gzTree))}; generated in ${(generatedMs / 1000).toFixed(1)} s), ${runs} runs each, medians`,
  );
  for (const [method, list] of Object.entries(results)) {
    console.log(
      `    ${method.padEnd(5)} ${(median(list.map((r) => r.ms)) / 1000).toFixed(2)} s, sent to Heroku ${kb(median(list.map((r) => r.sentBytes)))}, fetched from origin ${kb(median(list.map((r) => r.fetchedBytes)))}   (runs: ${list.map((r) => (r.ms / 1000).toFixed(2)).join(', ')} s)`,
    );
  }
  const sent = median(results.build.map((r) => r.sentBytes));
  console.log(
    `    build is ${(git / build).toFixed(1)}x faster (goal >= 5x); sends ${kb(sent)} vs the gzipped tree ${kb(Number(gzTree))} (goal: at most that)`,
  );
}

if (require.main === module) {
  void (async () => {
    const heroku = await startEmulator({ rateLimitBudget: 100_000 });
    try {
      await benchBuildApi(heroku);
    } finally {
      await heroku.stop();
    }
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
