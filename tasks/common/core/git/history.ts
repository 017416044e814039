// A shallow checkout (Azure Pipelines' default fetchDepth: 1) lacks history Heroku may need.
// Fetch only what is needed from origin, or fail with the exact fix.
import { isLoopback } from '../base/endpoints';
import { TaskError } from '../base/errors';
import { short } from '../base/format';
import { commitCount, hasCommit, hasPersistedCredentials, isAncestor, isShallow, originUrl, runGit } from './git';
import { gitNetworkConfig, type NetworkSettings } from '../base/network';
import type { TaskLog } from '../base/log';

export interface HistoryRequest {
  cwd: string;
  sha: string;
  /** What Heroku's main points at, or null for an app never pushed to. */
  herokuHead: string | null;
  force: boolean;
  /** The pipeline's token and its repository's URL (Azure Repos only), or null. */
  originAccess: OriginAccess | null;
  network: NetworkSettings;
  signal?: AbortSignal;
  log: TaskLog;
}

export interface OriginAccess {
  token: string;
  /** Build.Repository.Uri: the token is sent to origin only when origin is on the same host. */
  repositoryUrl: string;
}

/** The token, when `origin` is the pipeline's Azure Repos host, over https (http only on loopback). */
export function tokenForOrigin(origin: string, access: OriginAccess | null): string | null {
  if (!access) return null;
  try {
    const from = new URL(origin);
    const repository = new URL(access.repositoryUrl);
    if (from.host.toLowerCase() !== repository.host.toLowerCase()) return null;
    if (from.protocol === 'https:' || (from.protocol === 'http:' && isLoopback(from.hostname))) return access.token;
  } catch {
    // not a URL (a path or scp-style remote): no token
  }
  return null;
}

/** Deepening steps, in commits: most pipelines need one, a few need more. */
const DEEPEN_STEPS = [1, 8, 64, 512];

const FIX =
  'Set `fetchDepth: 0` on the checkout step (steps: - checkout: self, fetchDepth: 0) so the job has the history Heroku needs.';

async function fetchOrigin(request: HistoryRequest, origin: string, args: string[]): Promise<void> {
  const config: Array<[string, string]> = [...gitNetworkConfig(origin, request.network)];
  // The pipeline's token goes to origin's URL only, never to Heroku; and not at all when the
  // checkout kept its own credentials (persistCredentials: true).
  const token = (await hasPersistedCredentials(request.cwd, request.signal))
    ? null
    : tokenForOrigin(origin, request.originAccess);
  if (token) config.push([`http.${origin}.extraHeader`, `AUTHORIZATION: bearer ${token}`]);
  const result = await runGit(['fetch', '--no-tags', '--quiet', ...args, 'origin'], {
    cwd: request.cwd,
    config,
    signal: request.signal,
    network: true,
    timeoutMs: 30 * 60_000,
  });
  if (result.code !== 0) {
    throw new TaskError(
      'shallow',
      `The checkout is shallow and Heroku needs history it lacks, but fetching it from origin failed: ${fetchFailure(result.stderr, result.code)}. ${FIX}`,
    );
  }
}

/**
 * Why a fetch failed, in git's words: its last `fatal:` or `error:` line (the hints git prints after
 * it left out), else its last line, without a final period; its exit code when it said nothing.
 */
export function fetchFailure(stderr: string, code: number | null): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  const reason = lines.findLast((line) => /^(fatal|error):/.test(line)) ?? lines.at(-1);
  return reason ? reason.replace(/\.$/, '') : `git fetch exited ${code ?? 'on a signal'}`;
}

/** Makes sure a push of `sha` will not be refused for missing history, fetching as little as possible. */
export async function ensureHistory(request: HistoryRequest): Promise<void> {
  const { cwd, sha, herokuHead, log, signal } = request;
  if (!(await isShallow(cwd, signal))) return;
  if (herokuHead === sha) return;
  const origin = await originUrl(cwd, signal);
  if (!origin)
    throw new TaskError('shallow', `The checkout is shallow and has no origin remote to fetch the missing history from. ${FIX}`);

  if (herokuHead === null) {
    log.info(
      'The checkout is shallow and this app has never been pushed to: Heroku refuses shallow pushes, so fetching the full history from origin.',
    );
    await fetchOrigin(request, origin, ['--unshallow']);
    return;
  }

  const ready = async (): Promise<boolean> =>
    (await hasCommit(cwd, herokuHead, signal)) && isAncestor(cwd, herokuHead, sha, signal);
  // The commits the checkout had before the first fetch, to say how many were fetched once found.
  let had: number | null = null;
  const found = async (): Promise<boolean> => {
    if (!(await ready())) return false;
    if (had !== null)
      log.info(
        `Fetched ${(await commitCount(cwd, sha, signal)) - had} more commit(s) of history from origin: Heroku's ${short(herokuHead)} is an ancestor of ${short(sha)}.`,
      );
    return true;
  };
  for (const step of DEEPEN_STEPS) {
    if (await found()) return;
    if (!(await isShallow(cwd, signal))) break;
    if (had === null) {
      log.info(
        `The checkout is shallow: fetching history from origin until Heroku's current commit ${short(herokuHead)} is found.`,
      );
      had = await commitCount(cwd, sha, signal);
    }
    await fetchOrigin(request, origin, [`--deepen=${step}`]);
  }
  if (await found()) return;
  if (await isShallow(cwd, signal)) {
    log.info("Heroku's current commit is not in the recent history: fetching the full history from origin.");
    await fetchOrigin(request, origin, ['--unshallow']);
  }
  // Full history now. If Heroku's commit is still no ancestor, the histories diverged: the push
  // reports it (non-fast-forward), or replaces Heroku's history when force is set.
  if (!request.force && !(await ready()))
    log.debug(`Heroku's ${herokuHead} is not an ancestor of ${sha}: expecting a non-fast-forward rejection.`);
}
