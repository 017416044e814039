// Changes to an app around a release, through the Platform API: creation and buildpacks (intended,
// they stay), maintenance mode and scaled-down process types (temporary, undone), config vars.
import { TaskError } from '../base/errors';
import type { App } from './api';
import type { AppClient, HerokuClient } from './client';

export interface AppCreation {
  region: string | null;
  team: string | null;
  stack: string | null;
}

interface Formation {
  type?: string;
  quantity?: number;
}

export function createApp(client: HerokuClient, name: string, creation: AppCreation): Promise<App> {
  const body: Record<string, string> = { name };
  if (creation.region) body.region = creation.region;
  if (creation.stack) body.stack = creation.stack;
  const doing = `creating the app ${name}`;
  if (creation.team) return client.post<App>('/teams/apps', { ...body, team: creation.team }, doing);
  return client.post<App>('/apps', body, doing);
}

/** Sets the buildpacks, in order, when they differ from the app's. Returns whether it changed them. */
export async function setBuildpacks(app: AppClient, buildpacks: string[]): Promise<boolean> {
  const doing = 'setting the buildpacks';
  const current = await app.get<Array<{ buildpack?: { url?: string; name?: string } }>>(
    app.path('buildpack-installations'),
    doing,
  );
  const same =
    current.length === buildpacks.length &&
    current.every((c, i) => c.buildpack?.name === buildpacks[i] || c.buildpack?.url === buildpacks[i]);
  if (same) return false;
  await app.put(app.path('buildpack-installations'), { updates: buildpacks.map((buildpack) => ({ buildpack })) }, doing);
  return true;
}

export async function setMaintenance(app: AppClient, on: boolean): Promise<void> {
  await app.patch<App>(app.path(), { maintenance: on }, `turning maintenance mode ${on ? 'on' : 'off'}`);
}

/** The current quantities of `types`, each of which must exist in the app's formation. */
export async function processQuantities(app: AppClient, types: string[]): Promise<Record<string, number>> {
  const formation = await app.list<Formation>(app.path('formation'), 'reading the formation');
  // Stryker disable next-line StringLiteral: every formation entry Heroku lists has its process type (it is the entry's key); the default only satisfies the type checker
  const known = new Map(formation.map((f) => [f.type ?? '', f.quantity ?? 0]));
  const missing = types.filter((t) => !known.has(t));
  if (missing.length) {
    throw new TaskError(
      'input',
      `stopProcessTypes names ${missing.join(', ')}, but ${app.name}'s formation has ${[...known.keys()].join(', ') || 'no process types yet'}: use names from its Procfile.`,
    );
  }
  return Object.fromEntries(types.map((t) => [t, known.get(t) ?? 0]));
}

/** Scales to 0 the process types that run (`quantities` as processQuantities read them). */
export async function scaleDown(app: AppClient, quantities: Record<string, number>): Promise<void> {
  const running = Object.keys(quantities).filter((t) => (quantities[t] ?? 0) > 0);
  const doing = `scaling ${Object.keys(quantities).join(', ')} to 0`;
  if (running.length) await app.patch(app.path('formation'), { updates: running.map((type) => ({ type, quantity: 0 })) }, doing);
}

/** Sets the quantities back exactly as they were. */
export async function restoreScale(app: AppClient, previous: Record<string, number>): Promise<void> {
  const updates = Object.entries(previous)
    .filter(([, quantity]) => quantity > 0)
    .map(([type, quantity]) => ({ type, quantity }));
  if (updates.length) await app.patch(app.path('formation'), { updates }, 'restoring the process types');
}

export interface ConfigChange {
  set: string[];
  removed: string[];
}

/** Applies only what differs from the app's config, in one PATCH. Values are never logged. */
export async function applyConfigVars(app: AppClient, wanted: Record<string, string | null>): Promise<ConfigChange> {
  const doing = 'setting config vars';
  const current = await app.get<Record<string, string>>(app.path('config-vars'), doing);
  const changes: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (value === null ? key in current : current[key] !== value) changes[key] = value;
  }
  if (Object.keys(changes).length) await app.patch(app.path('config-vars'), changes, doing);
  return {
    set: Object.keys(changes).filter((k) => changes[k] !== null),
    removed: Object.keys(changes).filter((k) => changes[k] === null),
  };
}
