// Heroku pipelines, from the Platform API: the pipeline and stage an app is coupled to, the apps of
// each stage, and the stage a promotion goes to when no target is named.
import type * as Heroku from '@heroku-cli/schema';
import type { AppClient, HerokuClient } from './client';

export type Stage = NonNullable<Heroku.PipelineCoupling['stage']>;
/** Heroku also sends the pipeline's name in a coupling (its CLI prints it); the schema lists only the id. */
export type Coupling = Heroku.PipelineCoupling & { pipeline?: { id?: string; name?: string } };

/**
 * The order promotions follow. Review apps promote into it (to the first of these with apps); the
 * test stage (CI) is outside it: nothing is downstream of it.
 */
export const PROMOTION_ORDER: readonly Stage[] = ['development', 'staging', 'production'];

const enc = encodeURIComponent;

/** The coupling of the app (its pipeline and stage), or null when the app is in no pipeline. */
export function couplingOf(app: AppClient): Promise<Coupling | null> {
  return app.find<Coupling>(app.path('pipeline-couplings'), `reading the pipeline of ${app.name}`);
}

export function pipelineCouplings(client: HerokuClient, pipeline: { id: string; name: string }): Promise<Coupling[]> {
  return client.list<Coupling>(
    `/pipelines/${enc(pipeline.id)}/pipeline-couplings`,
    `listing the apps of the pipeline ${pipeline.name}`,
  );
}

/** The ids of the apps coupled in `stage`. */
export function appsInStage(couplings: Coupling[], stage: Stage): string[] {
  // Stryker disable next-line StringLiteral: the filter keeps only couplings with an app id, so the fallback is never used
  return couplings.filter((c) => c.stage === stage && c.app?.id).map((c) => c.app?.id ?? '');
}

/**
 * Where a promotion from `from` goes by default: the next stage of development -> staging ->
 * production that has apps. Null when there is none (production, test, or empty stages below).
 */
export function downstreamStage(from: Stage, couplings: Coupling[]): { stage: Stage; appIds: string[] } | null {
  if (from === 'test') return null;
  // Stryker disable next-line ConditionalExpression: 'review' is not in PROMOTION_ORDER, so indexOf + 1 gives 0 for it too (the test only says it outright)
  const start = from === 'review' ? 0 : PROMOTION_ORDER.indexOf(from) + 1;
  for (const stage of PROMOTION_ORDER.slice(start)) {
    const appIds = appsInStage(couplings, stage);
    if (appIds.length) return { stage, appIds };
  }
  return null;
}
