// HerokuPromote@1: promote the release a Heroku pipeline stage runs to the next stage, and report
// every target. Inputs are all checked before anything is asked of Heroku.
import { validateAppName, validateAppNames, validateCommitSha } from '../common/core/inputs';
import { promote, type PromoteResult } from '../common/core/promote';
import { promotionOutputs, promotionResultLine, promotionSummaryMarkdown } from '../common/core/promotion-summary';
import { parseHealthCheckInputs } from '../common/core/safeguards';
import { failureSummaryMarkdown } from '../common/core/summary';
import * as task from '../common/pipeline/adapter';

function report(result: PromoteResult): Promise<void> {
  console.log(promotionResultLine(result));
  task.setOutputs(promotionOutputs(result));
  return task.uploadSummary(`heroku-promote-${result.source.app}`, promotionSummaryMarkdown(result));
}

let sourceApp = '';
void task.runTask(
  async (signal) => {
    sourceApp = validateAppName(task.input('sourceApp'), 'sourceApp', 'to promote from');
    const targetApps = validateAppNames(task.input('targetApps'), 'targetApps');
    const expectedCommit = validateCommitSha(task.input('expectedCommit'), 'expectedCommit');
    const { healthCheck, rollbackOnFailure } = parseHealthCheckInputs(task.healthCheckInputs());
    const workingDirectory = task.workingDirectory({ mustExist: false });
    const { apiKey, api } = task.credentials();
    const result = await promote(
      {
        apiKey,
        api,
        sourceApp,
        targetApps,
        expectedCommit,
        healthCheck,
        rollbackOnFailure,
        workingDirectory,
        network: task.network(),
        signal,
        userAgent: 'heroku-azure-pipelines HerokuPromote/1',
      },
      task.log,
    );
    await report(result);
  },
  async (failure) => {
    task.setOutputs(failure.outputs);
    if (sourceApp) await task.uploadSummary(`heroku-promote-${sourceApp}`, failure.summary ?? failureSummaryMarkdown(sourceApp, failure.message, failure.details, [], 'Heroku promote'));
  },
);
