// Fault injection: switches a test flips to make the emulator misbehave the way Heroku can.

export interface RequestMatch {
  /** Only requests with this method (e.g. `POST`). */
  method?: string;
  /** Only requests whose path matches (a string matches when the path starts with it). */
  path?: string | RegExp;
}

export type ApiFaultEffect =
  | { kind: 'status'; status: number; id: string; message: string; retryAfter?: number }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'barrier'; arrive: () => Promise<void> };

interface ApiFault extends RequestMatch {
  effect: ApiFaultEffect;
  remaining: number;
}

export interface FiredFault {
  method: string;
  path: string;
  effect: ApiFaultEffect['kind'];
  at: number;
}

const DEFAULT_IDS: Record<number, [string, string]> = {
  429: ['rate_limit', 'Your account reached the API rate limit\nPlease wait a few minutes before making new requests'],
  500: ['internal_server_error', 'Internal server error.'],
  502: ['bad_gateway', 'Bad gateway.'],
  503: ['service_unavailable', 'Service temporarily unavailable. Please try again.'],
  504: ['gateway_timeout', 'Gateway timeout.'],
};

/**
 * How the next one-off dyno misbehaves: `drop` cuts its rendezvous connection after the first line of
 * output (the process runs on, as on Heroku); `kill` kills it there as Heroku kills a dyno far over its
 * memory (R15, no exit status reported); `ignore-ttl` lets it run past its time_to_live.
 */
export type OneOffFault = 'drop' | 'kill' | 'ignore-ttl';

export class Faults {
  private readonly api: ApiFault[] = [];
  private buildFailures: string[] = [];
  private releasePhaseFailures = 0;
  private gitDrops = 0;
  private streamDrops: number[] = [];
  private sourceCorruptions = 0;
  private oneOffFaults: OneOffFault[] = [];
  private holds: Array<{ released: Promise<void>; release: () => void }> = [];
  private holdAll: { released: Promise<void>; release: () => void } | null = null;
  /** Every API fault that fired, in order: tests assert the client really met them. */
  readonly fired: FiredFault[] = [];
  /** Notified when a build starts waiting on a hold (so a test can act mid-build). */
  onBuildHeld: (() => void) | null = null;

  /** The next `times` matching API requests answer `status` with Heroku's error body. */
  apiError(
    status: number,
    options: RequestMatch & { times?: number; retryAfter?: number; id?: string; message?: string } = {},
  ): void {
    const [id, message] = DEFAULT_IDS[status] ?? ['internal_server_error', 'Internal server error.'];
    this.api.push({
      method: options.method,
      path: options.path,
      remaining: options.times ?? 1,
      effect: {
        kind: 'status',
        status,
        id: options.id ?? id,
        message: options.message ?? message,
        retryAfter: options.retryAfter,
      },
    });
  }

  /** The next `times` matching API requests have their connection reset. */
  apiReset(options: RequestMatch & { times?: number } = {}): void {
    this.api.push({ method: options.method, path: options.path, remaining: options.times ?? 1, effect: { kind: 'reset' } });
  }

  /** The next `times` matching API requests wait `ms` before being served (a slow or hung API). */
  apiDelay(ms: number, options: RequestMatch & { times?: number } = {}): void {
    this.api.push({ method: options.method, path: options.path, remaining: options.times ?? 1, effect: { kind: 'delay', ms } });
  }

  /**
   * The next `count` matching API requests are each held until all `count` have arrived (or 10 s
   * passed), then served together: two clients racing to read the same state, deterministically.
   */
  apiBarrier(count: number, options: RequestMatch = {}): void {
    let arrived = 0;
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const arrive = async (): Promise<void> => {
      if (++arrived >= count) open();
      await Promise.race([opened, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    };
    this.api.push({ method: options.method, path: options.path, remaining: count, effect: { kind: 'barrier', arrive } });
  }

  /** Consumed by the API server for each request. */
  takeApi(method: string, path: string): ApiFaultEffect | undefined {
    const fault = this.api.find((f) => f.remaining > 0 && matches(f, method, path));
    if (!fault) return undefined;
    fault.remaining--;
    this.fired.push({ method, path, effect: fault.effect.kind, at: Date.now() });
    return fault.effect;
  }

  /** The next build fails in its build step, printing `reason`. */
  failNextBuild(reason = 'Error: the build script exited with status 1 (emulated failure)'): void {
    this.buildFailures.push(reason);
  }

  takeBuildFailure(): string | undefined {
    return this.buildFailures.shift();
  }

  /** The next release phase exits 1 (whatever the release command would have done). */
  failNextReleasePhase(): void {
    this.releasePhaseFailures++;
  }

  takeReleasePhaseFailure(): boolean {
    if (this.releasePhaseFailures === 0) return false;
    this.releasePhaseFailures--;
    return true;
  }

  /** The next push to the git endpoint has its connection dropped while the server receives it. */
  dropNextGitPush(): void {
    this.gitDrops++;
  }

  takeGitDrop(): boolean {
    if (this.gitDrops === 0) return false;
    this.gitDrops--;
    return true;
  }

  /** The next build output stream served has its connection dropped after `afterBytes` bytes. */
  dropNextBuildStream(afterBytes: number): void {
    this.streamDrops.push(afterBytes);
  }

  takeBuildStreamDrop(): number | undefined {
    return this.streamDrops.shift();
  }

  /** The next source blob PUT is stored with one byte changed (corrupted on its way to storage). */
  corruptNextSource(): void {
    this.sourceCorruptions++;
  }

  takeSourceCorruption(): boolean {
    if (this.sourceCorruptions === 0) return false;
    this.sourceCorruptions--;
    return true;
  }

  /** The next one-off dyno (POST /apps/{app}/dynos) misbehaves as `fault` says. */
  nextOneOff(fault: OneOffFault): void {
    this.oneOffFaults.push(fault);
  }

  takeOneOffFault(): OneOffFault | undefined {
    return this.oneOffFaults.shift();
  }

  /**
   * Builds pause before compiling until the returned `release()` is called: a build in progress
   * that tests can race (the build lock) or cancel mid-push. `all` holds every build, else just the next.
   */
  holdBuilds(options: { all?: boolean } = {}): { release: () => void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const hold = { released, release };
    if (options.all) this.holdAll = hold;
    else this.holds.push(hold);
    return {
      release: () => {
        if (this.holdAll === hold) this.holdAll = null;
        this.holds = this.holds.filter((h) => h !== hold);
        release();
      },
    };
  }

  /** Called by the build: resolves when the build may go on. */
  async waitIfHeld(aborted: Promise<void>): Promise<void> {
    const hold = this.holdAll ?? this.holds.shift();
    if (!hold) return;
    this.onBuildHeld?.();
    await Promise.race([hold.released, aborted]);
  }

  /** Drop every switch (tests call it between cases). */
  reset(): void {
    this.api.length = 0;
    this.buildFailures = [];
    this.releasePhaseFailures = 0;
    this.gitDrops = 0;
    this.streamDrops = [];
    this.sourceCorruptions = 0;
    this.oneOffFaults = [];
    for (const hold of this.holds) hold.release();
    this.holdAll?.release();
    this.holds = [];
    this.holdAll = null;
    this.fired.length = 0;
    this.onBuildHeld = null;
  }
}

function matches(match: RequestMatch, method: string, path: string): boolean {
  if (match.method && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === 'string' ? path.startsWith(match.path) : match.path.test(path);
}
