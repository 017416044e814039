// Releases: list (Range by version or id), info by id or version, create from a slug, rollback.
import { notFound } from '../../errors';
import { presentRelease } from '../present';
import { type ApiRouter } from '../router';

export function releaseRoutes(api: ApiRouter): void {
  api.on(
    'release',
    'List',
    (req, ctx) => {
      const app = req.app();
      return { body: app.releases.map((r) => presentRelease(ctx.present, app, r)) };
    },
    { range: ['id', 'version'] },
  );

  api.on('release', 'Info', (req, ctx) => {
    const app = req.app();
    return { body: presentRelease(ctx.present, app, ctx.state.findRelease(app, req.params.release ?? '')) };
  });

  // Create and Rollback share POST /apps/{app}/releases; the body says which.
  api.on('release', ['Create', 'Rollback'], (req, ctx) => {
    const app = req.app();
    const body = req.body;
    if (typeof body.release === 'string' || typeof body.release === 'number') {
      const target = ctx.state.findRelease(app, body.release);
      return { status: 201, body: presentRelease(ctx.present, app, ctx.platform.rollback(app, req.account, target).release) };
    }
    const slugId = String(body.slug);
    const slug = ctx.state.slugs.get(slugId);
    const usable =
      slug &&
      [...ctx.state.apps.values()].some(
        (a) => ctx.state.canAccess(req.account, a) && a.releases.some((r) => r.slugId === slugId),
      );
    if (!usable) throw notFound('slug', "Couldn't find that slug.");
    const description =
      typeof body.description === 'string' ? body.description : `Deploy ${slug.commit?.slice(0, 8) ?? slugId.slice(0, 8)}`;
    const started = ctx.platform.startRelease(app, { user: req.account, description, slugId });
    return { status: 201, body: presentRelease(ctx.present, app, started.release) };
  });
}
