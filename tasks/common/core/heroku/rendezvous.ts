// Heroku's rendezvous protocol, how an attached one-off dyno is reached (as Heroku's CLI does it in
// src/lib/run/dyno.ts, `_rendezvous`): TLS to the attach_url's host and port, then the URL's path
// and query without the leading `/`, then `\r\n`; the dyno's output follows on the same connection.
// The agent's CA applies, and its proxy with a CONNECT tunnel when one is set for that host.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { TaskError, cancelled, errorMessage } from '../base/errors';
import { trustedCa } from '../base/http-transport';
import { proxyFor, type NetworkSettings, type ProxySettings } from '../base/network';

/** Time to reach the rendezvous host (through the proxy, TLS included). */
const CONNECT_TIMEOUT_MS = 30_000;
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|HOSTNAME/i;

export interface AttachTarget {
  host: string;
  port: number;
  /** What the client sends first: the URL's path and query without the leading `/`. */
  secret: string;
}

/**
 * The target of a `rendezvous://host:port/secret` attach URL. An http(s) attach URL is the SSH-based
 * attach Heroku's CLI uses for some dynos (an `Upgrade: tcp` request, then the ssh client with the
 * user's key): the task cannot use it and says so.
 */
export function attachTarget(attachUrl: string): AttachTarget {
  let url: URL;
  try {
    url = new URL(attachUrl);
  } catch {
    throw new TaskError('api', `Heroku gave the one-off dyno an attach URL the task cannot read (${attachUrl.slice(0, 40)}…).`);
  }
  if (url.protocol !== 'rendezvous:')
    throw new TaskError(
      'api',
      // Stryker disable next-line Regex: a URL's protocol holds exactly one colon, its last character, so /:/ removes the same one
      `Heroku attaches this dyno over ${url.protocol.replace(/:$/, '')} (SSH through an HTTP upgrade, as for Private Spaces with Shield and Fir apps), not the rendezvous protocol this task speaks. Run the command with HerokuCli@1 (\`heroku run --exit-code\`), which uses the ssh client and your SSH key.`,
    );
  return { host: unbracketed(url.hostname), port: Number(url.port || 5000), secret: `${url.pathname}${url.search}`.slice(1) };
}

/** A URL's hostname as sockets take it: an IPv6 address without its brackets. */
// Stryker disable next-line Regex: a URL's hostname holds brackets only around a whole IPv6 address, so either anchor alone finds the same pair
const unbracketed = (hostname: string): string => hostname.replace(/^\[(.*)\]$/, '$1');

/** host:port as a URL or a CONNECT request writes it: an IPv6 address in brackets. */
const authorityOf = (target: AttachTarget): string =>
  `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;

/**
 * Opens a CONNECT tunnel through `proxy` to host:port (an https proxy's certificate checked against
 * the agent's CA too); a refusal is explained with the port.
 */
function tunnel(proxy: ProxySettings, target: AttachTarget, network: NetworkSettings, signal: AbortSignal): Promise<Socket> {
  const through = new URL(proxy.url);
  const authority = authorityOf(target);
  const headers: Record<string, string> = { Host: authority };
  if (proxy.username)
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}`;
  const secure = through.protocol === 'https:';
  const proxyHost = unbracketed(through.hostname);
  const client = secure ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request({
      host: proxyHost,
      port: Number(through.port || (secure ? 443 : 80)),
      // The proxy's own name checks its certificate (Node would take the Host header: the target's).
      // An IP address is sent as no name at all, and checked as the address.
      ...(secure ? { ca: trustedCa(network), servername: net.isIP(proxyHost) ? '' : proxyHost } : {}),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      signal,
    });
    request.once('connect', (answer, socket) => {
      if (answer.statusCode === 200) return resolve(socket);
      socket.destroy();
      // Stryker disable next-line StringLiteral: Node's HTTP parser gives every response a status code and a message ('' when the proxy sent none), so neither fallback shows
      const status = `${answer.statusCode ?? '?'} ${answer.statusMessage ?? ''}`;
      reject(
        new TaskError(
          'network',
          `The agent's proxy ${through.host} refused to open a tunnel to ${authority} (HTTP ${status}). One-off dynos are attached over TLS on port ${target.port} of Heroku's rendezvous hosts, not on 443: ask for CONNECT to port ${target.port} to be allowed through the proxy (or ${target.host} to bypass it), or run the job on an agent that can reach it.`,
        ),
      );
    });
    request.once('error', (error) =>
      reject(
        signal.aborted
          ? error
          : new TaskError(
              'network',
              `Could not reach the agent's proxy ${through.host} to attach to the dyno: ${errorMessage(error)}.`,
            ),
      ),
    );
    request.end();
  });
}

/**
 * A TLS connection to the dyno's rendezvous host that has sent the secret: read the dyno's output
 * from it. Fails within 30 s, or at once when `signal` aborts.
 */
export async function openRendezvous(attachUrl: string, network: NetworkSettings, signal: AbortSignal): Promise<tls.TLSSocket> {
  const target = attachTarget(attachUrl);
  const deadline = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
  const stop = AbortSignal.any([signal, deadline]);
  const where = authorityOf(target);
  // An abort listener added to a signal that has already aborted never fires.
  if (signal.aborted) throw cancelled(`attaching to the dyno at ${where}`);
  const failure = (error: unknown): TaskError => {
    if (signal.aborted) return cancelled(`attaching to the dyno at ${where}`);
    if (error instanceof TaskError) return error;
    if (deadline.aborted)
      return new TaskError(
        'network',
        `Could not attach to the dyno at ${where} within ${CONNECT_TIMEOUT_MS / 1000} s: check that the agent may reach ${where} (TLS), directly or through its proxy.`,
      );
    // Stryker disable next-line StringLiteral: the fallback is read only for an error whose text names a certificate or TLS, and Node's socket and TLS errors all carry a code
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (TLS_CODES.test(`${code} ${errorMessage(error)}`))
      return new TaskError(
        'network',
        `The TLS certificate of the dyno's rendezvous host ${where} is not trusted (${code}: ${errorMessage(error)}). If your network inspects TLS, give the agent your CA certificate (agent setting Agent.CAInfo, \`config --sslcacert\`).`,
      );
    return new TaskError('network', `Could not attach to the dyno at ${where}: ${errorMessage(error)}.`);
  };
  const proxy = proxyFor(`https://${where}/`, network);
  let raw: Socket | undefined;
  try {
    if (proxy) raw = await tunnel(proxy, target, network, stop);
    const socket = tls.connect({
      ...(raw ? { socket: raw } : { host: target.host, port: target.port }),
      servername: net.isIP(target.host) ? undefined : target.host,
      ca: trustedCa(network),
    });
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        socket.destroy();
        // Stryker disable next-line StringLiteral: failure() never reads this error's message (cancelled or the deadline's own message)
        reject(new Error('aborted'));
      };
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: an AbortSignal fires 'abort' once at most, so `once` changes nothing
      stop.addEventListener('abort', onAbort, { once: true });
      socket.once('secureConnect', () => {
        stop.removeEventListener('abort', onAbort);
        resolve();
      });
      socket.once('error', (error: Error) => {
        // Stryker disable next-line StringLiteral: the promise is settled; a later abort would only destroy the failed socket and reject again, unseen
        stop.removeEventListener('abort', onAbort);
        reject(error);
      });
    });
    socket.write(`${target.secret}\r\n`);
    return socket;
  } catch (error) {
    raw?.destroy();
    throw failure(error);
  }
}
