// How an HTTP request reaches a URL: axios's Node adapter with the agent's proxy (https through a
// CONNECT tunnel) and CA. Loaded with axios and Node's http, https, http2, tls and zlib on first use,
// never at start-up: import it only through http-loader.ts.
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { AxiosProxyConfig } from 'axios';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { agentCa, proxyFor, proxyUrlWithCredentials, type NetworkSettings } from './network';

export { default as axios } from 'axios';

/** The roots a TLS connection trusts: the usual ones plus the agent's CA, or undefined for Node's defaults. */
export function trustedCa(network: NetworkSettings): string[] | undefined {
  const ca = agentCa(network);
  return ca ? [...tls.rootCertificates, ca.toString('utf8')] : undefined;
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
