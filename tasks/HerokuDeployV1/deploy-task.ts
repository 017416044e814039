// HerokuDeploy@1: deploy the commit the pipeline built to a Heroku app, safely, and report what
// went live. Inputs are all checked before anything changes.
import { validateAppName, validateRef } from '../common/core/base/inputs';
import { deploy } from '../common/core/deploy/deploy';
import { deployReport } from '../common/core/deploy/report';
import { parseDeploySource } from '../common/core/deploy/source-package';
import type { DeployProgress, DeployRequest, DeployResult } from '../common/core/deploy/types';
import { parseSafeguards } from '../common/core/workflow/safeguards';
import type { TaskDefinition } from '../common/pipeline/run-task';
import {
  booleanInput,
  credentials,
  healthCheckInputs,
  input,
  originAccess,
  workingDirectory,
} from '../common/pipeline/task-inputs';

export const deployTask: TaskDefinition<DeployRequest, DeployResult, DeployProgress> = {
  subject: (host) => validateAppName(input(host, 'appName')),
  read(host, appName) {
    const ref = validateRef(input(host, 'ref'));
    const force = booleanInput(host, 'force', false);
    const source = parseDeploySource({
      deployMethod: input(host, 'deployMethod'),
      appDirectory: input(host, 'appDirectory'),
      packageFrom: input(host, 'packageFrom'),
      ref,
      force,
    });
    const cwd = workingDirectory(host);
    const safeguards = parseSafeguards({
      ...healthCheckInputs(host),
      maintenanceMode: booleanInput(host, 'maintenanceMode', false),
      stopProcessTypes: input(host, 'stopProcessTypes'),
      configVars: host.quietInput('configVars'),
      createApp: booleanInput(host, 'createApp', false),
      region: input(host, 'region'),
      team: input(host, 'team'),
      stack: input(host, 'stack'),
      buildpacks: host.quietInput('buildpacks'),
    });
    return {
      ...credentials(host),
      appName,
      ref,
      force,
      source,
      workingDirectory: cwd,
      tempDirectory: host.variable('Agent.TempDirectory') || undefined,
      safeguards,
      sourceBranch: host.variable('Build.SourceBranch'),
      sourceVersion: host.variable('Build.SourceVersion'),
      originAccess: originAccess(host),
      network: host.network(),
      signal: host.signal,
      userAgent: 'heroku-azure-pipelines HerokuDeploy/1',
    };
  },
  run: deploy,
  report: deployReport,
};
