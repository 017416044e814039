// The dependency rule is enforced by lint (eslint.config.mjs): these imports, each against the
// architecture, must be flagged, so that the rule cannot silently stop working. So must an
// assertion without a message in the tests (one ESLint instance: its type information is built once).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '../..');
const CORE = 'tasks/common/core';
const ARCHITECTURE_RULES = ['import-x/no-restricted-paths', 'no-restricted-imports', 'local/no-import-cycle'];

/** The rule ids ESLint reports for `code` as if it were the file at `file` (relative to the root). */
async function rulesFlagged(eslint: ESLint, file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message).filter((rule) => ARCHITECTURE_RULES.includes(rule));
}

describe('architecture lint', function () {
  this.timeout(60_000);
  const eslint = new ESLint({ cwd: ROOT });

  it('flags an import against the direction base <- heroku, git <- workflow <- features <- entries', async () => {
    const cases: Array<[string, string]> = [
      [`${CORE}/base/format.ts`, "import type { DeployResult } from '../deploy/types';\nexport type X = DeployResult;\n"],
      [`${CORE}/heroku/app-logs.ts`, "import type { Steps } from '../workflow/steps';\nexport type X = Steps;\n"],
      [`${CORE}/git/push.ts`, "import type { AppClient } from '../heroku/client';\nexport type X = AppClient;\n"],
      [`${CORE}/workflow/report.ts`, "import type { PromoteResult } from '../promote/types';\nexport type X = PromoteResult;\n"],
      [`${CORE}/deploy/report.ts`, "import type { PromoteResult } from '../promote/types';\nexport type X = PromoteResult;\n"],
      [`${CORE}/promote/report.ts`, "import type { TaskHost } from '../../pipeline/host';\nexport type X = TaskHost;\n"],
      [`${CORE}/cli/report.ts`, "import type { DeployResult } from '../deploy/types';\nexport type X = DeployResult;\n"],
      [`${CORE}/cli/install.ts`, "import type { TaskHost } from '../../pipeline/host';\nexport type X = TaskHost;\n"],
      [`${CORE}/rollback/report.ts`, "import type { PromoteResult } from '../promote/types';\nexport type X = PromoteResult;\n"],
      [`${CORE}/rollback/target.ts`, "import type { TaskHost } from '../../pipeline/host';\nexport type X = TaskHost;\n"],
      [`${CORE}/run/report.ts`, "import type { CliResult } from '../cli/types';\nexport type X = CliResult;\n"],
      [`${CORE}/run/run.ts`, "import type { TaskHost } from '../../pipeline/host';\nexport type X = TaskHost;\n"],
      [`${CORE}/heroku/rendezvous.ts`, "import type { RunRequest } from '../run/types';\nexport type X = RunRequest;\n"],
    ];
    // (An import upwards often closes a circle too: that rule may fire as well.)
    for (const [file, code] of cases)
      assert.ok(
        (await rulesFlagged(eslint, file, code)).includes('import-x/no-restricted-paths'),
        `not flagged: ${file}: ${code}`,
      );
  });

  it('lets only the adapter import task-lib', async () => {
    const code = "import * as tl from 'azure-pipelines-task-lib/task';\nexport const x = tl.getInput;\n";
    assert.deepEqual(await rulesFlagged(eslint, `${CORE}/heroku/client.ts`, code), ['no-restricted-imports']);
    assert.deepEqual(await rulesFlagged(eslint, `${CORE}/run/run.ts`, code), ['no-restricted-imports']);
    assert.deepEqual(await rulesFlagged(eslint, 'tasks/common/pipeline/run-task.ts', code), ['no-restricted-imports']);
    assert.deepEqual(await rulesFlagged(eslint, 'tasks/common/pipeline/adapter.ts', code), []);
    assert.deepEqual(await rulesFlagged(eslint, 'tasks/common/pipeline/tool-cache.ts', code), ['no-restricted-imports']);
  });

  it('lets only pipeline/tool-cache.ts import tool-lib', async () => {
    const code = "import * as toolLib from 'azure-pipelines-tool-lib/tool';\nexport const x = toolLib.findLocalTool;\n";
    assert.deepEqual(await rulesFlagged(eslint, `${CORE}/cli/install.ts`, code), ['no-restricted-imports']);
    assert.deepEqual(await rulesFlagged(eslint, 'tasks/common/pipeline/adapter.ts', code), []);
    assert.deepEqual(await rulesFlagged(eslint, 'tasks/common/pipeline/task-inputs.ts', code), ['no-restricted-imports']);
    assert.deepEqual(await rulesFlagged(eslint, 'tasks/common/pipeline/tool-cache.ts', code), []);
  });

  it('flags an import circle, even one of types only', async () => {
    // deploy.ts imports git-push-release.ts: importing deploy.ts back closes a circle.
    const file = `${CORE}/deploy/git-push-release.ts`;
    const code = `${readFileSync(path.join(ROOT, file), 'utf8')}\nimport type { deploy } from './deploy';\nexport type Circle = typeof deploy;\n`;
    assert.deepEqual(await rulesFlagged(eslint, file, code), ['local/no-import-cycle']);
    assert.deepEqual(
      await rulesFlagged(eslint, file, readFileSync(path.join(ROOT, file), 'utf8')),
      [],
      'the file as it is passes',
    );
  });

  const testRules = async (code: string, file = 'test/unit/steps.test.ts'): Promise<string[]> => {
    // As if it were that (existing) file: the type-aware rules need a file of the project.
    const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
  };

  it('flags assert.ok and assert without a message in tests and scripts, not with one, nor in the tasks', async () => {
    const bare =
      "import assert from 'node:assert/strict';\nexport const check = (x: boolean): void => {\n  assert.ok(x);\n  assert(x);\n};\n";
    const given =
      "import assert from 'node:assert/strict';\nexport const check = (x: boolean): void => {\n  assert.ok(x, 'x holds');\n  assert(x, 'x holds');\n};\n";
    assert.deepEqual(
      await testRules(bare),
      [
        'Give assert.ok a message (what should hold): without one a failure can hang under tsx.',
        'Give assert a message (what should hold): without one a failure can hang under tsx.',
      ],
      'both bare assertions in a test are flagged',
    );
    assert.equal((await testRules(bare, 'scripts/bench.ts')).length, 2, 'and in a script');
    assert.deepEqual(await testRules(given), [], 'assertions with a message pass');
    assert.deepEqual(await testRules(bare, 'tasks/common/core/base/format.ts'), [], 'the rule is for tests and scripts only');
  });
});
