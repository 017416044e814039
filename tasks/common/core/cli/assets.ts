// Heroku's standalone CLI builds, in the layout its own install-standalone.sh and `heroku update`
// read (oclif's): per OS and architecture, a channel's build manifest
// (`channels/stable/heroku-linux-x64-buildmanifest`: version, tarball URL, its SHA-256), and an
// index of every version (`versions/heroku-linux-x64-tar-gz.json`: version -> tarball URL) whose
// own build manifest sits beside its tarball. HEROKU_CLI_ASSETS_URL replaces the host (a mirror).
import { parseBaseUrl, type BaseUrlProblem } from '../base/endpoints';
import { TaskError } from '../base/errors';
import type { Fetcher } from './download';
import type { Assets } from './types';

export const DEFAULT_ASSETS_URL = 'https://cli-assets.heroku.com';

/** An exact version as Heroku numbers its CLI: `11.10.0`, `10.0.0-beta.1`. */
export const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/** The download host: HEROKU_CLI_ASSETS_URL (https, or http on this machine only) or Heroku's. */
export function resolveAssets(value: string | undefined): Assets {
  const raw = (value ?? '').trim();
  if (!raw) return { url: DEFAULT_ASSETS_URL, isDefault: true };
  const parsed = parseBaseUrl(raw);
  if (parsed.ok) return { url: parsed.url, isDefault: parsed.url === DEFAULT_ASSETS_URL };
  const messages: Record<BaseUrlProblem, string> = {
    'not-a-url': `The variable HEROKU_CLI_ASSETS_URL ("${raw}") is not a URL: give the base URL of a mirror of ${DEFAULT_ASSETS_URL}, or remove the variable.`,
    scheme: `The variable HEROKU_CLI_ASSETS_URL must be an https URL (plain http only on this machine: 127.0.0.1, localhost, ::1), not ${parsed.protocol}: the CLI it installs runs with the API key.`,
    'plain-http': `The variable HEROKU_CLI_ASSETS_URL must be an https URL (plain http only on this machine: 127.0.0.1, localhost, ::1), not ${parsed.origin}: the CLI it installs runs with the API key.`,
    credentials: 'The variable HEROKU_CLI_ASSETS_URL must be a plain base URL, without credentials, query or fragment.',
    query: 'The variable HEROKU_CLI_ASSETS_URL must be a plain base URL, without credentials, query or fragment.',
  };
  throw new TaskError('input', messages[parsed.problem]);
}

const OS: Partial<Record<NodeJS.Platform, string>> = { linux: 'linux', darwin: 'darwin', win32: 'win32' };
const ARCH: Record<string, string> = { x64: 'x64', arm64: 'arm64', arm: 'arm', ia32: 'x86' };

/** `linux-x64`, `win32-x64`, `darwin-arm64`: how Heroku names a build's target. */
export function platformTarget(platform: NodeJS.Platform, arch: string): string {
  const os = OS[platform];
  const cpu = ARCH[arch];
  if (!os || !cpu)
    throw new TaskError(
      'input',
      `Heroku publishes no standalone CLI for ${platform}-${arch}: install the CLI on the agent yourself (it is then found on PATH) and leave cliVersion empty.`,
    );
  return `${os}-${cpu}`;
}

/** A build to download: its version, tarball URL and SHA-256, and the folder the tarball holds. */
export interface CliBuild {
  version: string;
  url: string;
  sha256: string;
  baseDir: string;
}

/** A URL from Heroku's files, moved onto the assets host: a mirror holds the same paths. */
function onAssetsHost(assets: Assets, url: string): string {
  const path = /^https?:\/\//i.test(url) ? new URL(url).pathname : `/${url}`;
  // Stryker disable next-line Regex: the path always starts with '/', so the first run of slashes is the leading one, anchored or not
  return `${assets.url}/${path.replace(/^\/+/, '')}`;
}

function parseManifest(body: unknown, assets: Assets, where: string, target: string): CliBuild {
  const m = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  // Stryker disable next-line StringLiteral: any non-version placeholder fails EXACT_VERSION just below, with the same message
  const version = typeof m.version === 'string' ? m.version : '';
  // Stryker disable next-line StringLiteral: any placeholder that is not 64 hex digits fails the check just below, with the same message
  const sha256 = typeof m.sha256gz === 'string' ? m.sha256gz.toLowerCase() : '';
  const sha = typeof m.sha === 'string' ? m.sha : '';
  const gz = typeof m.gz === 'string' ? m.gz : sha ? `versions/${version}/${sha}/heroku-v${version}-${sha}-${target}.tar.gz` : '';
  if (!EXACT_VERSION.test(version) || !/^[0-9a-f]{64}$/.test(sha256) || !gz)
    throw new TaskError(
      'network',
      `The build manifest at ${where} is not one of Heroku's (it needs version, gz and sha256gz): check HEROKU_CLI_ASSETS_URL.`,
    );
  return {
    version,
    url: onAssetsHost(assets, gz),
    sha256,
    baseDir: typeof m.baseDir === 'string' && m.baseDir ? m.baseDir : 'heroku',
  };
}

/** The newest build of the stable channel. */
export async function stableBuild(assets: Assets, target: string, http: Fetcher): Promise<CliBuild> {
  const url = `${assets.url}/channels/stable/heroku-${target}-buildmanifest`;
  return parseManifest(await http.json(url, "the Heroku CLI's stable build manifest"), assets, url, target);
}

/** The build of an exact version: the versions index gives its tarball, whose manifest gives its SHA-256. */
export async function versionBuild(assets: Assets, target: string, version: string, http: Fetcher): Promise<CliBuild> {
  const indexUrl = `${assets.url}/versions/heroku-${target}-tar-gz.json`;
  const index = await http.json(indexUrl, "the Heroku CLI's versions index");
  // Stryker disable next-line ConditionalExpression: any other JSON value has no version as a key either (a string's keys are its indexes), so the same message follows
  const isObject = typeof index === 'object';
  const entries = isObject && index !== null ? (index as Record<string, unknown>) : {};
  const tarball = entries[version];
  if (typeof tarball !== 'string') {
    const known = Object.keys(entries).filter((v) => EXACT_VERSION.test(v));
    const recent = known.slice(-5).join(', ');
    throw new TaskError(
      'input',
      `Heroku CLI ${version} does not exist for ${target} (${indexUrl} lists ${known.length} versions${recent ? `, the last ones ${recent}` : ''}): set cliVersion to one of them, or to stable.`,
    );
  }
  const parts = new URL(tarball, `${assets.url}/`).pathname.split('/');
  // Stryker disable next-line StringLiteral: any placeholder that is not 7-40 hex digits fails the build-hash check just below, with the same message
  const hash = parts[parts.indexOf(version) + 1] ?? '';
  if (!/^[0-9a-f]{7,40}$/.test(hash))
    throw new TaskError(
      'network',
      `The versions index at ${indexUrl} gives ${version} a URL without its build hash: check HEROKU_CLI_ASSETS_URL.`,
    );
  const manifestUrl = `${assets.url}/versions/${version}/${hash}/heroku-v${version}-${hash}-${target}-buildmanifest`;
  const build = parseManifest(
    await http.json(manifestUrl, `the build manifest of Heroku CLI ${version}`),
    assets,
    manifestUrl,
    target,
  );
  if (build.version !== version)
    throw new TaskError(
      'network',
      `The build manifest at ${manifestUrl} is for ${build.version}, not ${version}: check HEROKU_CLI_ASSETS_URL.`,
    );
  return { ...build, url: onAssetsHost(assets, tarball) };
}
