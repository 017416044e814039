// The app's recent log lines (what `heroku logs -n 100` shows), so that a failed release says why
// the app crashed without anyone running `heroku logs`.
import { errorMessage } from '../base/errors';
import type { TaskLog } from '../base/log';
import type { AppClient } from './client';

/** Prints the last `lines` log lines of the app in a collapsible group; never fails the task. */
export async function showRecentLogs(app: AppClient, log: TaskLog, lines = 100): Promise<string[]> {
  return log.group(`Recent logs of ${app.name} (heroku logs -n ${lines})`, async () => {
    const collected: string[] = [];
    try {
      const session = await app.post<{ logplex_url?: string }>(
        app.path('log-sessions'),
        { lines, tail: false },
        'opening a log session',
        true,
      );
      if (!session.logplex_url) throw new Error('Heroku returned no log URL');
      await app.followOutput(session.logplex_url, (line) => {
        collected.push(line);
        log.info(line);
      });
      if (collected.length === 0) log.info('(no log lines)');
    } catch (error) {
      log.info(`Could not read the app's logs: ${errorMessage(error)}. Run \`heroku logs -n ${lines} -a ${app.name}\`.`);
    }
    return collected;
  });
}
