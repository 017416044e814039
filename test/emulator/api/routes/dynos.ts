// Dynos: what runs (list, info), restart all / one / a process type, stop.
import { notFound } from '../../errors';
import { presentDyno } from '../present';
import { type ApiRouter } from '../router';

export function dynoRoutes(api: ApiRouter): void {
  api.on('dyno', 'List', (req, ctx) => {
    const app = req.app();
    return {
      body: ctx.platform
        .runtime(app)
        .dynos.list()
        .map((d) => presentDyno(app, d)),
    };
  });
  api.on('dyno', 'Info', (req, ctx) => {
    const app = req.app();
    const dyno = ctx.platform.runtime(app).dynos.find(req.params.dyno ?? '');
    if (!dyno) throw notFound('dyno', "Couldn't find that dyno.");
    return { body: presentDyno(app, dyno) };
  });
  api.on('dyno', 'Restart all', async (req, ctx) => {
    await ctx.platform.runtime(req.app()).dynos.restart();
    return { status: 202, body: {} };
  });
  api.on('dyno', 'Restart', async (req, ctx) => {
    const dynos = ctx.platform.runtime(req.app()).dynos;
    const dyno = dynos.find(req.params.dyno ?? '');
    if (!dyno) throw notFound('dyno', "Couldn't find that dyno.");
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
    if (!dyno) throw notFound('dyno', "Couldn't find that dyno.");
    await dynos.stop({ name: dyno.name });
    return { status: 202, body: {} };
  });
  api.on('dyno', 'Stop formation', async (req, ctx) => {
    await ctx.platform.runtime(req.app()).dynos.stop({ type: req.params.formation_type ?? '' });
    return { status: 202, body: {} };
  });
}
