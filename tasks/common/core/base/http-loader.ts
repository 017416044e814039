// The HTTP stack (axios, Node's http, https, http2, tls and zlib beneath it, and the proxy tunnel)
// is loaded on first use, not when a task starts: a deploy needs none of it before its push, and
// evaluating it then would delay the push by milliseconds on every run. Creating an API client
// starts the load, so it runs while git works.
import type { AxiosError } from 'axios';

export type HttpStack = typeof import('./http-transport.js');

let loading: Promise<HttpStack> | undefined;

/** axios and the transport for a URL (http-transport.ts), loaded once. */
export function loadHttp(): Promise<HttpStack> {
  return (loading ??= import('./http-transport.js'));
}

/** axios.isAxiosError, without loading axios to ask. */
export function isAxiosError(error: unknown): error is AxiosError {
  return typeof error === 'object' && error !== null && (error as { isAxiosError?: unknown }).isAxiosError === true;
}
