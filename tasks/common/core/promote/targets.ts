// Where a promotion goes: the apps named in targetApps (each in the source's pipeline), or the apps
// of the next stage downstream; each with its health check URL and what it runs now. All of it is
// read and checked before anything changes.
import { settled } from '../base/async';
import { TaskError, toTaskError } from '../base/errors';
import type { App } from '../heroku/api';
import type { HerokuClient } from '../heroku/client';
import { downstreamStage, PROMOTION_ORDER, type Coupling, type Stage } from '../heroku/pipelines';
import { releaseCommit, releaseSnapshot } from '../heroku/releases';
import { healthCheckUrl } from '../workflow/health-check';
import type { HealthCheckOptions } from '../workflow/safeguards';
import { facts, type Target } from './types';

export interface TargetQuery {
  client: HerokuClient;
  source: string;
  /** The source's stage. */
  stage: Stage;
  couplings: Coupling[];
  pipeline: string;
  /** The targetApps input; empty: the next stage downstream. */
  targetApps: string[];
  log: { info(line: string): void };
}

/** Reads apps by name or id, all at once; a failure is reported for the first app that failed. */
/**
 * The apps `keys` names (names or ids), read at once. An app that does not exist is explained by
 * `missing` (where its key came from), or as a name in the targetApps input when `missing` is null.
 */
async function readApps(
  client: HerokuClient,
  keys: string[],
  doing: (key: string) => string,
  missing: ((key: string) => string) | null,
): Promise<App[]> {
  const reads = await Promise.allSettled(
    keys.map((key) => client.forApp(key, 'targetApps').get<App>(`/apps/${encodeURIComponent(key)}`, doing(key))),
  );
  const apps: App[] = [];
  for (const [i, read] of reads.entries()) {
    if (missing && read.status === 'rejected' && toTaskError(read.reason).kind === 'not-found')
      throw new TaskError(
        'not-found',
        // Stryker disable next-line StringLiteral: unreachable fallback: reads has one entry per key, so keys[i] is always there; it only satisfies the type checker
        missing(keys[i] ?? ''),
      );
    apps.push(await settled(read));
  }
  return apps;
}

/** The targets named in targetApps, each in the pipeline; or the apps of the next stage downstream. */
export async function resolveTargets(query: TargetQuery): Promise<Target[]> {
  const { client, source, couplings, pipeline } = query;
  const stageOf = (app: App): Stage | null => couplings.find((c) => c.app?.id === app.id)?.stage ?? null;
  const target = (app: App): Target => {
    // Stryker disable next-line StringLiteral: Heroku's apps always have a name and an id (Platform API schema); the fallbacks only satisfy the types
    const name = app.name ?? '';
    return {
      name,
      // Stryker disable next-line StringLiteral: Heroku's apps always have an id (Platform API schema); the fallback only satisfies the type
      id: app.id ?? '',
      app,
      client: client.forApp(name, 'targetApps'),
      stage: stageOf(app),
      healthUrl: null,
      current: null,
      before: null,
      diff: null,
    };
  };

  if (query.targetApps.length) {
    if (query.targetApps.includes(source)) {
      throw new TaskError(
        'input',
        `targetApps includes ${source}, the source app: an app cannot be promoted to itself. List only the apps to promote to, or leave targetApps empty for the next stage of ${pipeline}.`,
      );
    }
    const apps = await readApps(client, query.targetApps, (name) => `reading the app ${name}`, null);
    // Stryker disable next-line StringLiteral: Heroku's apps always have a name (Platform API schema); the fallback only satisfies the type
    const outside = apps.filter((app) => stageOf(app) === null).map((app) => app.name ?? '');
    if (outside.length) {
      const them = outside.length === 1 ? 'it' : 'them';
      throw new TaskError(
        'input',
        `${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} not in the pipeline ${pipeline}, so ${source} cannot be promoted to ${them}: a promotion only goes to apps of the source's pipeline. The pipeline has ${await describeStages(client, couplings)}. Add ${them} (\`heroku pipelines:add ${pipeline} -a ${outside[0]} --stage production\`), or fix targetApps.`,
      );
    }
    return apps.map(target);
  }

  const next = downstreamStage(query.stage, couplings);
  if (!next) {
    const why =
      query.stage === 'production'
        ? `${source} is in the production stage of ${pipeline}, the last stage: nothing is downstream of it.`
        : query.stage === 'test'
          ? `${source} is in the test stage of ${pipeline}, which promotes nowhere by default.`
          : `No stage after ${query.stage} in the pipeline ${pipeline} has apps (${PROMOTION_ORDER.slice(PROMOTION_ORDER.indexOf(query.stage) + 1).join(', ')}).`;
    throw new TaskError(
      'input',
      `${why} The pipeline has ${await describeStages(client, couplings)}. Name the apps to promote to in targetApps, or add the next stage's app to the pipeline (\`heroku pipelines:add ${pipeline} -a <app> --stage production\`).`,
    );
  }
  const apps = await readApps(
    client,
    next.appIds,
    (id) => `reading the ${next.stage} app ${id}`,
    (id) =>
      `The pipeline ${pipeline} has the app ${id} in its ${next.stage} stage, but Heroku has no such app visible to this account (404 not_found): it was deleted, or the key's account lost access to it. Remove it from the pipeline (\`heroku pipelines:info ${pipeline}\` lists the stages), give the account access, or name the apps to promote to in targetApps.`,
  );
  query.log.info(
    `No targetApps given: promoting to the next stage downstream, ${next.stage}: ${apps.map((a) => a.name).join(', ')}.`,
  );
  return apps.map(target);
}

/** `development: none; staging: my-app-staging; production: my-app, my-app-eu` (for messages). */
async function describeStages(client: HerokuClient, couplings: Coupling[]): Promise<string> {
  const names = await Promise.all(
    couplings.map(async (c) => {
      // Stryker disable next-line StringLiteral: a pipeline coupling always names its app (Platform API schema); the fallback only satisfies the type
      const id = c.app?.id ?? '';
      return client
        .get<App>(
          `/apps/${encodeURIComponent(id)}`,
          // Stryker disable next-line StringLiteral: a failure of this read is caught below and the app's id shown instead, so what it was doing is never seen
          'naming the apps of the pipeline',
        )
        .then((a) => a.name ?? id)
        .catch(() => id);
    }),
  );
  const stages: Stage[] = ['review', 'development', 'staging', 'production', 'test'];
  return stages
    .map((stage) => [stage, couplings.flatMap((c, i) => (c.stage === stage ? [names[i] ?? ''] : []))] as const)
    .filter(([stage, apps]) => apps.length > 0 || PROMOTION_ORDER.includes(stage))
    .map(([stage, apps]) => `${stage}: ${apps.join(', ') || 'none'}`)
    .join('; ');
}

/** Each target's health check URL, checked before anything changes: one full URL cannot check several apps. */
export function resolveHealthUrls(targets: Target[], options: HealthCheckOptions | null): void {
  if (!options) return;
  if (!options.url.startsWith('/') && targets.length > 1) {
    throw new TaskError(
      'input',
      `healthCheckUrl is a full URL (${options.url}), but there are ${targets.length} targets (${targets.map((t) => t.name).join(', ')}): one URL cannot check them all. Give a path such as /health, which is resolved against each target's web URL.`,
    );
  }
  for (const target of targets) target.healthUrl = healthCheckUrl(options, target.app.web_url ?? null, target.name);
}

/** What the target runs before the promotion: its live release and that release's commit. */
export async function readCurrent(target: Target): Promise<void> {
  const current = (await releaseSnapshot(target.client)).current;
  target.current = current;
  if (current) target.before = facts(current, await releaseCommit(target.client, current));
}
