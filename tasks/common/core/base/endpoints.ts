// Where the key is sent: Heroku's API and git hosts, or a stand-in named by the user. The key must
// never travel in clear text off this machine.
import { TaskError } from './errors';

export const DEFAULT_API_URL = 'https://api.heroku.com';
export const DEFAULT_GIT_URL = 'https://git.heroku.com';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

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

/** Validates a base URL: http(s), no credentials, plain http only on loopback. */
export function resolveEndpoint(what: 'API' | 'git', value: string | undefined, source: string, fallback: string): Endpoint {
  const raw = (value ?? '').trim();
  if (!raw) return { url: fallback, isDefault: true, source: 'the default' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TaskError(
      'input',
      `The Heroku ${what} URL from ${source} ("${raw}") is not a URL: use a full URL such as ${fallback}.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TaskError(
      'input',
      `The Heroku ${what} URL from ${source} must be http(s), not ${url.protocol}: use a URL such as ${fallback}.`,
    );
  }
  if (url.username || url.password) {
    throw new TaskError(
      'input',
      `The Heroku ${what} URL from ${source} contains credentials: remove them; the task sends the API key itself.`,
    );
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new TaskError(
      'input',
      `The Heroku ${what} URL from ${source} (${url.origin}) is plain http: the API key would cross the network unencrypted. Use https, or http only on this machine (127.0.0.1, localhost, ::1).`,
    );
  }
  if (url.search || url.hash)
    throw new TaskError(
      'input',
      `The Heroku ${what} URL from ${source} must not have a query or fragment: use a base URL such as ${fallback}.`,
    );
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, '');
  return { url: base, isDefault: base === fallback, source };
}
