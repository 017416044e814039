// HerokuDeploy@1: deploy the commit the pipeline built to a Heroku app, safely, and report what
// went live. Inputs are all checked before anything changes.
import { deploy, type DeployResult } from '../common/core/deploy';
import { validateAppName, validateRef } from '../common/core/inputs';
import { parseSafeguards } from '../common/core/safeguards';
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
    rolledBack: 'false',
    healthCheckStatus: result.healthCheckStatus ?? '',
  });
  return task.uploadSummary(`heroku-deploy-${result.app}`, summaryMarkdown(result));
}

let appName = '';
void task.runTask(
  async (signal) => {
    appName = validateAppName(task.input('appName'));
    const ref = validateRef(task.input('ref'));
    const force = task.booleanInput('force', false);
    const workingDirectory = task.workingDirectory();
    const safeguards = parseSafeguards({
      ...task.healthCheckInputs(),
      maintenanceMode: task.booleanInput('maintenanceMode', false),
      stopProcessTypes: task.input('stopProcessTypes'),
      configVars: task.multilineInput('configVars'),
      createApp: task.booleanInput('createApp', false),
      region: task.input('region'),
      team: task.input('team'),
      stack: task.input('stack'),
      buildpacks: task.multilineInput('buildpacks'),
    });
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
        safeguards,
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
  async (failure) => {
    task.setOutputs(failure.outputs);
    if (appName) await task.uploadSummary(`heroku-deploy-${appName}`, failure.summary ?? failureSummaryMarkdown(appName, failure.message, failure.details));
  },
);
