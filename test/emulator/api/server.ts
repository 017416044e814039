// api.heroku.com: Heroku's v3 semantics around every route — Accept version, auth, rate limit,
// Range paging, error ids — and the check that every body sent matches the official schema.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { ErrorObject } from 'ajv-draft-04';
import type { Faults } from '../faults';
import type { HerokuSchema, SchemaLink } from '../heroku-schema';
import { LoopbackServer } from '../loopback';
import type { Account } from '../state';
import { HerokuError, invalidParams } from '../errors';
import { type ApiContext, type ApiRequest, type ApiRouter, type Route } from './router';

export interface RangeSpec {
  field: string;
  start: string | null;
  startExclusive: boolean;
  end: string | null;
  max: number;
  order: 'asc' | 'desc';
}

const DEFAULT_PAGE = 200;
const MAX_PAGE = 1000;

export function parseRange(header: string, fields: string[]): RangeSpec {
  const match = /^\s*([\w-]+)\s+(\]?)([^;]*?)\.\.([^;]*?)\s*(?:;(.*))?$/.exec(header);
  if (!match?.[1]) throw new HerokuError(416, 'requested_range_not_satisfiable', `Invalid Range header: ${header}`);
  const field = match[1];
  if (!fields.includes(field))
    throw new HerokuError(
      416,
      'requested_range_not_satisfiable',
      `Invalid Range header: ${field} is not one of ${fields.join(', ')}`,
    );
  const spec: RangeSpec = {
    field,
    startExclusive: match[2] === ']',
    start: match[3]?.trim() || null,
    end: match[4]?.trim() || null,
    max: DEFAULT_PAGE,
    order: 'asc',
  };
  for (const option of (match[5] ?? '').split(/[;,]/)) {
    const [key, value] = option.split('=').map((s) => s.trim());
    if (!key) continue;
    if (key === 'max') {
      const max = Number(value);
      if (!Number.isInteger(max) || max < 1 || max > MAX_PAGE)
        throw new HerokuError(
          416,
          'requested_range_not_satisfiable',
          `Invalid Range header: max must be between 1 and ${MAX_PAGE}`,
        );
      spec.max = max;
    } else if (key === 'order') {
      if (value !== 'asc' && value !== 'desc')
        throw new HerokuError(416, 'requested_range_not_satisfiable', 'Invalid Range header: order must be asc or desc');
      spec.order = value;
    } else throw new HerokuError(416, 'requested_range_not_satisfiable', `Invalid Range header: unknown option ${key}`);
  }
  return spec;
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** Applies a Range to a full list: the page, and the Next-Range when more remain. */
export function applyRange(
  items: Array<Record<string, unknown>>,
  range: RangeSpec,
): { page: Array<Record<string, unknown>>; next: string | null; contentRange: string } {
  const numeric = items.some((i) => typeof i[range.field] === 'number');
  const bound = (value: string | null): unknown => (value === null ? null : numeric ? Number(value) : value);
  const [start, end] = [bound(range.start), bound(range.end)];
  const sorted = [...items].sort((a, b) => compareValues(a[range.field], b[range.field]) * (range.order === 'desc' ? -1 : 1));
  const inRange = sorted.filter((item) => {
    const value = item[range.field];
    const dir = range.order === 'desc' ? -1 : 1;
    if (start !== null) {
      const cmp = compareValues(value, start) * dir;
      if (cmp < 0 || (cmp === 0 && range.startExclusive)) return false;
    }
    if (end !== null && compareValues(value, end) * dir > 0) return false;
    return true;
  });
  const page = inRange.slice(0, range.max);
  const last = page.at(-1);
  const options = `; max=${range.max}, order=${range.order}`;
  // The next request sends Next-Range back as its Range: it names the field too.
  const next = inRange.length > range.max && last ? `${range.field} ]${String(last[range.field])}..${options}` : null;
  const first = page[0];
  const contentRange =
    first && last
      ? `${range.field} ${String(first[range.field])}..${String(last[range.field])}${options}`
      : `${range.field} ..${options}`;
  return { page, next, contentRange };
}

/** Heroku's budget: 4,500 calls an hour per account, refilled gradually. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(public budget = 4500) {}

  private bucket(accountId: string): { tokens: number; at: number } {
    const now = Date.now();
    let bucket = this.buckets.get(accountId);
    if (!bucket) {
      bucket = { tokens: this.budget, at: now };
      this.buckets.set(accountId, bucket);
    }
    bucket.tokens = Math.min(this.budget, bucket.tokens + ((now - bucket.at) / 3_600_000) * this.budget);
    bucket.at = now;
    return bucket;
  }

  /** Spends one call; false when the account is past its budget. */
  spend(accountId: string): boolean {
    const bucket = this.bucket(accountId);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  remaining(accountId: string): number {
    return Math.floor(this.bucket(accountId).tokens);
  }

  /** Sets what an account has left (tests exhaust budgets this way). */
  setRemaining(accountId: string, remaining: number): void {
    this.buckets.set(accountId, { tokens: remaining, at: Date.now() });
  }

  reset(): void {
    this.buckets.clear();
  }
}

/** Heroku coerces numeric strings for integer fields (the CLI sends quantities as "1"). */
function coerceNumericStrings(body: unknown, errors: ErrorObject[]): boolean {
  let changed = false;
  for (const error of errors) {
    const types = (error.params as { type?: string | string[] }).type;
    const wanted = Array.isArray(types) ? types : [types];
    if (error.keyword !== 'type' || !wanted.includes('integer')) continue;
    const keys = error.instancePath
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    if (last === undefined) continue;
    let node = body as Record<string, unknown> | undefined;
    for (const key of keys) node = node?.[key] as Record<string, unknown> | undefined;
    const value = node?.[last];
    if (node && typeof value === 'string' && /^-?\d+$/.test(value)) {
      node[last] = Number(value);
      changed = true;
    }
  }
  return changed;
}

/** One request as the API saw it; `startedAt`/`endedAt` are `performance.now()` of this process. */
export interface ApiRecord {
  method: string;
  path: string;
  status: number;
  accountId: string | null;
  body: unknown;
  startedAt: number;
  /** When the answer was sent (0 until then, or when the connection was reset). */
  endedAt: number;
}

export interface SchemaViolation {
  method: string;
  path: string;
  errors: string[];
}

export class ApiServer {
  private readonly loopback = new LoopbackServer((req, res) => void this.handle(req, res));
  readonly rateLimit = new RateLimiter();
  /** Every response body that did not match the schema (also answered as a 500). */
  readonly violations: SchemaViolation[] = [];
  /** Every request the API served, for tests that count a client's calls and check their order. */
  readonly requests: ApiRecord[] = [];
  /** Milliseconds every answer is held back: a network round trip to Heroku's API, for the bench. */
  latencyMs = 0;

  constructor(
    private readonly router: ApiRouter,
    private readonly schema: HerokuSchema,
    private readonly ctx: ApiContext,
    private readonly faults: Faults,
  ) {}

  listen(): Promise<string> {
    this.loopback.server.keepAliveTimeout = 5000;
    return this.loopback.listen();
  }

  get url(): string {
    return this.loopback.url;
  }

  close(): Promise<void> {
    return this.loopback.close();
  }

  private send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'private, no-cache',
      'Request-Id': randomUUID(),
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private authenticate(req: http.IncomingMessage): Account | undefined {
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(.+)$/i.exec(header);
    if (bearer?.[1]) return this.ctx.state.accountForKey(bearer[1].trim());
    const basic = /^Basic\s+(.+)$/i.exec(header);
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      return this.ctx.state.accountForKey(decoded.slice(decoded.indexOf(':') + 1));
    }
    return undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://api.heroku.invalid');
    const record: ApiRecord = {
      method,
      path: url.pathname,
      status: 0,
      accountId: null,
      body: undefined,
      startedAt: performance.now(),
      endedAt: 0,
    };
    this.requests.push(record);
    const headers: Record<string, string> = {};
    const reply = (status: number, body: unknown): void => {
      record.status = status;
      record.endedAt = performance.now();
      this.send(res, status, body, headers);
    };
    try {
      if (this.latencyMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
        if (res.destroyed) return;
      }
      const fault = this.faults.takeApi(method, url.pathname);
      if (fault?.kind === 'reset') {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (fault?.kind === 'barrier') {
        await fault.arrive();
        if (res.destroyed) return;
      }
      if (fault?.kind === 'delay') {
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (res.destroyed) return;
      }
      if (fault?.kind === 'status') {
        if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
        if (fault.status === 429) headers['RateLimit-Remaining'] = '0';
        return reply(fault.status, { id: fault.id, message: fault.message });
      }

      const text = await this.readBody(req);
      const accept = String(req.headers.accept ?? '');
      const version = /application\/vnd\.heroku\+json\s*;\s*version=([\w.-]+)/i.exec(accept)?.[1];
      if (!version) {
        throw new HerokuError(
          400,
          'missing_version',
          "Please specify a version along with Heroku's API MIME type. For example, `Accept: application/vnd.heroku+json; version=3`.\n",
        );
      }
      if (!/^3(\.[\w-]+)?$/.test(version))
        throw new HerokuError(
          406,
          'not_acceptable',
          `API version ${version} is not available. Use \`Accept: application/vnd.heroku+json; version=3\`.`,
        );

      const account = this.authenticate(req);
      if (!account) throw new HerokuError(401, 'unauthorized', 'Invalid credentials provided.');
      record.accountId = account.id;
      if (!this.rateLimit.spend(account.id)) {
        headers['RateLimit-Remaining'] = '0';
        throw new HerokuError(
          429,
          'rate_limit',
          'Your account reached the API rate limit\nPlease wait a few minutes before making new requests',
        );
      }
      headers['RateLimit-Remaining'] = String(this.rateLimit.remaining(account.id));

      const found = this.router.match(method, url.pathname);
      if (!found.route) {
        throw new HerokuError(
          404,
          'not_found',
          'The requested API endpoint was not found. Are you using the right HTTP verb (i.e. `GET` vs. `POST`), and did you specify your intended version with the `Accept` header?',
        );
      }
      const { route, params } = found;

      let body: unknown = {};
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new HerokuError(400, 'bad_request', 'Invalid JSON in request body.');
        }
      }
      record.body = body;
      this.validateRequest(route, body);

      const request: ApiRequest = {
        method,
        path: url.pathname,
        params,
        query: url.searchParams,
        headers: req.headers,
        body: body as Record<string, unknown>,
        account,
        app: () => this.ctx.state.appFor(account, params.app ?? ''),
      };
      const result = await route.handler(request, this.ctx);
      let status = result.status ?? 200;
      let out = result.body;
      if (route.rangeFields && Array.isArray(out)) {
        headers['Accept-Ranges'] = route.rangeFields.join(', ');
        const rangeHeader = req.headers.range;
        if (rangeHeader) {
          const paged = applyRange(out as Array<Record<string, unknown>>, parseRange(rangeHeader, route.rangeFields));
          out = paged.page;
          headers['Content-Range'] = paged.contentRange;
          if (paged.next) {
            headers['Next-Range'] = paged.next;
            status = 206;
          }
        } else if (out.length > DEFAULT_PAGE) {
          out = out.slice(0, DEFAULT_PAGE);
          status = 206;
        }
      }
      const errors = this.schema.validateResponse(route.links[0] as SchemaLink, out);
      if (errors.length > 0) {
        this.violations.push({ method, path: url.pathname, errors });
        return reply(500, {
          id: 'emulator_schema_violation',
          message: `The emulator's response does not match Heroku's schema: ${errors.join('; ')}`,
        });
      }
      reply(status, out);
    } catch (error) {
      const mapped = toApiError(error);
      reply(
        mapped.status,
        mapped.resource
          ? { id: mapped.id, message: mapped.message, resource: mapped.resource }
          : { id: mapped.id, message: mapped.message },
      );
    }
  }

  /** A request must match one of the route's links; numeric strings pass for integers. */
  private validateRequest(route: Route, body: unknown): void {
    const withSchema = route.links.filter((l) => l.requestSchema);
    if (withSchema.length === 0) return;
    let firstErrors: string[] = [];
    for (const link of withSchema) {
      const raw = this.schema.requestErrors(link, body);
      if (raw.length === 0) return;
      if (coerceNumericStrings(body, raw) && this.schema.requestErrors(link, body).length === 0) return;
      if (firstErrors.length === 0) firstErrors = this.schema.validateRequest(link, body);
    }
    throw invalidParams(`Invalid params: ${firstErrors.join('; ')}`);
  }
}

function toApiError(error: unknown): HerokuError {
  if (error instanceof HerokuError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HerokuError(500, 'internal_server_error', `Internal server error (emulator: ${message}).`);
}
