// Azure Pipelines' YAML schema as an organisation with this extension installed serves it: the
// official service-schema.json (../shared/azure-pipelines/) with each of our tasks added the way
// Azure DevOps adds an installed extension's tasks, compiled with ajv. It validates what a user
// would paste: a whole pipeline, or a list of steps (`#/definitions/steps`).
import { readFileSync } from 'node:fs';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';
import type { TaskInput, TaskJson } from '../packaging/manifest';
import { sharedPath } from './shared';

export const SERVICE_SCHEMA = sharedPath('azure-pipelines', 'service-schema.json');

type Json = Record<string, unknown>;

interface TaskEntries {
  /** Goes into `definitions.task.properties.task.anyOf`: the name the editor suggests. */
  name: Json;
  /** Goes into `definitions.task.anyOf`: the task's inputs. */
  inputs: Json;
}

function inputSchema(input: TaskInput): Json {
  const description = input.label ?? input.name;
  if (input.type === 'boolean') return { type: 'boolean', description, ignoreCase: 'key' };
  if (input.type === 'pickList' && input.properties?.EditableOptions?.toLowerCase() !== 'true' && input.options)
    return { description, ignoreCase: 'all', enum: Object.keys(input.options) };
  return { type: 'string', description, ignoreCase: 'key' };
}

/** The two schema entries Azure DevOps makes of an installed task's task.json (compare `AzureCLI@2`). */
export function taskEntries(task: TaskJson): TaskEntries {
  const reference = `${task.name}@${task.version.Major}`;
  const description = `${task.friendlyName ?? task.name}\n\n${task.description ?? ''}`.trim();
  const properties: Json = {};
  for (const input of task.inputs ?? []) {
    const schema = inputSchema(input);
    properties[input.name] = input.aliases?.length ? { ...schema, aliases: input.aliases } : schema;
    // The service's own parser accepts an alias wherever the input's name goes; ajv knows no
    // `aliases` keyword, so each alias is also listed as a property of its own.
    for (const alias of input.aliases ?? []) properties[alias] = schema;
  }
  const required = (task.inputs ?? []).filter((i) => i.required && !i.defaultValue).map((i) => i.name);
  const inputs: Json = {
    description: `${task.friendlyName ?? task.name} inputs`,
    properties,
    additionalProperties: false,
    ...(required.length ? { required } : {}),
  };
  return {
    name: { description, doNotSuggest: false, ignoreCase: 'value', enum: [reference] },
    inputs: {
      properties: { task: { description, ignoreCase: 'value', pattern: `^${reference}$` }, inputs },
      doNotSuggest: false,
      firstProperty: ['task'],
      required: required.length ? ['task', 'inputs'] : ['task'],
    },
  };
}

/**
 * The value model: Azure Pipelines reads every scalar as a string, and its editor counts a YAML
 * number or boolean as a string wherever a string is expected (`appName: 42`, `clean: true`), while
 * a task's boolean input wants a YAML boolean (`force: yes` is a string, and task-lib reads it as
 * false). So `"type": "string"` also admits numbers and booleans; `"type": "boolean"` stays strict.
 */
function scalarsAsStrings(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(scalarsAsStrings);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json))
    out[key] = key === 'type' && value === 'string' ? ['string', 'number', 'boolean'] : scalarsAsStrings(value);
  return out;
}

/** service-schema.json with these tasks added, as the organisation's editor would get it. */
export function schemaWithTasks(tasks: TaskJson[]): Json {
  const schema = JSON.parse(readFileSync(SERVICE_SCHEMA, 'utf8')) as Json;
  const definitions = schema.definitions as Record<string, Json>;
  const task = definitions.task as { anyOf: Json[]; properties: { task: { anyOf: Json[] } } };
  for (const entries of tasks.map(taskEntries)) {
    task.properties.task.anyOf.push(entries.name);
    task.anyOf.push(entries.inputs);
  }
  return schema;
}

export interface Problem {
  /** Where in the block: `steps/2/inputs/appNmae`; for YAML that does not parse, the line and column in the block. */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export type Kind = 'pipeline' | 'steps' | 'fragment';

const SCHEMA_ID = 'azure-pipelines-with-tasks';

/** The value at a JSON pointer's place (`/steps/2` -> the `task` of that step). */
function at(value: unknown, pointer: string): unknown {
  let node = value;
  for (const segment of pointer.split('/').filter(Boolean)) node = (node as Record<string, unknown> | undefined)?.[segment];
  return (node as { task?: unknown } | undefined)?.task;
}

const TASK_BRANCH = /^#\/definitions\/task\/anyOf\/\d+\//;

/**
 * ajv reports every branch of the step and task `anyOf`s. A task branch whose `task` did not match
 * (another task's inputs) says nothing; of the rest, the deepest errors say what is wrong.
 */
function explain(errors: ErrorObject[], value: unknown): Problem[] {
  const taskMismatches = errors.filter(
    (e) => TASK_BRANCH.test(e.schemaPath) && e.schemaPath.replace(TASK_BRANCH, '').startsWith('properties/task/'),
  );
  const otherTasks = new Set(taskMismatches.map((e) => TASK_BRANCH.exec(e.schemaPath)?.[0]));
  // A step whose `task` no branch accepted names a task the schema does not have: that is the problem.
  const unknown = [...new Set(taskMismatches.map((e) => e.instancePath.replace(/\/task$/, '')))].filter(
    (step) =>
      !errors.some(
        (e) =>
          TASK_BRANCH.test(e.schemaPath) &&
          !otherTasks.has(TASK_BRANCH.exec(e.schemaPath)?.[0]) &&
          e.instancePath.startsWith(step),
      ),
  );
  if (unknown.length)
    return unknown.map((step) => ({
      path: `${step.split('/').filter(Boolean).join('/')}/task`,
      message: `${JSON.stringify(at(value, step))} is no task the schema knows (Azure Pipelines' built-in tasks with inputs, and this extension's)`,
    }));
  const located = errors
    .filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword))
    .filter((e) => !otherTasks.has(TASK_BRANCH.exec(e.schemaPath)?.[0]))
    .map((e) => {
      const extra = (e.params as { additionalProperty?: string; missingProperty?: string }) ?? {};
      const leaf = extra.additionalProperty ?? extra.missingProperty;
      const segments = e.instancePath.split('/').filter(Boolean);
      if (leaf !== undefined) segments.push(leaf);
      return { segments, message: e.message ?? e.keyword, error: e };
    });
  const depth = Math.max(0, ...located.map((l) => l.segments.length));
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const l of located.filter((x) => x.segments.length === depth)) {
    const problem = {
      path: l.segments.join('/') || '(the block)',
      message:
        l.error.keyword === 'additionalProperties'
          ? 'is not allowed here (misspelt?)'
          : l.error.keyword === 'required'
            ? 'is required and missing'
            : l.message,
    };
    const key = `${problem.path} ${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

export class PipelineValidator {
  private readonly pipeline: ValidateFunction;
  private readonly steps: ValidateFunction;

  constructor(tasks: TaskJson[]) {
    // strict: false for the editor's own keywords (ignoreCase, firstProperty, doNotSuggest, ...);
    // unicodeRegExp: false because some of its patterns are not valid unicode regexes.
    const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
    ajv.addSchema({ ...(scalarsAsStrings(schemaWithTasks(tasks)) as Json), $id: SCHEMA_ID });
    this.pipeline = ajv.getSchema(SCHEMA_ID) as ValidateFunction;
    this.steps = ajv.getSchema(`${SCHEMA_ID}#/definitions/steps`) as ValidateFunction;
  }

  /**
   * Parses a YAML text and validates it: a list is a list of steps, a mapping a whole pipeline,
   * and a fragment is only parsed. Returns what is wrong (empty when it is valid).
   */
  check(text: string, kind?: Kind): Problem[] {
    const document = parseDocument(text, { uniqueKeys: true });
    const parseProblems = [...document.errors, ...document.warnings].map((e): Problem => ({
      path: '(YAML)',
      ...(e.linePos ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}),
      message: (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, ''),
    }));
    if (parseProblems.length) return parseProblems;
    const value: unknown = document.toJS();
    const as = kind ?? (Array.isArray(value) ? 'steps' : 'pipeline');
    if (as === 'fragment') return [];
    const validate = as === 'steps' ? this.steps : this.pipeline;
    if (validate(value)) return [];
    return explain(validate.errors ?? [], value);
  }
}
