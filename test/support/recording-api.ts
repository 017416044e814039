// The Platform API transport, recorded: in-process tests drive the core through the product's own
// client (its paths, explanations and limits) with this in place of HTTP.
import type { HerokuApi } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';

/** An answer for a call, undefined for "not this route", or an Error to fail the call with. */
export type Route = (method: string, path: string, body: unknown) => unknown;

/** A stand-in for HerokuApi that records each call as `METHOD path body` and answers from `route`. */
export class RecordingApi {
  readonly calls: string[] = [];
  /** The Range header of each GET that sent one, by path. */
  readonly ranges: Record<string, string[]> = {};
  /** The lines of each text stream (release output, logs) by URL; a URL not listed fails to open. */
  readonly streams: Record<string, string[]> = {};
  constructor(private readonly route: Route) {}

  /** The product's client over this transport. */
  client(): HerokuClient {
    return HerokuClient.connect({ baseUrl: 'https://api.heroku.example', apiKey: 'KEY' }, this as unknown as HerokuApi);
  }

  /** Nothing to load: the transport is this object. */
  prepare(): void {}

  private answer<T>(method: string, path: string, body?: unknown): Promise<T> {
    this.calls.push(`${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
    const answer = this.route(method, path, body);
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer as T);
  }
  get<T>(path: string, range?: string): Promise<T> {
    if (range !== undefined) (this.ranges[path] ??= []).push(range);
    return this.answer('GET', path);
  }
  post<T>(path: string, body: unknown): Promise<T> {
    return this.answer('POST', path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.answer('PATCH', path, body);
  }
  request<T>(method: string, path: string, options: { body?: unknown }): Promise<T> {
    return this.answer(method, path, options.body);
  }
  followOutput(url: string, onLine: (line: string) => void): Promise<void> {
    this.calls.push(`STREAM ${url}`);
    const lines = this.streams[url];
    if (!lines) return Promise.reject(new Error(`connect ECONNREFUSED ${url}`));
    lines.forEach(onLine);
    return Promise.resolve();
  }
  withLimits(): this {
    return this;
  }
}
