// Dynos: what runs (list, info), restart all / one / a process type, stop.
import { presentDyno } from '../present';
import { ApiError, type ApiRouter } from '../router';

export function dynoRoutes(api: ApiRouter): void {
  api.on('dyno', 'List', (req, ctx) => {
    const app = req.app();
    return { body: ctx.platform.runtime(app).dynos.list().map((d) => presentDyno(app, d)) };
  });
  api.on('dyno', 'Info', (req, ctx) => {
    const app = req.app();
    const dyno = ctx.platform.runtime(app).dynos.find(req.params.dyno ?? '');
    if (!dyno) throw new ApiError(404, 'not_found', "Couldn't find that dyno.", 'dyno');
    return { body: presentDyno(app, dyno) };
  });
  api.on('dyno', 'Restart all', async (req, ctx) => {
    await ctx.platform.runtime(req.app()).dynos.restart();
    return { status: 202, body: {} };
  });
  api.on('dyno', 'Restart', async (req, ctx) => {
    const dynos = ctx.platform.runtime(req.app()).dynos;
    const dyno = dynos.find(req.params.dyno ?? '');
    if (!dyno) throw new ApiError(404, 'not_found', "Couldn't find that dyno.", 'dyno');
    await dynos.restart({ name: dyno.name });
    return { status: 202, body: {} };
  });
  api.on('dyno', 'Restart formation', async (req, ctx) => {
    await ctx.platform.runtime(req.app()).dynos.restart({ type: req.params.formation_type ?? '' });
    return { status: 202, body: {} };
  });
  api.on('dyno', 'Stop', async (req, ctx) => {
    const dynos = ctx.platform.runtime(req.app()).dynos;
    const dyno = dynos.find(req.params.dyno ?? '');
    if (!dyno) throw new ApiError(404, 'not_found', "Couldn't find that dyno.", 'dyno');
    await dynos.stop({ name: dyno.name });
    return { status: 202, body: {} };
  });
  api.on('dyno', 'Stop formation', async (req, ctx) => {
    await ctx.platform.runtime(req.app()).dynos.stop({ type: req.params.formation_type ?? '' });
    return { status: 202, body: {} };
  });
}
