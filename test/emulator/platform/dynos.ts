// The dynos of one app: real processes started from the current release's slug with the
// Procfile's commands, `PORT` and the release's config vars, restarted on every new release.
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { newId, timestamp, type App, type HerokuState, type Release } from '../state';
import type { AppLogs } from './logs';

export type DynoState = 'starting' | 'up' | 'crashed' | 'down';

export interface Dyno {
  id: string;
  name: string; // web.1
  type: string; // web
  command: string;
  size: string;
  state: DynoState;
  port: number;
  release: Release;
  createdAt: string;
  updatedAt: string;
  process: ChildProcess | null;
  crashes: number;
  /** Set while the emulator itself stops the process (restart, scale down): not a crash. */
  stopping: boolean;
  /** A one-off dyno's `rendezvous://` URL while it waits to be attached (null or absent otherwise). */
  attachUrl?: string | null;
}

const BOOT_TIMEOUT_MS = 60_000; // Heroku's R10 boot timeout
const STOP_GRACE_MS = 3_000; // Heroku allows 30 s after SIGTERM; tests cannot wait that long

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Runs a Procfile command the way a dyno does: through a shell, in its own process group.
 * `registry` keeps it listed while it runs, so that shutting the emulator down can stop it.
 */
export function spawnCommand(
  command: string,
  cwd: string,
  env: Record<string, string>,
  registry?: Set<ChildProcess>,
): ChildProcess {
  const child = spawn('/bin/sh', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (registry) {
    registry.add(child);
    child.on('exit', () => registry.delete(child));
  }
  return child;
}

/** Forwards a process's output to the app's log, line by line. */
export function pipeLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    });
    stream?.on('end', () => {
      if (partial) onLine(partial);
      partial = '';
    });
  }
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Waits until no process of the group `child` leads is left: the shell that runs a command can exit
 * before the command does. After `timeoutMs`, what is left gets SIGKILL.
 */
export async function groupGone(child: ChildProcess, timeoutMs: number): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  const deadline = Date.now() + timeoutMs;
  while (await groupRunning(pgid)) {
    if (Date.now() >= deadline) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Whether a process of the group still runs. An orphan that has exited stays a zombie until PID 1
 * collects it, which can take a second: on Linux, zombies do not count.
 */
async function groupRunning(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return true; // no /proc: trust kill(0)
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // `pid (comm) state ppid pgrp ...`: comm may hold spaces and parentheses, so read after the last `)`.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') return true;
  }
  return false;
}

/** The environment a dyno sees: nothing of the emulator's own environment but PATH. */
export function dynoEnv(config: Record<string, string>, extra: Record<string, string>, home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'en_US.UTF-8', ...config, ...extra };
}

export class AppDynos {
  private readonly dynos = new Map<string, Dyno>();
  private readonly upWaiters = new Set<() => void>();
  private stopped = false;
  private queue: Promise<void> = Promise.resolve();
  /** Changes queued or under way: while a restart swaps web dynos, the router waits, it does not answer H10. */
  private changing = 0;

  constructor(
    private readonly state: HerokuState,
    private readonly app: App,
    private readonly logs: AppLogs,
  ) {}

  list(): Dyno[] {
    return [...this.dynos.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  }

  find(nameOrId: string): Dyno | undefined {
    return this.list().find((d) => d.name === nameOrId || d.id === nameOrId);
  }

  /**
   * Changes to the set of processes run one at a time: two releases in quick succession (or a
   * scale during a restart) must not both start `web.1`.
   */
  private serial(work: () => Promise<void>): Promise<void> {
    this.changing++;
    const next = this.queue.then(work, work).finally(() => {
      this.changing--;
      this.wakeUpWaiters();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private wakeUpWaiters(): void {
    for (const wake of this.upWaiters) wake();
    this.upWaiters.clear();
  }

  /** Starts and stops processes until they match the formation and the current release. */
  apply(): Promise<void> {
    return this.serial(() => this.reconcile());
  }

  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const release = this.state.currentRelease(this.app);
    const artifact = release ? this.state.releaseArtifact(release) : null;
    const wanted = new Map<string, { type: string; command: string; size: string }>();
    if (release && artifact) {
      for (const entry of this.app.formation.values()) {
        const command = artifact.processTypes[entry.type];
        if (command === undefined) continue;
        for (let i = 1; i <= entry.quantity; i++)
          wanted.set(`${entry.type}.${i}`, { type: entry.type, command, size: entry.size });
      }
    }
    const stops: Promise<void>[] = [];
    for (const dyno of this.dynos.values()) {
      if (!wanted.has(dyno.name) || dyno.release !== release) stops.push(this.stopDyno(dyno, true));
    }
    await Promise.all(stops);
    for (const [name, spec] of wanted) {
      if (!this.dynos.has(name) && release && artifact)
        await this.startDyno(name, spec.type, spec.command, spec.size, release, artifact.dir);
    }
  }

  /** Restarts every dyno, or those of one process type, or one dyno. */
  restart(filter: { type?: string; name?: string } = {}): Promise<void> {
    return this.serial(async () => {
      const targets = this.list().filter(
        (d) => (filter.type ? d.type === filter.type : true) && (filter.name ? d.name === filter.name : true),
      );
      for (const dyno of targets) this.logs.add('heroku', dyno.name, 'Restarting');
      await Promise.all(targets.map((d) => this.stopDyno(d, true)));
      await this.reconcile();
    });
  }

  /** Stops dynos without restarting them until the next apply (as `ps:stop` does). */
  stop(filter: { type?: string; name?: string } = {}): Promise<void> {
    return this.serial(async () => {
      const targets = this.list().filter(
        (d) => (filter.type ? d.type === filter.type : true) && (filter.name ? d.name === filter.name : true),
      );
      await Promise.all(targets.map((d) => this.stopDyno(d, true)));
    });
  }

  /** A web dyno that is up, waiting up to `timeoutMs` for one that is starting. */
  async upWebDyno(timeoutMs: number): Promise<Dyno | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const webs = this.list().filter((d) => d.type === 'web');
      const up = webs.filter((d) => d.state === 'up');
      if (up.length > 0) return up[Math.floor(Math.random() * up.length)];
      if ((this.changing === 0 && !webs.some((d) => d.state === 'starting')) || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now())));
        this.upWaiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  shutdown(): Promise<void> {
    this.stopped = true;
    return this.serial(async () => {
      await Promise.all(this.list().map((d) => this.stopDyno(d, false)));
    });
  }

  private setState(dyno: Dyno, next: DynoState): void {
    if (dyno.state === next) return;
    this.logs.add('heroku', dyno.name, `State changed from ${dyno.state} to ${next}`);
    dyno.state = next;
    dyno.updatedAt = timestamp();
    if (next === 'up' || next === 'crashed') this.wakeUpWaiters();
  }

  private async startDyno(
    name: string,
    type: string,
    command: string,
    size: string,
    release: Release,
    dir: string,
    crashes = 0,
  ): Promise<void> {
    const port = await freePort();
    const now = timestamp();
    const dyno: Dyno = {
      id: newId(),
      name,
      type,
      command,
      size,
      state: 'starting',
      port,
      release,
      createdAt: now,
      updatedAt: now,
      process: null,
      crashes,
      stopping: false,
    };
    this.dynos.set(name, dyno);
    this.logs.add('heroku', name, `Starting process with command \`${command}\``);
    const child = spawnCommand(command, dir, dynoEnv(release.config, { PORT: String(port), DYNO: name }, dir));
    dyno.process = child;
    pipeLines(child, (line) => this.logs.add('app', name, line));
    child.on('error', (error) => this.logs.add('heroku', name, `Error: ${error.message}`));
    child.on('exit', (code, signal) => this.onExit(dyno, code, signal, dir));
    if (type === 'web') void this.watchBoot(dyno);
    else this.setState(dyno, 'up');
  }

  private async watchBoot(dyno: Dyno): Promise<void> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (dyno.state === 'starting' && this.dynos.get(dyno.name) === dyno) {
      if (await canConnect(dyno.port)) {
        if (dyno.state === 'starting') this.setState(dyno, 'up');
        return;
      }
      if (Date.now() > deadline) {
        this.logs.add(
          'heroku',
          dyno.name,
          'Error R10 (Boot timeout) -> Web process failed to bind to $PORT within 60 seconds of launch',
        );
        this.logs.add('heroku', dyno.name, 'Stopping process with SIGKILL');
        if (dyno.process) killGroup(dyno.process, 'SIGKILL');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
  }

  private onExit(dyno: Dyno, code: number | null, signal: NodeJS.Signals | null, dir: string): void {
    const status = code ?? (signal === 'SIGTERM' ? 143 : 137);
    this.logs.add('heroku', dyno.name, `Process exited with status ${status}`);
    if (dyno.stopping || this.stopped) {
      this.setState(dyno, 'down');
      return;
    }
    this.setState(dyno, 'crashed');
    // Heroku restarts a crashed dyno at once the first time, then backs off for minutes:
    // one immediate restart, after which the dyno stays crashed until the next release or restart.
    if (dyno.crashes === 0) {
      void this.serial(async () => {
        if (this.stopped || this.dynos.get(dyno.name) !== dyno) return; // replaced meanwhile
        this.dynos.delete(dyno.name);
        await this.startDyno(dyno.name, dyno.type, dyno.command, dyno.size, dyno.release, dir, 1);
      });
    }
  }

  private async stopDyno(dyno: Dyno, log: boolean): Promise<void> {
    if (this.dynos.get(dyno.name) === dyno) this.dynos.delete(dyno.name);
    const child = dyno.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    dyno.stopping = true;
    if (log) this.logs.add('heroku', dyno.name, 'Stopping all processes with SIGTERM');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
    await groupGone(child, STOP_GRACE_MS);
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
