// Every tasks/*/task.json is valid for Azure Pipelines (the official schema) and keeps the public
// contract: identity, inputs, outputs, handlers that exist in the built folder, groups, and a picker
// bound to a data source the extension really contributes. Mutated copies must fail the same check.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject } from 'ajv-draft-04';
import {
  BUILD_TASKS,
  TASKS_SCHEMA,
  endpointType,
  readJson,
  readManifest,
  readTaskJson,
  sourceTaskFolders,
  type Manifest,
  type TaskJson,
} from './manifest';

interface InputContract {
  type: string;
  required?: boolean;
  defaultValue?: string;
}

interface TaskContract {
  /** Never changes: a new GUID breaks every classic pipeline using the task. */
  id: string;
  inputs: Record<string, InputContract>;
  outputs: string[];
}

/** The public API of each task (DESIGN.md): later versions add inputs, they never rename these. */
const CONTRACTS: Record<string, TaskContract> = {
  HerokuDeployV1: {
    id: '9e93a109-a346-42eb-b588-68f14f8ae2c1',
    inputs: {
      herokuConnection: { type: 'connectedService:heroku', required: false },
      apiKey: { type: 'string', required: false },
      appName: { type: 'pickList', required: true },
      ref: { type: 'string', required: false, defaultValue: 'HEAD' },
      force: { type: 'boolean', required: false, defaultValue: 'false' },
      workingDirectory: { type: 'filePath', required: false, defaultValue: '$(System.DefaultWorkingDirectory)' },
      // Safe deploys
      healthCheckUrl: { type: 'string', required: false, defaultValue: '' },
      healthCheckExpectedStatus: { type: 'string', required: false, defaultValue: '200' },
      healthCheckExpectedText: { type: 'string', required: false, defaultValue: '' },
      healthCheckTimeout: { type: 'string', required: false, defaultValue: '120' },
      healthCheckInterval: { type: 'string', required: false, defaultValue: '5' },
      rollbackOnFailure: { type: 'boolean', required: false, defaultValue: 'true' },
      maintenanceMode: { type: 'boolean', required: false, defaultValue: 'false' },
      stopProcessTypes: { type: 'string', required: false, defaultValue: '' },
      configVars: { type: 'multiLine', required: false, defaultValue: '' },
      createApp: { type: 'boolean', required: false, defaultValue: 'false' },
      region: { type: 'pickList', required: false, defaultValue: '' },
      team: { type: 'string', required: false, defaultValue: '' },
      stack: { type: 'pickList', required: false, defaultValue: '' },
      buildpacks: { type: 'multiLine', required: false, defaultValue: '' },
    },
    outputs: ['releaseVersion', 'releaseId', 'commit', 'appUrl', 'previousReleaseVersion', 'rolledBack', 'healthCheckStatus'],
  },
  HerokuPromoteV1: {
    id: 'df4e5429-079a-4934-949f-d2acf4b70b29',
    inputs: {
      herokuConnection: { type: 'connectedService:heroku', required: false },
      apiKey: { type: 'string', required: false },
      sourceApp: { type: 'pickList', required: true },
      targetApps: { type: 'string', required: false, defaultValue: '' },
      expectedCommit: { type: 'string', required: false, defaultValue: '' },
      workingDirectory: { type: 'filePath', required: false, defaultValue: '$(System.DefaultWorkingDirectory)' },
      healthCheckUrl: { type: 'string', required: false, defaultValue: '' },
      healthCheckExpectedStatus: { type: 'string', required: false, defaultValue: '200' },
      healthCheckExpectedText: { type: 'string', required: false, defaultValue: '' },
      healthCheckTimeout: { type: 'string', required: false, defaultValue: '120' },
      healthCheckInterval: { type: 'string', required: false, defaultValue: '5' },
      rollbackOnFailure: { type: 'boolean', required: false, defaultValue: 'true' },
    },
    outputs: ['promotionId', 'releaseVersions', 'commit'],
  },
  HerokuCliV1: {
    id: '081127ff-ff3f-45ce-9515-a682d9458081',
    inputs: {
      herokuConnection: { type: 'connectedService:heroku', required: false },
      apiKey: { type: 'string', required: false },
      scriptType: { type: 'pickList', required: true },
      scriptLocation: { type: 'pickList', required: false, defaultValue: 'inlineScript' },
      scriptPath: { type: 'filePath' },
      inlineScript: { type: 'multiLine' },
      arguments: { type: 'string', required: false, defaultValue: '' },
      workingDirectory: { type: 'filePath', required: false, defaultValue: '' },
      failOnStandardError: { type: 'boolean', required: false, defaultValue: 'false' },
      cliVersion: { type: 'string', required: false, defaultValue: '' },
    },
    outputs: [],
  },
  HerokuRollbackV1: {
    id: '7ebebe3f-ffa9-4e74-b711-6ce7824d115b',
    inputs: {
      herokuConnection: { type: 'connectedService:heroku', required: false },
      apiKey: { type: 'string', required: false },
      appName: { type: 'pickList', required: true },
      toVersion: { type: 'string', required: false, defaultValue: '' },
      expectedCommit: { type: 'string', required: false, defaultValue: '' },
      healthCheckUrl: { type: 'string', required: false, defaultValue: '' },
      healthCheckExpectedStatus: { type: 'string', required: false, defaultValue: '200' },
      healthCheckExpectedText: { type: 'string', required: false, defaultValue: '' },
      healthCheckTimeout: { type: 'string', required: false, defaultValue: '120' },
      healthCheckInterval: { type: 'string', required: false, defaultValue: '5' },
    },
    outputs: ['releaseVersion', 'commit', 'rolledBackFrom'],
  },
  HerokuRunV1: {
    id: '093141bb-a76e-4ce5-95b1-22765b6deedd',
    inputs: {
      herokuConnection: { type: 'connectedService:heroku', required: false },
      apiKey: { type: 'string', required: false },
      appName: { type: 'pickList', required: true },
      command: { type: 'string', required: true },
      failOnExitCode: { type: 'boolean', required: false, defaultValue: 'true' },
      timeout: { type: 'string', required: false, defaultValue: '60' },
      env: { type: 'multiLine', required: false, defaultValue: '' },
      size: { type: 'string', required: false, defaultValue: '' },
      type: { type: 'string', required: false, defaultValue: 'run' },
    },
    outputs: ['exitCode', 'dynoName'],
  },
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REQUIRED_HANDLERS = ['Node20_1', 'Node24'];

const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
const validateSchema = ajv.compile(readJson<object>(TASKS_SCHEMA));

const describeError = (e: ErrorObject): string =>
  `schema: ${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`;

/** Everything wrong with a task.json of tasks/<folder>/: empty when it is fit to ship. */
function taskJsonProblems(
  task: TaskJson,
  folder: string,
  manifest: Manifest,
  builtDir = path.join(BUILD_TASKS, folder),
): string[] {
  const problems: string[] = [];
  if (!validateSchema(task)) problems.push(...(validateSchema.errors ?? []).map(describeError));

  if (typeof task.id !== 'string' || !GUID.test(task.id)) problems.push(`id "${String(task.id)}" is not a GUID`);
  if (typeof task.name !== 'string' || !/^[A-Za-z0-9-]+$/.test(task.name))
    problems.push(`name "${String(task.name)}" is not an alphanumeric name`);
  if (typeof task.friendlyName !== 'string' || task.friendlyName.length < 1 || task.friendlyName.length > 40)
    problems.push('friendlyName must be 1 to 40 characters');
  const version = task.version ?? {};
  for (const part of ['Major', 'Minor', 'Patch'] as const) {
    if (typeof version[part] !== 'number' || !Number.isInteger(version[part]) || version[part] < 0)
      problems.push(`version.${part} is not a whole number: ${JSON.stringify(version[part])}`);
  }
  if (`${task.name}V${version.Major}` !== folder)
    problems.push(
      `the folder ${folder} does not match name ${task.name} and version.Major ${version.Major} (expected ${task.name}V${version.Major})`,
    );

  // Handlers: the agent runs the highest it supports; each target must be in the built folder.
  const execution = task.execution ?? {};
  for (const handler of REQUIRED_HANDLERS) if (!execution[handler]) problems.push(`execution has no ${handler} handler`);
  for (const [handler, { target }] of Object.entries(execution)) {
    if (!target || !existsSync(path.join(builtDir, target)))
      problems.push(
        `execution.${handler}.target "${target}" does not exist in ${path.relative(process.cwd(), builtDir) || builtDir}`,
      );
  }

  // The public contract.
  const inputs = task.inputs ?? [];
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const contract = CONTRACTS[folder];
  if (!contract) problems.push(`no public contract for ${folder}: add its inputs and outputs to CONTRACTS in this test`);
  if (contract) {
    if (task.id !== contract.id) problems.push(`id changed from ${contract.id} to ${task.id}: a task's GUID never changes`);
    for (const [name, expected] of Object.entries(contract.inputs)) {
      const input = byName.get(name);
      if (!input) {
        problems.push(`input ${name} is missing (public contract)`);
        continue;
      }
      if (input.type !== expected.type) problems.push(`input ${name} is of type ${input.type}, not ${expected.type}`);
      if (expected.required !== undefined && Boolean(input.required) !== expected.required)
        problems.push(`input ${name} should${expected.required ? '' : ' not'} be required`);
      if (expected.defaultValue !== undefined && input.defaultValue !== expected.defaultValue)
        problems.push(
          `input ${name} defaults to ${JSON.stringify(input.defaultValue)}, not ${JSON.stringify(expected.defaultValue)}`,
        );
    }
    const outputs = new Set((task.outputVariables ?? []).map((o) => o.name));
    for (const name of contract.outputs)
      if (!outputs.has(name)) problems.push(`output variable ${name} is missing (public contract)`);
  }
  const names = inputs.flatMap((i) => [i.name, ...(i.aliases ?? [])]);
  for (const name of new Set(names.filter((n, index) => names.indexOf(n) !== index)))
    problems.push(`input name or alias ${name} is used twice`);

  if (byName.has('appName') && !String(task.instanceNameFormat).includes('$(appName)'))
    problems.push(`instanceNameFormat "${task.instanceNameFormat}" does not mention $(appName)`);

  const groups = new Set((task.groups ?? []).map((g) => g.name));
  for (const input of inputs) {
    if (input.groupName !== undefined && !groups.has(input.groupName))
      problems.push(`input ${input.name} is in group "${input.groupName}", which task.json does not declare`);
  }

  // Pickers: each binding's endpoint input names an endpoint type this extension contributes, and
  // its data source exists there.
  for (const binding of task.dataSourceBindings ?? []) {
    const label = `dataSourceBinding for ${binding.target ?? '(no target)'}`;
    if (!binding.target || !byName.has(binding.target)) problems.push(`${label}: target is no input`);
    const endpointInput = /^\$\((\w+)\)$/.exec(binding.endpointId ?? '')?.[1];
    const connection = endpointInput ? byName.get(endpointInput) : undefined;
    const typeName = /^connectedService:(.+)$/.exec(connection?.type ?? '')?.[1];
    if (!connection || !typeName) {
      problems.push(`${label}: endpointId ${binding.endpointId ?? '(none)'} is not $(<a connectedService input>)`);
      continue;
    }
    const type = endpointType(manifest, typeName);
    if (!type) {
      problems.push(`${label}: vss-extension.json contributes no service endpoint type "${typeName}" (input ${connection.name})`);
      continue;
    }
    if (!(type.dataSources ?? []).some((d) => d.name === binding.dataSourceName)) {
      problems.push(
        `${label}: data source "${binding.dataSourceName ?? ''}" is not one of the "${typeName}" endpoint type's (${(type.dataSources ?? []).map((d) => d.name).join(', ')})`,
      );
    }
    if (!binding.resultTemplate?.includes('Value')) problems.push(`${label}: resultTemplate gives no Value`);
  }
  const appName = byName.get('appName');
  if (appName && inputs.some((i) => i.type.startsWith('connectedService:'))) {
    if (!(task.dataSourceBindings ?? []).some((b) => b.target === 'appName'))
      problems.push('appName has no dataSourceBinding (the classic editor picker)');
    if (appName.type === 'pickList' && appName.properties?.EditableOptions !== 'True')
      problems.push('appName is a pickList without EditableOptions "True": a YAML-only or new app name could not be typed');
  }
  return problems;
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

describe('task.json', () => {
  const manifest = readManifest();
  const folders = sourceTaskFolders();

  it('finds the tasks', () => {
    for (const folder of ['HerokuDeployV1', 'HerokuPromoteV1', 'HerokuCliV1', 'HerokuRollbackV1', 'HerokuRunV1'])
      assert.ok(folders.includes(folder), `tasks/ holds ${folders.join(', ')}`);
  });

  for (const folder of folders) {
    describe(folder, () => {
      const task = readTaskJson(folder);

      it('passes the schema and every assertion the schema leaves optional', () => {
        assert.deepEqual(taskJsonProblems(task, folder, manifest), []);
      });

      it('is copied unchanged into build/tasks (run npm run build first)', () => {
        const built = path.join(BUILD_TASKS, folder, 'task.json');
        assert.ok(existsSync(built), `${built} is missing: run npm run build before the tests`);
        assert.equal(
          readFileSync(built, 'utf8'),
          readFileSync(path.resolve(BUILD_TASKS, '../../tasks', folder, 'task.json'), 'utf8'),
        );
      });
    });
  }

  describe('negative controls: the same validation rejects a broken task.json', () => {
    const folder = 'HerokuDeployV1';
    const mutations: Array<[string, (t: TaskJson) => void, RegExp]> = [
      ['an unknown execution handler (Node99)', (t) => (t.execution.Node99 = { target: 'index.js' }), /Node99/],
      ['an id that is not a GUID', (t) => (t.id = 'not-a-guid'), /not a GUID/],
      ['a changed id', (t) => (t.id = '00000000-0000-4000-8000-000000000000'), /never changes/],
      ['no Node24 handler', (t) => delete t.execution.Node24, /no Node24 handler/],
      ['a target missing from the built folder', (t) => (t.execution.Node20_1 = { target: 'missing.js' }), /missing\.js/],
      ['a version that is a string', (t) => ((t.version as unknown as Record<string, unknown>).Minor = '0'), /Minor/],
      ['an instance name without $(appName)', (t) => (t.instanceNameFormat = 'Deploy to Heroku'), /\$\(appName\)/],
      ['a renamed input', (t) => (t.inputs!.find((i) => i.name === 'apiKey')!.name = 'apiToken'), /input apiKey is missing/],
      [
        'a removed output variable',
        (t) => (t.outputVariables = t.outputVariables!.filter((o) => o.name !== 'releaseVersion')),
        /releaseVersion/,
      ],
      ['an undeclared group', (t) => (t.inputs![0]!.groupName = 'advanced'), /group "advanced"/],
      ['a data source the endpoint type lacks', (t) => (t.dataSourceBindings![0]!.dataSourceName = 'HerokuAppz'), /HerokuAppz/],
      [
        'an endpoint type the extension does not contribute',
        (t) => (t.inputs!.find((i) => i.name === 'herokuConnection')!.type = 'connectedService:herokuu'),
        /herokuu/,
      ],
      ['a picker bound to no connection input', (t) => (t.dataSourceBindings![0]!.endpointId = '$(appName)'), /endpointId/],
      ['a duplicate alias', (t) => (t.inputs!.find((i) => i.name === 'ref')!.aliases = ['cwd']), /cwd is used twice/],
      ['an unknown top-level property', (t) => ((t as unknown as Record<string, unknown>).exection = {}), /exection/],
    ];
    for (const [what, mutate, expected] of mutations) {
      it(`rejects ${what}`, () => {
        const broken = clone(readTaskJson(folder));
        mutate(broken);
        const problems = taskJsonProblems(broken, folder, manifest);
        assert.ok(
          problems.some((p) => expected.test(p)),
          `expected a problem matching ${String(expected)}, got:\n${problems.join('\n') || '(none)'}`,
        );
      });
    }

    it('rejects a task whose endpoint type lost the picker data source in vss-extension.json', () => {
      const broken = clone(manifest);
      const heroku = endpointType(broken, 'heroku');
      assert.ok(heroku, 'heroku');
      heroku.dataSources = (heroku.dataSources ?? []).filter((d) => d.name !== 'HerokuApps');
      assert.ok(
        taskJsonProblems(readTaskJson(folder), folder, broken).some((p) => /HerokuApps/.test(p)),
        'taskJsonProblems(readTaskJson(folder), folder, broken).some((p) => /HerokuApps/.test(p))',
      );
    });
  });
});
