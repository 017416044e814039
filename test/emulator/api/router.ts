// The Platform API's routes, each declared by the schema link(s) it serves: the method and path
// come from the official schema, so a route is exactly where Heroku's reference puts it.
import type { Platform } from '../platform/platform';
import type { Account, App, HerokuState } from '../state';
import type { HerokuSchema, SchemaLink } from '../heroku-schema';
import type { PresentContext } from './present';

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  account: Account;
  /** The app named by the `:app` parameter, resolved with Heroku's 404/403 rules. */
  app(): App;
}

export interface ApiReply {
  status?: number;
  body: unknown;
}

export interface ApiContext {
  state: HerokuState;
  platform: Platform;
  present: PresentContext;
}

export type Handler = (req: ApiRequest, ctx: ApiContext) => ApiReply | Promise<ApiReply>;

export interface Route {
  method: string;
  path: string;
  links: SchemaLink[];
  params: string[];
  pattern: RegExp;
  handler: Handler;
  /** Fields a `Range` header may sort and page this list by. */
  rangeFields: string[] | null;
}

/** Literal segments before parameters: `/teams/apps` must win over `/teams/:team`. */
function specificity(path: string): string {
  return path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '1' : '0'))
    .join('');
}

export class ApiRouter {
  readonly routes: Route[] = [];

  constructor(private readonly schema: HerokuSchema) {}

  /** Serves the schema link(s) `titles` of `resource` (several when they share method and href). */
  on(resource: string, titles: string | string[], handler: Handler, options: { range?: string[] } = {}): void {
    const links = (Array.isArray(titles) ? titles : [titles]).map((title) => this.schema.link(resource, title));
    const first = links[0] as SchemaLink;
    if (links.some((l) => l.method !== first.method || l.path !== first.path))
      throw new Error(`${resource} ${String(titles)}: links differ in method or path`);
    if (this.routes.some((r) => r.method === first.method && r.path === first.path))
      throw new Error(`route ${first.method} ${first.path} declared twice`);
    const source = first.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, '([^/]+)');
    this.routes.push({
      method: first.method,
      path: first.path,
      links,
      params: first.params,
      pattern: new RegExp(`^${source}$`),
      handler,
      rangeFields: options.range ?? null,
    });
    this.routes.sort((a, b) => specificity(a.path).localeCompare(specificity(b.path)));
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | { route: null; allowed: string[] } {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.params.forEach((name, i) => (params[name] = decodeURIComponent(found[i + 1] ?? '')));
      return { route, params };
    }
    return { route: null, allowed };
  }
}
