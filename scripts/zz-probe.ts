import { spawn } from 'node:child_process';
import { agentEnvironment, taskEntry } from '../test/support/agent';
import { makeRepo, tempDir } from '../test/support/git';
import { startRemoteEmulator } from './bench-emulator';

async function scale(h: { apiUrl: string; apiKey: string }, app: string) {
  const r = await fetch(`${h.apiUrl}/apps/${app}/formation/web`, { method: 'PATCH', headers: { Accept: 'application/vnd.heroku+json; version=3', Authorization: `Bearer ${h.apiKey}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ quantity: 0 }) });
  if (!r.ok) throw new Error('scale');
}
async function run(entry: string, env: NodeJS.ProcessEnv, cwd: string, stamp: boolean): Promise<[number, string]> {
  const t = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(stamp ? ['--require', '/tmp/s20/stamp.cjs'] : []), entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.resume();
    child.on('close', () => resolve([Number(process.hrtime.bigint() - t) / 1e6, out]));
  });
}
async function main() {
  const heroku = await startRemoteEmulator();
  await heroku.setLatency(Number(process.env.LAT ?? 0));
  const app = await heroku.createApp('probe');
  const repo = await makeRepo();
  const env = agentEnvironment({ cwd: repo.dir, inputs: { appName: app, apiKey: heroku.apiKey }, variables: { HEROKU_API_URL: heroku.apiUrl, HEROKU_GIT_URL: heroku.gitUrl } }, await tempDir('probe-'));
  await run(taskEntry('HerokuDeployV1'), env, repo.dir, false);
  await scale(heroku, app);
  const rawApp = await heroku.createApp('probe-raw');
  const raw = await makeRepo();
  await raw.push(`${heroku.gitUrl}/${rawApp}.git`, heroku.apiKey);
  await scale(heroku, rawApp);
  for (let i = 0; i < 4; i++) {
    await raw.commit(`c${i}`, { 'm.txt': `${i}\n` });
    const t = process.hrtime.bigint();
    await raw.push(`${heroku.gitUrl}/${rawApp}.git`, heroku.apiKey);
    const rawMs = Number(process.hrtime.bigint() - t) / 1e6;
    await repo.commit(`c${i}`, { 'm.txt': `${i}\n` });
    const [ms, out] = await run(taskEntry('HerokuDeployV1'), env, repo.dir, true);
    console.log(`--- run ${i}: task ${ms.toFixed(0)} ms, raw ${rawMs.toFixed(0)} ms`);
    if (i === 3) console.log(out.split('\n').filter((l) => !/task\.debug\]|remote:\s+\S|remote: *$/.test(l) || /Launching|Released|Verifying|Updated/.test(l)).join('\n'));
  }
  await heroku.stop();
}
void main();
