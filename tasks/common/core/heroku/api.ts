// Heroku Platform API client: v3 Accept header, Bearer auth, retries with backoff and jitter on
// 429, 5xx and connection failures (never repeating a call that may have taken effect), a timeout
// per request, Heroku's error ids kept for the caller to explain.
import type { AxiosInstance, AxiosResponse } from 'axios';
import type * as Heroku from '@heroku-cli/schema';
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { sleep as realSleep, type Sleep } from '../base/async';
import { cancelled } from '../base/errors';
import { isAxiosError, loadHttp } from '../base/http-loader';
import { agentCa, DIRECT, type NetworkSettings } from '../base/network';

export type App = Heroku.App & { generation?: { id?: string; name?: string } };
export type Account = Heroku.Account;
export type Release = Heroku.Release & {
  artifacts?: Array<{ type?: string; id?: string }>;
  eligible_for_rollback?: boolean;
  status?: 'failed' | 'pending' | 'succeeded' | 'expired';
};
export type Slug = Heroku.Slug;
export type Build = Heroku.Build & { slug?: { id?: string } | null; output_stream_url?: string | null };
export interface SourceUrls {
  source_blob?: { get_url?: string; put_url?: string };
}
export interface OciImage {
  id?: string;
  commit?: string;
}

export class HerokuApiError extends Error {
  constructor(
    /** HTTP status, or null when no answer came (connection refused, reset, timeout). */
    readonly status: number | null,
    /** Heroku's error id (`unauthorized`, `forbidden`, `not_found`, `rate_limit`, ...). */
    readonly id: string | null,
    message: string,
    readonly method: string,
    readonly path: string,
    readonly requestId: string | null = null,
    /** For network failures: the system error code (ECONNREFUSED, ETIMEDOUT, ...). */
    readonly code: string | null = null,
    /** How many times the call was sent before giving up. */
    public attempts = 1,
  ) {
    super(message);
    this.name = 'HerokuApiError';
  }
}

export interface HerokuApiOptions {
  baseUrl: string;
  apiKey: string;
  network?: NetworkSettings;
  userAgent?: string;
  /** Receives one line per request made, for the debug log. */
  debug?: (line: string) => void;
  /** Receives a warning when the account's rate-limit budget runs low. */
  warn?: (line: string) => void;
  /** Per-request timeout: the whole answer, body included, must have arrived by then. */
  timeoutMs?: number;
  /** Largest answer read, in bytes; a bigger one fails the call. */
  maxBodyBytes?: number;
  /**
   * Cancels every call and wait (the task's cancel signal); null for calls that must run after a
   * cancel (undoing temporary changes, with their own short deadlines).
   */
  signal?: AbortSignal | null;
  /** Retries after the first attempt. */
  maxRetries?: number;
  /** Time allowed for one call, retries included. */
  budgetMs?: number;
  /** Longest Retry-After honoured. */
  maxRetryAfterMs?: number;
  sleep?: Sleep;
  random?: () => number;
}

export interface RequestOptions {
  body?: unknown;
  /** `Range` header, e.g. `version ..; order=desc, max=10`. */
  range?: string;
  /**
   * Whether repeating the call is harmless. Non-idempotent calls are retried only when the server
   * certainly did not act on them (429, or the connection was refused).
   */
  idempotent?: boolean;
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRYABLE_NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const NEVER_REACHED = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
/** Heroku's answers are small (a list of releases is tens of KB): anything this big is not one. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** How long a text stream (release phase output) is followed, and its longest line. */
const OUTPUT_DEADLINE_MS = 60 * 60_000;
const MAX_LINE_CHARS = 64 * 1024;
/** How long an upload of a source tarball may take (500 MB at a slow 2 MB/s is about 4 minutes). */
const UPLOAD_DEADLINE_MS = 30 * 60_000;
/** The id of an answer the task cannot use (not JSON, too big, not the shape asked for). */
export const UNREADABLE = 'unreadable_answer';

function retryAfterMs(header: unknown): number | null {
  // Stryker disable next-line MethodExpression: Node's HTTP parser strips the spaces around a header value, so an all-space Retry-After arrives as ''
  if (typeof header !== 'string' || header.trim() === '') return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

export class HerokuApi {
  /** The axios instance, made once the HTTP stack has loaded (at the first request, or `prepare()`). */
  private http: Promise<AxiosInstance> | undefined;
  private readonly network: NetworkSettings;
  private readonly options: Required<Omit<HerokuApiOptions, 'network' | 'userAgent' | 'debug' | 'warn' | 'signal'>> &
    Pick<HerokuApiOptions, 'debug' | 'warn'> & { signal: AbortSignal | null };
  private warnedRateLimit = false;

  constructor(private readonly given: HerokuApiOptions) {
    const options = given;
    this.options = {
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 20_000,
      maxBodyBytes: options.maxBodyBytes ?? MAX_BODY_BYTES,
      signal: options.signal ?? null,
      maxRetries: options.maxRetries ?? 4,
      budgetMs: options.budgetMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 20_000,
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
      debug: options.debug,
      warn: options.warn,
    };
    this.network = options.network ?? DIRECT;
    agentCa(this.network);
  }

  /**
   * Starts loading the HTTP stack now, for a task that has something else to wait on first (its git
   * push): it then evaluates meanwhile, and the first request does not wait for it.
   */
  prepare(): void {
    // Its failure (the CA file gone since it was read) is the first request's, not an unhandled one.
    this.client().catch(() => undefined);
  }

  private client(): Promise<AxiosInstance> {
    const options = this.given;
    return (this.http ??= loadHttp().then(({ axios, httpTransport }) =>
      axios.create({
        baseURL: options.baseUrl,
        headers: {
          Accept: 'application/vnd.heroku+json; version=3',
          Authorization: `Bearer ${options.apiKey}`,
          'User-Agent': options.userAgent ?? 'heroku-azure-pipelines',
        },
        ...httpTransport(options.baseUrl, this.network),
        validateStatus: () => true,
        maxRedirects: 0,
        maxContentLength: this.options.maxBodyBytes,
        responseType: 'json',
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: API calls set no axios timeout (their deadline is an AbortSignal), so axios raises no timeout error to clarify
        transitional: { clarifyTimeoutError: true },
      }),
    ));
  }

  /** The same API with other limits (e.g. tighter ones, and no cancel, for undoing on the way out). */
  withLimits(limits: Pick<HerokuApiOptions, 'timeoutMs' | 'budgetMs' | 'maxRetries' | 'signal'>): HerokuApi {
    return new HerokuApi({ ...this.given, ...limits });
  }

  get<T>(path: string, range?: string): Promise<T> {
    return this.request<T>('GET', path, { range, idempotent: true });
  }

  post<T>(path: string, body: unknown, idempotent = false): Promise<T> {
    return this.request<T>('POST', path, { body, idempotent });
  }

  patch<T>(path: string, body: unknown, idempotent = true): Promise<T> {
    return this.request<T>('PATCH', path, { body, idempotent });
  }

  async request<T>(method: string, path: string, request: RequestOptions = {}): Promise<T> {
    const { maxRetries, budgetMs, timeoutMs, maxRetryAfterMs, sleep, random, signal } = this.options;
    const idempotent = request.idempotent ?? method === 'GET';
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      // Stryker disable next-line ConditionalExpression: only saves work: axios sends nothing on an aborted signal, and the catch below throws the same cancel
      if (signal?.aborted) throw cancelled(`calling ${method} ${path}`);
      const remaining = budgetMs - (Date.now() - started);
      let response: AxiosResponse | undefined;
      let failure: HerokuApiError;
      const sentAt = Date.now();
      // A deadline for the whole answer (a server trickling bytes keeps a socket timeout at bay).
      const deadline = AbortSignal.timeout(Math.max(1000, Math.min(timeoutMs, remaining)));
      const http = await this.client();
      try {
        response = await http.request({
          method,
          url: path,
          data: request.body,
          headers: request.range ? { Range: request.range } : {},
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        });
      } catch (error) {
        if (signal?.aborted) throw cancelled(`calling ${method} ${path}`);
        failure = this.networkError(error, method, path, deadline.aborted);
      }
      if (response) {
        this.options.debug?.(`${method} ${path} -> ${response.status} (${Date.now() - sentAt} ms)`);
        this.noteRateLimit(response.headers['ratelimit-remaining']);
        if (response.status >= 200 && response.status < 300) return this.json<T>(response, method, path);
        failure = this.httpError(response, method, path);
      } else {
        this.options.debug?.(`${method} ${path} -> ${failure!.code ?? 'no answer'} (${Date.now() - sentAt} ms)`);
      }
      const error = failure!;
      error.attempts = attempt + 1;
      if (attempt >= maxRetries || !this.retryable(error, idempotent)) throw error;
      const hinted = response ? retryAfterMs(response.headers['retry-after']) : null;
      const backoff = Math.min(8000, 500 * 2 ** attempt) * (0.5 + random() / 2);
      const wait = hinted === null ? backoff : Math.min(hinted, maxRetryAfterMs);
      if (Date.now() - started + wait >= budgetMs) throw error;
      this.options.debug?.(
        // Stryker disable next-line StringLiteral: a retried error always has a status or a code (retryable() needs one), so the 'error' fallback is never used
        `retrying ${method} ${path} in ${Math.round(wait)} ms (${error.id ?? error.code ?? error.status ?? 'error'})`,
      );
      await sleep(wait, signal ?? undefined);
    }
  }

  /** A successful answer's JSON body; anything else (an HTML page, plain text) is an error. */
  private json<T>(response: AxiosResponse, method: string, path: string): T {
    const data: unknown = response.data;
    if (typeof data === 'object' && data !== null) return data as T;
    const type = String(response.headers['content-type'] ?? 'no content type').split(';')[0];
    throw new HerokuApiError(
      response.status,
      UNREADABLE,
      `answered ${response.status} with ${type} instead of JSON`,
      method,
      path,
    );
  }

  /**
   * Follows a text stream Heroku points to (a release's output_stream_url), line by line, until it
   * ends. It lives on another host and needs no credentials: the API key is not sent there.
   */
  async followOutput(url: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    // A release phase may run for up to an hour (openStream's deadline), and no line grows past 64 KB.
    const { body } = await this.openStream(url, 0, signal);
    // A character split across two chunks is decoded once whole.
    const decoder = new StringDecoder('utf8');
    let partial = '';
    for await (const chunk of body) {
      const lines = (partial + decoder.write(chunk)).split(/\r?\n/);
      // Stryker disable next-line StringLiteral: split() always returns at least one element; the default only satisfies the type checker
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      if (partial.length > MAX_LINE_CHARS) {
        onLine(`${partial.slice(0, MAX_LINE_CHARS)} [line cut at 64 KB]`);
        partial = '';
      }
    }
    partial += decoder.end();
    if (partial) onLine(partial);
  }

  /**
   * PUTs a file to a pre-signed storage URL (a source blob's put_url), streamed from disk. Only the
   * URL's own signature authorises it: no Authorization header, no key; an empty Content-Type, as
   * Heroku's CLI sends (the signature covers it). Proxy credentials, if any, go to the proxy only.
   */
  async uploadFile(url: string, file: string, size: number, signal?: AbortSignal): Promise<void> {
    const deadline = AbortSignal.timeout(UPLOAD_DEADLINE_MS);
    const { axios, httpTransport } = await loadHttp();
    const response = await axios.put<string>(url, createReadStream(file), {
      ...httpTransport(url, this.network),
      headers: { 'Content-Type': '', 'Content-Length': String(size) },
      maxBodyLength: Infinity,
      maxContentLength: 64 * 1024,
      maxRedirects: 0,
      responseType: 'text',
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      validateStatus: () => true,
    });
    if (response.status < 200 || response.status >= 300) {
      const code = /<Code>([^<]{1,64})<\/Code>/.exec(String(response.data))?.[1];
      throw new HerokuApiError(
        response.status,
        code ?? null,
        `answered ${response.status}${code ? ` ${code}` : ''}`,
        'PUT',
        'the source URL',
      );
    }
  }

  /**
   * Opens a text stream Heroku points to (a build's output_stream_url) from byte `from` on (`Range`),
   * without credentials. Resolves with the body's chunks once the answer's headers are in; `done`
   * is true when the server had nothing from there (416).
   */
  async openStream(url: string, from: number, signal?: AbortSignal): Promise<{ body: AsyncIterable<Buffer>; done: boolean }> {
    const deadline = AbortSignal.timeout(OUTPUT_DEADLINE_MS);
    const { axios, httpTransport } = await loadHttp();
    const response = await axios.get<NodeJS.ReadableStream>(url, {
      responseType: 'stream',
      ...httpTransport(url, this.network),
      timeout: this.options.timeoutMs,
      signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      headers: { Accept: 'text/plain', ...(from > 0 ? { Range: `bytes=${from}-` } : {}) },
      validateStatus: (status) => status === 200 || status === 206 || status === 416,
    });
    if (response.status === 416) return { body: (async function* () {})(), done: true };
    // A server that ignores Range answers 200 with everything: skip what was read already.
    const skip = response.status === 200 ? from : 0;
    const stream = response.data as AsyncIterable<Buffer>;
    return {
      done: false,
      body: (async function* () {
        let toSkip = skip;
        for await (const chunk of stream) {
          const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
          if (toSkip >= buffer.length) {
            toSkip -= buffer.length;
            continue;
          }
          yield buffer.subarray(toSkip);
          toSkip = 0;
        }
      })(),
    };
  }

  private retryable(error: HerokuApiError, idempotent: boolean): boolean {
    if (error.status !== null) return RETRYABLE_STATUS.has(error.status) && (idempotent || error.status === 429);
    if (!error.code || !RETRYABLE_NETWORK.has(error.code)) return false;
    return idempotent || NEVER_REACHED.has(error.code);
  }

  private noteRateLimit(header: unknown): void {
    const remaining = Number(header);
    // A missing header is NaN here (Number(undefined)), so it returns too.
    if (!Number.isFinite(remaining)) return;
    if (remaining < 100 && !this.warnedRateLimit) {
      this.warnedRateLimit = true;
      this.options.warn?.(
        `This Heroku account has ${remaining} API calls left this hour (RateLimit-Remaining): other tools sharing the key may be using it up; deploys fail when it reaches 0.`,
      );
    }
  }

  private httpError(response: AxiosResponse, method: string, path: string): HerokuApiError {
    const body = (typeof response.data === 'object' && response.data !== null ? response.data : {}) as {
      id?: unknown;
      message?: unknown;
    };
    const id = typeof body.id === 'string' ? body.id : null;
    const message = typeof body.message === 'string' ? body.message.trim() : `HTTP ${response.status}`;
    // Stryker disable next-line ConditionalExpression: a missing Request-Id is undefined, which the error's default turns into null as well
    const requestId = typeof response.headers['request-id'] === 'string' ? response.headers['request-id'] : null;
    return new HerokuApiError(response.status, id, message, method, path, requestId);
  }

  private networkError(error: unknown, method: string, path: string, timedOut: boolean): HerokuApiError {
    if (timedOut) return new HerokuApiError(null, null, `no full answer within the deadline`, method, path, null, 'ETIMEDOUT');
    if (isAxiosError(error)) {
      if (/maxContentLength/.test(error.message)) {
        return new HerokuApiError(
          error.response?.status ?? 200,
          UNREADABLE,
          `answered with more than ${Math.round(this.options.maxBodyBytes / 1024 / 1024)} MB`,
          method,
          path,
        );
      }
      // An answer cut off after its headers ("stream has been aborted", no cause): the connection
      // dropped midway, as a reset does (a GET is sent again, a POST is not).
      // Stryker disable next-line ConditionalExpression,LogicalOperator: the only ERR_BAD_RESPONSE left here is the aborted stream (maxContentLength returned above), and an "aborted" message with another code is a cancel (thrown before), a reset (ECONNRESET already) or a socket's ECONNABORTED (its cause wins below); the variants that differ (the whole test true or false) are killed by the EPROTO and cut-off tests
      const cutOff = error.code === 'ERR_BAD_RESPONSE' && /aborted/i.test(error.message);
      const code =
        // Stryker disable next-line ConditionalExpression,StringLiteral: axios raises ETIMEDOUT/ECONNABORTED itself only for its timeout option, which API calls do not set; a socket's comes with the same code on its cause, which wins below
        error.code === 'ETIMEDOUT' || error.code === 'ECONNABORTED' ? 'ETIMEDOUT' : cutOff ? 'ECONNRESET' : (error.code ?? null);
      const causeCode: unknown = error.cause && 'code' in error.cause ? error.cause.code : null;
      const cause = typeof causeCode === 'string' ? causeCode : null;
      return new HerokuApiError(
        null,
        null,
        error.message,
        method,
        path,
        null,
        cause && RETRYABLE_NETWORK.has(cause) ? cause : code,
      );
    }
    return new HerokuApiError(null, null, error instanceof Error ? error.message : String(error), method, path);
  }
}
