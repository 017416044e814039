// The app's recent log lines (what `heroku logs -n 100` shows), so that a failed deploy says why
// the app crashed without anyone running `heroku logs`.
import { errorMessage } from './errors';
import type { HerokuApi } from './heroku-api';
import type { DeployLog } from './log';

/** Prints the last `lines` log lines of `app` in a collapsible group; never fails the deploy. */
export async function showRecentLogs(api: HerokuApi, app: string, log: DeployLog, lines = 100): Promise<string[]> {
  return log.group(`Recent logs of ${app} (heroku logs -n ${lines})`, async () => {
    const collected: string[] = [];
    try {
      const session = await api.post<{ logplex_url?: string }>(`/apps/${encodeURIComponent(app)}/log-sessions`, { lines, tail: false }, true);
      if (!session.logplex_url) throw new Error('Heroku returned no log URL');
      await api.followOutput(session.logplex_url, (line) => {
        collected.push(line);
        log.info(line);
      });
      if (collected.length === 0) log.info('(no log lines)');
    } catch (error) {
      log.info(`Could not read the app's logs: ${errorMessage(error)}. Run \`heroku logs -n ${lines} -a ${app}\`.`);
    }
    return collected;
  });
}
