// The local Heroku: Platform API, git, app routers and a proxy to reach them, all on 127.0.0.1.
//   const heroku = await startEmulator();
//   heroku.apiUrl, heroku.gitUrl, heroku.proxyUrl, heroku.apiKey; heroku.faults.apiError(503); await heroku.stop();
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { presentApp } from './api/present';
import { buildRouter } from './api/routes';
import { ApiServer } from './api/server';
import { Faults } from './faults';
import { GitServer } from './git/server';
import { herokuSchema } from './heroku-schema';
import { Platform } from './platform/platform';
import { appHost } from './platform/router';
import { HerokuProxy } from './proxy';
import { RendezvousServer, type RendezvousCertificate } from './rendezvous';
import { HerokuState, type Account, type App, type Generation } from './state';
import { StorageServer } from './storage';

export interface EmulatorOptions {
  /** Email of the account whose key `apiKey` is. */
  email?: string;
  /** API calls per hour per account before 429s (Heroku: 4,500). */
  rateLimitBudget?: number;
  /** Milliseconds every Platform API answer is held back (a round trip to Heroku); default 0. */
  latencyMs?: number;
  /**
   * The host attach URLs name, and its certificate: 127.0.0.1 (test CA) by default, or a
   * `*.heroku.test` name (self-signed) that only the emulator's proxy reaches.
   */
  rendezvous?: { host: string; certificate: RendezvousCertificate };
}

export interface Emulator {
  apiUrl: string;
  gitUrl: string;
  /** Forward proxy that reaches each app's web_url (`http://<app>-<suffix>.herokuapp.com/`). */
  proxyUrl: string;
  /** A key of `account`, which may create apps. */
  apiKey: string;
  account: Account;
  state: HerokuState;
  faults: Faults;
  platform: Platform;
  api: ApiServer;
  proxy: HerokuProxy;
  git: GitServer;
  /** Heroku's rendezvous service for attached one-off dynos (TLS; certificate from the test CA). */
  rendezvous: RendezvousServer;
  /** Another account and its key (e.g. one without access to an app). */
  createAccount(email: string): { account: Account; apiKey: string };
  /** Creates an app as the given account (the default account when omitted). */
  createApp(name: string, options?: { owner?: Account; generation?: Generation; region?: string; stack?: string }): Promise<App>;
  app(name: string): App;
  /** The app's router, directly (no proxy): `http://127.0.0.1:<port>/`. */
  routerUrl(name: string): string;
  /** The app's web_url as the API returns it. */
  webUrl(name: string): string;
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'heroku-emulator-'));
  const dirs = { repos: path.join(root, 'repos'), slugs: path.join(root, 'slugs'), work: path.join(root, 'work') };
  await Promise.all(Object.values(dirs).map((dir) => fs.mkdir(dir, { recursive: true })));

  const state = new HerokuState();
  const faults = new Faults();
  const platform = new Platform(state, faults, dirs);
  const schema = herokuSchema();
  const storage = new StorageServer(platform);
  platform.storageUrl = await storage.listen();
  const present = { state, storageUrl: platform.storageUrl };
  const api = new ApiServer(buildRouter(schema), schema, { state, platform, present }, faults);
  if (options.rateLimitBudget !== undefined) api.rateLimit.budget = options.rateLimitBudget;
  api.latencyMs = options.latencyMs ?? 0;
  const git = new GitServer(platform);
  const proxy = new HerokuProxy(state);
  const rendezvous = new RendezvousServer(options.rendezvous?.host, options.rendezvous?.certificate);
  platform.rendezvous = rendezvous;
  const [apiUrl, gitUrl, proxyUrl] = await Promise.all([api.listen(), git.listen(), proxy.listen(), rendezvous.listen()]);
  const { account, apiKey } = state.createAccount(options.email ?? 'developer@example.com', 'Developer');

  const app = (name: string): App => {
    const found = state.findApp(name);
    if (!found) throw new Error(`no app ${name} in the emulator`);
    return found;
  };
  let stopped = false;
  return {
    apiUrl,
    gitUrl,
    proxyUrl,
    apiKey,
    account,
    state,
    faults,
    platform,
    api,
    proxy,
    git,
    rendezvous,
    createAccount: (email) => state.createAccount(email),
    createApp: (name, opts = {}) =>
      platform.createApp(opts.owner ?? account, { name, generation: opts.generation, region: opts.region, stack: opts.stack }),
    app,
    routerUrl: (name) => `http://127.0.0.1:${app(name).routerPort}/`,
    webUrl: (name) => String(presentApp(present, app(name)).web_url),
    async stop() {
      if (stopped) return;
      stopped = true;
      faults.reset();
      await Promise.all([api.close(), git.close(), proxy.close(), storage.close()]);
      await platform.shutdown();
      await rendezvous.close();
      await fs.rm(root, { recursive: true, force: true });
    },
  };
}

export { appHost };
