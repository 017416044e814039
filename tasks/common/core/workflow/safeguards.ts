// The safe-deploy options (health check, rollback, maintenance, workers, config vars, app
// creation), parsed and checked before anything is changed.
import { TaskError, errorMessage } from '../base/errors';
import { parseKeyValueLines, requireDefined } from '../base/inputs';
import type { AppCreation } from '../heroku/app-changes';

export interface HealthCheckOptions {
  /** A full URL, or a path (`/health`) resolved against the app's web_url. */
  url: string;
  expectedStatus: number;
  /** Text the body must contain, or a regular expression it must match (`/ok|up/i`). */
  expectedText: { text: string } | { pattern: RegExp } | null;
  timeoutMs: number;
  intervalMs: number;
}

export interface Safeguards {
  healthCheck: HealthCheckOptions | null;
  rollbackOnFailure: boolean;
  maintenanceMode: boolean;
  /** Process types scaled to 0 during the deploy, e.g. `worker`. */
  stopProcessTypes: string[];
  /** Config var changes: a value sets, null removes. */
  configVars: Record<string, string | null>;
  /** Create the app when it does not exist, with these; null: never create. */
  createApp: AppCreation | null;
  /** Buildpacks in order (names like `heroku/nodejs` or URLs); empty: leave the app's as they are. */
  buildpacks: string[];
}

export const NO_SAFEGUARDS: Safeguards = {
  healthCheck: null,
  rollbackOnFailure: false,
  maintenanceMode: false,
  stopProcessTypes: [],
  configVars: {},
  createApp: null,
  buildpacks: [],
};

/**
 * Whether a deploy must read the app before its release: any safeguard reads or changes it first (a
 * plain deploy, with none, starts its release at once).
 */
export function readsFirst(safeguards: Safeguards): boolean {
  return (
    safeguards.createApp !== null ||
    safeguards.maintenanceMode ||
    safeguards.healthCheck !== null ||
    safeguards.stopProcessTypes.length > 0 ||
    Object.keys(safeguards.configVars).length > 0 ||
    safeguards.buildpacks.length > 0
  );
}

/** The health check and rollback inputs, as typed (empty string when not set); every task that releases has them. */
export interface HealthCheckInputs {
  healthCheckUrl: string;
  healthCheckExpectedStatus: string;
  healthCheckExpectedText: string;
  healthCheckTimeout: string;
  healthCheckInterval: string;
  rollbackOnFailure: boolean;
}

/** The raw inputs, as typed (empty string when not set). */
export interface SafeguardInputs extends HealthCheckInputs {
  maintenanceMode: boolean;
  stopProcessTypes: string;
  configVars: string;
  createApp: boolean;
  region: string;
  team: string;
  stack: string;
  buildpacks: string;
}

function bad(input: string, message: string): TaskError {
  return new TaskError('input', `The input ${input} ${message}`);
}

function seconds(input: string, value: string, fallback: number, max: number): number {
  if (value.trim() === '') return fallback * 1000;
  // Stryker disable next-line MethodExpression: Number() ignores the same surrounding whitespace trim() removes
  const parsed = Number(value.trim());
  if (!Number.isFinite(parsed) || parsed < 1 || parsed > max)
    throw bad(input, `is "${value}": give a number of seconds between 1 and ${max}.`);
  return parsed * 1000;
}

function parseHealthCheck(inputs: HealthCheckInputs): HealthCheckOptions | null {
  const url = inputs.healthCheckUrl.trim();
  if (!url) return null;
  requireDefined('healthCheckUrl', url);
  if (!url.startsWith('/')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw bad(
        'healthCheckUrl',
        `("${url}") is neither a path like /health nor a full URL like https://my-app.herokuapp.com/health.`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw bad('healthCheckUrl', `must be an http(s) URL or a path, not ${parsed.protocol}`);
  }
  const statusText = inputs.healthCheckExpectedStatus.trim() || '200';
  const expectedStatus = Number(statusText);
  if (!Number.isInteger(expectedStatus) || expectedStatus < 100 || expectedStatus > 599)
    throw bad('healthCheckExpectedStatus', `is "${statusText}": give an HTTP status code such as 200.`);
  let expectedText: HealthCheckOptions['expectedText'] = null;
  const text = inputs.healthCheckExpectedText;
  if (text.trim()) {
    requireDefined('healthCheckExpectedText', text);
    const regex = /^\/(.+)\/([a-z]*)$/s.exec(text.trim());
    if (regex?.[1] !== undefined) {
      try {
        expectedText = { pattern: new RegExp(regex[1], regex[2]) };
      } catch (error) {
        throw bad(
          'healthCheckExpectedText',
          `is not a valid regular expression (${errorMessage(error)}): write /pattern/flags, or plain text to look for.`,
        );
      }
    } else expectedText = { text };
  }
  const timeoutMs = seconds('healthCheckTimeout', inputs.healthCheckTimeout, 120, 3600);
  const intervalMs = seconds('healthCheckInterval', inputs.healthCheckInterval, 5, 600);
  if (intervalMs > timeoutMs)
    throw bad(
      'healthCheckInterval',
      `(${intervalMs / 1000} s) is longer than healthCheckTimeout (${timeoutMs / 1000} s): nothing would be checked twice.`,
    );
  return { url, expectedStatus, expectedText, timeoutMs, intervalMs };
}

/** The health check (null without healthCheckUrl) and whether a failed one rolls back. */
export function parseHealthCheckInputs(inputs: HealthCheckInputs): Pick<Safeguards, 'healthCheck' | 'rollbackOnFailure'> {
  return { healthCheck: parseHealthCheck(inputs), rollbackOnFailure: inputs.rollbackOnFailure };
}

const PROCESS_TYPE = /^[a-z0-9][a-z0-9_-]{0,127}$/i;

function parseProcessTypes(value: string): string[] {
  requireDefined('stopProcessTypes', value);
  // Stryker disable next-line Regex: the empty strings a single-character separator leaves are filtered out
  const types = value.split(/[\s,]+/).filter(Boolean);
  for (const type of types)
    if (!PROCESS_TYPE.test(type))
      throw bad('stopProcessTypes', `names "${type}", which is not a process type (a Procfile name like worker).`);
  if (types.includes('web'))
    throw bad(
      'stopProcessTypes',
      'includes web: stopping web dynos takes the app offline. Use maintenanceMode: true to keep users out during the deploy instead.',
    );
  return [...new Set(types)];
}

/**
 * `KEY=VALUE` per line sets, `KEY=` removes; blank lines and `# comments` are skipped. Lines end at
 * LF, CRLF or a lone CR alike; spaces and tabs around the key and the value are ignored.
 */
export function parseConfigVars(value: string): Record<string, string | null> {
  const pairs = parseKeyValueLines(value, 'configVars', 'KEY= removes a var');
  return Object.fromEntries(pairs.map(([key, setting]) => [key, setting === '' ? null : setting]));
}

function name(input: string, value: string, pattern: RegExp, example: string): string | null {
  const trimmed = value.trim();
  if (!trimmed) return null;
  requireDefined(input, trimmed);
  if (!pattern.test(trimmed)) throw bad(input, `is "${trimmed}": give a name such as ${example}.`);
  return trimmed;
}

function parseBuildpacks(value: string): string[] {
  requireDefined('buildpacks', value);
  const buildpacks = value
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const buildpack of buildpacks) {
    const isName = /^[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9._-]*$/i.test(buildpack);
    const isUrl = /^https?:\/\/\S+$/.test(buildpack);
    if (!isName && !isUrl)
      throw bad('buildpacks', `lists "${buildpack}": give one buildpack per line, a registry name like heroku/nodejs or a URL.`);
  }
  return buildpacks;
}

export function parseSafeguards(inputs: SafeguardInputs): Safeguards {
  const { healthCheck, rollbackOnFailure } = parseHealthCheckInputs(inputs);
  const creation: AppCreation = {
    region: name('region', inputs.region, /^[a-z][a-z0-9-]{1,29}$/, 'us or eu'),
    team: name('team', inputs.team, /^[a-z0-9][a-z0-9-]{0,29}$/, 'my-team'),
    stack: name('stack', inputs.stack, /^[a-z][a-z0-9-]{1,29}$/, 'heroku-24'),
  };
  if (!inputs.createApp && (creation.region || creation.team || creation.stack)) {
    throw new TaskError(
      'input',
      'region, team and stack apply only when creating the app: set createApp: true, or remove them (an existing app keeps its region, team and stack).',
    );
  }
  return {
    healthCheck,
    rollbackOnFailure,
    maintenanceMode: inputs.maintenanceMode,
    stopProcessTypes: parseProcessTypes(inputs.stopProcessTypes),
    configVars: parseConfigVars(inputs.configVars),
    createApp: inputs.createApp ? creation : null,
    buildpacks: parseBuildpacks(inputs.buildpacks),
  };
}
