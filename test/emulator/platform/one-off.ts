// One-off dynos (`heroku run`, `POST /apps/{app}/dynos`): a real process each, run through a shell in
// the current release's slug directory with the release's config vars plus the request's `env`
// (`PORT` unset, `DYNO=run.N`). An attached dyno starts when its client reaches the rendezvous server
// and sends only there (Heroku logs an attached dyno's platform lines, not its output); a detached
// one starts at once and its output goes to the app's log as `app[run.N]`. `time_to_live` stops it.
import type { ChildProcess } from 'node:child_process';
import type { TLSSocket } from 'node:tls';
import { HerokuError } from '../errors';
import type { Faults, OneOffFault } from '../faults';
import type { RendezvousServer } from '../rendezvous';
import { newId, timestamp, type App, type HerokuState } from '../state';
import { dynoEnv, groupGone, killGroup, pipeLines, spawnCommand, type Dyno } from './dynos';
import type { AppLogs } from './logs';

export interface OneOffRequest {
  command: string;
  env: Record<string, string>;
  attach: boolean;
  size?: string;
  type?: string;
  /** Seconds the dyno may live (Heroku: at most 86,400, the default). */
  timeToLive?: number;
}

/** How long an attached dyno waits for its client before Heroku gives up on it. */
const ATTACH_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3_000;
const MAX_TIME_TO_LIVE = 86_400;

interface OneOff {
  dyno: Dyno;
  fault: OneOffFault | undefined;
  cancelAttach: (() => void) | null;
  timers: NodeJS.Timeout[];
  exited: Promise<void>;
}

export class OneOffDynos {
  private readonly running = new Map<string, OneOff>();
  private readonly processes = new Set<ChildProcess>();

  constructor(
    private readonly state: HerokuState,
    private readonly app: App,
    private readonly logs: AppLogs,
    private readonly rendezvous: () => RendezvousServer,
    private readonly faults: Faults,
  ) {}

  list(): Dyno[] {
    return [...this.running.values()].map((o) => o.dyno);
  }

  find(nameOrId: string): Dyno | undefined {
    return this.list().find((d) => d.name === nameOrId || d.id === nameOrId);
  }

  create(request: OneOffRequest): Dyno {
    const release = this.state.currentRelease(this.app);
    const artifact = release ? this.state.releaseArtifact(release) : null;
    if (!release || !artifact)
      throw new HerokuError(
        422,
        'invalid_params',
        `${this.app.name} has no code released yet: deploy it before running one-off dynos.`,
      );
    const ttl = request.timeToLive ?? MAX_TIME_TO_LIVE;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TIME_TO_LIVE)
      throw new HerokuError(422, 'invalid_params', `time_to_live must be between 1 and ${MAX_TIME_TO_LIVE} seconds.`);
    const type = request.type || 'run';
    let name: string;
    do name = `${type}.${1000 + Math.floor(Math.random() * 9000)}`;
    while (this.running.has(name));
    const now = timestamp();
    const dyno: Dyno = {
      id: newId(),
      name,
      type,
      command: request.command,
      size: request.size || 'Basic',
      state: 'starting',
      port: 0,
      release,
      createdAt: now,
      updatedAt: now,
      process: null,
      crashes: 0,
      stopping: false,
      attachUrl: null,
    };
    const env = dynoEnv({ ...release.config, ...request.env }, { DYNO: name }, artifact.dir);
    delete env.PORT;
    const oneOff: OneOff = {
      dyno,
      fault: this.faults.takeOneOffFault(),
      cancelAttach: null,
      timers: [],
      exited: Promise.resolve(),
    };
    this.running.set(name, oneOff);
    const start = (socket: TLSSocket | null): void => this.start(oneOff, artifact.dir, env, ttl, socket);
    if (request.attach) {
      const expected = this.rendezvous().expect((socket) => start(socket));
      dyno.attachUrl = expected.url;
      oneOff.cancelAttach = () => expected.cancel();
      oneOff.timers.push(
        setTimeout(() => {
          if (dyno.process) return;
          this.logs.add('heroku', name, 'Error R13 (Attach error) -> Failed to attach to process');
          this.forget(oneOff);
        }, ATTACH_TIMEOUT_MS),
      );
    } else {
      start(null);
    }
    return dyno;
  }

  private start(oneOff: OneOff, dir: string, env: Record<string, string>, ttl: number, socket: TLSSocket | null): void {
    const { dyno } = oneOff;
    oneOff.cancelAttach?.();
    oneOff.cancelAttach = null;
    if (!this.running.has(dyno.name)) {
      socket?.destroy();
      return;
    }
    this.logs.add('heroku', dyno.name, `Starting process with command \`${dyno.command}\``);
    const child = spawnCommand(dyno.command, dir, env, this.processes);
    dyno.process = child;
    dyno.state = 'up';
    dyno.updatedAt = timestamp();
    this.logs.add('heroku', dyno.name, 'State changed from starting to up');
    oneOff.exited = new Promise((resolve) => child.once('close', () => resolve()));
    if (socket) {
      socket.on('error', () => undefined);
      socket.resume(); // what the client types (no tty: nothing is read)
      for (const stream of [child.stdout, child.stderr])
        stream?.on('data', (chunk: Buffer) => socket.writable && socket.write(chunk));
    } else {
      pipeLines(child, (line) => this.logs.add('app', dyno.name, line));
    }
    if (oneOff.fault === 'drop' || oneOff.fault === 'kill') {
      const fault = oneOff.fault;
      const onFirstLine = (chunk: Buffer): void => {
        if (!chunk.includes(10)) return;
        child.stdout?.off('data', onFirstLine);
        // After the chunk has been relayed (listeners run in order: the relay was added first).
        setImmediate(() => {
          if (fault === 'drop') socket?.destroy();
          else {
            this.logs.add('heroku', dyno.name, 'Process running mem=1046M(204.3%)');
            this.logs.add('heroku', dyno.name, 'Error R15 (Memory quota vastly exceeded)');
            this.logs.add('heroku', dyno.name, 'Stopping process with SIGKILL');
            killGroup(child, 'SIGKILL');
          }
        });
      };
      child.stdout?.on('data', onFirstLine);
    }
    if (oneOff.fault !== 'ignore-ttl')
      oneOff.timers.push(
        setTimeout(() => {
          this.logs.add('heroku', dyno.name, `Stopping all processes with SIGTERM (time_to_live of ${ttl} s reached)`);
          void this.terminate(oneOff);
        }, ttl * 1000),
      );
    child.on('exit', (code, signal) => {
      this.logs.add('heroku', dyno.name, `Process exited with status ${code ?? (signal === 'SIGTERM' ? 143 : 137)}`);
      this.logs.add('heroku', dyno.name, 'State changed from up to complete');
    });
    child.once('close', () => {
      this.forget(oneOff);
      socket?.end();
    });
  }

  /** `POST /apps/{app}/dynos/{dyno}/actions/stop`. */
  async stop(name: string): Promise<void> {
    const oneOff = this.running.get(name);
    if (!oneOff) return;
    this.logs.add('heroku', name, 'Stopping all processes with SIGTERM');
    if (!oneOff.dyno.process) {
      this.forget(oneOff);
      return;
    }
    await this.terminate(oneOff);
  }

  private async terminate(oneOff: OneOff): Promise<void> {
    const child = oneOff.dyno.process;
    if (!child) return;
    oneOff.dyno.stopping = true;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
    await oneOff.exited;
    clearTimeout(timer);
    await groupGone(child, STOP_GRACE_MS);
  }

  private forget(oneOff: OneOff): void {
    for (const timer of oneOff.timers) clearTimeout(timer);
    oneOff.cancelAttach?.();
    if (this.running.get(oneOff.dyno.name) === oneOff) this.running.delete(oneOff.dyno.name);
  }

  /** Whether any process of a one-off dyno still runs (tests: no dyno left behind). */
  get processCount(): number {
    return this.processes.size;
  }

  async shutdown(): Promise<void> {
    const all = [...this.running.values()];
    await Promise.all(all.map((o) => this.terminate(o)));
    for (const o of all) this.forget(o);
  }
}
