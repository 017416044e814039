// A build, as Heroku's Node.js buildpack does it for a git push or a Builds API source: detect the
// app, run its build scripts for real, read the Procfile, and print what Heroku prints.
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { App } from '../state';
import { dynoEnv, killGroup, pipeLines, spawnCommand } from './dynos';

export class BuildFailure extends Error {
  /** Heroku's reason, as it prints it after ` !     `: `Push rejected, failed to compile Node.js app.` */
  constructor(readonly reason: string) {
    super(reason);
  }
}

export interface CompileResult {
  processTypes: Record<string, string>;
  size: number;
  checksum: string;
  buildpackDescription: string;
}

export interface CompileInput {
  app: App;
  /** The checked-out source; it becomes the slug. */
  dir: string;
  /** Receives each output line, without git's `remote: ` prefix. */
  out: (line: string) => void;
  /** A failure the test asked for (faults.failNextBuild), or undefined. */
  injectedFailure: string | undefined;
  /** Resolves if the push or build is abandoned mid-way. */
  aborted: Promise<void>;
  /** Where build scripts are listed while they run. */
  processes: Set<ChildProcess>;
}

const INDENT = '       ';

export function parseProcfile(text: string): Record<string, string> {
  const types: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^([A-Za-z0-9_-]+):\s*(.+?)\s*$/.exec(line);
    if (match?.[1] && match[2]) types[match[1]] = match[2];
  }
  return types;
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function treeStats(dir: string): Promise<{ size: number; checksum: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const walk = async (current: string): Promise<void> => {
    const entries = (await fs.readdir(current, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const data = await fs.readFile(full);
        size += data.length;
        hash.update(path.relative(dir, full)).update(data);
      }
    }
  };
  await walk(dir);
  return { size, checksum: `SHA256:${hash.digest('hex')}` };
}

export function humanSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)}M`;
  return `${(bytes / 1024).toFixed(1)}K`;
}

/** Runs one package.json script as the buildpack does, its output indented under the step. */
async function runScript(input: CompileInput, name: string, script: string, pkgName: string, version: string): Promise<number> {
  const { out, dir } = input;
  out(`${INDENT}Running ${name}`);
  out(INDENT);
  out(`${INDENT}> ${pkgName}@${version} ${name}`);
  out(`${INDENT}> ${script}`);
  out(INDENT);
  const env = dynoEnv(
    input.app.configVars,
    { NODE_ENV: 'production', PATH: `${path.join(dir, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
    dir,
  );
  const child = spawnCommand(script, dir, env, input.processes);
  pipeLines(child, (line) => out(`${INDENT}${line}`));
  const code = await Promise.race([
    new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1))),
    input.aborted.then(() => {
      killGroup(child, 'SIGKILL');
      return 130;
    }),
  ]);
  out(INDENT);
  return code;
}

function failNode(out: (line: string) => void, details: string[]): never {
  out('-----> Build failed');
  out(INDENT);
  for (const line of details) out(`${INDENT}${line}`);
  out(INDENT);
  out(`${INDENT}We're sorry this build is failing! You can troubleshoot common issues here:`);
  out(`${INDENT}https://devcenter.heroku.com/articles/troubleshooting-node-deploys`);
  out(INDENT);
  out(`${INDENT}If you're stuck, please submit a ticket so we can help:`);
  out(`${INDENT}https://help.heroku.com/`);
  out(INDENT);
  out(`${INDENT}Love,`);
  out(`${INDENT}Heroku`);
  out(INDENT);
  throw new BuildFailure('Push rejected, failed to compile Node.js app.');
}

/** Compiles `input.dir` in place into a slug. Throws BuildFailure with Heroku's reason. */
export async function compile(input: CompileInput): Promise<CompileResult> {
  const { app, dir, out } = input;
  const stackLabel = app.stack.replace(/^heroku/, 'Heroku');
  const pkg = await readJson(path.join(dir, 'package.json'));
  if (app.generation === 'fir') return compileFir(input, pkg);

  out(`-----> Building on the ${stackLabel} stack`);
  if (app.buildpacks.length > 0) {
    out('-----> Using buildpacks:');
    app.buildpacks.forEach((bp, i) => out(`${INDENT}${i + 1}. ${bp.name}`));
  } else {
    out('-----> Determining which buildpack to use for this app');
  }
  if (!pkg) {
    if (app.buildpacks.length > 0) {
      out(`-----> App not compatible with buildpack: ${app.buildpacks[0]?.url ?? ''}`);
      out(`${INDENT}More info: https://devcenter.heroku.com/articles/buildpacks#detection-failure`);
      throw new BuildFailure('Push failed');
    }
    out(' !     No default language could be detected for this app.');
    out('\t\t\tHINT: This occurs when Heroku cannot detect the buildpack to use for this application automatically.');
    out('\t\t\tSee https://devcenter.heroku.com/articles/buildpacks');
    throw new BuildFailure('Push failed');
  }

  const engines = (pkg.engines ?? {}) as Record<string, string>;
  const scripts = (pkg.scripts ?? {}) as Record<string, string>;
  const pkgName = typeof pkg.name === 'string' ? pkg.name : 'app';
  const version = typeof pkg.version === 'string' ? pkg.version : '1.0.0';
  const nodeVersion = process.versions.node;
  out('-----> Node.js app detected');
  out(INDENT);
  out('-----> Creating runtime environment');
  out(INDENT);
  out(`${INDENT}NPM_CONFIG_LOGLEVEL=error`);
  out(`${INDENT}NODE_VERBOSE=false`);
  out(`${INDENT}NODE_ENV=production`);
  out(`${INDENT}NODE_MODULES_CACHE=true`);
  out(INDENT);
  out('-----> Installing binaries');
  out(`${INDENT}engines.node (package.json):   ${engines.node ?? 'unspecified'}`);
  out(`${INDENT}engines.npm (package.json):    ${engines.npm ?? 'unspecified (use default)'}`);
  out(INDENT);
  out(`${INDENT}Resolving node version ${engines.node ?? '22.x'}...`);
  out(`${INDENT}Downloading and installing node ${nodeVersion}...`);
  out(INDENT);
  out('-----> Installing dependencies');
  out(`${INDENT}Installing node modules (package.json)`);
  out(INDENT);
  out(`${INDENT}up to date, audited 1 package in 1s`);
  out(INDENT);
  out(`${INDENT}found 0 vulnerabilities`);
  out(INDENT);
  out('-----> Build');
  const buildScript =
    scripts['heroku-postbuild'] !== undefined ? 'heroku-postbuild' : scripts.build !== undefined ? 'build' : undefined;
  if (input.injectedFailure) {
    out(`${INDENT}Running build`);
    out(INDENT);
    out(`${INDENT}${input.injectedFailure}`);
    failNode(out, ['npm ERR! code ELIFECYCLE', 'npm ERR! errno 1']);
  }
  if (buildScript) {
    const code = await runScript(input, buildScript, scripts[buildScript] as string, pkgName, version);
    if (code !== 0)
      failNode(out, [
        'npm ERR! code ELIFECYCLE',
        `npm ERR! errno ${code}`,
        `npm ERR! ${pkgName}@${version} ${buildScript}: \`${scripts[buildScript]}\``,
        `npm ERR! Exit status ${code}`,
      ]);
  }
  out(INDENT);
  out('-----> Caching build');
  out(`${INDENT}- npm cache`);
  out(INDENT);
  out('-----> Pruning devDependencies');
  out(`${INDENT}up to date, audited 1 package in 1s`);
  out(INDENT);
  out('-----> Build succeeded!');

  const processTypes = await processTypesOf(dir, scripts);
  out('-----> Discovering process types');
  const declared = Object.keys(processTypes).sort();
  if (await exists(path.join(dir, 'Procfile'))) out(`${INDENT}Procfile declares types     -> ${declared.join(', ') || '(none)'}`);
  else {
    out(`${INDENT}Procfile declares types     -> (none)`);
    out(`${INDENT}Default types for buildpack -> web`);
  }
  out('');
  const stats = await treeStats(dir);
  out('-----> Compressing...');
  out(`${INDENT}Done: ${humanSize(stats.size)}`);
  return { processTypes, size: stats.size, checksum: stats.checksum, buildpackDescription: 'Node.js' };
}

async function processTypesOf(dir: string, scripts: Record<string, string>): Promise<Record<string, string>> {
  const procfile = path.join(dir, 'Procfile');
  if (await exists(procfile)) return parseProcfile(await fs.readFile(procfile, 'utf8'));
  return scripts.start !== undefined ? { web: 'npm start' } : {};
}

/** Fir builds with Cloud Native Buildpacks and prints the lifecycle's phases. */
async function compileFir(input: CompileInput, pkg: Record<string, unknown> | undefined): Promise<CompileResult> {
  const { dir, out } = input;
  out('===> ANALYZING');
  out('===> DETECTING');
  if (!pkg) {
    out('ERROR: No buildpack groups passed detection.');
    out('ERROR: failed to detect: buildpack(s) failed with err');
    throw new BuildFailure('Build failed');
  }
  out('heroku/nodejs-engine   3.4.0');
  out('heroku/nodejs-npm-install 3.4.0');
  out('===> RESTORING');
  out('===> BUILDING');
  out('');
  out('## Heroku Node.js Engine');
  out('');
  out(`- Installing Node.js ${process.versions.node}`);
  const scripts = (pkg.scripts ?? {}) as Record<string, string>;
  if (input.injectedFailure) {
    out(`! ${input.injectedFailure}`);
    out('ERROR: failed to build: exit status 1');
    throw new BuildFailure('Build failed');
  }
  const buildScript =
    scripts['heroku-postbuild'] !== undefined ? 'heroku-postbuild' : scripts.build !== undefined ? 'build' : undefined;
  if (buildScript) {
    const code = await runScript(
      input,
      buildScript,
      scripts[buildScript] as string,
      typeof pkg.name === 'string' ? pkg.name : 'app',
      typeof pkg.version === 'string' ? pkg.version : '1.0.0',
    );
    if (code !== 0) {
      out('ERROR: failed to build: exit status 1');
      throw new BuildFailure('Build failed');
    }
  }
  out('- Done');
  out('===> EXPORTING');
  const processTypes = await processTypesOf(dir, scripts);
  const stats = await treeStats(dir);
  out(`Adding 1/1 app layer(s)`);
  out(`Setting default process type 'web'`);
  out(`Saving ${input.app.name}...`);
  out(`*** Images (sha256:${stats.checksum.slice(7, 71)}):`);
  return { processTypes, size: stats.size, checksum: stats.checksum, buildpackDescription: 'Node.js' };
}
