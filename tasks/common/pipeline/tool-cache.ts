// The agent's tool cache (Agent.ToolsDirectory) through azure-pipelines-tool-lib, the only file that
// imports it: a Heroku CLI installed by one job is found by the next on the same agent.
import * as toolLib from 'azure-pipelines-tool-lib/tool';
import { TaskError } from '../core/base/errors';
import type { ToolCache } from '../core/cli/types';
import type { TaskHost } from './host';

const TOOL = 'heroku';

export function agentToolCache(host: TaskHost): ToolCache {
  const toolsDirectory = (): void => {
    if (!host.variable('Agent.ToolsDirectory'))
      throw new TaskError(
        'input',
        'The agent has no tool cache (Agent.ToolsDirectory is not set): run the task on an Azure Pipelines agent 2.115 or later, or install the Heroku CLI on the agent and leave cliVersion empty.',
      );
  };
  return {
    find(version) {
      toolsDirectory();
      return toolLib.findLocalTool(TOOL, version) || undefined;
    },
    add(folder, version) {
      toolsDirectory();
      return toolLib.cacheDir(folder, TOOL, version);
    },
    prependPath: (dir) => toolLib.prependPath(dir),
  };
}
