// What Heroku does, independent of how it was asked (Platform API or git push): apps and their
// repositories, builds, releases with their release phase, dynos, routers, logs, promotions.
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { invalidParams, notFound } from '../errors';
import type { Faults } from '../faults';
import {
  checkStack,
  isRegion,
  DEFAULT_REGION,
  DEFAULT_STACK,
  newId,
  OutputStream,
  timestamp,
  type Account,
  type App,
  type Build,
  type Generation,
  type HerokuState,
  type Pipeline,
  type Promotion,
  type Release,
} from '../state';
import { BuildFailure, compile, type CompileResult } from './build';
import { AppDynos, dynoEnv, freePort, groupGone, killGroup, pipeLines, spawnCommand } from './dynos';
import { AppLogs } from './logs';
import { OneOffDynos } from './one-off';
import type { RendezvousServer } from '../rendezvous';
import { AppRouter, appHost } from './router';

const run = promisify(execFile);

export interface PlatformDirs {
  repos: string;
  slugs: string;
  work: string;
}

interface AppRuntime {
  logs: AppLogs;
  dynos: AppDynos;
  router: AppRouter;
  /** One-off dynos (`heroku run`), apart from the formation's. */
  oneOffs: OneOffDynos;
}

export interface ReleaseRequest {
  user: Account;
  description: string;
  slugId?: string | null;
  ociImageId?: string | null;
  /** The release's config; the app's current config when omitted. */
  config?: Record<string, string>;
}

export interface StartedRelease {
  release: Release;
  /** Settles when the release phase (if any) is over: the release is then succeeded or failed. */
  settled: Promise<Release>;
}

const ADJECTIVES = ['sleepy', 'cryptic', 'guarded', 'shrouded', 'floating', 'calm', 'polar', 'radiant'];
const NOUNS = ['meadow', 'gorge', 'everglades', 'sands', 'ocean', 'harbor', 'ridge', 'falls'];

export class Platform {
  private readonly runtimes = new Map<string, AppRuntime>();
  /** Builds in progress per app id: Heroku runs one build at a time per app. */
  readonly buildLocks = new Map<string, string>();
  /** Cancels a Builds API build in progress, by build id. */
  readonly buildCancels = new Map<string, () => void>();
  /** How long a source blob's URLs work (Heroku's: an hour). */
  sourceUrlTtlMs = 60 * 60_000;
  /** Where release and build output streams are served (set once the storage server listens). */
  storageUrl = '';
  /** Where attached one-off dynos are reached (set once it listens). */
  rendezvous: RendezvousServer | null = null;
  /** Release-phase commands and build scripts while they run. */
  private readonly processes = new Set<ChildProcess>();

  constructor(
    readonly state: HerokuState,
    readonly faults: Faults,
    readonly dirs: PlatformDirs,
  ) {}

  runtime(app: App): AppRuntime {
    const runtime = this.runtimes.get(app.id);
    if (!runtime) throw new Error(`no runtime for ${app.name}`);
    return runtime;
  }

  logs(app: App): AppLogs {
    return this.runtime(app).logs;
  }

  // ---- apps ---------------------------------------------------------------------------------

  private randomName(): string {
    for (;;) {
      const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;
      const name = `${pick(ADJECTIVES)}-${pick(NOUNS)}-${10000 + Math.floor(Math.random() * 89999)}`;
      if (!this.state.findApp(name)) return name;
    }
  }

  /** A name a new or renamed app may take: Heroku's rule, and not taken. */
  private checkNewName(name: string): void {
    if (!/^[a-z][a-z0-9-]{1,28}[a-z0-9]$/.test(name)) {
      throw invalidParams(
        'Name must start with a letter, end with a letter or digit and can only contain lowercase letters, digits, and dashes.',
      );
    }
    if (this.state.findApp(name)) throw invalidParams(`Name ${name} is already taken`);
  }

  async createApp(
    owner: Account,
    options: { name?: string; region?: string; stack?: string; teamId?: string | null; generation?: Generation },
  ): Promise<App> {
    const name = options.name ?? this.randomName();
    this.checkNewName(name);
    const region = options.region ?? DEFAULT_REGION;
    if (!isRegion(region)) throw notFound('region', "Couldn't find that region.");
    const stack = options.stack ?? DEFAULT_STACK;
    checkStack(stack);
    const now = timestamp();
    const app: App = {
      id: newId(),
      name,
      hostSuffix: randomBytes(6).toString('hex'),
      ownerId: owner.id,
      teamId: options.teamId ?? null,
      collaborators: new Set(),
      region,
      stack,
      buildStack: stack,
      generation: options.generation ?? 'cedar',
      maintenance: false,
      createdAt: now,
      updatedAt: now,
      releasedAt: null,
      buildpacks: [],
      configVars: {},
      formation: new Map(),
      releases: [],
      builds: [],
      features: new Map([['runtime-dyno-metadata', false]]),
      repoDir: path.join(this.dirs.repos, `${name}.git`),
      routerPort: 0,
    };
    await run('git', ['init', '--quiet', '--bare', '--initial-branch=main', app.repoDir]);
    await this.installHooks(app.repoDir);
    const logs = new AppLogs();
    const dynos = new AppDynos(this.state, app, logs);
    const router = new AppRouter(app, dynos, logs);
    app.routerPort = await router.listen(await freePort());
    const oneOffs = new OneOffDynos(
      this.state,
      app,
      logs,
      () => {
        if (!this.rendezvous) throw new Error('the emulator has no rendezvous server');
        return this.rendezvous;
      },
      this.faults,
    );
    this.runtimes.set(app.id, { logs, dynos, router, oneOffs });
    this.state.apps.set(app.id, app);
    this.addRelease(app, { user: owner, description: 'Initial release', config: {} }, 'succeeded');
    if (app.generation === 'cedar') this.addRelease(app, { user: owner, description: 'Enable Logplex', config: {} }, 'succeeded');
    return app;
  }

  private async installHooks(repoDir: string): Promise<void> {
    const relay = path.join(__dirname, '../git/hook-relay.cjs');
    for (const hook of ['pre-receive', 'post-receive']) {
      const file = path.join(repoDir, 'hooks', hook);
      await fs.writeFile(file, `#!${process.execPath}\nrequire(${JSON.stringify(relay)})(${JSON.stringify(hook)});\n`, {
        mode: 0o755,
      });
    }
  }

  async renameApp(app: App, name: string): Promise<void> {
    if (name === app.name) return;
    this.checkNewName(name);
    const repoDir = path.join(this.dirs.repos, `${name}.git`);
    await fs.rename(app.repoDir, repoDir);
    app.repoDir = repoDir;
    app.name = name;
  }

  async destroyApp(app: App): Promise<void> {
    const runtime = this.runtimes.get(app.id);
    await runtime?.dynos.shutdown();
    await runtime?.oneOffs.shutdown();
    await runtime?.router.close();
    this.runtimes.delete(app.id);
    this.state.apps.delete(app.id);
    for (const [id, coupling] of this.state.couplings) if (coupling.appId === app.id) this.state.couplings.delete(id);
    await fs.rm(app.repoDir, { recursive: true, force: true });
  }

  async setMaintenance(app: App, on: boolean): Promise<void> {
    app.maintenance = on;
    app.updatedAt = timestamp();
    this.logs(app).add('heroku', 'api', `${on ? 'Enable' : 'Disable'} maintenance mode by ${this.ownerEmail(app)}`);
    return Promise.resolve();
  }

  private ownerEmail(app: App): string {
    return this.state.accounts.get(app.ownerId)?.email ?? 'unknown';
  }

  // ---- releases -----------------------------------------------------------------------------

  private addRelease(app: App, request: ReleaseRequest, status: Release['status']): Release {
    const now = timestamp();
    const release: Release = {
      id: newId(),
      version: (app.releases.at(-1)?.version ?? 0) + 1,
      description: request.description,
      status,
      slugId: request.slugId ?? null,
      ociImageId: request.ociImageId ?? null,
      config: { ...(request.config ?? app.configVars) },
      userId: request.user.id,
      createdAt: now,
      updatedAt: now,
      output: null,
    };
    app.releases.push(release);
    return release;
  }

  /**
   * Creates a release. When its slug declares a `release` process, the release stays pending while
   * that command runs, as on Heroku; it becomes current only if the command exits 0.
   */
  startRelease(app: App, request: ReleaseRequest): StartedRelease {
    // A release names its artifact, or (a config change) keeps the current release's.
    const previous = this.state.currentRelease(app);
    const explicit = request.slugId !== undefined || request.ociImageId !== undefined;
    const draft = explicit
      ? { slugId: request.slugId ?? null, ociImageId: request.ociImageId ?? null }
      : { slugId: previous?.slugId ?? null, ociImageId: previous?.ociImageId ?? null };
    const artifact = this.state.releaseArtifact(draft);
    const releaseCommand = artifact?.processTypes.release;
    const release = this.addRelease(app, { ...request, ...draft }, releaseCommand ? 'pending' : 'succeeded');
    this.logs(app).add('heroku', 'api', `Release v${release.version} created by user ${request.user.email}`);
    if (!releaseCommand || !artifact) {
      this.activate(app, release);
      return { release, settled: Promise.resolve(release) };
    }
    release.output = new OutputStream();
    const settled = this.runReleasePhase(app, release, releaseCommand, artifact.dir).then((ok) => {
      release.status = ok ? 'succeeded' : 'failed';
      release.updatedAt = timestamp();
      release.output?.end();
      if (ok) this.activate(app, release);
      return release;
    });
    return { release, settled };
  }

  private runReleasePhase(app: App, release: Release, command: string, dir: string): Promise<boolean> {
    const dyno = `release.${1000 + Math.floor(Math.random() * 8999)}`;
    const logs = this.logs(app);
    const forcedFailure = this.faults.takeReleasePhaseFailure();
    const script = forcedFailure ? `${command} && echo 'release phase failed (emulated failure)' >&2 && exit 1` : command;
    logs.add('heroku', dyno, `Starting process with command \`${command}\``);
    logs.add('heroku', dyno, 'State changed from starting to up');
    const child = spawnCommand(script, dir, dynoEnv(release.config, { DYNO: dyno }, dir), this.processes);
    pipeLines(child, (line) => {
      logs.add('app', dyno, line);
      release.output?.write(`${line}\n`);
    });
    return new Promise((resolve) => {
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5 * 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        logs.add('heroku', dyno, `Process exited with status ${code ?? 137}`);
        logs.add('heroku', dyno, 'State changed from up to complete');
        resolve(code === 0);
      });
    });
  }

  /** A succeeded release goes live: the formation learns new process types and dynos restart. */
  private activate(app: App, release: Release): void {
    app.releasedAt = timestamp();
    const artifact = this.state.releaseArtifact(release);
    if (artifact) {
      for (const [type, command] of Object.entries(artifact.processTypes)) {
        if (type === 'release') continue;
        const entry = app.formation.get(type);
        const now = timestamp();
        if (entry) entry.command = command;
        else
          app.formation.set(type, {
            id: newId(),
            type,
            quantity: type === 'web' ? 1 : 0,
            size: 'Basic',
            command,
            createdAt: now,
            updatedAt: now,
          });
      }
    }
    void this.runtime(app).dynos.apply();
  }

  setConfigVars(app: App, user: Account, changes: Record<string, string | null>): StartedRelease {
    const set = Object.keys(changes).filter((k) => changes[k] !== null);
    const removed = Object.keys(changes).filter((k) => changes[k] === null && k in app.configVars);
    const next = { ...app.configVars };
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete next[key];
      else next[key] = value;
    }
    app.configVars = next;
    app.updatedAt = timestamp();
    const parts = [
      set.length ? `Set ${set.join(', ')} config vars` : '',
      removed.length ? `Remove ${removed.join(', ')} config vars` : '',
    ].filter(Boolean);
    return this.startRelease(app, { user, description: parts.join('; ') || 'Set config vars', config: next });
  }

  rollback(app: App, user: Account, target: Release): StartedRelease {
    if (target.status === 'expired') throw invalidParams(`Cannot rollback to v${target.version}: its slug has expired.`);
    if (!target.slugId && !target.ociImageId) throw invalidParams(`Cannot rollback to v${target.version}: it has no slug.`);
    app.configVars = { ...target.config };
    return this.startRelease(app, {
      user,
      description: `Rollback to v${target.version}`,
      slugId: target.slugId,
      ociImageId: target.ociImageId,
      config: target.config,
    });
  }

  // ---- builds -------------------------------------------------------------------------------

  beginBuild(app: App, user: Account, source: Build['sourceBlob']): Build {
    const now = timestamp();
    const build: Build = {
      id: newId(),
      appId: app.id,
      status: 'pending',
      sourceBlob: source,
      buildpacks: app.buildpacks.length ? app.buildpacks.map((b) => ({ ...b })) : null,
      slugId: null,
      ociImageId: null,
      releaseId: null,
      stack: app.buildStack,
      generation: app.generation,
      userId: user.id,
      createdAt: now,
      updatedAt: now,
      output: new OutputStream(),
    };
    app.builds.push(build);
    return build;
  }

  /** Compiles `dir` for `build`; on success the build's slug (or OCI image on Fir) exists. */
  async compileBuild(
    app: App,
    build: Build,
    dir: string,
    out: (line: string) => void,
    aborted: Promise<void>,
  ): Promise<CompileResult> {
    const write = (line: string): void => {
      build.output.write(`${line}\n`);
      out(line);
    };
    try {
      const result = await compile({
        app,
        dir,
        out: write,
        injectedFailure: this.faults.takeBuildFailure(),
        aborted,
        processes: this.processes,
      });
      const commit = build.sourceBlob.version;
      const now = timestamp();
      if (app.generation === 'fir') {
        const id = newId();
        const processTypes = Object.fromEntries(
          Object.entries(result.processTypes).map(([name, command]) => [
            name,
            { name, display_cmd: command, command, working_dir: '/workspace', default: name === 'web' ? true : null },
          ]),
        );
        this.state.ociImages.set(id, {
          id,
          commit: commit ?? '',
          commitDescription: build.sourceBlob.version_description,
          processTypes,
          stack: app.stack,
          digest: `sha256:${result.checksum.slice(7)}`,
          dir,
          createdAt: now,
        });
        build.ociImageId = id;
      } else {
        const id = newId();
        this.state.slugs.set(id, {
          id,
          commit,
          commitDescription: build.sourceBlob.version_description,
          processTypes: result.processTypes,
          size: result.size,
          checksum: result.checksum,
          stack: app.stack,
          buildpackDescription: result.buildpackDescription,
          dir,
          createdAt: now,
        });
        build.slugId = id;
      }
      return result;
    } catch (error) {
      // Heroku's build output ends with its reason (` !     Push failed`), before the stream closes.
      if (error instanceof BuildFailure) build.output.write(` !     ${error.reason}\n`);
      this.finishBuild(build, 'failed');
      throw error;
    }
  }

  finishBuild(build: Build, status: 'succeeded' | 'failed'): void {
    build.status = status;
    build.updatedAt = timestamp();
    build.output.end();
  }

  /** Releases a compiled build: the `Deploy <sha>` release of a push or a Builds API build. */
  releaseBuild(app: App, build: Build, user: Account): StartedRelease {
    const commit = build.sourceBlob.version;
    const description =
      commit && /^[0-9a-f]{40}$/.test(commit) ? `Deploy ${commit.slice(0, 8)}` : `Deploy ${commit ?? build.id.slice(0, 8)}`;
    const started = this.startRelease(app, { user, description, slugId: build.slugId, ociImageId: build.ociImageId });
    build.releaseId = started.release.id;
    // The build's output stream ends as Heroku's does, with the launch, before it is closed.
    build.output.write(
      `-----> Launching...\n       Released v${started.release.version}\n       http://${appHost(app)}/ deployed to Heroku\n`,
    );
    this.finishBuild(build, 'succeeded');
    return started;
  }

  /** A fresh directory for a build to compile in (it becomes the slug). */
  async newSlugDir(): Promise<string> {
    const dir = path.join(this.dirs.slugs, newId());
    await fs.mkdir(dir, { recursive: true });
    return dir;
  }

  /** Unpacks a gzipped tarball (a Builds API source) into `dir`, dropping a single top folder. */
  async unpackSource(tarball: Buffer, dir: string): Promise<void> {
    const staging = path.join(this.dirs.work, newId());
    await fs.mkdir(staging, { recursive: true });
    const archive = path.join(this.dirs.work, `${newId()}.tgz`);
    await fs.writeFile(archive, tarball);
    try {
      await run('tar', ['-xzf', archive, '-C', staging]);
      const entries = await fs.readdir(staging, { withFileTypes: true });
      const root = entries.length === 1 && entries[0]?.isDirectory() ? path.join(staging, entries[0].name) : staging;
      await fs.cp(root, dir, { recursive: true });
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
      await fs.rm(archive, { force: true });
    }
  }

  // ---- pipelines ----------------------------------------------------------------------------

  promote(pipeline: Pipeline, source: App, sourceRelease: Release, targets: App[], user: Account): Promotion {
    const now = timestamp();
    const promotion: Promotion = {
      id: newId(),
      pipelineId: pipeline.id,
      sourceAppId: source.id,
      sourceReleaseId: sourceRelease.id,
      status: 'pending',
      targets: targets.map((app) => ({ id: newId(), appId: app.id, status: 'pending', releaseId: null, errorMessage: null })),
      createdAt: now,
      updatedAt: now,
    };
    this.state.promotions.set(promotion.id, promotion);
    const commit = this.state.releaseCommit(sourceRelease);
    const description = `Promote ${source.name} v${sourceRelease.version}${commit ? ` ${commit.slice(0, 8)}` : ''}`;
    const work = promotion.targets.map(async (target) => {
      const app = this.state.apps.get(target.appId) as App;
      // Heroku copies the slug asynchronously: the release appears a moment after the promotion.
      await new Promise((resolve) => setTimeout(resolve, 50));
      try {
        const started = this.startRelease(app, {
          user,
          description,
          slugId: sourceRelease.slugId,
          ociImageId: sourceRelease.ociImageId,
        });
        target.releaseId = started.release.id;
        const release = await started.settled;
        target.status = release.status === 'succeeded' ? 'succeeded' : 'failed';
        if (release.status !== 'succeeded') target.errorMessage = `Release command failed for ${app.name} v${release.version}`;
      } catch (error) {
        target.status = 'failed';
        target.errorMessage = error instanceof Error ? error.message : String(error);
      }
    });
    void Promise.all(work).then(() => {
      promotion.status = 'completed';
      promotion.updatedAt = timestamp();
    });
    return promotion;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  async shutdown(): Promise<void> {
    const running = [...this.processes];
    for (const child of running) killGroup(child, 'SIGKILL');
    await Promise.all(running.map((child) => groupGone(child, 1000)));
    await Promise.all(
      [...this.runtimes.values()].map(async (r) => {
        await r.oneOffs.shutdown();
        await r.dynos.shutdown();
        await r.router.close();
      }),
    );
    this.runtimes.clear();
  }
}
