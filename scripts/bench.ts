// `npm run bench`: what the task costs on top of a plain `git push`, measured side by side.
// - deploy wall time: the built task vs a raw `git push` of the same kind of incremental commit
//   to the same local Heroku, alternating, medians over RUNS runs; the overhead and the ratio;
// - cold start: process start to the task's first log line;
// - Platform API calls per deploy; the .vsix size.
// Figures are printed, never asserted: the emulator builds instantly, so what remains is ours.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { startEmulator } from '../test/emulator';
import { agentEnvironment, runAgentTask, taskEntry } from '../test/support/agent';
import { makeRepo, runCommand, tempDir } from '../test/support/git';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ROOT = path.resolve(__dirname, '..');

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const ms = (value: number): string => `${value.toFixed(0)} ms`;

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [Number(process.hrtime.bigint() - started) / 1e6, result];
}

/** Time from spawning the task to its first line on stdout (task-lib's first debug line included). */
async function coldStart(env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [taskEntry('HerokuDeployV1')], { cwd, env, stdio: ['ignore', 'pipe', 'ignore'] });
  const first = await new Promise<number>((resolve) =>
    child.stdout.once('data', () => resolve(Number(process.hrtime.bigint() - started) / 1e6)),
  );
  child.kill();
  await new Promise((resolve) => child.on('close', resolve));
  return first;
}

async function main(): Promise<void> {
  const heroku = await startEmulator({ rateLimitBudget: 100_000 });
  try {
    const rawApp = await heroku.createApp('bench-raw');
    const taskApp = await heroku.createApp('bench-task');
    const raw = await makeRepo();
    const task = await makeRepo();
    // First deploys, so that every measured run is an incremental commit on top of a release.
    if ((await raw.push(`${heroku.gitUrl}/${rawApp.name}.git`, heroku.apiKey)).code !== 0)
      throw new Error('the first raw push failed');
    const base = {
      inputs: { appName: taskApp.name, apiKey: heroku.apiKey },
      variables: { HEROKU_API_URL: heroku.apiUrl, HEROKU_GIT_URL: heroku.gitUrl },
    };
    if ((await runAgentTask({ ...base, cwd: task.dir })).result !== 'Succeeded') throw new Error('the first task deploy failed');

    const rawTimes: number[] = [];
    const taskTimes: number[] = [];
    const apiCalls: number[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const order = i % 2 ? ['raw', 'task'] : ['task', 'raw'];
      for (const which of order) {
        if (which === 'raw') {
          await raw.commit(`Change ${i}`, { 'message.txt': `raw ${i}\n` });
          const [elapsed, result] = await timed(() => raw.push(`${heroku.gitUrl}/${rawApp.name}.git`, heroku.apiKey));
          if (result.code !== 0) throw new Error(`raw push ${i} failed: ${result.stderr}`);
          rawTimes.push(elapsed);
        } else {
          await task.commit(`Change ${i}`, { 'message.txt': `task ${i}\n` });
          const before = heroku.api.requests.length;
          const [elapsed, result] = await timed(() => runAgentTask({ ...base, cwd: task.dir }));
          if (result.result !== 'Succeeded') throw new Error(`task deploy ${i} failed: ${result.message}`);
          taskTimes.push(elapsed);
          apiCalls.push(heroku.api.requests.length - before);
        }
      }
    }

    const env = agentEnvironment({ ...base, cwd: task.dir }, await tempDir('bench-agent-'));
    const starts: number[] = [];
    for (let i = 0; i < RUNS; i++) starts.push(await coldStart(env, task.dir));

    const packaged = await runCommand('npm', ['run', '--silent', 'package'], { cwd: ROOT });
    const vsix = (await fs.readdir(path.join(ROOT, 'dist'))).find((f) => f.endsWith('.vsix'));
    const vsixSize = packaged.code === 0 && vsix ? (await fs.stat(path.join(ROOT, 'dist', vsix))).size : NaN;

    const [rawMedian, taskMedian] = [median(rawTimes), median(taskTimes)];
    console.log(`HerokuDeploy@1 benchmark (${RUNS} alternating runs each, medians; local Heroku emulator)`);
    console.log(
      `  raw git push, incremental commit ....... ${ms(rawMedian)}   (runs: ${rawTimes.map((t) => t.toFixed(0)).join(', ')})`,
    );
    console.log(
      `  HerokuDeploy task, same kind of commit . ${ms(taskMedian)}   (runs: ${taskTimes.map((t) => t.toFixed(0)).join(', ')})`,
    );
    console.log(`  overhead of the task ................... ${ms(taskMedian - rawMedian)}   (goal <= 100 ms)`);
    console.log(`  ratio task / raw push .................. ${(taskMedian / rawMedian).toFixed(2)}x`);
    console.log(
      `  cold start to first log line ........... ${ms(median(starts))}   (goal <= 100 ms; runs: ${starts.map((t) => t.toFixed(0)).join(', ')})`,
    );
    console.log(`  Platform API calls per deploy .......... ${median(apiCalls)}   (goal <= 5; runs: ${apiCalls.join(', ')})`);
    console.log(
      `  .vsix size ............................. ${Number.isNaN(vsixSize) ? 'packaging failed' : `${(vsixSize / 1024).toFixed(0)} KB`}   (goal <= 500 KB)`,
    );
  } finally {
    await heroku.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
