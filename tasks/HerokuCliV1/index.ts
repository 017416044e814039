// HerokuCli@1, as the agent runs it.
import { runInAgent } from '../common/pipeline/adapter';
import { agentToolCache } from '../common/pipeline/tool-cache';
import { cliTask } from './cli-task';

void runInAgent(cliTask(agentToolCache));
