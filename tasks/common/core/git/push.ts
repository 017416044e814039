// `git push <commit>:refs/heads/main` to the app's Heroku repository, and what its output says.
// Git's porcelain status decides what happened to the ref; Heroku's `remote:` lines are for people
// (and hints: the Platform API is the authority on releases).
import { TaskError } from '../base/errors';
import { short } from '../base/format';
import { runGit } from './git';
import { gitNetworkConfig, type NetworkSettings } from '../base/network';

export interface PushOutcome {
  /** What git did with the ref. `failed`: no status line (auth, network, the remote hung up). */
  status: 'pushed' | 'up-to-date' | 'rejected' | 'failed';
  /** Porcelain flag: ` ` fast-forward, `+` forced, `*` new, `=` up to date, `!` rejected. */
  flag: string | null;
  /** Porcelain summary, e.g. `[new branch]`, `6a83c41..5478677`, `[rejected]`. */
  summary: string;
  /** The reason in parentheses, e.g. `fetch first`, `pre-receive hook declined`. */
  reason: string | null;
  /** Heroku's lines (`remote: ` removed, trailing padding trimmed). */
  remote: string[];
  /** git's own stderr lines (errors, hints), without the remote ones. */
  local: string[];
  exitCode: number;
  /** `Released v15` as printed, or null. */
  releasedVersion: number | null;
  /** The release phase as printed: `Waiting for release.... done.` / `failed.` */
  releasePhase: 'done' | 'failed' | null;
  /** Heroku accepted the push but built nothing (a branch other than main/master). */
  skippedBuild: boolean;
}

/** The value of the Basic credentials git sends: `heroku:<key>`, base64 (register it as a secret). */
export function basicCredentials(apiKey: string): string {
  return Buffer.from(`heroku:${apiKey}`).toString('base64');
}

/**
 * Credentials for one repository URL, as git configuration (to pass through the environment), with
 * redirects refused: git applies the header to every request of the run, so following a redirect
 * to another host would hand that host the key.
 */
export function credentialConfig(repoUrl: string, apiKey: string): Array<[string, string]> {
  return [
    [`http.${repoUrl}.extraHeader`, `Authorization: Basic ${basicCredentials(apiKey)}`],
    ['http.followRedirects', 'false'],
  ];
}

// Stryker disable next-line Regex: without `$`, `(.*)` still runs to the end of the line (lines are split at \n; a porcelain line holds no \r); the line start's anchor is asserted in push-output.test.ts
const STATUS_LINE = /^([ +\-*=!])\t([^\t]*)\t(.*)$/;
/** git pads sideband lines with spaces and ESC[K (clear to end of line). */
// Stryker disable next-line StringLiteral: git adds one ESC[K per sideband line, before its \n or \r (sideband.c), and lines are split there, so the first is the only one (the emptied pattern is killed by push-output.test.ts)
const CLEAR_TO_EOL = new RegExp(`${String.fromCharCode(27)}\\[K`, 'g');

function cleanLine(line: string): string {
  return line.replace(CLEAR_TO_EOL, '').replace(/\s+$/, '');
}

export function parsePushOutput(stdout: string, stderr: string, exitCode: number): PushOutcome {
  const outcome: PushOutcome = {
    status: 'failed',
    flag: null,
    summary: '',
    reason: null,
    remote: [],
    local: [],
    exitCode,
    releasedVersion: null,
    releasePhase: null,
    skippedBuild: false,
  };
  for (const line of stdout.split(/\r?\n/)) {
    const match = STATUS_LINE.exec(line);
    if (!match) continue;
    // Stryker disable next-line StringLiteral: both groups take part in every match; the defaults only satisfy the type checker
    const [, flag = '', , rest = ''] = match;
    const reason = /\(([^)]*)\)\s*$/.exec(rest);
    outcome.flag = flag;
    outcome.summary = rest.replace(/\s*\([^)]*\)\s*$/, '').trim();
    outcome.reason = reason?.[1] ?? null;
    outcome.status = flag === '!' ? 'rejected' : flag === '=' ? 'up-to-date' : 'pushed';
  }
  for (const raw of stderr.split(/\r?\n|\r/)) {
    const line = cleanLine(raw);
    if (line.startsWith('remote:')) outcome.remote.push(line.slice('remote:'.length).replace(/^ /, ''));
    else if (line) outcome.local.push(line);
  }
  for (const line of outcome.remote) {
    const released = /\bReleased v(\d+)\b/.exec(line) ?? /Launching\.\.\. done, v(\d+)/.exec(line);
    if (released?.[1]) outcome.releasedVersion = Number(released[1]);
    const phase = /^Waiting for release\.+ (done|failed)\./.exec(line.trim());
    if (phase?.[1]) outcome.releasePhase = phase[1] as 'done' | 'failed';
    if (/Pushed to (branch other than \[main, master\]|non-master branch), skipping build/.test(line))
      outcome.skippedBuild = true;
  }
  return outcome;
}

/** Heroku's own reason lines for a rejected push (` !     Push rejected, failed to compile ...`). */
export function herokuReasonLines(outcome: PushOutcome): string[] {
  return outcome.remote
    .map((l) => l.trim())
    .filter((l) => l.startsWith('!'))
    .map(
      // Stryker disable next-line MethodExpression,Regex: each line is already trimmed and starts with "!", so the anchor and the second trim are redundant
      (l) => l.replace(/^!\s*/, '').trim(),
    )
    .filter(Boolean);
}

export interface PushRequest {
  cwd: string;
  sha: string;
  /** `https://git.heroku.com/<app>.git` */
  repoUrl: string;
  apiKey: string;
  force: boolean;
  network: NetworkSettings;
  signal?: AbortSignal;
  /** Each line of git's stderr (Heroku's build output) as it arrives. */
  onLine: (line: string) => void;
}

/**
 * Limits for a connection to Heroku's git server: nothing at all received or sent for 5 minutes
 * (git's low-speed limit: 1 byte/s) ends the push, as does an hour in all (a build may take 15 min).
 */
export const PUSH_TIMEOUT_MS = 60 * 60_000;
export const SILENCE_LIMIT_S = 300;
function transferLimits(): Array<[string, string]> {
  return [
    ['http.lowSpeedLimit', '1'],
    ['http.lowSpeedTime', String(SILENCE_LIMIT_S)],
  ];
}

export async function pushToHeroku(request: PushRequest): Promise<PushOutcome> {
  const args = ['push', '--porcelain', '--no-verify'];
  if (request.force) args.push('--force');
  args.push(request.repoUrl, `${request.sha}:refs/heads/main`);
  const result = await runGit(args, {
    cwd: request.cwd,
    config: [
      ...credentialConfig(request.repoUrl, request.apiKey),
      ...gitNetworkConfig(request.repoUrl, request.network),
      ...transferLimits(),
    ],
    signal: request.signal,
    network: true,
    timeoutMs: PUSH_TIMEOUT_MS,
    onStderrLine: (line) => {
      const clean = cleanLine(line);
      if (clean) request.onLine(clean);
    },
  });
  return parsePushOutput(result.stdout, result.stderr, result.code);
}

/** Heroku's main (and master) heads, or null when the repository is empty. */
export async function herokuHeads(
  request: Pick<PushRequest, 'cwd' | 'repoUrl' | 'apiKey' | 'network' | 'signal'>,
): Promise<{ head: string | null; outcome: PushOutcome | null }> {
  const result = await runGit(['ls-remote', request.repoUrl, 'refs/heads/main', 'refs/heads/master'], {
    cwd: request.cwd,
    config: [
      ...credentialConfig(request.repoUrl, request.apiKey),
      ...gitNetworkConfig(request.repoUrl, request.network),
      ...transferLimits(),
    ],
    signal: request.signal,
    network: true,
  });
  // Stryker disable next-line StringLiteral: ls-remote prints no porcelain status line, so any stdout here parses the same as none
  if (result.code !== 0) return { head: null, outcome: parsePushOutput('', result.stderr, result.code) };
  const heads = new Map(
    // Stryker disable next-line MethodExpression: ls-remote prints `<sha>\t<ref>` lines; the filter only drops the empty last one
    result.stdout
      .split('\n')
      .map(
        // Stryker disable next-line MethodExpression,Regex: ls-remote separates sha and ref by one tab and pads nothing
        (l) => l.trim().split(/\s+/),
      )
      .filter(
        // Stryker disable next-line ConditionalExpression: ls-remote prints `<sha>\t<ref>` lines; the filter only drops the empty last one
        (p) => p.length === 2,
      )
      .map(([sha, ref]) => [ref, sha] as const),
  );
  return { head: heads.get('refs/heads/main') ?? heads.get('refs/heads/master') ?? null, outcome: null };
}

export interface PushContext {
  app: string;
  sha: string;
  herokuHead: string | null;
  gitUrl: string;
  shallow: boolean;
}

/** Heroku's build lock: another build of the app is running (a push's, or a Build API build's). */
export function buildInProgress(refused: string, app: string, details: string[]): TaskError {
  return new TaskError(
    'busy',
    `${refused}: another build of ${app} is in progress. Re-run when it has finished, and keep deploys of one app from overlapping (one deployment job, or an exclusive lock on the environment).`,
    details,
  );
}

/** A push that did not update Heroku's main, said so that a person knows what to do. */
export function explainPushFailure(outcome: PushOutcome, context: PushContext): TaskError {
  const reasons = herokuReasonLines(outcome);
  const local = outcome.local.join('\n');
  if (outcome.status === 'rejected') {
    if (outcome.reason === 'fetch first' || outcome.reason === 'non-fast-forward') {
      return new TaskError(
        'non-fast-forward',
        `Heroku's main branch of ${context.app} (${short(context.herokuHead) || 'its last deploy'}) has commits that ${short(context.sha)} does not contain: the histories diverged (someone deployed from elsewhere, or the branch was rewritten). To replace what Heroku has with this commit, set \`force: true\` on the task; otherwise deploy a commit that contains Heroku's.`,
      );
    }
    if (outcome.reason === 'shallow update not allowed') {
      return new TaskError(
        'shallow',
        `Heroku refused the push because the checkout is shallow and Heroku does not have the missing history. Set \`fetchDepth: 0\` on the checkout step (steps: - checkout: self, fetchDepth: 0) so the job has the full history.`,
        reasons,
      );
    }
    if (reasons.some((r) => /build is already in progress|Build in progress|another build/i.test(r))) {
      return buildInProgress('Heroku rejected the push', context.app, reasons);
    }
    if (outcome.reason === 'pre-receive hook declined') {
      return new TaskError(
        'build',
        `Heroku rejected the push: the build of ${short(context.sha)} failed, so nothing was released and the app still runs its previous release. Heroku's reason: ${reasons.join(' / ') || 'see the push log above'}. Fix the build (the push log above has Heroku's full output), then run the pipeline again.`,
        reasons,
      );
    }
    return new TaskError(
      'build',
      `Heroku refused the push (${outcome.reason ?? outcome.summary}). ${reasons.join(' / ')}`.trim(),
      reasons,
    );
  }
  if (
    /Authentication failed|could not read Username|terminal prompts disabled|returned error: 401|Invalid credentials/i.test(local)
  ) {
    return new TaskError(
      'auth',
      `Heroku's git server (${context.gitUrl}) rejected the API key. The key is wrong, expired or revoked, or belongs to another account: create a long-lived key with \`heroku authorizations:create\` and update the service connection or secret variable.`,
    );
  }
  if (/returned error: 30[12378]\b/.test(local)) {
    return new TaskError(
      'network',
      // Stryker disable next-line StringLiteral: the '30x' fallback is unreachable: this branch runs only when `returned error: 30<digit>` matched (the message is asserted in push-output.test.ts)
      `${context.gitUrl} answered the push with a redirect (HTTP ${/returned error: (30\d)/.exec(local)?.[1] ?? '30x'}). The task never follows git redirects, so the key only ever goes to the configured git host: set HEROKU_GIT_URL to the URL git should use (Heroku's is https://git.heroku.com), and check the agent's network for something rewriting its traffic.`,
    );
  }
  // Stryker disable next-line StringLiteral: each phrase lies within one line, so the separator between Heroku's lines changes no match
  if (/returned error: 403|access denied|do not have access/i.test(local + reasons.join('\n'))) {
    return new TaskError(
      'permission',
      `Heroku's git server refused access to ${context.app} (403): the key's account cannot push to this app. Add it as a collaborator (\`heroku access:add <email> -a ${context.app}\`).`,
    );
  }
  if (/returned error: 404|not found|No such app/i.test(local)) {
    return new TaskError(
      'not-found',
      `Heroku's git server has no repository for ${context.app} (${context.gitUrl}/${context.app}.git answered 404). Check appName and the HEROKU_GIT_URL variable if you set one.`,
    );
  }
  if (/SSL certificate problem|certificate verification failed|unable to get local issuer/i.test(local)) {
    return new TaskError(
      'network',
      // Stryker disable next-line StringLiteral: the `?? ''` fallback is unreachable: git's lines matched above, so there is a last one (the message is asserted in push-output.test.ts)
      `The TLS certificate of ${context.gitUrl} is not trusted by git on this agent. If your network inspects TLS, give the agent your CA certificate (Agent.CAInfo, \`config --sslcacert\`). git said: ${outcome.local.at(-1) ?? ''}`,
    );
  }
  const silent = /Operation too slow\. Less than \d+ bytes\/sec transferred the last (\d+) seconds/.exec(local);
  if (silent) {
    return new TaskError(
      'network',
      `Heroku's git server (${context.gitUrl}) sent nothing for ${silent[1]} seconds, so the push was stopped; Heroku did not confirm it, so nothing new was released (check \`heroku releases -a ${context.app}\`). Re-run the job; if it keeps happening, check the agent's network and proxy and https://status.heroku.com.`,
    );
  }
  if (/remote end hung up|RPC failed|early EOF|Empty reply|unexpected disconnect|Connection reset|Recv failure/i.test(local)) {
    return new TaskError(
      'network',
      `The connection to Heroku's git server dropped during the push (${outcome.local.find((l) => /error|fatal/i.test(l)) ?? 'the remote hung up'}). Heroku did not confirm the push, so nothing new was released. Re-run the job; if it keeps failing, check the agent's network and proxy and https://status.heroku.com.`,
    );
  }
  if (
    /Could not resolve host|Failed to connect|Connection refused|timed out|Couldn't connect|Proxy CONNECT aborted/i.test(local)
  ) {
    return new TaskError(
      'network',
      // Stryker disable next-line StringLiteral: the `?? ''` fallback is unreachable: git's lines matched above, so there is a last one (the message is asserted in push-output.test.ts)
      `Could not reach Heroku's git server at ${context.gitUrl}: ${outcome.local.at(-1) ?? ''}. Check the agent's network access, its proxy settings (Agent.ProxyUrl) and firewall (HTTPS to git.heroku.com must be allowed).`,
    );
  }
  return new TaskError(
    'git',
    `git push to Heroku failed (exit ${outcome.exitCode}): ${outcome.local.slice(-3).join(' / ') || 'no output'}.`,
    reasons,
  );
}
