// Pipelines: pipelines, couplings (an app's stage), promotions and their targets.
import { invalidParams, notFound } from '../../errors';
import { newId, timestamp, type App, type Stage } from '../../state';
import { presentCoupling, presentPipeline, presentPromotion, presentPromotionTarget } from '../present';
import { type ApiContext, type ApiRequest, type ApiRouter } from '../router';

function couplingOf(ctx: ApiContext, req: ApiRequest, identity: string) {
  const coupling = ctx.state.couplings.get(identity) ?? ctx.state.couplingForApp(ctx.state.findApp(identity)?.id ?? '');
  if (!coupling) throw notFound('pipeline-coupling', "Couldn't find that pipeline coupling.");
  ctx.state.appFor(req.account, coupling.appId);
  return coupling;
}

function accessibleApp(ctx: ApiContext, req: ApiRequest, id: string): App {
  return ctx.state.appFor(req.account, id);
}

export function pipelineRoutes(api: ApiRouter): void {
  api.on('pipeline', 'Create', (req, ctx) => {
    const name = String(req.body.name);
    if ([...ctx.state.pipelines.values()].some((p) => p.name === name)) throw invalidParams(`Name ${name} is already taken`);
    const owner = (req.body.owner as { id: string; type: 'user' | 'team' } | null | undefined) ?? {
      id: req.account.id,
      type: 'user',
    };
    const now = timestamp();
    const pipeline = { id: newId(), name, owner, generation: 'cedar' as const, createdAt: now, updatedAt: now };
    ctx.state.pipelines.set(pipeline.id, pipeline);
    return { status: 201, body: presentPipeline(pipeline) };
  });
  api.on('pipeline', 'Info', (req, ctx) => ({ body: presentPipeline(ctx.state.findPipeline(req.params.pipeline ?? '')) }));
  api.on(
    'pipeline',
    'List',
    (req, ctx) => {
      const name = req.query.get('eq[name]');
      const all = [...ctx.state.pipelines.values()].filter((p) => name === null || p.name === name);
      return { body: all.map(presentPipeline) };
    },
    { range: ['id', 'name'] },
  );
  api.on('pipeline', 'Delete', (req, ctx) => {
    const pipeline = ctx.state.findPipeline(req.params.pipeline ?? '');
    for (const [id, c] of ctx.state.couplings) if (c.pipelineId === pipeline.id) ctx.state.couplings.delete(id);
    ctx.state.pipelines.delete(pipeline.id);
    return { body: presentPipeline(pipeline) };
  });

  api.on('pipeline-coupling', 'Create', (req, ctx) => {
    const app = accessibleApp(ctx, req, String(req.body.app));
    const pipeline = ctx.state.findPipeline(String(req.body.pipeline));
    if (ctx.state.couplingForApp(app.id)) throw invalidParams(`${app.name} is already in a pipeline.`);
    const now = timestamp();
    const coupling = {
      id: newId(),
      appId: app.id,
      pipelineId: pipeline.id,
      stage: req.body.stage as Stage,
      createdAt: now,
      updatedAt: now,
    };
    ctx.state.couplings.set(coupling.id, coupling);
    if (app.generation === 'fir') pipeline.generation = 'fir';
    return { status: 201, body: presentCoupling(ctx.present, coupling) };
  });
  api.on('pipeline-coupling', 'Info', (req, ctx) => ({
    body: presentCoupling(ctx.present, couplingOf(ctx, req, req.params.pipeline_coupling ?? '')),
  }));
  api.on('pipeline-coupling', 'Info By App', (req, ctx) => {
    const app = req.app();
    const coupling = ctx.state.couplingForApp(app.id);
    if (!coupling) throw notFound('pipeline-coupling', "Couldn't find that pipeline coupling.");
    return { body: presentCoupling(ctx.present, coupling) };
  });
  api.on('pipeline-coupling', 'Update', (req, ctx) => {
    const coupling = couplingOf(ctx, req, req.params.pipeline_coupling ?? '');
    if (typeof req.body.stage === 'string') coupling.stage = req.body.stage as Stage;
    coupling.updatedAt = timestamp();
    return { body: presentCoupling(ctx.present, coupling) };
  });
  api.on('pipeline-coupling', 'Delete', (req, ctx) => {
    const coupling = couplingOf(ctx, req, req.params.pipeline_coupling ?? '');
    ctx.state.couplings.delete(coupling.id);
    return { body: presentCoupling(ctx.present, coupling) };
  });
  api.on('pipeline-coupling', 'List By Pipeline', (req, ctx) => {
    const pipeline = ctx.state.findPipeline(req.params.pipeline ?? '');
    return {
      body: [...ctx.state.couplings.values()]
        .filter((c) => c.pipelineId === pipeline.id)
        .map((c) => presentCoupling(ctx.present, c)),
    };
  });
  api.on('pipeline-coupling', 'List By Current User', (req, ctx) => {
    const mine = new Set(ctx.state.appsFor(req.account).map((a) => a.id));
    return {
      body: [...ctx.state.couplings.values()].filter((c) => mine.has(c.appId)).map((c) => presentCoupling(ctx.present, c)),
    };
  });
  api.on('pipeline-coupling', 'List', (req, ctx) => {
    const mine = new Set(ctx.state.appsFor(req.account).map((a) => a.id));
    return {
      body: [...ctx.state.couplings.values()].filter((c) => mine.has(c.appId)).map((c) => presentCoupling(ctx.present, c)),
    };
  });

  api.on('pipeline-promotion', 'Create', (req, ctx) => {
    const body = req.body as {
      pipeline: { id: string };
      source: { app?: { id?: string }; release?: { id?: string } };
      targets: Array<{ app?: { id?: string } }>;
    };
    const pipeline = ctx.state.findPipeline(body.pipeline.id);
    const source = accessibleApp(ctx, req, body.source.app?.id ?? '');
    if (ctx.state.couplingForApp(source.id)?.pipelineId !== pipeline.id)
      throw invalidParams(`${source.name} is not in the pipeline ${pipeline.name}.`);
    const release = body.source.release?.id
      ? ctx.state.findRelease(source, body.source.release.id)
      : ctx.state.currentRelease(source);
    if (!release || (!release.slugId && !release.ociImageId))
      throw invalidParams(`${source.name} has no release to promote: deploy it first.`);
    if (body.targets.length === 0) throw invalidParams('Promotions need at least one target app.');
    const targets = body.targets.map((t) => {
      const app = accessibleApp(ctx, req, t.app?.id ?? '');
      if (ctx.state.couplingForApp(app.id)?.pipelineId !== pipeline.id)
        throw invalidParams(`${app.name} is not in the pipeline ${pipeline.name}.`);
      if (app.id === source.id) throw invalidParams('An app cannot be promoted to itself.');
      return app;
    });
    const promotion = ctx.platform.promote(pipeline, source, release, targets, req.account);
    return { status: 201, body: presentPromotion(promotion) };
  });
  api.on('pipeline-promotion', 'Info', (req, ctx) => {
    const promotion = ctx.state.promotions.get(req.params.pipeline_promotion ?? '');
    if (!promotion) throw notFound('pipeline-promotion', "Couldn't find that pipeline promotion.");
    return { body: presentPromotion(promotion) };
  });
  api.on('pipeline-promotion-target', 'List', (req, ctx) => {
    const promotion = ctx.state.promotions.get(req.params.pipeline_promotion ?? '');
    if (!promotion) throw notFound('pipeline-promotion', "Couldn't find that pipeline promotion.");
    return { body: promotion.targets.map((t) => presentPromotionTarget(promotion, t)) };
  });
}
