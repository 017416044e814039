// The real Heroku CLI from the npm registry, packed as Heroku packs its standalone builds (what
// install-standalone.sh and `heroku update` download): a folder `heroku/` with `bin/heroku`, its
// own `bin/node`, the package and its node_modules, gzipped. Packed once per version next to the
// npm install, so that HerokuCli@1 can install it from a local assets server.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../support/git';

/** What oclif's standalone `bin/heroku` does, without its redirect to an auto-updated client: run bin/run.js with bin/node. */
const LAUNCHER = `#!/usr/bin/env bash
set -e
DIR="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
exec "$DIR/node" --no-deprecation "$DIR/run.js" "$@"
`;

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const result = await runCommand(command, args, { cwd, timeoutMs: 600_000 });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}):\n${result.stderr}`);
}

/** The standalone tarball of the CLI npm installed under `installDir` (node_modules/heroku), made once. */
export async function standaloneTarball(installDir: string): Promise<Buffer> {
  const tarball = path.join(installDir, 'heroku-standalone.tar.gz');
  if (existsSync(tarball)) return fs.readFile(tarball);
  console.log(`Packing the CLI in ${installDir} as a standalone build (once)...`);
  const root = await fs.mkdtemp(path.join(installDir, 'standalone-'));
  try {
    const cli = path.join(root, 'heroku');
    // The hoisted dependencies first, then the package over them (its own nested node_modules win).
    await fs.mkdir(path.join(cli, 'node_modules'), { recursive: true });
    await run('cp', ['-a', `${path.join(installDir, 'node_modules')}/.`, path.join(cli, 'node_modules')], root);
    await fs.rm(path.join(cli, 'node_modules', 'heroku'), { recursive: true, force: true });
    await fs.rm(path.join(cli, 'node_modules', '.bin'), { recursive: true, force: true });
    await run('cp', ['-a', `${path.join(installDir, 'node_modules', 'heroku')}/.`, cli], root);
    await fs.writeFile(path.join(cli, 'bin', 'heroku'), LAUNCHER, { mode: 0o755 });
    await fs.copyFile(process.execPath, path.join(cli, 'bin', 'node'));
    await fs.chmod(path.join(cli, 'bin', 'node'), 0o755);
    const partial = `${tarball}.partial`;
    await run('tar', ['-czf', partial, 'heroku'], root);
    await fs.rename(partial, tarball);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
  return fs.readFile(tarball);
}
