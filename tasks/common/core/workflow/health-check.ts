// Asking the app itself whether the new release works: HTTP requests to its URL (through the agent's
// proxy), each with a short deadline for the whole answer, redirects followed, the first 64 KB of the
// body read, until the expected answer or the deadline. Cancel stops it (never a verdict).
import type { Readable } from 'node:stream';
import vm from 'node:vm';
import { sleep as realSleep, type Sleep } from '../base/async';
import { TaskError, cancelled, errorMessage } from '../base/errors';
import { seconds } from '../base/format';
import type { TaskLog } from '../base/log';
import { loadHttp } from '../base/http-loader';
import type { NetworkSettings } from '../base/network';
import type { HealthCheckOptions } from './safeguards';

export interface HealthAttempt {
  /** HTTP status, or null when no answer came. */
  status: number | null;
  ms: number;
  healthy: boolean;
  /** Why it is not healthy, or a short excerpt of what answered. */
  note: string;
}

export interface HealthResult {
  healthy: boolean;
  url: string;
  attempts: HealthAttempt[];
  last: HealthAttempt | null;
}

const PER_REQUEST_TIMEOUT_MS = 10_000;
/** What is read of a body: the expected text must appear within it; the rest is discarded. */
export const MAX_BODY_BYTES = 64 * 1024;
/** How long a /regex/ may take on one body (a pattern that backtracks forever must not hang the task). */
const MATCH_TIMEOUT_MS = 1000;

/** The URL to check: a full URL as given, or a path resolved against the app's web_url. */
export function healthCheckUrl(options: HealthCheckOptions, appUrl: string | null, app: string): string {
  if (!options.url.startsWith('/')) return options.url;
  if (!appUrl)
    throw new TaskError('input', `${app} has no web URL to resolve ${options.url} against: give healthCheckUrl as a full URL.`);
  return new URL(options.url, appUrl).href;
}

function excerpt(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Heroku's own error pages: an app in maintenance or down is never healthy, whatever is expected. */
function herokuErrorPage(body: string): string | null {
  if (body.includes('maintenance-mode.html') || body.includes('<title>Offline for Maintenance</title>'))
    return "Heroku's maintenance page";
  if (body.includes('application-error.html') || body.includes('<title>Application Error</title>'))
    return "Heroku's Application Error page";
  return null;
}

/** Whether `pattern` matches `body`, or null when it ran past MATCH_TIMEOUT_MS and was stopped. */
function matches(pattern: RegExp, body: string): boolean | null {
  try {
    const found: unknown = vm.runInNewContext(
      'new RegExp(source, flags).test(body)',
      { source: pattern.source, flags: pattern.flags, body },
      { timeout: MATCH_TIMEOUT_MS },
    );
    return found === true;
  } catch {
    return null;
  }
}

/** The body's first `max` bytes; the rest is never read (an endless body costs nothing). */
async function readCapped(stream: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    chunks.push(buffer);
    size += buffer.length;
    if (size >= max) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function judge(options: HealthCheckOptions, status: number, body: string): { healthy: boolean; note: string } {
  const page = herokuErrorPage(body);
  if (page) return { healthy: false, note: page };
  if (status !== options.expectedStatus)
    return { healthy: false, note: `expected ${options.expectedStatus}; body: ${excerpt(body) || '(empty)'}` };
  const expected = options.expectedText;
  if (expected && 'text' in expected && !body.includes(expected.text))
    return { healthy: false, note: `body does not contain "${expected.text}": ${excerpt(body) || '(empty)'}` };
  if (expected && 'pattern' in expected) {
    const found = matches(expected.pattern, body);
    if (found === null)
      return {
        healthy: false,
        note: `${String(expected.pattern)} took over ${MATCH_TIMEOUT_MS / 1000} s to match and was stopped: simplify the pattern (nested repetition such as (a+)+ backtracks without end)`,
      };
    if (!found) return { healthy: false, note: `body does not match ${String(expected.pattern)}: ${excerpt(body) || '(empty)'}` };
  }
  return { healthy: true, note: excerpt(body) };
}

export interface HealthCheckRun {
  url: string;
  options: HealthCheckOptions;
  network: NetworkSettings;
  log: TaskLog;
  signal?: AbortSignal;
  sleep?: Sleep;
}

/** Checks until healthy or `timeoutMs` has passed; logs each attempt on one line. */
export async function checkHealth(run: HealthCheckRun): Promise<HealthResult> {
  const { url, options, log } = run;
  const sleep = run.sleep ?? realSleep;
  const deadlineAt = Date.now() + options.timeoutMs;
  const { axios, httpTransport } = await loadHttp();
  const client = axios.create({
    ...httpTransport(url, run.network),
    maxRedirects: 5,
    responseType: 'stream',
    validateStatus: () => true,
  });
  const attempts: HealthAttempt[] = [];
  log.info(
    `GET ${url} until it answers ${options.expectedStatus}${options.expectedText ? ` with ${'text' in options.expectedText ? `"${options.expectedText.text}"` : String(options.expectedText.pattern)}` : ''} (every ${options.intervalMs / 1000} s, for up to ${options.timeoutMs / 1000} s)`,
  );
  const stop = (): TaskError => cancelled(`checking the health of ${url}`);
  for (;;) {
    // Stryker disable next-line ConditionalExpression: the request's signal includes the task's, so after a cancel the request fails unsent and the catch throws the same cancel
    if (run.signal?.aborted) throw stop();
    const started = Date.now();
    // A deadline for the whole answer: a server trickling bytes does not hold the check open.
    const deadline = AbortSignal.timeout(Math.max(1000, Math.min(PER_REQUEST_TIMEOUT_MS, deadlineAt - started)));
    const signal = run.signal ? AbortSignal.any([run.signal, deadline]) : deadline;
    let attempt: HealthAttempt;
    try {
      const response = await client.get<Readable>(url, { signal });
      // Stryker disable next-line ArrowFunction,StringLiteral,ArithmeticOperator: axios 1.x itself destroys a streamed body when the request's signal aborts, and the catch words the note; this listener is a second guard
      const onAbort = (): void => void response.data.destroy(new Error(`no full answer within ${seconds(Date.now() - started)}`));
      // Stryker disable next-line StringLiteral,ObjectLiteral,BooleanLiteral: axios 1.x itself destroys a streamed body when the request's signal aborts; this listener is a second guard
      signal.addEventListener('abort', onAbort, { once: true });
      let body: string;
      // Stryker disable BlockStatement,StringLiteral: once the body is read, a later abort destroys a stream already ended, so removing the listener changes nothing
      try {
        body = await readCapped(response.data, MAX_BODY_BYTES);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
      // Stryker restore BlockStatement,StringLiteral
      attempt = { status: response.status, ms: Date.now() - started, ...judge(options, response.status, body) };
    } catch (error) {
      if (run.signal?.aborted) throw stop();
      const why = deadline.aborted ? `no full answer within ${seconds(Date.now() - started)}` : errorMessage(error);
      attempt = { status: null, ms: Date.now() - started, healthy: false, note: `no answer: ${why}` };
    }
    attempts.push(attempt);
    log.info(
      `  #${attempts.length}  ${attempt.status ?? '---'}  ${attempt.ms} ms  ${attempt.healthy ? 'healthy' : attempt.note}`,
    );
    if (attempt.healthy) break;
    const wait = Math.min(options.intervalMs, deadlineAt - Date.now());
    if (wait <= 0) break;
    await sleep(wait, run.signal);
  }
  const last = attempts.at(-1) ?? null;
  // Stryker disable next-line BooleanLiteral: the loop makes at least one attempt before it ends, so there is always a last one
  return { healthy: last?.healthy ?? false, url, attempts, last };
}

/** `503 (Heroku's Application Error page)` — the last response, for messages. */
export function describeAttempt(attempt: HealthAttempt | null): string {
  if (!attempt) return 'no request was made';
  return `${attempt.status ?? 'no answer'} after ${attempt.ms} ms (${attempt.note})`;
}
