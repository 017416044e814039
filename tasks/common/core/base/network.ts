// The agent's proxy and CA, applied to the API client and to git.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { AxiosProxyConfig } from 'axios';
import { HttpsProxyAgent } from 'https-proxy-agent';
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

/** The roots a TLS connection trusts: the usual ones plus the agent's CA, or undefined for Node's defaults. */
export function trustedCa(network: NetworkSettings): string[] | undefined {
  const ca = readCa(network.caFile);
  return ca ? [...tls.rootCertificates, ca.toString('utf8')] : undefined;
}

function readCa(caFile: string | undefined): Buffer | undefined {
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

/**
 * A CONNECT-tunnelling agent whose TLS to the target trusts `trust.ca` too. https-proxy-agent applies
 * its constructor's TLS options to the proxy connection only, not to the server behind it.
 */
class TrustingProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly trust: { ca?: string[] },
  ) {
    super(proxy, { keepAlive: true, ...trust });
  }

  override connect(
    req: http.ClientRequest,
    opts: Parameters<HttpsProxyAgent<string>['connect']>[1],
  ): ReturnType<HttpsProxyAgent<string>['connect']> {
    return super.connect(req, { ...opts, ...this.trust });
  }
}

/** axios's settings for one URL: its Node http adapter (the only one bundled), agents and proxy. */
export interface HttpTransport {
  adapter: 'http';
  proxy: AxiosProxyConfig | false;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}

/**
 * How axios reaches `url`: through the agent's proxy if it has one (https by a CONNECT tunnel,
 * plain http as an ordinary proxied request), trusting the agent's CA besides the usual roots.
 */
export function httpTransport(url: string, network: NetworkSettings): HttpTransport {
  const proxy = proxyFor(url, network);
  const ca = trustedCa(network);
  // Stryker disable next-line ConditionalExpression: without a CA file, { ca: undefined } is Node's default trust just as {} is (the false variant is killed by the CA tests)
  const trust = ca ? { ca } : {};
  const adapter = 'http';
  const httpAgent = new http.Agent({ keepAlive: true });
  if (!proxy) return { adapter, proxy: false, httpAgent, httpsAgent: new https.Agent({ keepAlive: true, ...trust }) };
  const httpsAgent = new TrustingProxyAgent(proxyUrlWithCredentials(proxy), trust);
  if (new URL(url).protocol === 'https:') return { adapter, proxy: false, httpAgent, httpsAgent };
  const through = new URL(proxy.url);
  return {
    adapter,
    proxy: {
      // Stryker disable next-line Regex: a URL's protocol has one colon, its last character, so /:/ removes the same one
      protocol: through.protocol.replace(/:$/, ''),
      host: through.hostname,
      port: Number(through.port || (through.protocol === 'https:' ? 443 : 80)),
      ...(proxy.username ? { auth: { username: proxy.username, password: proxy.password ?? '' } } : {}),
    },
    httpAgent,
    httpsAgent,
  };
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
