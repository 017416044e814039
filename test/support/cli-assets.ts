// A local stand-in for Heroku's CLI downloads (cli-assets.heroku.com) in the standalone layout the
// task reads: the stable channel's build manifest, the versions index, each version's manifest, and
// small tarballs of a stand-in CLI whose `bin/heroku` prints the facts of its environment the tests
// check (never the key itself: its SHA-256). Every request is recorded; a tarball can be served
// altered (its manifest unchanged) to prove a checksum mismatch is refused.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { platformTarget } from '../../tasks/common/core/cli/assets';
import { runCommand, tempDir } from './git';

export const TARGET = platformTarget(process.platform, process.arch);
/** The host Heroku's manifests name: the task must fetch their paths from HEROKU_CLI_ASSETS_URL instead. */
const HEROKU_HOST = 'https://cli-assets.heroku.com';

/** The stand-in `heroku`: `--version` as the real one prints it; otherwise what it sees. */
function standInScript(version: string): string {
  return `#!/bin/sh
if [ "$1" = "--version" ]; then echo "heroku/${version} ${TARGET} node-v20.0.0 (stand-in)"; exit 0; fi
echo "stand-in heroku ${version}: $*"
echo "key-sha256=$(printf %s "$HEROKU_API_KEY" | sha256sum | cut -c1-64)"
for name in HEROKU_HOST XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME HEROKU_CONFIG_DIR HEROKU_SKIP_NEW_VERSION_CHECK HEROKU_DISABLE_AUTOUPDATE DISABLE_TELEMETRY HEROKU_SKIP_ANALYTICS HTTPS_PROXY HTTP_PROXY NO_PROXY NODE_EXTRA_CA_CERTS INPUT_APIKEY; do
  echo "$name=$(printenv "$name")"
done
[ -d "$XDG_CONFIG_HOME" ] && echo "config-dir-exists=yes"
[ -f "$HEROKU_CACHE_DIR/terms-of-service" ] && echo "terms-banner-shown=yes"
echo "script-argv=$(tr '\\0' ' ' < /proc/$PPID/cmdline)"
`;
}

/** A folder `heroku/` holding the stand-in CLI of `version` (as Heroku's tarballs hold the CLI). */
export async function standInCli(version: string): Promise<string> {
  const root = await tempDir('heroku-stand-in-');
  const bin = path.join(root, 'heroku', 'bin');
  await fs.mkdir(bin, { recursive: true });
  await fs.writeFile(path.join(bin, 'heroku'), standInScript(version), { mode: 0o755 });
  await fs.writeFile(path.join(root, 'heroku', 'package.json'), JSON.stringify({ name: 'heroku', version }));
  return root;
}

/** A build to serve: its version and tarball (a folder `heroku/`, gzipped). */
export interface CliTarball {
  version: string;
  tarball: Buffer;
}

interface Build extends CliTarball {
  hash: string;
  sha256: string;
}

export interface AssetsServer {
  url: string;
  /** `GET /path` of each request, in order. */
  requests: string[];
  /** Serve every tarball with one byte changed (manifests unchanged). */
  tamper: boolean;
  close(): Promise<void>;
}

/** `tar -czf` of the folder `heroku/` inside `root`. */
export async function packCli(root: string): Promise<Buffer> {
  const file = path.join(root, 'heroku.tar.gz');
  const packed = await runCommand('tar', ['-czf', file, 'heroku'], { cwd: root, timeoutMs: 600_000 });
  if (packed.code !== 0) throw new Error(`tar failed: ${packed.stderr}`);
  const tarball = await fs.readFile(file);
  await fs.rm(file, { force: true });
  return tarball;
}

/** The stand-in CLI of each version, packed. */
export async function standInBuilds(versions: string[]): Promise<CliTarball[]> {
  return Promise.all(
    versions.map(async (version) => {
      const root = await standInCli(version);
      const tarball = await packCli(root);
      await fs.rm(root, { recursive: true, force: true });
      return { version, tarball };
    }),
  );
}

/** Serves `tarballs` in Heroku's layout; the last one is the stable channel's. */
export async function startAssetsServer(tarballs: CliTarball[]): Promise<AssetsServer> {
  const builds: Build[] = tarballs.map((t, i) => ({
    ...t,
    hash: `abc${i}def0`,
    sha256: createHash('sha256').update(t.tarball).digest('hex'),
  }));
  const stable = builds.at(-1)!;
  const versioned = (b: Build, suffix: string): string =>
    `/versions/${b.version}/${b.hash}/heroku-v${b.version}-${b.hash}-${TARGET}${suffix}`;
  const manifest = (b: Build, gz: string): string =>
    JSON.stringify({
      version: b.version,
      sha: b.hash,
      gz: `${HEROKU_HOST}${gz}`,
      sha256gz: b.sha256,
      baseDir: 'heroku',
      rollout: 100,
    });
  const routes = new Map<string, () => { type: string; body: Buffer | string }>();
  const stableGz = `/channels/stable/heroku-v${stable.version}-${stable.hash}-${TARGET}.tar.gz`;
  routes.set(`/channels/stable/heroku-${TARGET}-buildmanifest`, () => ({
    type: 'application/json',
    body: manifest(stable, stableGz),
  }));
  routes.set(`/versions/heroku-${TARGET}-tar-gz.json`, () => ({
    type: 'application/json',
    body: JSON.stringify(Object.fromEntries(builds.map((b) => [b.version, `${HEROKU_HOST}${versioned(b, '.tar.gz')}`]))),
  }));
  const state: AssetsServer = { url: '', requests: [], tamper: false, close: () => Promise.resolve() };
  const tarball = (b: Build) => () => {
    const body = Buffer.from(b.tarball);
    if (state.tamper) body[body.length - 10] = (body[body.length - 10] ?? 0) ^ 0xff;
    return { type: 'application/gzip', body };
  };
  routes.set(stableGz, tarball(stable));
  for (const b of builds) {
    routes.set(versioned(b, '-buildmanifest'), () => ({ type: 'application/json', body: manifest(b, versioned(b, '.tar.gz')) }));
    routes.set(versioned(b, '.tar.gz'), tarball(b));
  }
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    state.requests.push(`${req.method} ${url}`);
    const route = routes.get(url);
    if (!route) {
      res.writeHead(404, { 'Content-Type': 'application/xml' }).end('<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    const { type, body } = route();
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(at, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const file = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(file);
      else if (entry.isFile() && (await fs.readFile(file)).includes(needle)) found.push(file);
    }
  };
  await walk(dir);
  return found;
}
