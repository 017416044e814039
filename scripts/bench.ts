// `npm run bench`: what HerokuDeploy@1 costs on top of a plain `git push`, measured side by side.
//   npm run bench                          this work tree
//   npm run bench -- --baseline <rev>      and, alternating with it, the task as built from a git revision
// - deploy wall time: the built task vs a raw `git push` of the same kind of incremental commit to
//   the same local Heroku (its apps' web dynos scaled to 0: see stopDynos), alternating, medians
//   over BENCH_RUNS (7) runs, with every Platform API answer held back 0 ms and then 100 ms (a round
//   trip to Heroku); the overhead, and the sequential API round trips it implies ((overhead at
//   100 ms - overhead at 0 ms) / 100 ms);
// - start-up: `node -e 0`, and process start to the task's first log line;
// - Platform API calls per deploy; the .vsix size;
// - the Build API section (scripts/bench-build.ts): first deploy of a depth-1 checkout, git vs build.
// Figures are printed, never asserted. The task runs as the agent runs it (tests' git wrapper left out).
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from '../test/emulator';
import { agentEnvironment, taskEntry } from '../test/support/agent';
import { makeRepo, runCommand, tempDir, type Repo } from '../test/support/git';
import { benchBuildApi } from './bench-build';
import { startRemoteEmulator, type RemoteEmulator } from './bench-emulator';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
/** BENCH_DYNOS=1 keeps each app's web dyno, restarted by the emulator on every release. */
const KEEP_DYNOS = process.env.BENCH_DYNOS === '1';
const LATENCIES = [0, 100];
const ROOT = path.resolve(__dirname, '..');

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const ms = (value: number): string => `${value.toFixed(0)} ms`;
const runs = (values: number[]): string => values.map((t) => t.toFixed(0)).join(', ');

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - started) / 1e6, result];
}

/**
 * Scales the app's web dynos to 0 (Platform API `PATCH /apps/{app}/formation/web`). On Heroku a
 * release restarts the dynos on Heroku's machines; here the emulator would start a Node process on
 * the same two cores, just when the task sends its requests after the push, and the benchmark
 * would count that restart as the task's overhead.
 */
async function stopDynos(heroku: RemoteEmulator, app: string): Promise<void> {
  if (KEEP_DYNOS) return;
  const response = await fetch(`${heroku.apiUrl}/apps/${app}/formation/web`, {
    method: 'PATCH',
    headers: {
      Accept: 'application/vnd.heroku+json; version=3',
      Authorization: `Bearer ${heroku.apiKey}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ quantity: 0 }),
  });
  if (!response.ok) throw new Error(`scaling ${app}'s web dynos to 0 failed: ${response.status} ${await response.text()}`);
}

/**
 * A pause before each measured deploy, so that none starts while the emulator still finishes the
 * previous release (its logs, the slug) after git has exited. On 1 December 2026 it moved the
 * medians by less than their run-to-run noise; it stays so that the order of the runs cannot matter.
 */
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 300);
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** A build of the task to measure: this tree's, or a git revision's. */
interface Variant {
  label: string;
  entry: string;
}

/** Builds `rev` in a temporary work tree (this tree's node_modules linked in); its task entry. */
async function buildRevision(rev: string): Promise<{ variant: Variant; remove: () => Promise<void> }> {
  const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'bench-baseline-')), 'tree');
  const added = await runCommand('git', ['worktree', 'add', '--detach', '--quiet', dir, rev], { cwd: ROOT });
  if (added.code !== 0) throw new Error(`git worktree add ${rev} failed: ${added.stderr}`);
  const remove = async (): Promise<void> => {
    await runCommand('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT });
    await fs.rm(path.dirname(dir), { recursive: true, force: true });
  };
  try {
    await fs.symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    const built = await runCommand(process.execPath, [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/build.ts'], {
      cwd: dir,
    });
    if (built.code !== 0) throw new Error(`building ${rev} failed: ${built.stderr}`);
    const short = (await runCommand('git', ['rev-parse', '--short', rev], { cwd: ROOT })).stdout.trim();
    return { variant: { label: `baseline ${short}`, entry: path.join(dir, 'build/tasks/HerokuDeployV1/index.js') }, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** Runs the task entry as the agent does; its wall time, or throws when it did not succeed. */
async function runTask(entry: string, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const [elapsed, [code, out]] = await timed(
    () =>
      new Promise<[number | null, string]>((resolve) => {
        const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.stderr.resume();
        child.on('close', (exitCode) => resolve([exitCode, stdout]));
      }),
  );
  // As the agent reads it: a task.complete result other than Succeeded, or a non-zero exit, fails.
  const complete = /##vso\[task\.complete result=(\w+)/.exec(out)?.[1];
  if (code !== 0 || (complete && complete !== 'Succeeded'))
    throw new Error(`the task failed:\n${out.split('\n').slice(-15).join('\n')}`);
  return elapsed;
}

/** Time from spawning `args` to its first line on stdout (or to its exit, when it prints nothing). */
async function firstLine(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'ignore'] });
  const at = await new Promise<number>((resolve) => {
    const now = (): void => resolve(Number(process.hrtime.bigint() - started) / 1e6);
    child.stdout.once('data', now);
    child.once('exit', now);
  });
  child.kill();
  await new Promise((resolve) => child.on('close', resolve));
  return at;
}

interface Measured {
  raw: number[];
  task: Map<string, number[]>;
  apiCalls: Map<string, number[]>;
}

/** RUNS rounds, each a raw push and a deploy of each variant, in rotating order, at `latencyMs`. */
async function measure(heroku: RemoteEmulator, variants: Variant[], latencyMs: number): Promise<Measured> {
  const tag = `${latencyMs}`;
  const rawApp = await heroku.createApp(`bench-raw-${tag}`);
  const raw = await makeRepo();
  if ((await raw.push(`${heroku.gitUrl}/${rawApp}.git`, heroku.apiKey)).code !== 0) throw new Error('the first raw push failed');
  await stopDynos(heroku, rawApp);
  const targets: Array<{ variant: Variant; repo: Repo; env: NodeJS.ProcessEnv }> = [];
  for (const [i, variant] of variants.entries()) {
    const app = await heroku.createApp(`bench-task-${tag}-${i}`);
    const repo = await makeRepo();
    const run = {
      cwd: repo.dir,
      inputs: { appName: app, apiKey: heroku.apiKey },
      variables: { HEROKU_API_URL: heroku.apiUrl, HEROKU_GIT_URL: heroku.gitUrl },
    };
    const env = agentEnvironment(run, await tempDir('bench-agent-'));
    // A first deploy, so that every measured run is an incremental commit on top of a release.
    await runTask(variant.entry, env, repo.dir);
    await stopDynos(heroku, app);
    targets.push({ variant, repo, env });
  }

  await heroku.setLatency(latencyMs);
  const measured: Measured = { raw: [], task: new Map(), apiCalls: new Map() };
  for (let i = 1; i <= RUNS; i++) {
    const order = [null, ...targets];
    const rotated = [...order.slice(i % order.length), ...order.slice(0, i % order.length)];
    for (const target of rotated) {
      await settle();
      if (!target) {
        await raw.commit(`Change ${i}`, { 'message.txt': `raw ${i}\n` });
        const [elapsed, result] = await timed(() => raw.push(`${heroku.gitUrl}/${rawApp}.git`, heroku.apiKey));
        if (result.code !== 0) throw new Error(`raw push ${i} failed: ${result.stderr}`);
        measured.raw.push(elapsed);
        continue;
      }
      const { variant, repo, env } = target;
      await repo.commit(`Change ${i}`, { 'message.txt': `${variant.label} ${i}\n` });
      const before = await heroku.requestCount();
      const elapsed = await runTask(variant.entry, env, repo.dir);
      measured.task.set(variant.label, [...(measured.task.get(variant.label) ?? []), elapsed]);
      measured.apiCalls.set(variant.label, [
        ...(measured.apiCalls.get(variant.label) ?? []),
        (await heroku.requestCount()) - before,
      ]);
    }
  }
  await heroku.setLatency(0);
  return measured;
}

async function main(): Promise<void> {
  const baselineAt = process.argv.indexOf('--baseline');
  const baselineRev = baselineAt > 0 ? process.argv[baselineAt + 1] : undefined;
  if (baselineAt > 0 && !baselineRev) throw new Error('--baseline needs a git revision, e.g. --baseline main');
  const variants: Variant[] = [{ label: 'this tree', entry: taskEntry('HerokuDeployV1') }];
  const baseline = baselineRev ? await buildRevision(baselineRev) : null;
  if (baseline) variants.push(baseline.variant);

  const heroku = await startRemoteEmulator();
  try {
    const results = new Map<number, Measured>();
    for (const latency of LATENCIES) results.set(latency, await measure(heroku, variants, latency));

    const scratch = await makeRepo();
    const env = agentEnvironment(
      { cwd: scratch.dir, inputs: { appName: 'bench-start', apiKey: heroku.apiKey } },
      await tempDir('bench-'),
    );
    const nodeStart: number[] = [];
    const starts = new Map<string, number[]>();
    for (let i = 0; i < RUNS; i++) {
      nodeStart.push(await firstLine(['-e', 'console.log(1)'], env, scratch.dir));
      for (const variant of variants)
        starts.set(variant.label, [...(starts.get(variant.label) ?? []), await firstLine([variant.entry], env, scratch.dir)]);
    }

    const packaged = await runCommand('npm', ['run', '--silent', 'package'], { cwd: ROOT });
    const vsix = (await fs.readdir(path.join(ROOT, 'dist'))).find((f) => f.endsWith('.vsix'));
    const vsixSize = packaged.code === 0 && vsix ? (await fs.stat(path.join(ROOT, 'dist', vsix))).size : NaN;

    console.log(
      `HerokuDeploy@1 benchmark (${RUNS} alternating runs each, medians; local Heroku emulator; ${KEEP_DYNOS ? 'web dynos restarted on every release (BENCH_DYNOS=1)' : 'web dynos scaled to 0, BENCH_DYNOS=1 keeps them'})`,
    );
    const node = median(nodeStart);
    console.log(`  node start to first line (node -e) ...... ${ms(node)}   (runs: ${runs(nodeStart)})`);
    for (const variant of variants) {
      const start = median(starts.get(variant.label) ?? []);
      console.log(`\n  ${variant.label}`);
      console.log(
        `    start to first log line ............... ${ms(start)} (node ${ms(node)} + bundle ${ms(start - node)})   (goal <= 100 ms)`,
      );
      const overheads: number[] = [];
      for (const latency of LATENCIES) {
        const m = results.get(latency)!;
        const task = m.task.get(variant.label) ?? [];
        const overhead = median(task) - median(m.raw);
        overheads.push(overhead);
        const goal = latency === 0 ? 100 : start + latency + 40;
        console.log(
          `    API latency ${String(latency).padStart(3)} ms: raw push ${ms(median(m.raw))}, task ${ms(median(task))}, overhead ${ms(overhead)} (ratio ${(median(task) / median(m.raw)).toFixed(2)}x; goal <= ${ms(goal)})   (task runs: ${runs(task)}; raw: ${runs(m.raw)})`,
        );
      }
      const trips = ((overheads[1] ?? 0) - (overheads[0] ?? 0)) / (LATENCIES[1] ?? 100);
      console.log(`    sequential API round trips (implied) .. ${trips.toFixed(1)}`);
      console.log(`    Platform API calls per deploy ......... ${median(results.get(0)?.apiCalls.get(variant.label) ?? [])}`);
    }
    // Whole deploys of seconds, where the emulator's own work does not skew the figures: one in this process.
    const local = await startEmulator({ rateLimitBudget: 100_000 });
    try {
      await benchBuildApi(local);
    } finally {
      await local.stop();
    }
    console.log(
      `\n  .vsix size ............................. ${Number.isNaN(vsixSize) ? 'packaging failed' : `${(vsixSize / 1024).toFixed(0)} KB`}   (goal <= 500 KB)`,
    );
  } finally {
    await heroku.stop();
    await baseline?.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
