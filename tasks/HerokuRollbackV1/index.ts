// HerokuRollback@1, as the agent runs it.
import { runInAgent } from '../common/pipeline/adapter';
import { rollbackTask } from './rollback-task';

void runInAgent(rollbackTask);
