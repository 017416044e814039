// Formation: process types and their quantities; scaling starts and stops dynos.
import { invalidParams, notFound } from '../../errors';
import type { App, FormationEntry } from '../../state';
import { timestamp } from '../../state';
import type { Platform } from '../../platform/platform';
import { presentFormation } from '../present';
import { type ApiRouter } from '../router';

function entryOf(app: App, identity: string): FormationEntry {
  const entry = app.formation.get(identity) ?? [...app.formation.values()].find((f) => f.id === identity);
  if (!entry) throw notFound('formation', `Couldn't find that process type (${identity}).`);
  return entry;
}

function update(app: App, entry: FormationEntry, change: { quantity?: unknown; dyno_size?: unknown; size?: unknown }): void {
  if (change.quantity !== undefined) {
    const quantity = Number(change.quantity);
    if (!Number.isInteger(quantity) || quantity < 0) throw invalidParams('Quantity must be a non-negative integer.');
    entry.quantity = quantity;
  }
  const size =
    typeof change.dyno_size === 'object' && change.dyno_size !== null
      ? (change.dyno_size as { name?: string }).name
      : typeof change.size === 'string'
        ? change.size
        : undefined;
  if (size) entry.size = size;
  entry.updatedAt = timestamp();
}

async function scaled(platform: Platform, app: App): Promise<void> {
  await platform.runtime(app).dynos.apply();
}

export function formationRoutes(api: ApiRouter): void {
  api.on(
    'formation',
    'List',
    (req) => {
      const app = req.app();
      return { body: [...app.formation.values()].map((f) => presentFormation(app, f)) };
    },
    { range: ['id', 'type'] },
  );
  api.on('formation', 'Info', (req) => {
    const app = req.app();
    return { body: presentFormation(app, entryOf(app, req.params.formation ?? '')) };
  });
  api.on('formation', 'Batch Update', async (req, ctx) => {
    const app = req.app();
    const updates = req.body.updates as Array<{ type: string; quantity?: unknown; dyno_size?: unknown; size?: unknown }>;
    const entries = updates.map((u) => entryOf(app, u.type)); // all or nothing: resolve first
    updates.forEach((u, i) => update(app, entries[i] as FormationEntry, u));
    await scaled(ctx.platform, app);
    return { body: entries.map((e) => presentFormation(app, e)) };
  });
  api.on('formation', 'Update', async (req, ctx) => {
    const app = req.app();
    const entry = entryOf(app, req.params.formation ?? '');
    update(app, entry, req.body);
    await scaled(ctx.platform, app);
    return { body: presentFormation(app, entry) };
  });
}
