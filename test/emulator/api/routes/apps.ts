// Apps: create (personal or in a team), info, list, update (name, maintenance, build stack), delete.
import { forbidden, notFound } from '../../errors';
import { checkStack, type Generation } from '../../state';
import { presentApp, presentTeamApp } from '../present';
import { type ApiContext, type ApiRequest, type ApiRouter } from '../router';

function generationOf(body: Record<string, unknown>): Generation {
  // Not in the schema: how the emulator is asked for a Fir-generation app (on Heroku, a Fir space).
  return body.generation === 'fir' ? 'fir' : 'cedar';
}

async function createTeamApp(req: ApiRequest, ctx: ApiContext, teamName: string | undefined): Promise<string> {
  const body = req.body;
  let teamId: string | null = null;
  if (teamName) {
    const team = ctx.state.findTeam(teamName);
    if (!team) throw notFound('team', "Couldn't find that team.");
    if (!team.members.has(req.account.id)) throw forbidden(`You do not have access to the team ${team.name}.`);
    teamId = team.id;
  }
  const app = await ctx.platform.createApp(req.account, {
    name: typeof body.name === 'string' ? body.name : undefined,
    region: typeof body.region === 'string' ? body.region : undefined,
    stack: typeof body.stack === 'string' ? body.stack : undefined,
    teamId,
    generation: generationOf(body),
  });
  return app.id;
}

export function appRoutes(api: ApiRouter): void {
  api.on('app', 'Create', async (req, ctx) => {
    const id = await createTeamApp(req, ctx, undefined);
    return { status: 201, body: presentApp(ctx.present, ctx.state.apps.get(id)!) };
  });
  api.on('team-app', 'Create', async (req, ctx) => {
    const team = typeof req.body.team === 'string' ? req.body.team : undefined;
    const id = await createTeamApp(req, ctx, req.body.personal === true ? undefined : team);
    return { status: 201, body: presentTeamApp(ctx.present, ctx.state.apps.get(id)!) };
  });
  api.on('app', 'Info', (req, ctx) => ({ body: presentApp(ctx.present, req.app()) }));
  api.on('team-app', 'Info', (req, ctx) => ({
    body: presentTeamApp(ctx.present, ctx.state.appFor(req.account, req.params.team_app ?? '')),
  }));
  api.on('app', 'List', (req, ctx) => ({ body: ctx.state.appsFor(req.account).map((a) => presentApp(ctx.present, a)) }), {
    range: ['id', 'name', 'updated_at'],
  });
  api.on(
    'app',
    'List Owned and Collaborated',
    (req, ctx) => {
      const who = req.params.account;
      if (who !== '~' && who !== req.account.id && who !== req.account.email)
        throw forbidden('You do not have access to this account.');
      // "List owned and collaborated apps (excludes team apps)", as the schema describes it:
      // `heroku apps` lists these, and `heroku apps --team <team>` the team's.
      return {
        body: ctx.state
          .appsFor(req.account)
          .filter((a) => a.teamId === null)
          .map((a) => presentApp(ctx.present, a)),
      };
    },
    { range: ['id', 'name', 'updated_at'] },
  );
  api.on(
    'team-app',
    'List By Team',
    (req, ctx) => {
      const team = ctx.state.findTeam(req.params.team ?? '');
      if (!team) throw notFound('team', "Couldn't find that team.");
      if (!team.members.has(req.account.id)) throw forbidden(`You do not have access to the team ${team.name}.`);
      return {
        body: [...ctx.state.apps.values()].filter((a) => a.teamId === team.id).map((a) => presentTeamApp(ctx.present, a)),
      };
    },
    { range: ['id', 'name', 'updated_at'] },
  );
  api.on('filter-apps', 'Apps', (req, ctx) => {
    const filter = (req.body.in ?? {}) as { id?: string[] };
    const ids = new Set(filter.id ?? []);
    return {
      body: ctx.state
        .appsFor(req.account)
        .filter((a) => ids.has(a.id) || ids.has(a.name))
        .map((a) => presentTeamApp(ctx.present, a)),
    };
  });
  api.on('app', 'Update', async (req, ctx) => {
    const app = req.app();
    const body = req.body;
    if (typeof body.maintenance === 'boolean' && body.maintenance !== app.maintenance)
      await ctx.platform.setMaintenance(app, body.maintenance);
    if (typeof body.build_stack === 'string') {
      checkStack(body.build_stack);
      app.buildStack = body.build_stack;
    }
    if (typeof body.name === 'string') await ctx.platform.renameApp(app, body.name);
    return { body: presentApp(ctx.present, app) };
  });
  api.on('app', 'Delete', async (req, ctx) => {
    const app = req.app();
    if (app.ownerId !== req.account.id) throw forbidden(`Only the owner of ${app.name} can delete it.`);
    const body = presentApp(ctx.present, app);
    await ctx.platform.destroyApp(app);
    return { body };
  });
}
