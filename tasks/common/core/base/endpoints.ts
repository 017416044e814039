// Where the key is sent: Heroku's API and git hosts, or a stand-in named by the user. The key must
// never travel in clear text off this machine.
import { TaskError } from './errors';

export const DEFAULT_API_URL = 'https://api.heroku.com';
export const DEFAULT_GIT_URL = 'https://git.heroku.com';

// The names of this machine; its 127.x.y.z addresses (127.0.0.1 among them) are matched by pattern.
const LOOPBACK = new Set(['localhost', '::1', '[::1]']);

/** This machine: localhost, ::1 or any 127.x.y.z address. */
export function isLoopback(hostname: string): boolean {
  const name = hostname.toLowerCase();
  return LOOPBACK.has(name) || /^127(\.\d{1,3}){3}$/.test(name);
}

export interface Endpoint {
  /** Base URL without a trailing slash. */
  url: string;
  isDefault: boolean;
  /** Where it came from, for the log: `the service connection`, `the variable HEROKU_API_URL`. */
  source: string;
}

/** Why a base URL that the key (or what runs with it) will reach is refused. */
export type BaseUrlProblem = 'not-a-url' | 'scheme' | 'credentials' | 'plain-http' | 'query';

export type ParsedBaseUrl = { ok: true; url: string } | { ok: false; problem: BaseUrlProblem; protocol: string; origin: string };

/**
 * A base URL as every host the task sends the key to must be: http(s), no credentials, plain http only
 * on this machine, no query or fragment; returned without a trailing slash, or why not.
 */
export function parseBaseUrl(raw: string): ParsedBaseUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'not-a-url', protocol: '', origin: '' };
  }
  const refused = (problem: BaseUrlProblem): ParsedBaseUrl => ({
    ok: false,
    problem,
    protocol: url.protocol,
    origin: url.origin,
  });
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refused('scheme');
  if (url.username || url.password) return refused('credentials');
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) return refused('plain-http');
  if (url.search || url.hash) return refused('query');
  return { ok: true, url: `${url.origin}${url.pathname}`.replace(/\/+$/, '') };
}

/** The Heroku API or git host from `source`, or `fallback` when not set; a refused URL fails with the fix. */
export function resolveEndpoint(what: 'API' | 'git', value: string | undefined, source: string, fallback: string): Endpoint {
  const raw = (value ?? '').trim();
  if (!raw) return { url: fallback, isDefault: true, source: 'the default' };
  const parsed = parseBaseUrl(raw);
  if (parsed.ok) return { url: parsed.url, isDefault: parsed.url === fallback, source };
  const named = `The Heroku ${what} URL from ${source}`;
  const messages: Record<BaseUrlProblem, string> = {
    'not-a-url': `${named} ("${raw}") is not a URL: use a full URL such as ${fallback}.`,
    scheme: `${named} must be http(s), not ${parsed.protocol}: use a URL such as ${fallback}.`,
    credentials: `${named} contains credentials: remove them; the task sends the API key itself.`,
    'plain-http': `${named} (${parsed.origin}) is plain http: the API key would cross the network unencrypted. Use https, or http only on this machine (127.0.0.1, localhost, ::1).`,
    query: `${named} must not have a query or fragment: use a base URL such as ${fallback}.`,
  };
  throw new TaskError('input', messages[parsed.problem]);
}
