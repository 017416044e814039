// The environment of the CLI and the script: signed in by HEROKU_API_KEY for this process tree only,
// the CLI's config, cache and data in a folder made for this run (removed after; parallel jobs on
// one agent share nothing), update checks and analytics off, the API base and the agent's proxy and
// CA passed on.
import path from 'node:path';
import { DEFAULT_API_URL, DEFAULT_GIT_URL, type Endpoint } from '../base/endpoints';
import type { TaskLog } from '../base/log';
import { proxyUrlWithCredentials, type NetworkSettings, type ProxySettings } from '../base/network';

/** The CLI's state folders under `root` (the XDG ones, and oclif's own overrides, which macOS and Windows read). */
export function stateFolders(root: string) {
  const dirs = { config: path.join(root, 'config'), cache: path.join(root, 'cache'), data: path.join(root, 'data') };
  return {
    XDG_CONFIG_HOME: dirs.config,
    XDG_CACHE_HOME: dirs.cache,
    XDG_DATA_HOME: dirs.data,
    XDG_STATE_HOME: path.join(root, 'state'),
    HEROKU_CONFIG_DIR: path.join(dirs.config, 'heroku'),
    HEROKU_CACHE_DIR: path.join(dirs.cache, 'heroku'),
    HEROKU_DATA_DIR: path.join(dirs.data, 'heroku'),
  };
}

/** Switches read from the CLI's source (11.x): no update check, no background update, no telemetry or analytics. */
export const QUIET_CLI: Record<string, string> = {
  HEROKU_SKIP_NEW_VERSION_CHECK: 'true',
  HEROKU_DISABLE_AUTOUPDATE: 'true',
  DISABLE_TELEMETRY: 'true',
  HEROKU_SKIP_ANALYTICS: '1',
};

const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '::1'];

/**
 * The agent's proxy as the CLI reads it (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). The agent's bypass list
 * is regular expressions, which NO_PROXY cannot express: the Heroku hosts it bypasses, and this
 * machine, are listed.
 */
function proxyVariables(network: NetworkSettings, urls: string[], log: TaskLog): Record<string, string> {
  // Stryker disable next-line ConditionalExpression: without a proxy, proxyFor answers null for every URL, so the loop finds none and {} is returned below
  if (!network.proxyConfigured) return {};
  let proxy: ProxySettings | null = null;
  const bypassed: string[] = [];
  for (const url of urls) {
    const found = network.proxyFor(url);
    if (found) proxy ??= found;
    else bypassed.push(new URL(url).hostname);
  }
  if (!proxy) return {};
  const withCredentials = proxyUrlWithCredentials(proxy);
  if (proxy.password) log.secret(withCredentials);
  const noProxy = [...new Set([...LOOPBACK_HOSTS, ...bypassed])].join(',');
  return {
    HTTPS_PROXY: withCredentials,
    HTTP_PROXY: withCredentials,
    NO_PROXY: noProxy,
    https_proxy: withCredentials,
    http_proxy: withCredentials,
    no_proxy: noProxy,
  };
}

/** The name under which `env` holds PATH (`Path` on Windows). */
export function pathKey(env: NodeJS.ProcessEnv): string {
  return Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH';
}

export interface ScriptEnvironmentOptions {
  base: NodeJS.ProcessEnv;
  apiKey: string;
  api: Endpoint;
  network: NetworkSettings;
  /** Where the CLI keeps its state for this run. */
  stateRoot: string;
  /** URLs the CLI and the script will reach, for the proxy and its bypass list. */
  urls: string[];
  log: TaskLog;
}

/**
 * The agent's environment (task-lib has already taken this task's inputs, the connections' secrets
 * and secret variables out of it), plus the sign-in, the state folders, the switches, the API base
 * and the network.
 */
export function scriptEnvironment(options: ScriptEnvironmentOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...options.base };
  Object.assign(env, stateFolders(options.stateRoot), QUIET_CLI, {
    HEROKU_API_KEY: options.apiKey,
    ...proxyVariables(options.network, [options.api.url, DEFAULT_API_URL, DEFAULT_GIT_URL, ...options.urls], options.log),
  });
  if (options.api.isDefault) delete env.HEROKU_HOST;
  else env.HEROKU_HOST = options.api.url;
  if (options.network.caFile) env.NODE_EXTRA_CA_CERTS = options.network.caFile;
  return env;
}

/** `env` with `dir` first on its PATH. */
export function withPathFirst(env: NodeJS.ProcessEnv, dir: string): NodeJS.ProcessEnv {
  const key = pathKey(env);
  const rest = (env[key] ?? '').split(path.delimiter).filter((entry) => entry && entry !== dir);
  return { ...env, [key]: [dir, ...rest].join(path.delimiter) };
}
