// The emulator's lifecycle: `npm run emulator -- --json` (test/emulator/cli.ts) and stop() leave
// no process, no port and no temporary directory behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmulator } from './index';
import { makeRepo } from '../support/git';
import { eventually, herokuApi } from '../support/heroku-api';
import { httpRequest, pushOk } from '../support/emulator';

const ROOT = path.resolve(__dirname, '../..');

interface Ready {
  apiUrl: string;
  gitUrl: string;
  apiKey: string;
  proxyUrl: string;
}

/** Processes (pid -> command line) whose working directory is inside `dir`: dynos run in their slug. */
async function processesIn(dir: string): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await fs.readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}/`)) {
      const cmdline = await fs.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      found.set(Number(entry), cmdline.replace(/\0/g, ' ').trim());
    }
  }
  return found;
}

/** Whether a process runs: an exited orphan waiting for PID 1 to collect it (a zombie) does not. */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

const exists = (file: string): Promise<boolean> =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/** Reads the first stdout line of the CLI, which must be its one JSON line. */
function readyLine(child: ChildProcess): Promise<{ ready: Ready; rest: () => string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let resolved = false;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (resolved || end < 0) return;
      resolved = true;
      resolve({ ready: JSON.parse(out.slice(0, end)) as Ready, rest: () => out.slice(end + 1) });
    });
    child.on('exit', (code, signal) => reject(new Error(`the CLI exited (${code ?? signal}) before it was ready: ${err}`)));
  });
}

const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => resolve({ code, signal }));
  });

/** Starts an app with a running web dyno in the emulator at `ready`; returns the emulator's temp dir. */
async function deployInto(ready: Ready, name: string): Promise<string> {
  const api = herokuApi(ready.apiUrl, ready.apiKey);
  const account = await api.get<{ email: string }>('/account');
  assert.equal(account.status, 200);
  assert.equal(account.body.email, 'developer@example.com');
  const app = await api.post<{ name: string; web_url: string }>('/apps', { name });
  assert.equal(app.status, 201);
  const repo = await makeRepo();
  try {
    await pushOk(repo, `${ready.gitUrl}/${name}.git`, ready.apiKey);
  } finally {
    await fs.rm(repo.dir, { recursive: true, force: true });
  }
  const tmp = await fs.realpath(os.tmpdir());
  const roots = [];
  for (const entry of await fs.readdir(tmp)) {
    if (entry.startsWith('heroku-emulator-') && (await exists(path.join(tmp, entry, 'repos', `${name}.git`))))
      roots.push(path.join(tmp, entry));
  }
  assert.equal(roots.length, 1, `one emulator directory holds ${name}: ${roots.join(', ')}`);
  return roots[0] as string;
}

describe('emulator: lifecycle', function () {
  this.timeout(60_000);

  describe('the CLI (npm run emulator -- --json)', () => {
    const children: ChildProcess[] = [];
    after(() => {
      for (const child of children) if (child.pid !== undefined && groupAlive(child.pid)) process.kill(-child.pid, 'SIGKILL');
    });

    it('prints one JSON line, serves, and on SIGTERM exits 0 leaving no process, port or directory', async () => {
      // tsx as `npx tsx` runs it; SIGTERM goes to that process (npm itself would not pass it on: see below).
      const child = spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['test/emulator/cli.ts', '--json'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.push(child);
      const { ready, rest } = await readyLine(child);
      assert.deepEqual(Object.keys(ready).sort(), ['apiKey', 'apiUrl', 'gitUrl', 'proxyUrl']);
      const name = `cli-app-${process.pid}`;
      const root = await deployInto(ready, name);
      const dynos = await processesIn(root);
      assert.ok(
        [...dynos.values()].some((cmd) => cmd.includes('node server.js')),
        `a web dyno runs: ${[...dynos.values()].join('; ')}`,
      );

      child.kill('SIGTERM');
      const end = await exited(child);
      assert.deepEqual(end, { code: 0, signal: null });
      assert.equal(rest(), '', 'nothing but the JSON line on stdout');
      assert.equal(await exists(root), false, `${root} is removed`);
      for (const pid of dynos.keys()) assert.equal(alive(pid), false, `process ${pid} (${dynos.get(pid)}) is gone`);
      await assert.rejects(fetch(`${ready.apiUrl}/account`), 'the API port is closed');
    });

    it('through `npx tsx`, stops cleanly when its process group gets SIGTERM (as a cancelled job or Ctrl-C does)', async () => {
      const child = spawn('npx', ['tsx', 'test/emulator/cli.ts', '--json'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.push(child);
      const { ready } = await readyLine(child);
      const root = await deployInto(ready, `cli-npx-${process.pid}`);
      const dynos = await processesIn(root);
      assert.ok(dynos.size > 0, 'dynos.size > 0');

      process.kill(-(child.pid as number), 'SIGTERM');
      const end = await exited(child);
      // npm reports how its `sh -c` child ended: by the signal, or 0.
      assert.ok(end.code === 0 || end.signal === 'SIGTERM', JSON.stringify(end));
      await eventually(async () => ((await exists(root)) ? undefined : true), 10_000, `${root} to be removed`);
      await eventually(() => ([...dynos.keys()].some(alive) ? undefined : true), 10_000, 'the dynos to be gone');
      await eventually(
        () => (groupAlive(child.pid as number) ? undefined : true),
        10_000,
        'every process of the group to be gone',
      );
      await assert.rejects(fetch(`${ready.apiUrl}/account`));
    });
  });

  describe('HEROKU_EMULATOR_LATENCY_MS (a round trip to Heroku, for the bench)', () => {
    const cli = (latency: string): ChildProcess =>
      spawn(path.join(ROOT, 'node_modules/.bin/tsx'), ['test/emulator/cli.ts', '--json'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HEROKU_EMULATOR_LATENCY_MS: latency },
      });

    it('holds every Platform API answer back that many milliseconds', async () => {
      const child = cli('300');
      try {
        const { ready } = await readyLine(child);
        const api = herokuApi(ready.apiUrl, ready.apiKey);
        const started = performance.now();
        assert.equal((await api.get('/account')).status, 200);
        const first = performance.now() - started;
        const [a, b] = await Promise.all([api.get('/account'), api.get('/apps')]);
        const both = performance.now() - started - first;
        assert.ok(first >= 300, `one answer took ${first.toFixed(0)} ms, at least the 300 ms asked`);
        assert.deepEqual([a.status, b.status], [200, 200]);
        assert.ok(both >= 300 && both < 600, `two requests at once took ${both.toFixed(0)} ms: one round trip, not two`);
      } finally {
        child.kill('SIGTERM');
        await exited(child);
      }
    });

    it('refuses a value that is not a whole number of milliseconds', async () => {
      const child = cli('100ms');
      let err = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      const end = await exited(child);
      assert.equal(end.code, 1);
      assert.match(err, /HEROKU_EMULATOR_LATENCY_MS must be a whole number of milliseconds up to 60000, not "100ms"/);
    });
  });

  describe('stop()', () => {
    it('stops every dyno and server and removes its directory', async () => {
      const heroku = await startEmulator();
      let stopped = false;
      try {
        const app = await heroku.createApp(`stop-app-${process.pid}`);
        const repo = await makeRepo();
        try {
          await pushOk(repo, `${heroku.gitUrl}/${app.name}.git`, heroku.apiKey);
        } finally {
          await fs.rm(repo.dir, { recursive: true, force: true });
        }
        assert.equal((await httpRequest(heroku.routerUrl(app.name))).status, 200);
        const pid = heroku.platform.runtime(app).dynos.find('web.1')?.process?.pid;
        assert.ok(pid !== undefined && alive(pid), 'the web dyno runs');
        const root = path.dirname(path.dirname(app.repoDir));
        const inside = await processesIn(await fs.realpath(root));
        assert.ok(inside.size > 0, 'inside.size > 0');

        await heroku.stop();
        stopped = true;
        assert.equal(alive(pid), false, `dyno ${pid} is gone`);
        for (const other of inside.keys()) assert.equal(alive(other), false, `process ${other} is gone`);
        assert.equal(await exists(root), false, `${root} is removed`);
        await assert.rejects(fetch(heroku.routerUrl(app.name)));
        await assert.rejects(fetch(`${heroku.apiUrl}/account`));
        await heroku.stop(); // a second stop() is harmless
      } finally {
        if (!stopped) await heroku.stop();
      }
    });
  });
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
