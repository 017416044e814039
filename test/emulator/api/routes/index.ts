// Every Platform API route the emulator serves, by resource.
import type { HerokuSchema } from '../../heroku-schema';
import { ApiRouter } from '../router';
import { accountRoutes } from './account';
import { addonRoutes } from './addons';
import { appRoutes } from './apps';
import { buildRoutes } from './builds';
import { collaboratorRoutes } from './collaborators';
import { configVarRoutes } from './config-vars';
import { dynoRoutes } from './dynos';
import { formationRoutes } from './formation';
import { miscRoutes } from './misc';
import { pipelineRoutes } from './pipelines';
import { releaseRoutes } from './releases';
import { slugRoutes } from './slugs';

export function buildRouter(schema: HerokuSchema): ApiRouter {
  const api = new ApiRouter(schema);
  for (const register of [
    accountRoutes,
    appRoutes,
    releaseRoutes,
    slugRoutes,
    buildRoutes,
    formationRoutes,
    configVarRoutes,
    dynoRoutes,
    pipelineRoutes,
    miscRoutes,
    addonRoutes,
    collaboratorRoutes,
  ])
    register(api);
  return api;
}
