// The agent's proxy and CA settings, and what they mean for git. How HTTP requests apply them is
// in http-transport.ts, loaded with the HTTP stack on first use (http-loader.ts).
import { readFileSync } from 'node:fs';
import { isLoopback } from './endpoints';
import { TaskError, errorMessage } from './errors';

export interface ProxySettings {
  url: string;
  username?: string;
  password?: string;
}

export interface NetworkSettings {
  /** The proxy for a URL, or null when there is none or the URL is on the bypass list. */
  proxyFor(url: string): ProxySettings | null;
  /** Whether the agent has a proxy at all (a URL it bypasses must then go direct, explicitly). */
  proxyConfigured: boolean;
  /** A CA bundle to trust besides the system's (the agent's Agent.CAInfo). */
  caFile?: string;
}

export const DIRECT: NetworkSettings = { proxyFor: () => null, proxyConfigured: false };

/**
 * The proxy for `url`: none for this machine itself (loopback), whatever the agent's bypass list
 * says, so that a key sent to a local stand-in over plain http never passes a proxy in clear.
 */
export function proxyFor(url: string, network: NetworkSettings): ProxySettings | null {
  return isLoopback(new URL(url).hostname) ? null : network.proxyFor(url);
}

/** `http://user:pass@proxy:8080` — the form git's http.proxy takes. */
export function proxyUrlWithCredentials(proxy: ProxySettings): string {
  const url = new URL(proxy.url);
  if (proxy.username) url.username = encodeURIComponent(proxy.username);
  if (proxy.password) url.password = encodeURIComponent(proxy.password);
  return url.href.replace(/\/$/, '');
}

/**
 * The agent's CA bundle (Agent.CAInfo), read now: a file that cannot be read fails the task before
 * anything is asked of Heroku, not at its first request.
 */
export function agentCa(network: NetworkSettings): Buffer | undefined {
  const caFile = network.caFile;
  if (!caFile) return undefined;
  try {
    return readFileSync(caFile);
  } catch (error) {
    throw new TaskError(
      'input',
      `The agent's CA file (Agent.CAInfo) ${caFile} cannot be read: ${errorMessage(error)}. Fix the agent's certificate settings.`,
    );
  }
}

/** git configuration (for GIT_CONFIG_* entries) applying the proxy and CA to one URL. */
export function gitNetworkConfig(url: string, network: NetworkSettings): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  const proxy = proxyFor(url, network);
  // An empty http.proxy makes git go direct (ignoring http_proxy): right for a bypassed URL.
  if (proxy) entries.push([`http.${url}.proxy`, proxyUrlWithCredentials(proxy)]);
  else if (network.proxyConfigured) entries.push([`http.${url}.proxy`, '']);
  if (network.caFile) entries.push([`http.${url}.sslCAInfo`, network.caFile]);
  return entries;
}
