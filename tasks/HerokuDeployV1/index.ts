// HerokuDeploy@1, as the agent runs it.
import { runInAgent } from '../common/pipeline/adapter';
import { deployTask } from './deploy-task';

void runInAgent(deployTask);
