// HerokuPromote@1, as the agent runs it.
import { runInAgent } from '../common/pipeline/adapter';
import { promoteTask } from './promote-task';

void runInAgent(promoteTask);
