// Changes to an app around a deploy, through the Platform API: creation and buildpacks (intended,
// they stay), maintenance mode and scaled-down process types (temporary, undone), config vars.
import { DeployError } from './errors';
import type { App, HerokuApi } from './heroku-api';
import type { AppCreation } from './safeguards';

const enc = encodeURIComponent;

interface Formation {
  type?: string;
  quantity?: number;
}

export async function createApp(api: HerokuApi, name: string, creation: AppCreation): Promise<App> {
  const body: Record<string, string> = { name };
  if (creation.region) body.region = creation.region;
  if (creation.stack) body.stack = creation.stack;
  if (creation.team) return api.post<App>('/teams/apps', { ...body, team: creation.team });
  return api.post<App>('/apps', body);
}

/** Sets the buildpacks, in order, when they differ from the app's. Returns whether it changed them. */
export async function setBuildpacks(api: HerokuApi, app: string, buildpacks: string[]): Promise<boolean> {
  const current = await api.get<Array<{ buildpack?: { url?: string; name?: string } }>>(`/apps/${enc(app)}/buildpack-installations`);
  const same = current.length === buildpacks.length && current.every((c, i) => c.buildpack?.name === buildpacks[i] || c.buildpack?.url === buildpacks[i]);
  if (same) return false;
  await api.request('PUT', `/apps/${enc(app)}/buildpack-installations`, { body: { updates: buildpacks.map((buildpack) => ({ buildpack })) }, idempotent: true });
  return true;
}

export async function setMaintenance(api: HerokuApi, app: string, on: boolean): Promise<void> {
  await api.patch<App>(`/apps/${enc(app)}`, { maintenance: on });
}

/** The current quantities of `types`, each of which must exist in the app's formation. */
export async function processQuantities(api: HerokuApi, app: string, types: string[]): Promise<Record<string, number>> {
  const formation = await api.get<Formation[]>(`/apps/${enc(app)}/formation`);
  const known = new Map(formation.map((f) => [f.type ?? '', f.quantity ?? 0]));
  const missing = types.filter((t) => !known.has(t));
  if (missing.length) {
    throw new DeployError('input', `stopProcessTypes names ${missing.join(', ')}, but ${app}'s formation has ${[...known.keys()].join(', ') || 'no process types yet'}: use names from its Procfile.`);
  }
  return Object.fromEntries(types.map((t) => [t, known.get(t) ?? 0]));
}

/** Scales to 0 the process types that run (`quantities` as processQuantities read them). */
export async function scaleDown(api: HerokuApi, app: string, quantities: Record<string, number>): Promise<void> {
  const running = Object.keys(quantities).filter((t) => (quantities[t] ?? 0) > 0);
  if (running.length) await api.patch(`/apps/${enc(app)}/formation`, { updates: running.map((type) => ({ type, quantity: 0 })) });
}

/** Sets the quantities back exactly as they were. */
export async function restoreScale(api: HerokuApi, app: string, previous: Record<string, number>): Promise<void> {
  const updates = Object.entries(previous)
    .filter(([, quantity]) => quantity > 0)
    .map(([type, quantity]) => ({ type, quantity }));
  if (updates.length) await api.patch(`/apps/${enc(app)}/formation`, { updates });
}

export interface ConfigChange {
  set: string[];
  removed: string[];
}

/** Applies only what differs from the app's config, in one PATCH. Values are never logged. */
export async function applyConfigVars(api: HerokuApi, app: string, wanted: Record<string, string | null>): Promise<ConfigChange> {
  const current = await api.get<Record<string, string>>(`/apps/${enc(app)}/config-vars`);
  const changes: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (value === null ? key in current : current[key] !== value) changes[key] = value;
  }
  if (Object.keys(changes).length) await api.patch(`/apps/${enc(app)}/config-vars`, changes);
  return { set: Object.keys(changes).filter((k) => changes[k] !== null), removed: Object.keys(changes).filter((k) => changes[k] === null) };
}
