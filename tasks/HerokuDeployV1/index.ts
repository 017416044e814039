// HerokuDeploy@1: push the commit the pipeline built to a Heroku app and report what went live.
import { deploy, type DeployResult } from '../common/core/deploy';
import { validateAppName, validateRef } from '../common/core/inputs';
import { failureSummaryMarkdown, resultLine, summaryMarkdown } from '../common/core/summary';
import * as task from '../common/pipeline/adapter';

function report(result: DeployResult): Promise<void> {
  console.log(resultLine(result));
  task.setOutputs({
    releaseVersion: String(result.release.version),
    releaseId: result.release.id,
    commit: result.commit,
    appUrl: result.appUrl ?? '',
    previousReleaseVersion: result.previous ? String(result.previous.version) : '',
  });
  return task.uploadSummary(`heroku-deploy-${result.app}`, summaryMarkdown(result));
}

let appName = '';
void task.runTask(
  async (signal) => {
    // Every input is checked before any network call.
    appName = validateAppName(task.input('appName'));
    const ref = validateRef(task.input('ref'));
    const force = task.booleanInput('force', false);
    const workingDirectory = task.workingDirectory();
    const { apiKey, api, git } = task.credentials();
    const result = await deploy(
      {
        apiKey,
        api,
        git,
        appName,
        ref,
        force,
        workingDirectory,
        sourceBranch: task.variable('Build.SourceBranch'),
        sourceVersion: task.variable('Build.SourceVersion'),
        originAccess: task.originAccess(),
        network: task.network(),
        signal,
        userAgent: 'heroku-azure-pipelines HerokuDeploy/1',
      },
      task.log,
    );
    await report(result);
  },
  (failure) => (appName ? task.uploadSummary(`heroku-deploy-${appName}`, failureSummaryMarkdown(appName, failure.message, failure.details)) : Promise.resolve()),
);
