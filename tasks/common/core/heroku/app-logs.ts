// The app's recent log lines (what `heroku logs -n 100` shows), so that a failed release says why
// the app crashed without anyone running `heroku logs`.
import { errorMessage } from '../base/errors';
import type { TaskLog } from '../base/log';
import type { AppClient } from './client';

/**
 * Prints the last `lines` log lines of the app (of one dyno, with `dyno`) in a collapsible group;
 * never fails the task.
 */
export async function showRecentLogs(app: AppClient, log: TaskLog, lines = 100, dyno?: string): Promise<string[]> {
  // Heroku's CLI sends a Cedar app's dyno filter as `dyno` (src/lib/run/log-displayer.ts).
  const command = `heroku logs -n ${lines}${dyno ? ` --dyno ${dyno}` : ''}`;
  return log.group(`Recent logs of ${dyno ? `${dyno} of ` : ''}${app.name} (${command})`, async () => {
    const collected: string[] = [];
    try {
      const session = await app.post<{ logplex_url?: string }>(
        app.path('log-sessions'),
        { lines, tail: false, ...(dyno ? { dyno } : {}) },
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
      log.info(`Could not read the app's logs: ${errorMessage(error)}. Run \`${command} -a ${app.name}\`.`);
    }
    return collected;
  });
}
