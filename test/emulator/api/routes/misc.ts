// The rest of what deploy tooling touches: log sessions, teams, buildpack installations, features.
import { invalidParams, notFound } from '../../errors';
import { newId, timestamp } from '../../state';
import { presentLogSession, presentTeam } from '../present';
import { type ApiRouter } from '../router';

export function miscRoutes(api: ApiRouter): void {
  api.on('log-session', 'Create', (req, ctx) => {
    const app = req.app();
    const body = req.body;
    const lines = typeof body.lines === 'number' ? body.lines : 100;
    if (lines < 1 || lines > 1500) throw invalidParams('Lines must be between 1 and 1500.');
    const session = {
      id: newId(),
      appId: app.id,
      lines,
      tail: body.tail === true,
      source: typeof body.source === 'string' ? body.source : null,
      dyno: typeof body.dyno_name === 'string' ? body.dyno_name : typeof body.dyno === 'string' ? body.dyno : null,
      type: typeof body.type === 'string' ? body.type : null,
      createdAt: timestamp(),
    };
    ctx.state.logSessions.set(session.id, session);
    return { status: 201, body: presentLogSession(ctx.present, session) };
  });

  api.on('team', 'List', (req, ctx) => ({
    body: [...ctx.state.teams.values()].filter((t) => t.members.has(req.account.id)).map((t) => presentTeam(t, req.account.id)),
  }));
  api.on('team', 'Info', (req, ctx) => {
    const team = ctx.state.findTeam(req.params.team ?? '');
    if (!team || !team.members.has(req.account.id)) throw notFound('team', "Couldn't find that team.");
    return { body: presentTeam(team, req.account.id) };
  });

  api.on('buildpack-installation', 'List', (req) => ({
    body: req.app().buildpacks.map((b, i) => ({ ordinal: i, buildpack: { url: b.url, name: b.name } })),
  }));
  api.on('buildpack-installation', 'Update', (req) => {
    const app = req.app();
    const updates = req.body.updates as Array<{ buildpack: string }>;
    app.buildpacks = updates.map((u) => ({
      url: u.buildpack,
      name: u.buildpack.replace(/^https:\/\/buildpack-registry\.s3\.amazonaws\.com\/buildpacks\/(.+)\.tgz$/, '$1'),
    }));
    return { body: app.buildpacks.map((b, i) => ({ ordinal: i, buildpack: { url: b.url, name: b.name } })) };
  });

  const presentFeature = (name: string, enabled: boolean) => ({
    created_at: '2024-01-01T00:00:00Z',
    description: 'Provide dyno metadata (release version, commit) as environment variables',
    doc_url: 'https://devcenter.heroku.com/articles/dyno-metadata',
    enabled,
    id: '8b9a4c4d-6f4e-4c49-9f5c-000000000001',
    name,
    state: 'public',
    updated_at: '2024-01-01T00:00:00Z',
    display_name: 'Dyno metadata',
    feedback_email: 'dyno-metadata@heroku.com',
  });
  api.on('app-feature', 'List', (req) => ({ body: [...req.app().features].map(([name, on]) => presentFeature(name, on)) }));
  api.on('app-feature', 'Info', (req) => {
    const app = req.app();
    const name = req.params.app_feature ?? '';
    const on = app.features.get(name);
    if (on === undefined) throw notFound('app-feature', "Couldn't find that feature.");
    return { body: presentFeature(name, on) };
  });
  api.on('app-feature', 'Update', (req) => {
    const app = req.app();
    const name = req.params.app_feature ?? '';
    if (!app.features.has(name)) throw notFound('app-feature', "Couldn't find that feature.");
    app.features.set(name, req.body.enabled === true);
    return { body: presentFeature(name, req.body.enabled === true) };
  });
}
