// Dynos: what runs (list, info), one-off dynos (create, attached or detached), restart all / one /
// a process type, stop.
import { invalidParams, notFound } from '../../errors';
import type { Dyno } from '../../platform/dynos';
import type { Platform } from '../../platform/platform';
import type { App } from '../../state';
import { presentDyno } from '../present';
import { type ApiRouter } from '../router';

/** The formation's dynos and the one-off dynos, as `GET /apps/{app}/dynos` lists them. */
function allDynos(platform: Platform, app: App): Dyno[] {
  const runtime = platform.runtime(app);
  return [...runtime.dynos.list(), ...runtime.oneOffs.list()];
}

function stringRecord(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParams(`${field} must be an object.`);
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined);
  return Object.fromEntries(entries.map(([k, v]) => [k, String(v as string | number | boolean)]));
}

export function dynoRoutes(api: ApiRouter): void {
  api.on('dyno', 'Create', (req, ctx) => {
    const app = req.app();
    const body = req.body;
    const command = typeof body.command === 'string' ? body.command : '';
    if (!command.trim()) throw invalidParams("Command can't be blank.");
    if (app.generation === 'fir')
      throw invalidParams('The emulator does not model one-off dynos of Fir-generation apps (their attach is SSH-based).');
    const dyno = ctx.platform.runtime(app).oneOffs.create({
      command,
      env: stringRecord(body.env, 'env'),
      attach: body.attach === true,
      size: typeof body.size === 'string' ? body.size : undefined,
      type: typeof body.type === 'string' ? body.type : undefined,
      timeToLive: typeof body.time_to_live === 'number' ? body.time_to_live : undefined,
    });
    return { status: 201, body: presentDyno(app, dyno) };
  });
  api.on('dyno', 'List', (req, ctx) => {
    const app = req.app();
    return { body: allDynos(ctx.platform, app).map((d) => presentDyno(app, d)) };
  });
  api.on('dyno', 'Info', (req, ctx) => {
    const app = req.app();
    const dyno = allDynos(ctx.platform, app).find((d) => d.name === req.params.dyno || d.id === req.params.dyno);
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
    const { dynos, oneOffs } = ctx.platform.runtime(req.app());
    const oneOff = oneOffs.find(req.params.dyno ?? '');
    if (oneOff) {
      // Accepted at once, as Heroku does (202): the process gets SIGTERM, then SIGKILL 3 s later.
      void oneOffs.stop(oneOff.name);
      return { status: 202, body: {} };
    }
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
