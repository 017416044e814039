// Heroku's official Platform API schema (../shared/heroku-platform-api/schema.json), compiled
// with ajv: the shape of every link the emulator serves, and the check of every body it sends.
import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { sharedPath } from '../support/shared';

export const SCHEMA_PATH = sharedPath('heroku-platform-api', 'schema.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface SchemaLink {
  resource: string;
  title: string;
  method: string;
  /** The href as the schema writes it, e.g. `/apps/{(%23%2Fdefinitions%2Fapp%2Fdefinitions%2Fidentity)}`. */
  href: string;
  /** The same path with named parameters, e.g. `/apps/:app/releases/:release`. */
  path: string;
  params: string[];
  requestSchema: JsonObject | undefined;
  targetSchema: JsonObject | undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Examples hold objects with `id` fields that draft-04 reads as schema ids: drop them, with links and $schema. */
function stripForAjv(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripForAjv);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'example' || key === 'links' || key === '$schema') continue;
    out[key] = stripForAjv(child);
  }
  return out;
}

/** `#/definitions/x` inside a link's schema becomes `heroku#/definitions/x` so ajv resolves it. */
function qualifyRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(qualifyRefs);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] = key === '$ref' && typeof child === 'string' && child.startsWith('#') ? `heroku${child}` : qualifyRefs(child);
  }
  return out;
}

/** `{(%23%2Fdefinitions%2Fapp%2Fdefinitions%2Fidentity)}` -> `app`; `.../dyno/definitions/formation_type` -> `formation_type`. */
function paramName(encoded: string): string {
  const pointer = decodeURIComponent(encoded.replace(/^\{\(|\)\}$/g, ''));
  const parts = pointer.split('/').filter(Boolean); // ['#', 'definitions', 'app', 'definitions', 'identity']
  const resource = parts[2] ?? 'param';
  const leaf = parts[parts.length - 1] ?? 'param';
  const name = ['identity', 'id', 'name'].includes(leaf) ? resource : leaf;
  return name.replace(/-/g, '_');
}

export class HerokuSchema {
  readonly document: JsonObject;
  readonly links: SchemaLink[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(file = SCHEMA_PATH) {
    this.document = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
    this.ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(this.ajv);
    this.ajv.addSchema(stripForAjv(this.document) as object, 'heroku');
    this.links = this.readLinks();
  }

  private readLinks(): SchemaLink[] {
    const links: SchemaLink[] = [];
    const definitions = this.document.definitions as JsonObject;
    for (const [resource, definition] of Object.entries(definitions)) {
      if (!isObject(definition) || !Array.isArray(definition.links)) continue;
      for (const raw of definition.links) {
        if (!isObject(raw)) continue;
        const href = typeof raw.href === 'string' ? raw.href : '';
        const params: string[] = [];
        const routePath = href.replace(/\{\([^)]*\)\}/g, (match) => {
          let name = paramName(match);
          while (params.includes(name)) name = `${name}_2`;
          params.push(name);
          return `:${name}`;
        });
        links.push({
          resource,
          title: typeof raw.title === 'string' ? raw.title : '',
          method: typeof raw.method === 'string' ? raw.method.toUpperCase() : 'GET',
          href,
          path: routePath,
          params,
          requestSchema: isObject(raw.schema) ? raw.schema : undefined,
          targetSchema: isObject(raw.targetSchema) ? raw.targetSchema : undefined,
        });
      }
    }
    return links;
  }

  link(resource: string, title: string): SchemaLink {
    const found = this.links.find((l) => l.resource === resource && l.title === title);
    if (!found) throw new Error(`the Heroku schema has no link "${title}" on ${resource}`);
    return found;
  }

  private compiled(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(qualifyRefs(stripForAjv(schema)) as object);
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** Errors of a response body against the link's targetSchema, [] when it validates. */
  validateResponse(link: SchemaLink, body: unknown): string[] {
    if (!link.targetSchema) return [];
    const validate = this.compiled(`target ${link.resource} ${link.title}`, link.targetSchema);
    const errors = validate(body) ? [] : formatErrors(validate.errors);
    return [...errors, ...this.missingProperties(link.targetSchema, body, '')];
  }

  /** Errors of a request body against the link's schema, [] when it validates. */
  validateRequest(link: SchemaLink, body: unknown): string[] {
    if (!link.requestSchema) return [];
    const validate = this.compiled(`request ${link.resource} ${link.title}`, link.requestSchema);
    return validate(body) ? [] : formatErrors(validate.errors);
  }

  /** Raw ajv errors of a request body (for leniency decisions). */
  requestErrors(link: SchemaLink, body: unknown): ErrorObject[] {
    if (!link.requestSchema) return [];
    const validate = this.compiled(`request ${link.resource} ${link.title}`, link.requestSchema);
    return validate(body) ? [] : [...(validate.errors ?? [])];
  }

  /** Validate a body against a definition, e.g. `#/definitions/release` (used by tests). */
  validateDefinition(pointer: string, body: unknown): string[] {
    const schema = { $ref: pointer };
    const validate = this.compiled(`definition ${pointer}`, schema);
    const errors = validate(body) ? [] : formatErrors(validate.errors);
    return [...errors, ...this.missingProperties(schema, body, '')];
  }

  private resolve(schema: Json): JsonObject | undefined {
    let current = schema;
    for (let depth = 0; depth < 20 && isObject(current) && typeof current.$ref === 'string'; depth++) {
      const pointer = current.$ref.replace(/^heroku/, '');
      current = pointer
        .replace(/^#\//, '')
        .split('/')
        .reduce<Json>((node, key) => (isObject(node) ? (node[decodeURIComponent(key)] ?? null) : null), this.document);
    }
    return isObject(current) ? current : undefined;
  }

  /**
   * The schema has no `required` lists, yet Heroku returns every property it lists (null where
   * unset): report each listed property missing from the body, at any depth.
   */
  missingProperties(schema: Json, body: unknown, where: string): string[] {
    const resolved = this.resolve(schema);
    if (!resolved || body === null || body === undefined) return [];
    if (Array.isArray(body)) {
      return resolved.items
        ? body.flatMap((item, i) => this.missingProperties(resolved.items as Json, item, `${where}/${i}`))
        : [];
    }
    if (!isObject(resolved.properties) || typeof body !== 'object') return [];
    const record = body as Record<string, unknown>;
    const missing: string[] = [];
    for (const [key, child] of Object.entries(resolved.properties)) {
      if (!(key in record)) missing.push(`${where}/${key} is missing`);
      else missing.push(...this.missingProperties(child, record[key], `${where}/${key}`));
    }
    return missing;
  }
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map(
    (e) =>
      `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'allowedValues' in e.params ? ` (${JSON.stringify(e.params.allowedValues)})` : ''}`,
  );
}

let shared: HerokuSchema | undefined;
/** The schema is large: compile it once per process. */
export function herokuSchema(): HerokuSchema {
  shared ??= new HerokuSchema();
  return shared;
}
