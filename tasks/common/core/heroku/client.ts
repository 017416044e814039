// The Platform API as the tasks call it: every call says what it is doing, and its failure reaches
// the user explained once, here (which app, which input named it, the account, what to do) — never
// as a bare HTTP error. A client scoped to an app (`forApp`) knows which app and input to blame.
import type { Endpoint } from '../base/endpoints';
import { TaskError } from '../base/errors';
import type { TaskLog } from '../base/log';
import type { NetworkSettings } from '../base/network';
import { HerokuApi, HerokuApiError, UNREADABLE, type Account, type HerokuApiOptions } from './api';
import { explainApiError } from './api-errors';

/** What every client of one task run shares: where the API is and whose key it uses. */
interface Session {
  apiUrl: string;
  /** The key's account email, once read (undefined when the read failed): permission messages name it. */
  email?: Promise<string | undefined>;
}

type Deadlines = Pick<HerokuApiOptions, 'timeoutMs' | 'budgetMs' | 'maxRetries' | 'signal'>;

/**
 * Tighter limits for undoing on the way out, and no cancel: an undo runs after a cancel too, and
 * finishes within seconds, before the agent kills the task.
 */
export const UNDO_DEADLINES: Deadlines = {
  timeoutMs: 2500,
  budgetMs: 3000,
  maxRetries: 1,
  signal: null,
};

const enc = encodeURIComponent;

export class HerokuClient {
  protected constructor(
    private readonly api: HerokuApi,
    protected readonly session: Session,
    private readonly scope: { app?: string; input?: string } = {},
  ) {}

  /** A client of the API at `options.baseUrl`; `api` replaces the transport (tests stub it). */
  static connect(options: HerokuApiOptions, api = new HerokuApi(options)): HerokuClient {
    return new HerokuClient(api, { apiUrl: options.baseUrl });
  }

  /** A client for calls about `app`, which the input `input` named (for the message when it does not exist). */
  forApp(app: string, input = 'appName'): AppClient {
    return new AppClient(this.api, this.session, app, input);
  }

  /** Loads the HTTP stack now, while the task waits on something else (see HerokuApi.prepare). */
  prepare(): void {
    this.api.prepare();
  }

  /** The same session with other limits (e.g. UNDO_DEADLINES). */
  withDeadlines(limits: Deadlines): HerokuClient {
    return new HerokuClient(this.api.withLimits(limits), this.session, this.scope);
  }

  /**
   * Reads the key's account (`GET /account`: checks the key). Calls made meanwhile wait for it before
   * explaining a failure, so that it names the account (`The account dev@example.com has no access ...`).
   */
  account(): Promise<Account> {
    const read = this.api.get<Account>('/account').catch((error: unknown) => {
      throw explainApiError(error, {
        doing: 'checking the API key',
        apiUrl: this.session.apiUrl,
        app: this.scope.app,
        input: this.scope.input,
      });
    });
    this.session.email = read.then(
      (account) => account.email,
      () => undefined,
    );
    return read;
  }

  get<T>(path: string, doing: string, range?: string): Promise<T> {
    return this.explained(doing, () => this.api.get<T>(path, range));
  }

  /** A list (`GET` of a collection): anything but a JSON array is an answer the task cannot use. */
  list<T>(path: string, doing: string, range?: string): Promise<T[]> {
    return this.explained(doing, async () => {
      const answer = await this.api.get<unknown>(path, range);
      if (Array.isArray(answer)) return answer as T[];
      throw new HerokuApiError(200, UNREADABLE, 'answered with a JSON object where a list was expected', 'GET', path);
    });
  }

  /** Like get, but null when Heroku has nothing there (404 not_found). */
  async find<T>(path: string, doing: string): Promise<T | null> {
    try {
      return await this.api.get<T>(path);
    } catch (error) {
      if (error instanceof HerokuApiError && error.status === 404 && error.id === 'not_found') return null;
      throw await this.explain(error, doing);
    }
  }

  /** A POST; not repeated unless `idempotent` (or Heroku certainly did not act on it). */
  post<T>(path: string, body: unknown, doing: string, idempotent = false): Promise<T> {
    return this.explained(doing, () => this.api.post<T>(path, body, idempotent));
  }

  /**
   * A POST Heroku answers 409 while what it needs is not ready yet (a one-off dyno just after a
   * release): sent again at once, up to `retries` times, as Heroku's CLI does, before the 409 is explained.
   */
  async postRetryingConflict<T>(path: string, body: unknown, doing: string, retries: number): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.api.post<T>(path, body);
      } catch (error) {
        if (!(error instanceof HerokuApiError && error.status === 409 && attempt < retries))
          throw await this.explain(error, doing);
      }
    }
  }

  patch<T>(path: string, body: unknown, doing: string): Promise<T> {
    return this.explained(doing, () => this.api.patch<T>(path, body));
  }

  put<T>(path: string, body: unknown, doing: string): Promise<T> {
    return this.explained(doing, () => this.api.request<T>('PUT', path, { body, idempotent: true }));
  }

  /** A text stream Heroku points to (release output, logs), on another host: the key is not sent there. */
  followOutput(url: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    return this.api.followOutput(url, onLine, signal);
  }

  /** A POST whose 409 (conflict) is `onConflict`'s error rather than a generic API failure. */
  async postUnlessConflict<T>(
    path: string,
    body: unknown,
    doing: string,
    onConflict: (message: string) => TaskError,
  ): Promise<T> {
    try {
      return await this.api.post<T>(path, body);
    } catch (error) {
      if (error instanceof HerokuApiError && error.status === 409) throw onConflict(error.message);
      throw await this.explain(error, doing);
    }
  }

  delete<T>(path: string, doing: string): Promise<T> {
    return this.explained(doing, () => this.api.request<T>('DELETE', path, { idempotent: true }));
  }

  /** PUTs a file to a pre-signed storage URL: its signature is the only credential sent. */
  uploadFile(url: string, file: string, size: number, doing: string, signal?: AbortSignal): Promise<void> {
    return this.explained(doing, () => this.api.uploadFile(url, file, size, signal));
  }

  /** A text stream on another host from byte `from` on (`Range`): the key is not sent there. */
  openStream(url: string, from: number, signal?: AbortSignal): ReturnType<HerokuApi['openStream']> {
    return this.api.openStream(url, from, signal);
  }

  private async explained<T>(doing: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw await this.explain(error, doing);
    }
  }

  private async explain(error: unknown, doing: string): Promise<TaskError> {
    const email = await this.session.email;
    return explainApiError(error, { doing, apiUrl: this.session.apiUrl, app: this.scope.app, input: this.scope.input, email });
  }
}

/** What a task's request says of the API: where, with which key, through which network. */
export interface ApiAccess {
  api: Endpoint;
  apiKey: string;
  network: NetworkSettings;
  userAgent?: string;
  /** The task's cancel: every call and wait stops when it aborts (undo calls excepted). */
  signal?: AbortSignal;
}

/** The client a task uses: requests in the debug log, a low rate limit as a warning, a non-default API named. */
export function clientFor(access: ApiAccess, log: TaskLog): HerokuClient {
  if (!access.api.isDefault)
    log.info(`Heroku API: ${access.api.url} (from ${access.api.source}, not the default https://api.heroku.com)`);
  const { api, apiKey, network, userAgent, signal } = access;
  return HerokuClient.connect({
    baseUrl: api.url,
    apiKey,
    network,
    userAgent,
    signal,
    debug: (l) => log.debug(l),
    warn: (l) => log.warn(l),
  });
}

/** Calls about one app. */
export class AppClient extends HerokuClient {
  constructor(
    api: HerokuApi,
    session: Session,
    readonly name: string,
    readonly input: string,
  ) {
    super(api, session, { app: name, input });
  }

  /** `/apps/<name>`, with `segments` (`releases`, an id, ...) appended. */
  path(...segments: string[]): string {
    return ['/apps', ...[this.name, ...segments].map(enc)].join('/');
  }

  override withDeadlines(limits: Deadlines): AppClient {
    return super.withDeadlines(limits).forApp(this.name, this.input);
  }
}
