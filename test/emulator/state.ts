// The emulator's in-memory model of Heroku: accounts, apps and everything hanging off them.
// Route modules present these records as Platform API resources; platform/ modules change them.
import { randomBytes, randomUUID } from 'node:crypto';
import { forbidden, notFound } from './errors';

export const newId = (): string => randomUUID();

/** Heroku timestamps carry seconds, no fraction: `2012-01-01T12:00:00Z`. */
export const timestamp = (date: Date = new Date()): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface Account {
  id: string;
  email: string;
  name: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Team {
  id: string;
  name: string;
  createdAt: string;
  members: Set<string>; // account ids
}

export type Generation = 'cedar' | 'fir';

export const STACKS: readonly string[] = ['heroku-22', 'heroku-24'];
export const REGIONS: readonly string[] = ['us', 'eu'];
export const isRegion = (name: string): boolean => REGIONS.includes(name);
/** Heroku answers 404 `not_found` for a stack it does not have. */
export function checkStack(name: string): void {
  if (!STACKS.includes(name)) throw notFound('stack', "Couldn't find that stack.");
}
export const DEFAULT_STACK = 'heroku-24';
export const DEFAULT_REGION = 'us';

/** Stable ids so that the same stack or region always has the same identity, as on Heroku. */
export const STACK_IDS: Record<string, string> = {
  'heroku-22': '4c8c5d0e-1a2b-4c3d-8e4f-000000000022',
  'heroku-24': '4c8c5d0e-1a2b-4c3d-8e4f-000000000024',
};
export const REGION_IDS: Record<string, string> = {
  us: '59accabd-516d-4f0e-83e6-6e3757701145',
  eu: 'ed30241c-ed8c-4bb6-9714-61953675d0b4',
};
export const GENERATION_IDS: Record<Generation, string> = {
  cedar: '8e5b3d27-45a0-4d5a-9b3c-2c8a1e0c0001',
  fir: '8e5b3d27-45a0-4d5a-9b3c-2c8a1e0c0002',
};

export interface FormationEntry {
  id: string;
  type: string;
  quantity: number;
  size: string;
  command: string;
  createdAt: string;
  updatedAt: string;
}

export interface App {
  id: string;
  name: string;
  /** Random suffix of the web_url host, as apps created since June 2023 have. */
  hostSuffix: string;
  ownerId: string;
  teamId: string | null;
  collaborators: Set<string>;
  region: string;
  stack: string;
  buildStack: string;
  generation: Generation;
  maintenance: boolean;
  createdAt: string;
  updatedAt: string;
  releasedAt: string | null;
  buildpacks: Array<{ url: string; name: string }>;
  configVars: Record<string, string>;
  formation: Map<string, FormationEntry>;
  releases: Release[];
  builds: Build[];
  features: Map<string, boolean>;
  repoDir: string;
  routerPort: number;
}

export type ReleaseStatus = 'pending' | 'succeeded' | 'failed' | 'expired';

export interface Release {
  id: string;
  version: number;
  description: string;
  status: ReleaseStatus;
  slugId: string | null;
  ociImageId: string | null;
  config: Record<string, string>;
  userId: string;
  createdAt: string;
  updatedAt: string;
  /** Release-phase output, served at output_stream_url while and after it runs. */
  output: OutputStream | null;
}

export interface Slug {
  id: string;
  commit: string | null;
  commitDescription: string | null;
  processTypes: Record<string, string>;
  size: number;
  checksum: string;
  stack: string;
  buildpackDescription: string | null;
  dir: string;
  createdAt: string;
}

export interface OciImage {
  id: string;
  commit: string;
  commitDescription: string | null;
  processTypes: Record<
    string,
    { name: string; display_cmd: string; command: string; working_dir: string; default: boolean | null }
  >;
  stack: string;
  digest: string;
  dir: string;
  createdAt: string;
}

export type BuildStatus = 'pending' | 'succeeded' | 'failed';

export interface Build {
  id: string;
  appId: string;
  status: BuildStatus;
  sourceBlob: { checksum: string | null; url: string; version: string | null; version_description: string | null };
  buildpacks: Array<{ url: string; name: string }> | null;
  slugId: string | null;
  /** Fir builds make an OCI image where Cedar builds make a slug. */
  ociImageId: string | null;
  releaseId: string | null;
  stack: string;
  generation: Generation;
  userId: string;
  createdAt: string;
  updatedAt: string;
  output: OutputStream;
}

export interface Pipeline {
  id: string;
  name: string;
  owner: { id: string; type: 'user' | 'team' } | null;
  generation: Generation;
  createdAt: string;
  updatedAt: string;
}

export type Stage = 'test' | 'review' | 'development' | 'staging' | 'production';

export interface Coupling {
  id: string;
  appId: string;
  pipelineId: string;
  stage: Stage;
  createdAt: string;
  updatedAt: string;
}

export interface PromotionTarget {
  id: string;
  appId: string;
  status: 'pending' | 'succeeded' | 'failed';
  releaseId: string | null;
  errorMessage: string | null;
}

export interface Promotion {
  id: string;
  pipelineId: string;
  sourceAppId: string;
  sourceReleaseId: string;
  status: 'pending' | 'completed';
  targets: PromotionTarget[];
  createdAt: string;
  updatedAt: string;
}

export interface LogSession {
  id: string;
  appId: string;
  lines: number;
  tail: boolean;
  source: string | null;
  dyno: string | null;
  type: string | null;
  createdAt: string;
}

export interface SourceBlob {
  id: string;
  data: Buffer | null;
  createdAt: string;
  /** The signatures of its put_url and get_url (distinct, as S3's pre-signed URLs are). */
  putSignature: string;
  getSignature: string;
  /** When both URLs stop working (ms since the epoch). */
  expiresAt: number;
}

/** A request to the storage host (source URLs, output streams), as it arrived: tests assert no credential reached it. */
export interface StorageRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Text that is still being written (a build or release phase) and can be followed. */
export class OutputStream {
  private readonly chunks: string[] = [];
  private readonly waiters = new Set<() => void>();
  private finished = false;

  write(text: string): void {
    if (this.finished) return;
    this.chunks.push(text);
    this.wake();
  }

  end(): void {
    this.finished = true;
    this.wake();
  }

  get done(): boolean {
    return this.finished;
  }

  text(): string {
    return this.chunks.join('');
  }

  /** Yields everything written so far, then each new chunk, until end(). */
  async *follow(): AsyncGenerator<string> {
    let index = 0;
    for (;;) {
      while (index < this.chunks.length) yield this.chunks[index++] as string;
      if (this.finished) return;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  private wake(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }
}

/** Everything the emulator knows. One instance per emulator. */
export class HerokuState {
  readonly accounts = new Map<string, Account>();
  readonly apiKeys = new Map<string, string>(); // key -> account id
  readonly teams = new Map<string, Team>();
  readonly apps = new Map<string, App>(); // by id
  readonly slugs = new Map<string, Slug>();
  readonly ociImages = new Map<string, OciImage>();
  readonly pipelines = new Map<string, Pipeline>();
  readonly couplings = new Map<string, Coupling>();
  readonly promotions = new Map<string, Promotion>();
  readonly logSessions = new Map<string, LogSession>();
  readonly sources = new Map<string, SourceBlob>();
  /** Every request the source URLs and output streams received, in order. */
  readonly storageRequests: StorageRequest[] = [];

  createAccount(email: string, name: string | null = null): { account: Account; apiKey: string } {
    const now = timestamp();
    const account: Account = { id: newId(), email, name, createdAt: now, updatedAt: now };
    this.accounts.set(account.id, account);
    return { account, apiKey: this.addApiKey(account.id) };
  }

  /** A new-style key: `HRKU-` and 60 more characters, as Heroku issues since 2024. */
  addApiKey(accountId: string, key = `HRKU-AA${randomBytes(29).toString('hex')}`): string {
    this.apiKeys.set(key, accountId);
    return key;
  }

  accountForKey(key: string): Account | undefined {
    const id = this.apiKeys.get(key);
    return id === undefined ? undefined : this.accounts.get(id);
  }

  createTeam(name: string, memberIds: string[]): Team {
    const team: Team = { id: newId(), name, createdAt: timestamp(), members: new Set(memberIds) };
    this.teams.set(team.id, team);
    return team;
  }

  findTeam(identity: string): Team | undefined {
    return this.teams.get(identity) ?? [...this.teams.values()].find((t) => t.name === identity);
  }

  findApp(identity: string): App | undefined {
    return this.apps.get(identity) ?? [...this.apps.values()].find((a) => a.name === identity);
  }

  canAccess(account: Account, app: App): boolean {
    if (app.ownerId === account.id || app.collaborators.has(account.id)) return true;
    if (app.teamId === null) return false;
    return this.teams.get(app.teamId)?.members.has(account.id) ?? false;
  }

  /** The app as the API resolves it for this account: 404 when unknown, 403 without access. */
  appFor(account: Account, identity: string): App {
    const app = this.findApp(identity);
    if (!app) throw notFound('app', "Couldn't find that app.");
    if (!this.canAccess(account, app)) throw forbidden(`You do not have access to the app ${app.name}.`);
    return app;
  }

  appsFor(account: Account): App[] {
    return [...this.apps.values()].filter((a) => this.canAccess(account, a));
  }

  currentRelease(app: App): Release | undefined {
    return app.releases.find((r) => this.isCurrent(app, r));
  }

  /** The current release is the newest one that succeeded; pending and failed ones never are. */
  isCurrent(app: App, release: Release): boolean {
    for (let i = app.releases.length - 1; i >= 0; i--) {
      const candidate = app.releases[i] as Release;
      if (candidate.status === 'succeeded') return candidate === release;
    }
    return false;
  }

  findRelease(app: App, identity: string | number): Release {
    const byVersion = typeof identity === 'number' || /^\d+$/.test(identity) ? Number(identity) : NaN;
    const release = app.releases.find((r) => r.id === identity || r.version === byVersion);
    if (!release) throw notFound('release', "Couldn't find that release.");
    return release;
  }

  /** The commit a release runs: from its slug, or from its OCI image on Fir. */
  releaseCommit(release: Release): string | null {
    if (release.slugId) return this.slugs.get(release.slugId)?.commit ?? null;
    if (release.ociImageId) return this.ociImages.get(release.ociImageId)?.commit ?? null;
    return null;
  }

  /** The directory a release's dynos run from, and its process types. */
  releaseArtifact(release: Pick<Release, 'slugId' | 'ociImageId'>): { dir: string; processTypes: Record<string, string> } | null {
    if (release.slugId) {
      const slug = this.slugs.get(release.slugId);
      return slug ? { dir: slug.dir, processTypes: slug.processTypes } : null;
    }
    if (release.ociImageId) {
      const image = this.ociImages.get(release.ociImageId);
      if (!image) return null;
      const processTypes = Object.fromEntries(Object.entries(image.processTypes).map(([k, v]) => [k, v.command]));
      return { dir: image.dir, processTypes };
    }
    return null;
  }

  couplingForApp(appId: string): Coupling | undefined {
    return [...this.couplings.values()].find((c) => c.appId === appId);
  }

  findPipeline(identity: string): Pipeline {
    const pipeline = this.pipelines.get(identity) ?? [...this.pipelines.values()].find((p) => p.name === identity);
    if (!pipeline) throw notFound('pipeline', "Couldn't find that pipeline.");
    return pipeline;
  }
}
