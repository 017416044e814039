// Add-ons: the emulator provisions none, so an app's add-ons are an empty list, as on a fresh
// Heroku app. Heroku's CLI reads them on every `heroku apps:info`.
import type { ApiRouter } from '../router';

export function addonRoutes(api: ApiRouter): void {
  api.on('add-on', 'List By App', (req) => {
    req.app(); // 404 / 403 as for any app route
    return { body: [] };
  });
}
