// HerokuPromote@1: promote the release a Heroku pipeline stage runs to the next stage, and report
// every target. Inputs are all checked before anything is asked of Heroku.
import { validateAppName, validateAppNames, validateCommitSha } from '../common/core/base/inputs';
import { promote } from '../common/core/promote/promote';
import { promoteReport } from '../common/core/promote/report';
import type { PromoteProgress, PromoteRequest, PromoteResult } from '../common/core/promote/types';
import { parseHealthCheckInputs } from '../common/core/workflow/safeguards';
import type { TaskDefinition } from '../common/pipeline/run-task';
import { credentials, healthCheckInputs, input, workingDirectory } from '../common/pipeline/task-inputs';

export const promoteTask: TaskDefinition<PromoteRequest, PromoteResult, PromoteProgress> = {
  subject: (host) => validateAppName(input(host, 'sourceApp'), 'sourceApp', 'to promote from'),
  read(host, sourceApp) {
    const targetApps = validateAppNames(input(host, 'targetApps'), 'targetApps');
    const expectedCommit = validateCommitSha(input(host, 'expectedCommit'), 'expectedCommit');
    const { healthCheck, rollbackOnFailure } = parseHealthCheckInputs(healthCheckInputs(host));
    const cwd = workingDirectory(host, { mustExist: false });
    const { apiKey, api } = credentials(host);
    return {
      apiKey,
      api,
      sourceApp,
      targetApps,
      expectedCommit,
      healthCheck,
      rollbackOnFailure,
      workingDirectory: cwd,
      network: host.network(),
      signal: host.signal,
      userAgent: 'heroku-azure-pipelines HerokuPromote/1',
    };
  },
  run: promote,
  report: promoteReport,
};
