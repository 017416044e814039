// Platform API failures, said in words a person can act on.
import { TaskError, errorMessage } from '../base/errors';
import { HerokuApiError, UNREADABLE } from './api';

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/i;

export interface ApiErrorContext {
  /** What the task was doing, e.g. `reading the app my-app`. */
  doing: string;
  apiUrl: string;
  app?: string;
  /** The input that named `app` (default appName), for the message when there is no such app. */
  input?: string;
  email?: string;
}

export function explainApiError(error: unknown, context: ApiErrorContext): TaskError {
  if (error instanceof TaskError) return error;
  if (!(error instanceof HerokuApiError))
    return new TaskError('unexpected', `Unexpected error while ${context.doing}: ${errorMessage(error)}`);
  const where = `${error.method} ${error.path}`;
  const requestId = error.requestId ? ` (request id ${error.requestId})` : '';
  const tries = error.attempts > 1 ? `, ${error.attempts} attempts` : '';
  if (error.status === null) {
    if (error.code && TLS_CODES.test(error.code + error.message)) {
      return new TaskError(
        'network',
        `The TLS certificate of ${context.apiUrl} is not trusted (${error.code}: ${error.message}) while ${context.doing}. If your network inspects TLS, give the agent your CA certificate (agent setting Agent.CAInfo, \`config --sslcacert\`).`,
      );
    }
    return new TaskError(
      'network',
      `Could not reach Heroku's API at ${context.apiUrl} while ${context.doing} (${error.code ?? error.message}${tries}). Check the agent's network access to ${context.apiUrl}, its proxy settings (Agent.ProxyUrl) and firewall, and https://status.heroku.com; then re-run the job.`,
    );
  }
  // Stryker disable next-line StringLiteral: no case is '' or any other text that is not an error id, so an error without id goes to default either way
  switch (error.id ?? '') {
    case UNREADABLE:
      return new TaskError(
        'api',
        `The Heroku API at ${context.apiUrl} gave an answer the task cannot use while ${context.doing}: ${where} ${error.message}. Check that ${context.apiUrl} is Heroku's Platform API (the service connection's URL, or the HEROKU_API_URL variable) and that no proxy or captive portal answers in its place; then re-run the job.`,
      );
    case 'unauthorized':
      return new TaskError(
        'auth',
        'Heroku rejected the API key (401 unauthorized): it is wrong, expired or revoked. Create a long-lived key with `heroku authorizations:create --description "Azure Pipelines"` and put it in the Heroku service connection or the secret variable the apiKey input reads.',
      );
    case 'forbidden':
      return new TaskError(
        'permission',
        `The account ${context.email ?? 'of this API key'} has no access to ${context.app ? `the app ${context.app}` : 'this resource'} (403 forbidden: ${error.message}). Add it as a collaborator (\`heroku access:add ${context.email ?? '<email>'}${context.app ? ` -a ${context.app}` : ''}\`) or use the key of an account that can deploy the app.`,
      );
    case 'not_found':
      if (context.app && /\/apps\/[^/]+$/.test(error.path)) {
        return new TaskError(
          'not-found',
          `There is no Heroku app named ${context.app} (404 not_found) visible to ${context.email ?? 'this account'}. Check the ${context.input ?? 'appName'} input against \`heroku apps\`, or create the app first (\`heroku apps:create ${context.app}\`).`,
        );
      }
      return new TaskError(
        'not-found',
        `Heroku found nothing at ${where} while ${context.doing} (404 not_found: ${error.message})${requestId}.`,
      );
    case 'rate_limit':
      return new TaskError(
        'api',
        `Heroku's API rate limit for this account is used up (429 rate_limit: 4,500 calls per hour, refilled gradually) while ${context.doing}. Wait a few minutes and re-run the job; if other tools share this key, give the pipeline its own key.`,
      );
    default:
      if (error.status >= 500) {
        return new TaskError(
          'api',
          `Heroku's API failed while ${context.doing} (${error.status} ${error.id ?? ''}: ${error.message}${tries})${requestId}. Heroku may be having an incident (https://status.heroku.com): re-run the job later${error.method === 'GET' ? '' : `, after checking with \`heroku releases${context.app ? ` -a ${context.app}` : ''}\` whether the change was made`}.`,
        );
      }
      return new TaskError(
        'api',
        `Heroku refused ${where} while ${context.doing} (${error.status} ${error.id ?? ''}: ${error.message})${requestId}.`,
      );
  }
}
