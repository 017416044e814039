// Config vars: read, and change (null deletes); each change is a new release, as on Heroku.
import { invalidParams } from '../../errors';
import { type ApiRouter } from '../router';

export function configVarRoutes(api: ApiRouter): void {
  api.on('config-var', 'Info for App', (req) => ({ body: { ...req.app().configVars } }));
  api.on('config-var', 'Info for App Release', (req, ctx) => {
    const app = req.app();
    return { body: { ...ctx.state.findRelease(app, req.params.release ?? '').config } };
  });
  api.on('config-var', 'Update', (req, ctx) => {
    const app = req.app();
    const changes = req.body as Record<string, string | null>;
    if (Object.keys(changes).length === 0) throw invalidParams('No config vars to set.');
    ctx.platform.setConfigVars(app, req.account, changes);
    return { body: { ...app.configVars } };
  });
}
