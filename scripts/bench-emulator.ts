// The benchmark's local Heroku in a process of its own, so that the work Heroku does after a push
// (building, restarting the app's dynos) never holds up the event loop that times the deploys.
// `startRemoteEmulator()` forks this file; the child starts the emulator and answers the few
// requests the benchmark makes over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process';
import { startEmulator } from '../test/emulator';

/** What the benchmark asks of the emulator. */
type Ask = { op: 'createApp'; name: string } | { op: 'latency'; ms: number } | { op: 'requestCount' } | { op: 'stop' };
type Request = Ask & { id: number };

interface Reply {
  id: number;
  value?: unknown;
  error?: string;
}

export interface RemoteEmulator {
  apiUrl: string;
  gitUrl: string;
  apiKey: string;
  /** Creates an app; its name. */
  createApp(name: string): Promise<string>;
  /** Holds every Platform API answer back `ms` milliseconds. */
  setLatency(ms: number): Promise<void>;
  /** Platform API requests served so far. */
  requestCount(): Promise<number>;
  stop(): Promise<void>;
}

/** Forks the emulator; resolves once it listens. */
export async function startRemoteEmulator(): Promise<RemoteEmulator> {
  const child: ChildProcess = fork(__filename, ['--serve'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<{ apiUrl: string; gitUrl: string; apiKey: string }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { apiUrl: string; gitUrl: string; apiKey: string }));
    child.once('exit', (code) => reject(new Error(`the emulator process exited (${code}) before it was ready`)));
  });
  const urls = await ready;
  child.on('message', (message) => {
    const reply = message as Reply;
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply.value);
  });
  const ask = <T>(request: Ask): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve: (value) => resolve(value as T), reject });
      child.send({ ...request, id });
    });
  return {
    ...urls,
    createApp: (name) => ask<string>({ op: 'createApp', name }),
    setLatency: (ms) => ask<void>({ op: 'latency', ms }),
    requestCount: () => ask<number>({ op: 'requestCount' }),
    stop: async () => {
      await ask<void>({ op: 'stop' });
      await exited;
    },
  };
}

/** The child: the emulator, answering the parent until asked to stop. */
async function serve(): Promise<void> {
  const heroku = await startEmulator({ rateLimitBudget: 100_000 });
  const answer = async (request: Request): Promise<unknown> => {
    switch (request.op) {
      case 'createApp':
        return (await heroku.createApp(request.name)).name;
      case 'latency':
        heroku.api.latencyMs = request.ms;
        return undefined;
      case 'requestCount':
        return heroku.api.requests.length;
      case 'stop':
        await heroku.stop();
        return undefined;
    }
  };
  process.on('message', (message) => {
    const request = message as Request;
    answer(request).then(
      (value) =>
        process.send?.({ id: request.id, value } satisfies Reply, () => {
          if (request.op === 'stop') process.exit(0);
        }),
      (error: unknown) => process.send?.({ id: request.id, error: String(error) } satisfies Reply),
    );
  });
  process.send?.({ apiUrl: heroku.apiUrl, gitUrl: heroku.gitUrl, apiKey: heroku.apiKey });
}

if (process.argv.includes('--serve')) {
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
