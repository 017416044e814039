// HerokuRollback@1: roll a Heroku app back to an earlier release, prove what is live after, and
// report it. Inputs are all checked before anything is asked of Heroku.
import { validateAppName, validateCommitSha } from '../common/core/base/inputs';
import { rollback } from '../common/core/rollback/rollback';
import { rollbackReport } from '../common/core/rollback/report';
import { parseToVersion } from '../common/core/rollback/target';
import type { RollbackProgress, RollbackRequest, RollbackResult } from '../common/core/rollback/types';
import { parseHealthCheckInputs } from '../common/core/workflow/safeguards';
import type { TaskDefinition } from '../common/pipeline/run-task';
import { credentials, healthCheckInputs, input } from '../common/pipeline/task-inputs';

export const rollbackTask: TaskDefinition<RollbackRequest, RollbackResult, RollbackProgress> = {
  subject: (host) => validateAppName(input(host, 'appName'), 'appName', 'to roll back'),
  read(host, appName) {
    const toVersion = parseToVersion(input(host, 'toVersion'));
    const expectedCommit = validateCommitSha(input(host, 'expectedCommit'), 'expectedCommit');
    // The health check inputs of HerokuDeploy@1; a rollback has nothing to roll back to when it fails.
    const { healthCheck } = parseHealthCheckInputs(healthCheckInputs(host));
    const { apiKey, api } = credentials(host);
    return {
      apiKey,
      api,
      appName,
      toVersion,
      expectedCommit,
      healthCheck,
      network: host.network(),
      signal: host.signal,
      userAgent: 'heroku-azure-pipelines HerokuRollback/1',
    };
  },
  run: rollback,
  report: rollbackReport,
};
