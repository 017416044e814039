// Asking the app itself whether the new release works: HTTP requests to its URL (through the agent's
// proxy), each with a short timeout, redirects followed, until the expected answer or the deadline.
import axios from 'axios';
import { sleep as realSleep, type Sleep } from '../base/async';
import { TaskError, errorMessage } from '../base/errors';
import type { TaskLog } from '../base/log';
import { httpTransport, type NetworkSettings } from '../base/network';
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

function judge(options: HealthCheckOptions, status: number, body: string): { healthy: boolean; note: string } {
  const page = herokuErrorPage(body);
  if (page) return { healthy: false, note: page };
  if (status !== options.expectedStatus)
    return { healthy: false, note: `expected ${options.expectedStatus}; body: ${excerpt(body) || '(empty)'}` };
  const expected = options.expectedText;
  if (expected && 'text' in expected && !body.includes(expected.text))
    return { healthy: false, note: `body does not contain "${expected.text}": ${excerpt(body) || '(empty)'}` };
  if (expected && 'pattern' in expected && !expected.pattern.test(body))
    return { healthy: false, note: `body does not match ${String(expected.pattern)}: ${excerpt(body) || '(empty)'}` };
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
  const deadline = Date.now() + options.timeoutMs;
  const client = axios.create({
    ...httpTransport(url, run.network),
    maxRedirects: 5,
    responseType: 'text',
    transformResponse: (data: unknown) => data,
    validateStatus: () => true,
  });
  const attempts: HealthAttempt[] = [];
  log.info(
    `GET ${url} until it answers ${options.expectedStatus}${options.expectedText ? ` with ${'text' in options.expectedText ? `"${options.expectedText.text}"` : String(options.expectedText.pattern)}` : ''} (every ${options.intervalMs / 1000} s, for up to ${options.timeoutMs / 1000} s)`,
  );
  for (;;) {
    if (run.signal?.aborted) break;
    const started = Date.now();
    let attempt: HealthAttempt;
    try {
      const response = await client.get<string>(url, {
        timeout: Math.max(1000, Math.min(PER_REQUEST_TIMEOUT_MS, deadline - started)),
        signal: run.signal,
      });
      const verdict = judge(options, response.status, typeof response.data === 'string' ? response.data : String(response.data));
      attempt = { status: response.status, ms: Date.now() - started, ...verdict };
    } catch (error) {
      attempt = { status: null, ms: Date.now() - started, healthy: false, note: `no answer: ${errorMessage(error)}` };
    }
    attempts.push(attempt);
    log.info(
      `  #${attempts.length}  ${attempt.status ?? '---'}  ${attempt.ms} ms  ${attempt.healthy ? 'healthy' : attempt.note}`,
    );
    if (attempt.healthy) break;
    const wait = Math.min(options.intervalMs, deadline - Date.now());
    if (wait <= 0) break;
    await sleep(wait);
  }
  const last = attempts.at(-1) ?? null;
  return { healthy: last?.healthy ?? false, url, attempts, last };
}

/** `503 (Heroku's Application Error page)` — the last response, for messages. */
export function describeAttempt(attempt: HealthAttempt | null): string {
  if (!attempt) return 'no request was made';
  return `${attempt.status ?? 'no answer'} after ${attempt.ms} ms (${attempt.note})`;
}
