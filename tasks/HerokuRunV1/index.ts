// HerokuRun@1, as the agent runs it.
import { runInAgent } from '../common/pipeline/adapter';
import { oneOffTask } from './run-task';

void runInAgent(oneOffTask);
