// A task that cannot go on, with a message a person can act on and the kind of failure it is.

export type FailureKind =
  | 'input' // a bad or missing input, found before any network call
  | 'auth' // the API key was rejected
  | 'permission' // the account may not touch the app
  | 'not-found' // no such app
  | 'network' // Heroku (or the proxy) could not be reached
  | 'api' // the Platform API answered with an error
  | 'git' // git failed locally (not a checkout, unknown ref, ...)
  | 'shallow' // the checkout lacks history Heroku needs
  | 'non-fast-forward' // Heroku's history diverged: force needed
  | 'build' // Heroku rejected the push: the build failed
  | 'busy' // another deploy of the app holds Heroku's build lock
  | 'skipped' // the push succeeded but nothing was built
  | 'release-phase' // the release command failed: the previous release is still live
  | 'verification' // what went live is not what was asked
  | 'promotion' // a target of a pipeline promotion failed (its release did not go live)
  | 'health-check' // the new release did not answer as expected (and was rolled back, if asked)
  | 'rollback' // the rollback itself failed: a person must act now
  | 'undo' // a temporary change (maintenance, scaled-down workers) could not be undone
  | 'script' // the user's script failed (its exit code, or standard error with failOnStandardError)
  | 'timeout' // a one-off command ran past its timeout and was stopped
  | 'cancelled'
  | 'unexpected'; // a bug: no code path meant to fail this way

export class TaskError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    /** Lines that explain the failure (e.g. Heroku's own reason lines), printed before the message. */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'TaskError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Any error as a TaskError: one the code did not expect says so, once, here. */
export function toTaskError(error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  const unexpected = new TaskError('unexpected', `Unexpected error: ${errorMessage(error)}`);
  if (error instanceof Error && error.stack) unexpected.stack = error.stack;
  return unexpected;
}

/** `The task was cancelled while …`: what a cancelled call or wait throws. */
export function cancelled(doing: string): TaskError {
  return new TaskError('cancelled', `The task was cancelled while ${doing}.`);
}
