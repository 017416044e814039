// Every YAML example a user can copy from this repository loads in Azure Pipelines: it parses, and it
// validates against Azure Pipelines' official schema with this extension's tasks added as Azure
// DevOps adds them (a list of steps against #/definitions/steps, anything else as a pipeline).
import assert from 'node:assert/strict';
import { PipelineValidator, taskEntries, type Problem } from '../support/pipeline-schema';
import { describeProblem, repositoryYaml, yamlBlocks, type YamlBlock } from '../support/yaml-blocks';
import { ROOT, readTaskJson, sourceTaskFolders } from '../packaging/manifest';

/** One line per problem: the doc, the block and the path in it. */
function failures(validator: PipelineValidator, blocks: YamlBlock[]): string[] {
  return blocks.flatMap((block) => validator.check(block.text, block.kind).map((p: Problem) => describeProblem(block, p)));
}

const GOOD_STEPS = `
steps:
  - checkout: self
  - script: npm ci && npm test
  - task: HerokuDeploy@1
    name: deploy
    inputs:
      appName: my-app
      apiKey: $(HEROKU_API_KEY)
      force: false
  - script: 'echo "rolled back: $(deploy.rolledBack)"'
`;

/** A doc holding one yaml block, the way README.md holds them. */
function doc(yaml: string): YamlBlock[] {
  return yamlBlocks('EXAMPLE.md', `# Example\n\nSome text.\n\n\`\`\`yaml\n${yaml.trim()}\n\`\`\`\n`);
}

describe('YAML examples load in Azure Pipelines (service-schema.json with our tasks)', function () {
  this.timeout(120_000);
  const tasks = sourceTaskFolders().map(readTaskJson);
  let validator: PipelineValidator;

  before(() => {
    validator = new PipelineValidator(tasks);
  });

  it('finds the examples of README.md, overview.md, the tasks and the pipeline of this repository', () => {
    const blocks = repositoryYaml(ROOT);
    const count = (d: string) => blocks.filter((b) => b.doc === d).length;
    assert.ok(count('README.md') >= 4, `README.md: ${count('README.md')} yaml blocks`);
    assert.ok(count('overview.md') >= 4, `overview.md: ${count('overview.md')} yaml blocks`);
    assert.equal(count('azure-pipelines.yml'), 1, 'azure-pipelines.yml is not checked');
  });

  it('every one of them parses and validates', () => {
    assert.deepEqual(failures(validator, repositoryYaml(ROOT)), []);
  });

  it('a valid list of steps passes (the control for the controls below)', () => {
    assert.deepEqual(failures(validator, doc(GOOD_STEPS)), []);
    assert.deepEqual(failures(validator, doc(GOOD_STEPS.replace('steps:\n', '').replace(/^ {2}/gm, ''))), []);
  });

  describe('negative controls: each mistake is caught, naming the doc, the block and the path', () => {
    it('a misspelt input', () => {
      assert.deepEqual(failures(validator, doc(GOOD_STEPS.replace('appName:', 'appNmae:'))), [
        'EXAMPLE.md block 1 (line 6): steps/2/inputs/appName: is required and missing',
        'EXAMPLE.md block 1 (line 6): steps/2/inputs/appNmae: is not allowed here (misspelt?)',
      ]);
    });

    it('a missing required input', () => {
      assert.deepEqual(failures(validator, doc(GOOD_STEPS.replace(/^ +appName: my-app\n/m, ''))), [
        'EXAMPLE.md block 1 (line 6): steps/2/inputs/appName: is required and missing',
      ]);
    });

    it('a value that is not a boolean for a boolean input', () => {
      for (const value of ['yes', 'maybe', '$(force)'])
        assert.deepEqual(failures(validator, doc(GOOD_STEPS.replace('force: false', `force: ${value}`))), [
          'EXAMPLE.md block 1 (line 6): steps/2/inputs/force: must be boolean',
        ]);
    });

    it('a plain scalar with ": " in it (the script lines issue #13 found)', () => {
      const [line] = failures(
        validator,
        doc(GOOD_STEPS.replace(`'echo "rolled back: $(deploy.rolledBack)"'`, 'echo "rolled back: $(deploy.rolledBack)"')),
      );
      assert.match(line ?? '', /^EXAMPLE\.md block 1 \(line 6\): line 15, column \d+: Nested mappings are not allowed/);
    });

    it('an input of another task, an unknown version, an unknown step and a misplaced key in a whole pipeline', () => {
      assert.deepEqual(failures(validator, doc(GOOD_STEPS.replace('apiKey:', 'sourceApp:'))), [
        'EXAMPLE.md block 1 (line 6): steps/2/inputs/sourceApp: is not allowed here (misspelt?)',
      ]);
      assert.deepEqual(failures(validator, doc(GOOD_STEPS.replace('HerokuDeploy@1', 'HerokuDeploy@2'))), [
        'EXAMPLE.md block 1 (line 6): steps/2/task: "HerokuDeploy@2" is no task the schema knows (Azure Pipelines\' built-in tasks with inputs, and this extension\'s)',
      ]);
      assert.notDeepEqual(failures(validator, doc(GOOD_STEPS.replace('- checkout: self', '- checkoutt: self'))), []);
      const pipeline = `
stages:
  - stage: production
    jobs:
      - deployment: promote
        environment: production
        strategy:
          runOnce:
            deploy:
              steps:
                - task: HerokuPromote@1
                  inputs:
                    sourceAp: my-app-staging
`;
      assert.deepEqual(failures(validator, doc(pipeline)), [
        'EXAMPLE.md block 1 (line 6): stages/0/jobs/0/strategy/runOnce/deploy/steps/0/inputs/sourceApp: is required and missing',
        'EXAMPLE.md block 1 (line 6): stages/0/jobs/0/strategy/runOnce/deploy/steps/0/inputs/sourceAp: is not allowed here (misspelt?)',
      ]);
    });

    it('a block marked as a fragment is only parsed', () => {
      const fragment = '# fragment: the inputs of a deploy step\nappNmae: my-app\nforce: maybe\n';
      const [block] = doc(fragment);
      assert.equal(block?.kind, 'fragment');
      assert.deepEqual(failures(validator, doc(fragment)), []);
      assert.match(
        failures(validator, doc(`${fragment}script: echo "a: b"\n`))[0] ?? '',
        /^EXAMPLE\.md block 1 \(line 6\): line 9, column \d+: Nested mappings/,
      );
      // Without the mark, the same text is a pipeline, and not a valid one.
      assert.notDeepEqual(failures(validator, doc(fragment.replace(/^# fragment.*\n/, ''))), []);
    });
  });

  describe("our tasks in the schema, as Azure DevOps adds an installed extension's tasks", () => {
    it('HerokuDeploy@1: every input and alias, booleans as booleans, the required input without a default', () => {
      const deploy = tasks.find((t) => t.name === 'HerokuDeploy');
      assert.ok(deploy, 'deploy');
      const { name, inputs } = taskEntries(deploy);
      assert.deepEqual(name.enum, ['HerokuDeploy@1']);
      const entry = inputs as {
        properties: {
          task: { pattern: string };
          inputs: { properties: Record<string, Record<string, unknown>>; required?: string[]; additionalProperties: boolean };
        };
        required: string[];
      };
      assert.equal(entry.properties.task.pattern, '^HerokuDeploy@1$');
      assert.deepEqual(entry.required, ['task', 'inputs']);
      assert.deepEqual(entry.properties.inputs.required, ['appName']);
      assert.equal(entry.properties.inputs.additionalProperties, false);
      const properties = entry.properties.inputs.properties;
      assert.deepEqual(
        Object.keys(properties).sort(),
        [...(deploy.inputs ?? []).flatMap((i) => [i.name, ...(i.aliases ?? [])])].sort(),
      );
      assert.equal(properties.force?.type, 'boolean');
      assert.equal(properties.maintenanceMode?.type, 'boolean');
      assert.equal(properties.region?.type, 'string', 'an editable pickList takes any string');
      assert.deepEqual(properties.herokuConnection?.aliases, ['connection']);
    });

    it('a pickList without EditableOptions is an enum of its option keys, and a task with no required input needs no inputs', () => {
      const { inputs } = taskEntries({
        id: '00000000-0000-0000-0000-000000000000',
        name: 'Example',
        version: { Major: 3, Minor: 0, Patch: 0 },
        instanceNameFormat: 'x',
        execution: {},
        inputs: [{ name: 'mode', type: 'pickList', options: { a: 'A', b: 'B' }, required: true, defaultValue: 'a' }],
      });
      const entry = inputs as {
        required: string[];
        properties: { inputs: { properties: { mode: { enum: string[] } }; required?: string[] } };
      };
      assert.deepEqual(entry.properties.inputs.properties.mode.enum, ['a', 'b']);
      assert.deepEqual(entry.required, ['task']);
      assert.equal(entry.properties.inputs.required, undefined);
    });
  });
});
