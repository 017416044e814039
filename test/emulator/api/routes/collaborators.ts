// Collaborators: who may use an app. As on Heroku the list holds the owner too (role `owner`), so a
// client such as `heroku apps:info` filters the owner's email out itself. Team apps also list the
// team's members; the emulator gives every member every team-app permission.
import { createHash } from 'node:crypto';
import type { Account, App, HerokuState } from '../../state';
import type { ApiRouter } from '../router';

type Role = 'owner' | 'collaborator' | 'admin';

const TEAM_PERMISSIONS = [
  { name: 'view', description: 'Can view the app.' },
  { name: 'deploy', description: 'Can deploy the app.' },
  { name: 'operate', description: 'Can manage dynos, run commands and restart the app.' },
  { name: 'manage', description: 'Can manage config, add-ons, access and settings of the app.' },
];

/** A stable id for the (app, account) pair: the same collaborator always has the same id. */
function collaboratorId(app: App, accountId: string): string {
  const hex = createHash('sha1').update(`${app.id}:${accountId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function presentCollaborator(app: App, account: Account, role: Role) {
  return {
    app: { name: app.name, id: app.id },
    created_at: app.createdAt,
    id: collaboratorId(app, account.id),
    permissions: app.teamId ? TEAM_PERMISSIONS : [],
    role,
    updated_at: app.updatedAt,
    user: { email: account.email, federated: false, id: account.id },
  };
}

function collaboratorsOf(state: HerokuState, app: App): Array<{ account: Account; role: Role }> {
  const entries: Array<{ account: Account; role: Role }> = [];
  const add = (id: string, role: Role): void => {
    const account = state.accounts.get(id);
    if (account && !entries.some((e) => e.account.id === id)) entries.push({ account, role });
  };
  add(app.ownerId, 'owner');
  for (const id of app.collaborators) add(id, 'collaborator');
  const team = app.teamId ? state.teams.get(app.teamId) : undefined;
  for (const id of team?.members ?? []) add(id, 'admin');
  return entries;
}

export function collaboratorRoutes(api: ApiRouter): void {
  api.on('collaborator', 'List', (req, ctx) => {
    const app = req.app();
    return { body: collaboratorsOf(ctx.state, app).map((c) => presentCollaborator(app, c.account, c.role)) };
  });
}
