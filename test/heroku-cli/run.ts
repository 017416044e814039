// `npm run test:heroku-cli`: Heroku's own CLI (npm package `heroku`) against the local emulator,
// for the commands users run around deploys. Each check runs the real CLI binary as a child
// process and asserts on its output and on the emulator's state, not only on its exit code.
//
// The CLI is installed once per version under os.tmpdir() (never in the repo) and reused; the
// emulator runs in this process, so every child is spawned asynchronously.
//
// `heroku run` attaches to the emulator's rendezvous TLS server, whose certificate comes from the test
// CA (NODE_EXTRA_CA_CERTS for the CLI). Left out on purpose: `ps:exec` (SSH), `logs --tail` (runs until
// interrupted), and `domains` (not a deploy-time command; the emulator serves no domain routes).
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, type Emulator } from '../emulator/index';
import { runAgentTask } from '../support/agent';
import { startAssetsServer } from '../support/cli-assets';
import { makeRepo, runCommand, type Repo } from '../support/git';
import { TEST_CA } from '../support/tls-front';
import { standaloneTarball } from './standalone';

const CLI_VERSION = '11.10.0';
const CACHE_ROOT = path.join(os.tmpdir(), 'heroku-cli-conformance');

interface CliResult {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

class CheckFailure extends Error {}

function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CheckFailure(message);
}

function assertIncludes(text: string, wanted: string, what: string): void {
  assert(text.includes(wanted), `${what} should include ${JSON.stringify(wanted)}, got:\n${indent(text)}`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function indent(text: string): string {
  const trimmed = text.trimEnd();
  return trimmed
    ? trimmed
        .split('\n')
        .map((l) => `      ${l}`)
        .join('\n')
    : '      (empty)';
}

/** Installs `heroku@CLI_VERSION` once per version under the OS temp dir; returns the binary. */
async function installCli(): Promise<string> {
  const dir = path.join(CACHE_ROOT, CLI_VERSION);
  const bin = path.join(dir, 'node_modules', '.bin', 'heroku');
  const marker = path.join(dir, '.installed');
  if (await exists(marker)) return bin;
  await fs.mkdir(CACHE_ROOT, { recursive: true });
  const staging = await fs.mkdtemp(path.join(CACHE_ROOT, `${CLI_VERSION}-staging-`));
  console.log(`Installing heroku@${CLI_VERSION} into ${dir} (once per version)...`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = await runCommand(
    npm,
    ['install', '--prefix', staging, `heroku@${CLI_VERSION}`, '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: staging, timeoutMs: 600_000 },
  );
  if (result.code !== 0) {
    await fs.rm(staging, { recursive: true, force: true });
    throw new Error(`npm install heroku@${CLI_VERSION} failed (${result.code}):\n${result.stderr}`);
  }
  await fs.writeFile(path.join(staging, '.installed'), `${new Date().toISOString()}\n`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.rename(staging, dir);
  return bin;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Particleboard (particleboard.heroku.com) is not the Platform API: the CLI asks it for payment
 * delinquency alongside GET /account and GET /teams/{team}, and ignores its failures. The run
 * answers it locally with "nothing scheduled" so no request leaves the machine.
 */
async function startParticleboardStub(): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Context {
  heroku: Emulator;
  /** Where npm installed the CLI (node_modules/heroku). */
  installDir: string;
  particleboardUrl: string;
  /** A new temporary directory, removed at the end of the run. */
  tempDir(prefix: string): Promise<string>;
  /** Runs `heroku <args>` (never throws; the result says how it went). */
  cli(args: string[]): Promise<CliResult>;
  /** Registers a directory to remove at the end of the run. */
  cleanUp(dir: string): void;
}

async function main(): Promise<number> {
  const started = Date.now();
  const bin = await installCli();
  const dirs: string[] = [];
  const tempDir = async (prefix: string): Promise<string> => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  let heroku: Emulator | undefined;
  let particleboard: Awaited<ReturnType<typeof startParticleboardStub>> | undefined;
  let passed = 0;
  let failed = 0;
  try {
    heroku = await startEmulator();
    particleboard = await startParticleboardStub();
    const home = await tempDir('heroku-cli-home-');
    const work = await tempDir('heroku-cli-work-');
    const xdg = {
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
    };
    for (const dir of Object.values(xdg)) await fs.mkdir(dir, { recursive: true });
    // The CLI warns once that the terms of service changed, then remembers it here: seen already.
    await fs.mkdir(path.join(xdg.XDG_CACHE_HOME, 'heroku'), { recursive: true });
    await fs.writeFile(path.join(xdg.XDG_CACHE_HOME, 'heroku', 'terms-of-service'), '');

    // A fresh environment, not process.env: nothing of the machine's Heroku config, netrc, git
    // config, proxies or certificates reaches the CLI (its git credential hook writes to this HOME).
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      HOME: home,
      ...xdg,
      TMPDIR: os.tmpdir(),
      TERM: 'dumb',
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      COLUMNS: '200',
      GIT_CONFIG_NOSYSTEM: '1',
      HEROKU_HOST: heroku.apiUrl,
      HEROKU_API_KEY: heroku.apiKey,
      HEROKU_PARTICLEBOARD_URL: particleboard.url,
      // The rendezvous server's certificate (heroku run) is from the test CA.
      NODE_EXTRA_CA_CERTS: TEST_CA,
      // Offline switches read from the CLI's installed source (11.10.0):
      DISABLE_TELEMETRY: 'true', // dist/lib/analytics-telemetry/telemetry-utils.js: no Herokulytics, OTEL or Sentry
      HEROKU_SKIP_NEW_VERSION_CHECK: 'true', // @oclif/plugin-warn-if-update-available: no registry lookup
      HEROKU_DISABLE_AUTOUPDATE: 'true', // @oclif/plugin-update: no background `heroku update --autoupdate`
      HEROKU_SKIP_ANALYTICS: '1', // dist/lib/analytics-telemetry/herokulytics-config.js: no Herokulytics either way
    };

    let last: CliResult | null = null;
    const cli = (args: string[]): Promise<CliResult> =>
      new Promise((resolve) => {
        // Asynchronous on purpose: the emulator answering the CLI runs in this process.
        execFile(bin, args, { cwd: work, env, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          last = { args, code, stdout, stderr };
          resolve(last);
        });
      });

    const emulator = heroku;
    const check = async (name: string, body: () => Promise<void>): Promise<void> => {
      const from = emulator.api.requests.length;
      const violationsFrom = emulator.api.violations.length;
      last = null;
      try {
        await body();
        const violations = emulator.api.violations.slice(violationsFrom);
        assert(violations.length === 0, `schema violations: ${JSON.stringify(violations)}`);
        passed++;
        console.log(`✓ ${name}`);
      } catch (error) {
        failed++;
        console.log(`✗ ${name}`);
        console.log(`    ${error instanceof Error ? error.message : String(error)}`.replace(/\n/g, '\n    '));
        const run = last as CliResult | null;
        if (run) {
          console.log(`    last command: heroku ${run.args.join(' ')} (exit ${run.code}); its stderr:`);
          console.log(indent(run.stderr));
        }
        const bad = emulator.api.requests.slice(from).filter((r) => r.status >= 400 || r.status <= 0);
        if (bad.length > 0) console.log('    failing API requests:');
        for (const r of bad) console.log(`      ${r.method} ${r.path} -> ${r.status}`);
        for (const v of emulator.api.violations.slice(violationsFrom))
          console.log(`    schema violation: ${v.method} ${v.path}: ${v.errors.join('; ')}`);
      }
    };

    await runChecks(
      {
        heroku,
        cli,
        cleanUp: (dir) => dirs.push(dir),
        installDir: path.resolve(path.dirname(bin), '..', '..'),
        particleboardUrl: particleboard.url,
        tempDir,
      },
      check,
    );
    console.log(
      `(${((Date.now() - started) / 1000).toFixed(1)} s; ${heroku.api.requests.length} Platform API requests, ${particleboard.requests.length} to the Particleboard stub)`,
    );
  } finally {
    await heroku?.stop();
    await particleboard?.close();
    await Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
  }
  // Written last and flushed before the process exits (a pipe would otherwise lose it).
  await new Promise<void>((resolve) => process.stdout.write(`${passed} passed, ${failed} failed\n`, () => resolve()));
  return failed === 0 ? 0 : 1;
}

type Check = (name: string, body: () => Promise<void>) => Promise<void>;

async function ok(ctx: Context, args: string[]): Promise<CliResult> {
  const result = await ctx.cli(args);
  assert(result.code === 0, `heroku ${args.join(' ')} failed (exit ${result.code}); its stdout:\n${indent(result.stdout)}`);
  return result;
}

function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new CheckFailure(`heroku ${result.args.join(' ')} did not print JSON:\n${indent(result.stdout)}`);
  }
}

/** The API requests made since `from`, as `METHOD /path status`. */
function requestsSince(heroku: Emulator, from: number): string[] {
  return heroku.api.requests.slice(from).map((r) => `${r.method} ${r.path} ${r.status}`);
}

function assertRequest(heroku: Emulator, from: number, wanted: string): void {
  const made = requestsSince(heroku, from);
  assert(made.includes(wanted), `expected request ${wanted}, the CLI made:\n${indent(made.join('\n'))}`);
}

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new CheckFailure(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until every dyno of the app is up (after a release, scale or restart). */
function dynosUp(heroku: Emulator, name: string, count: number): Promise<true> {
  return eventually(`${count} dyno(s) of ${name} up`, () => {
    const dynos = heroku.platform.runtime(heroku.app(name)).dynos.list();
    return dynos.length === count && dynos.every((d) => d.state === 'up') ? true : undefined;
  });
}

const STAGE = 'cli-stage';
const PROD = 'cli-prod';
const TEAM_APP = 'cli-team-app';
const TEAM = 'cli-team';
const PIPELINE = 'cli-pipe';

async function runChecks(ctx: Context, check: Check): Promise<void> {
  const { heroku } = ctx;
  const team = heroku.state.createTeam(TEAM, [heroku.account.id]);
  let mark = 0;
  const since = (): number => (mark = heroku.api.requests.length);

  await check('apps:create --region eu --stack heroku-22', async () => {
    since();
    const r = await ok(ctx, ['apps:create', STAGE, '--region', 'eu', '--stack', 'heroku-22']);
    const app = heroku.app(STAGE);
    assert(app.region === 'eu' && app.stack === 'heroku-22', `the emulator made ${STAGE} in ${app.region} on ${app.stack}`);
    assertIncludes(r.stderr, 'region is eu, stack is heroku-22', 'stderr');
    assertIncludes(r.stdout, heroku.webUrl(STAGE), 'stdout');
    assertRequest(heroku, mark, 'POST /apps 201');
  });

  await check('apps:create (defaults: us, heroku-24)', async () => {
    const r = await ok(ctx, ['apps:create', PROD]);
    const app = heroku.app(PROD);
    assert(
      app.region === 'us' && app.stack === 'heroku-24' && app.teamId === null,
      `the emulator made ${PROD} in ${app.region} on ${app.stack}`,
    );
    assertIncludes(r.stdout, heroku.webUrl(PROD), 'stdout');
  });

  await check('apps:create --team', async () => {
    since();
    await ok(ctx, ['apps:create', TEAM_APP, '--team', TEAM]);
    assert(heroku.app(TEAM_APP).teamId === team.id, `${TEAM_APP} is not in the team ${TEAM}`);
    assertRequest(heroku, mark, 'POST /teams/apps 201');
  });

  await check('apps:info', async () => {
    const r = await ok(ctx, ['apps:info', '-a', STAGE]);
    assertIncludes(r.stdout, `=== ${STAGE}`, 'stdout');
    const fields: Array<[string, string]> = [
      ['Web URL', heroku.webUrl(STAGE)],
      ['Owner', heroku.account.email],
      ['Region', 'eu'],
      ['Stack', 'heroku-22'],
    ];
    for (const [label, value] of fields) {
      assert(
        new RegExp(`^${label}:\\s+${escapeRegExp(value)}$`, 'm').test(r.stdout),
        `stdout should show "${label}: ${value}", got:\n${indent(r.stdout)}`,
      );
    }
    const json = parseJson<{
      app: { name: string; team: { name: string } | null };
      addons: unknown[];
      collaborators: Array<{ role: string; user: { email: string } }>;
    }>(await ok(ctx, ['apps:info', '-a', TEAM_APP, '--json']));
    assert(json.app.name === TEAM_APP && json.app.team?.name === TEAM, `apps:info --json showed ${JSON.stringify(json.app)}`);
    assert(Array.isArray(json.addons) && json.addons.length === 0, 'a new app has no add-ons');
    assert(
      json.collaborators.some((c) => c.role === 'owner' && c.user.email === heroku.account.email),
      `collaborators should list the owner: ${JSON.stringify(json.collaborators)}`,
    );
  });

  await check('apps (list)', async () => {
    const personal = await ok(ctx, ['apps']);
    assertIncludes(personal.stdout, `=== ${heroku.account.email} Apps`, 'stdout');
    assertIncludes(personal.stdout, `${STAGE} (eu)`, 'stdout');
    assertIncludes(personal.stdout, PROD, 'stdout');
    assert(!personal.stdout.includes(TEAM_APP), `\`heroku apps\` excludes team apps, got:\n${indent(personal.stdout)}`);
    const inTeam = await ok(ctx, ['apps', '--team', TEAM]);
    assertIncludes(inTeam.stdout, `=== Apps in team ${TEAM}`, 'stdout');
    assertIncludes(inTeam.stdout, TEAM_APP, 'stdout');
    const all = parseJson<Array<{ name: string }>>(await ok(ctx, ['apps', '--all', '--json']));
    const names = all.map((a) => a.name).sort();
    assert(
      JSON.stringify(names) === JSON.stringify([PROD, STAGE, TEAM_APP].sort()),
      `apps --all --json listed ${names.join(', ')}`,
    );
  });

  let commit = '';
  await check('deploy: git push of the sample app', async () => {
    const repo: Repo = await makeRepo();
    ctx.cleanUp(repo.dir);
    commit = await repo.head();
    const push = await repo.push(`${heroku.gitUrl}/${STAGE}.git`, heroku.apiKey);
    assert(push.code === 0, `git push failed:\n${indent(push.stderr)}`);
    const current = heroku.state.currentRelease(heroku.app(STAGE));
    assert(current && heroku.state.releaseCommit(current) === commit, `the current release of ${STAGE} does not run ${commit}`);
    await dynosUp(heroku, STAGE, 1);
  });

  const deployVersion = (): number => {
    const release = heroku
      .app(STAGE)
      .releases.find((r) => heroku.state.releaseCommit(r) === commit && r.description.startsWith('Deploy'));
    if (!release) throw new CheckFailure(`no deploy release of ${commit} on ${STAGE}`);
    return release.version;
  };

  await check('releases', async () => {
    const v = deployVersion();
    const r = await ok(ctx, ['releases', '-a', STAGE]);
    assertIncludes(r.stdout, `=== ${STAGE} Releases - Current: v${v}`, 'stdout');
    assert(
      new RegExp(`^\\s*v${v}\\s+Deploy ${commit.slice(0, 8)}`, 'm').test(r.stdout),
      `stdout should list v${v} "Deploy ${commit.slice(0, 8)}", got:\n${indent(r.stdout)}`,
    );
    const json = parseJson<Array<{ version: number; current: boolean }>>(await ok(ctx, ['releases', '-a', STAGE, '--json']));
    const versions = json.map((x) => x.version);
    assert(
      versions.length === heroku.app(STAGE).releases.length && versions[0] === v && json[0]?.current === true,
      `releases --json listed versions ${versions.join(', ')}`,
    );
  });

  await check('releases:info', async () => {
    const v = deployVersion();
    const current = await ok(ctx, ['releases:info', '-a', STAGE]);
    assertIncludes(current.stdout, `=== Release v${v}`, 'stdout');
    assert(
      /^Change:\s+Deploy /m.test(current.stdout) && /^Eligible for Rollback\?:\s+Yes$/m.test(current.stdout),
      `stdout should show the deploy, eligible for rollback:\n${indent(current.stdout)}`,
    );
    const first = await ok(ctx, ['releases:info', 'v1', '-a', STAGE]);
    assertIncludes(first.stdout, '=== Release v1', 'stdout');
    assert(
      /^Change:\s+Initial release$/m.test(first.stdout) && /^Eligible for Rollback\?:\s+No$/m.test(first.stdout),
      `v1 has no slug to roll back to:\n${indent(first.stdout)}`,
    );
  });

  await check('config:set', async () => {
    const before = heroku.app(STAGE).releases.length;
    const r = await ok(ctx, ['config:set', 'GREETING=hello world', 'FEATURE_X=1', '-a', STAGE]);
    const app = heroku.app(STAGE);
    assert(
      app.configVars.GREETING === 'hello world' && app.configVars.FEATURE_X === '1',
      `config vars are ${JSON.stringify(app.configVars)}`,
    );
    assert(app.releases.length === before + 1, 'config:set should make one release');
    const latest = app.releases.at(-1);
    assertIncludes(r.stderr, `done, v${latest?.version}`, 'stderr');
    assert(/^GREETING:\s+hello world$/m.test(r.stdout), `stdout should echo the vars:\n${indent(r.stdout)}`);
  });

  await check('config:get', async () => {
    const r = await ok(ctx, ['config:get', 'GREETING', '-a', STAGE]);
    assert(r.stdout === 'hello world\n', `config:get printed ${JSON.stringify(r.stdout)}`);
    const missing = await ok(ctx, ['config:get', 'NOT_SET', '-a', STAGE]);
    assert(missing.stdout.trim() === '', `config:get of an unset var printed ${JSON.stringify(missing.stdout)}`);
  });

  await check('config:unset', async () => {
    const r = await ok(ctx, ['config:unset', 'FEATURE_X', '-a', STAGE]);
    const app = heroku.app(STAGE);
    assert(
      !('FEATURE_X' in app.configVars) && app.configVars.GREETING === 'hello world',
      `config vars are ${JSON.stringify(app.configVars)}`,
    );
    assertIncludes(r.stderr, `Unsetting FEATURE_X and restarting ${STAGE}... done, v${app.releases.at(-1)?.version}`, 'stderr');
  });

  await check('rollback', async () => {
    const v = deployVersion();
    const r = await ok(ctx, ['rollback', `v${v}`, '-a', STAGE]);
    const app = heroku.app(STAGE);
    const latest = app.releases.at(-1);
    assert(latest && latest.description === `Rollback to v${v}`, `the newest release is ${JSON.stringify(latest?.description)}`);
    assertIncludes(r.stderr, `Rolling back ${STAGE} to v${v}... done, v${latest.version}`, 'stderr');
    assert(
      heroku.state.currentRelease(app) === latest && heroku.state.releaseCommit(latest) === commit,
      'the rollback should be current and run the deployed commit',
    );
    assert(
      !('GREETING' in app.configVars),
      `a rollback restores the release's config vars, got ${JSON.stringify(app.configVars)}`,
    );
    await dynosUp(heroku, STAGE, 1);
  });

  await check('ps', async () => {
    await dynosUp(heroku, STAGE, 1);
    const r = await ok(ctx, ['ps', '-a', STAGE]);
    assertIncludes(r.stdout, '=== web (Basic): node server.js (1)', 'stdout');
    assert(/^web\.1: up /m.test(r.stdout), `stdout should show web.1 up:\n${indent(r.stdout)}`);
    const json = parseJson<Array<{ name: string; state: string; release: { version: number } }>>(
      await ok(ctx, ['ps', '-a', STAGE, '--json']),
    );
    const current = heroku.state.currentRelease(heroku.app(STAGE));
    assert(
      json.length === 1 && json[0]?.name === 'web.1' && json[0].release.version === current?.version,
      `ps --json: ${JSON.stringify(json)}`,
    );
  });

  await check('ps:scale web=0, web=1', async () => {
    const web = (): number | undefined => heroku.app(STAGE).formation.get('web')?.quantity;
    since();
    const down = await ok(ctx, ['ps:scale', 'web=0', '-a', STAGE]);
    assertIncludes(down.stderr, 'now running web at 0:Basic', 'stderr');
    assert(web() === 0, `web quantity is ${web()}`);
    assertRequest(heroku, mark, `PATCH /apps/${STAGE}/formation 200`);
    await eventually('no dynos', () => (heroku.platform.runtime(heroku.app(STAGE)).dynos.list().length === 0 ? true : undefined));
    const none = await ok(ctx, ['ps', '-a', STAGE]);
    assertIncludes(none.stdout, `No dynos on ${STAGE}`, 'stdout');
    const up = await ok(ctx, ['ps:scale', 'web=1', '-a', STAGE]);
    assertIncludes(up.stderr, 'now running web at 1:Basic', 'stderr');
    assert(web() === 1, `web quantity is ${web()}`);
    await dynosUp(heroku, STAGE, 1);
    const show = await ok(ctx, ['ps:scale', '-a', STAGE]);
    assert(show.stdout.trim() === 'web=1:Basic', `ps:scale without changes printed ${JSON.stringify(show.stdout)}`);
  });

  await check('ps:restart', async () => {
    await dynosUp(heroku, STAGE, 1);
    const before = heroku.platform.runtime(heroku.app(STAGE)).dynos.find('web.1')?.id;
    since();
    const r = await ok(ctx, ['ps:restart', '-a', STAGE]);
    assertIncludes(r.stderr, `Restarting all dynos on ${STAGE}... done`, 'stderr');
    assertRequest(heroku, mark, `DELETE /apps/${STAGE}/dynos 202`);
    await dynosUp(heroku, STAGE, 1);
    const after = heroku.platform.runtime(heroku.app(STAGE)).dynos.find('web.1')?.id;
    assert(before && after && before !== after, 'web.1 should be a new process after the restart');
  });

  await check('maintenance:on', async () => {
    const r = await ok(ctx, ['maintenance:on', '-a', STAGE]);
    assertIncludes(r.stderr, `Enabling maintenance mode for ${STAGE}... done`, 'stderr');
    assert(heroku.app(STAGE).maintenance, 'the app should be in maintenance');
    const page = await fetch(heroku.routerUrl(STAGE));
    assert(page.status === 503, `the app's router answered ${page.status} in maintenance`);
  });

  await check('maintenance (status)', async () => {
    const on = await ok(ctx, ['maintenance', '-a', STAGE]);
    assert(on.stdout.trim() === 'on', `maintenance printed ${JSON.stringify(on.stdout)}`);
  });

  await check('maintenance:off', async () => {
    const r = await ok(ctx, ['maintenance:off', '-a', STAGE]);
    assertIncludes(r.stderr, `Disabling maintenance mode for ${STAGE}... done`, 'stderr');
    assert(!heroku.app(STAGE).maintenance, 'the app should be out of maintenance');
    const off = await ok(ctx, ['maintenance', '-a', STAGE]);
    assert(off.stdout.trim() === 'off', `maintenance printed ${JSON.stringify(off.stdout)}`);
    const page = await fetch(heroku.routerUrl(STAGE));
    assert(page.status === 200, `the app's router answered ${page.status} after maintenance`);
  });

  await check('pipelines:create', async () => {
    const r = await ok(ctx, ['pipelines:create', PIPELINE, '-a', STAGE, '--stage', 'staging']);
    assertIncludes(r.stderr, `Adding ${STAGE} to ${PIPELINE} pipeline as staging... done`, 'stderr');
    const pipeline = heroku.state.findPipeline(PIPELINE);
    assert(
      pipeline.owner?.id === heroku.account.id && pipeline.owner.type === 'user',
      `pipeline owner ${JSON.stringify(pipeline.owner)}`,
    );
    const coupling = heroku.state.couplingForApp(heroku.app(STAGE).id);
    assert(coupling?.pipelineId === pipeline.id && coupling.stage === 'staging', `coupling ${JSON.stringify(coupling)}`);
  });

  await check('pipelines:add', async () => {
    await ok(ctx, ['pipelines:add', PIPELINE, '-a', PROD, '--stage', 'production']);
    const coupling = heroku.state.couplingForApp(heroku.app(PROD).id);
    assert(
      coupling?.pipelineId === heroku.state.findPipeline(PIPELINE).id && coupling.stage === 'production',
      `coupling ${JSON.stringify(coupling)}`,
    );
  });

  await check('pipelines:info', async () => {
    const r = await ok(ctx, ['pipelines:info', PIPELINE]);
    assertIncludes(r.stdout, `=== ${PIPELINE}`, 'stdout');
    assert(
      new RegExp(`^\\s*${STAGE}\\s+staging\\s*$`, 'm').test(r.stdout) &&
        new RegExp(`^\\s*${PROD}\\s+production\\s*$`, 'm').test(r.stdout),
      `stdout should list both apps and stages:\n${indent(r.stdout)}`,
    );
    const json = parseJson<{ pipeline: { name: string }; apps: Array<{ name: string; pipelineCoupling?: { stage: string } }> }>(
      await ok(ctx, ['pipelines:info', PIPELINE, '--json']),
    );
    const stages = Object.fromEntries(json.apps.map((a) => [a.name, a.pipelineCoupling?.stage]));
    assert(
      json.pipeline.name === PIPELINE && stages[STAGE] === 'staging' && stages[PROD] === 'production',
      `pipelines:info --json: ${JSON.stringify(stages)}`,
    );
  });

  await check('pipelines:promote', async () => {
    const prod = heroku.app(PROD);
    assert(!heroku.state.currentRelease(prod)?.slugId, `${PROD} should have no code before the promotion`);
    const r = await ok(ctx, ['pipelines:promote', '-a', STAGE]);
    assertIncludes(r.stdout, `Fetching apps from ${PIPELINE}...`, 'stdout');
    assertIncludes(r.stdout, 'Promotion successful', 'stdout');
    assert(/^cli-prod:\s+succeeded$/m.test(r.stdout), `stdout should show ${PROD} succeeded:\n${indent(r.stdout)}`);
    const source = heroku.state.currentRelease(heroku.app(STAGE));
    const promoted = heroku.state.currentRelease(prod);
    assert(source?.slugId && promoted?.slugId === source.slugId, `${PROD} should run ${STAGE}'s slug`);
    assert(heroku.state.releaseCommit(promoted) === commit, `${PROD} should run ${commit}`);
    await dynosUp(heroku, PROD, 1);
  });

  await check('logs -n 20', async () => {
    const logs = heroku.platform.logs(heroku.app(STAGE));
    for (let i = 0; i < 25; i++) await (await fetch(`${heroku.routerUrl(STAGE)}?hit=${i}`)).text();
    await eventually('the router line of the last request', () =>
      logs.recent(1)[0]?.includes('path="/?hit=24"') ? true : undefined,
    );
    const expected = logs.recent(20);
    const r = await ok(ctx, ['logs', '-a', STAGE, '-n', '20']);
    const lines = r.stdout.trimEnd().split('\n');
    assert(lines.length === 20, `logs -n 20 printed ${lines.length} lines:\n${indent(r.stdout)}`);
    assert(
      JSON.stringify(lines) === JSON.stringify(expected),
      `logs -n 20 should print the app's last 20 lines:\n${indent(expected.join('\n'))}\ngot:\n${indent(r.stdout)}`,
    );
    assert(
      lines.every((l) => / heroku\[router\]: at=info method=GET path="\/\?hit=\d+" .* status=200 /.test(l)),
      'the last 20 lines are the router lines of the requests just made',
    );
    const all = await ok(ctx, ['logs', '-a', STAGE]);
    assertIncludes(all.stdout, 'app[web.1]: sample-app listening on', 'logs (default 100 lines)');
  });

  await check(
    'run --exit-code: a one-off dyno over the rendezvous protocol passes its output and exit code through',
    async () => {
      since();
      const r = await ctx.cli(['run', '--exit-code', '-a', STAGE, '--', 'node', '-e', "console.log('hi'); process.exit(3)"]);
      assert(r.code === 3, `heroku run --exit-code exited ${r.code}, not 3; stdout:\n${indent(r.stdout)}`);
      assert(/^hi$/m.test(r.stdout), `stdout should have the line hi:\n${indent(r.stdout)}`);
      assert(!r.stdout.includes('heroku-command-exit-status'), `the marker should be stripped:\n${indent(r.stdout)}`);
      const post = heroku.api.requests.slice(mark).find((q) => q.method === 'POST' && q.path === `/apps/${STAGE}/dynos`);
      const body = (post?.body ?? {}) as { command?: string; attach?: boolean };
      assert(
        post?.status === 201 && body.attach === true && body.command?.endsWith(' ; echo "\uFFFF heroku-command-exit-status: $?"'),
        `POST /apps/${STAGE}/dynos: ${JSON.stringify(post)}`,
      );
      assert(heroku.rendezvous.hellos.length > 0, 'the CLI attached through the rendezvous server');
      await eventually('no one-off dyno left', () =>
        heroku.platform.runtime(heroku.app(STAGE)).oneOffs.list().length === 0 ? true : undefined,
      );
    },
  );

  await check('run:detached: the output goes to the log as app[run.N]', async () => {
    const r = await ok(ctx, ['run:detached', '-a', STAGE, '--', 'node', '-e', "console.log('detached hi')"]);
    const dyno = /--dyno (run\.\d+)/.exec(r.stdout)?.[1];
    assert(dyno, `run:detached should say which dyno to read logs of:\n${indent(r.stdout)}`);
    const logs = heroku.platform.logs(heroku.app(STAGE));
    await eventually(`app[${dyno}] in the log`, () =>
      logs.recent(1500).some((l) => l.endsWith(`app[${dyno}]: detached hi`)) ? true : undefined,
    );
    const shown = await ok(ctx, ['logs', '-a', STAGE, '--dyno', dyno]);
    assertIncludes(shown.stdout, `app[${dyno}]: detached hi`, 'heroku logs --dyno');
  });

  await check('HerokuCli@1 installs this CLI from a local assets server and runs a script with it', async () => {
    const from = heroku.api.requests.length;
    const assets = await startAssetsServer([{ version: CLI_VERSION, tarball: await standaloneTarball(ctx.installDir) }]);
    try {
      const tools = await ctx.tempDir('heroku-cli-tools-');
      const home = await ctx.tempDir('heroku-cli-task-home-');
      const script = [
        `heroku apps:info -a ${STAGE}`,
        `heroku releases -a ${STAGE}`,
        `heroku config:set FROM_TASK=yes -a ${STAGE}`,
      ].join('\n');
      const run = await runAgentTask({
        task: 'HerokuCliV1',
        inputs: { scriptType: 'bash', inlineScript: script, apiKey: heroku.apiKey, cliVersion: CLI_VERSION },
        variables: { HEROKU_API_URL: heroku.apiUrl, HEROKU_CLI_ASSETS_URL: assets.url, 'Agent.ToolsDirectory': tools },
        env: { HOME: home, TERM: 'dumb', NO_COLOR: '1', COLUMNS: '200', HEROKU_PARTICLEBOARD_URL: ctx.particleboardUrl },
        timeoutMs: 600_000,
      });
      const log = `${run.stdout}\n${run.stderr}`;
      assert(run.result === 'Succeeded', `the task failed (${run.message}):\n${indent(log)}`);
      assert(
        assets.requests.filter((r) => r.endsWith('.tar.gz')).length === 1,
        `the task should download the tarball once: ${assets.requests.join(', ')}`,
      );
      assertIncludes(
        run.log,
        `Heroku CLI downloaded and cached (${path.join(tools, 'heroku', CLI_VERSION, process.arch, 'bin')}): heroku/${CLI_VERSION}`,
        'the log',
      );
      assertIncludes(run.log, `=== ${STAGE}`, 'apps:info');
      assertIncludes(run.log, `Web URL:`, 'apps:info');
      assertIncludes(run.log, `=== ${STAGE} Releases - Current: v`, 'releases');
      assert(
        heroku.app(STAGE).configVars.FROM_TASK === 'yes',
        `config:set did not reach the emulator: ${JSON.stringify(heroku.app(STAGE).configVars)}`,
      );
      assertIncludes(
        run.log,
        `Setting FROM_TASK and restarting ${STAGE}... done, v${heroku.app(STAGE).releases.at(-1)?.version}`,
        'config:set',
      );
      assertRequest(heroku, from, `PATCH /apps/${STAGE}/config-vars 200`);
      assert(!run.printed.includes(heroku.apiKey), 'the key is printed nowhere');
      assert(!/terms of service/i.test(log), `the CLI printed its terms-of-service banner:\n${indent(log)}`);
    } finally {
      await assets.close();
    }
  });

  await check('every API answer of the run was a success or an expected error', () => {
    // apps:info asks for the app's pipeline coupling and takes a 404 as "not in a pipeline".
    const expected = [/^GET \/apps\/[^/]+\/pipeline-couplings 404$/];
    const unexpected = heroku.api.requests
      .map((r) => `${r.method} ${r.path} ${r.status}`)
      .filter((line) => !/ 20[0-6]$/.test(line) && !expected.some((e) => e.test(line)));
    assert(unexpected.length === 0, `unexpected answers:\n${indent(unexpected.join('\n'))}`);
    assert(heroku.api.violations.length === 0, `schema violations: ${JSON.stringify(heroku.api.violations)}`);
    return Promise.resolve();
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
