// The emulator's records as the Platform API shows them: every property the schema lists,
// null where unset, as Heroku returns them.
import type { Dyno } from '../platform/dynos';
import { appHost } from '../platform/router';
import {
  GENERATION_IDS,
  REGION_IDS,
  STACK_IDS,
  type Account,
  type App,
  type Build,
  type Coupling,
  type FormationEntry,
  type HerokuState,
  type LogSession,
  type OciImage,
  type Pipeline,
  type Promotion,
  type PromotionTarget,
  type Release,
  type Slug,
  type Team,
} from '../state';

type Body = Record<string, unknown>;

export interface PresentContext {
  state: HerokuState;
  /** Base URL of the emulator's storage server (streams, blobs, log sessions). */
  storageUrl: string;
}

/** Heroku's web_url: `http://<app>-<12 hex>.herokuapp.com/`, reached through the emulator's proxy. */
export function appWebUrl(app: App): string {
  return `http://${appHost(app)}/`;
}

const stackRef = (name: string): Body => ({ id: STACK_IDS[name] ?? STACK_IDS['heroku-24'], name });
const timeOrNull = (value: string | null): string | null => value;

export function presentAccount(account: Account): Body {
  return {
    allow_tracking: true,
    beta: false,
    created_at: account.createdAt,
    email: account.email,
    federated: false,
    id: account.id,
    identity_provider: null,
    last_login: account.createdAt,
    name: account.name,
    sms_number: null,
    suspended_at: null,
    delinquent_at: null,
    two_factor_authentication: true,
    updated_at: account.updatedAt,
    verified: true,
    country_of_residence: null,
    default_organization: null,
    default_team: null,
  };
}

export function presentApp(ctx: PresentContext, app: App): Body {
  const owner = ctx.state.accounts.get(app.ownerId);
  const team = app.teamId ? ctx.state.teams.get(app.teamId) : undefined;
  const current = ctx.state.currentRelease(app);
  const slug = current?.slugId ? ctx.state.slugs.get(current.slugId) : undefined;
  const teamRef = team ? { id: team.id, name: team.name } : null;
  return {
    acm: false,
    archived_at: null,
    buildpack_provided_description: slug?.buildpackDescription ?? null,
    build_stack: stackRef(app.buildStack),
    created_at: app.createdAt,
    generation: { id: GENERATION_IDS[app.generation], name: app.generation },
    git_url: `https://git.heroku.com/${app.name}.git`,
    id: app.id,
    internal_routing: null,
    maintenance: app.maintenance,
    name: app.name,
    owner: { email: owner?.email ?? '', id: app.ownerId },
    organization: teamRef,
    team: teamRef,
    region: { id: REGION_IDS[app.region], name: app.region },
    released_at: timeOrNull(app.releasedAt),
    repo_size: null,
    slug_size: slug?.size ?? null,
    space: null,
    stack: stackRef(app.stack),
    updated_at: app.updatedAt,
    web_url: appWebUrl(app),
  };
}

/** The team-app shape (`/teams/apps`, `/filters/apps`). */
export function presentTeamApp(ctx: PresentContext, app: App): Body {
  const base = presentApp(ctx, app);
  const team = app.teamId ? ctx.state.teams.get(app.teamId) : undefined;
  return {
    archived_at: base.archived_at,
    buildpack_provided_description: base.buildpack_provided_description,
    build_stack: base.build_stack,
    created_at: base.created_at,
    git_url: base.git_url,
    id: base.id,
    internal_routing: base.internal_routing,
    joined: false,
    locked: false,
    maintenance: base.maintenance,
    name: base.name,
    team: team ? { name: team.name } : null,
    owner: base.owner,
    region: base.region,
    released_at: base.released_at,
    repo_size: base.repo_size,
    slug_size: base.slug_size,
    space: null,
    stack: base.stack,
    updated_at: base.updated_at,
    web_url: base.web_url,
    generation: base.generation,
  };
}

export function presentRelease(ctx: PresentContext, app: App, release: Release): Body {
  const user = ctx.state.accounts.get(release.userId);
  const artifacts = release.slugId
    ? [{ type: 'slug', id: release.slugId }]
    : release.ociImageId
      ? [{ type: 'oci-image', id: release.ociImageId }]
      : [];
  return {
    addon_plan_names: [],
    artifacts,
    app: { name: app.name, id: app.id },
    created_at: release.createdAt,
    description: release.description,
    id: release.id,
    updated_at: release.updatedAt,
    slug: release.slugId ? { id: release.slugId } : null,
    status: release.status,
    user: { id: release.userId, email: user?.email ?? '' },
    version: release.version,
    current: ctx.state.isCurrent(app, release),
    output_stream_url: release.output ? `${ctx.storageUrl}/streams/releases/${release.id}` : null,
    eligible_for_rollback: (release.slugId !== null || release.ociImageId !== null) && release.status !== 'expired',
  };
}

export function presentSlug(ctx: PresentContext, slug: Slug): Body {
  return {
    blob: { method: 'get', url: `${ctx.storageUrl}/slugs/${slug.id}.tgz` },
    buildpack_provided_description: slug.buildpackDescription,
    checksum: slug.checksum,
    commit: slug.commit,
    commit_description: slug.commitDescription,
    created_at: slug.createdAt,
    id: slug.id,
    process_types: slug.processTypes,
    size: slug.size,
    stack: stackRef(slug.stack),
    updated_at: slug.createdAt,
    deleted_at: null,
  };
}

export function presentOciImage(image: OciImage): Body {
  return {
    id: image.id,
    base_image_name: 'heroku/heroku:24-cnb',
    base_top_layer: `sha256:${image.digest.slice(7, 71)}`,
    commit: image.commit,
    commit_description: image.commitDescription ?? '',
    image_repo: 'd7ba1ace-b396-4691-968c-37ae53153426/builds',
    digest: image.digest,
    stack: { id: STACK_IDS[image.stack] ?? STACK_IDS['heroku-24'], name: 'cnb' },
    process_types: image.processTypes,
    buildpacks: [{ id: 'heroku/nodejs', version: '3.4.0', homepage: 'https://github.com/heroku/buildpacks-nodejs' }],
    created_at: image.createdAt,
    updated_at: image.createdAt,
    architecture: 'amd64',
    deleted_at: null,
  };
}

export function presentBuild(ctx: PresentContext, build: Build): Body {
  const user = ctx.state.accounts.get(build.userId);
  return {
    app: { id: build.appId },
    buildpacks: build.buildpacks,
    created_at: build.createdAt,
    generation: build.generation,
    id: build.id,
    output_stream_url: `${ctx.storageUrl}/streams/builds/${build.id}`,
    source_blob: build.sourceBlob,
    release: build.releaseId ? { id: build.releaseId } : null,
    slug: build.slugId ? { id: build.slugId } : null,
    stack: build.stack,
    status: build.status,
    updated_at: build.updatedAt,
    user: { id: build.userId, email: user?.email ?? '' },
  };
}

export function presentFormation(app: App, entry: FormationEntry): Body {
  return {
    app: { name: app.name, id: app.id },
    command: entry.command,
    created_at: entry.createdAt,
    dyno_size: { id: '5f1a8f2b-0000-4000-8000-00000000000b', name: entry.size },
    id: entry.id,
    quantity: entry.quantity,
    size: entry.size,
    type: entry.type,
    updated_at: entry.updatedAt,
  };
}

export function presentDyno(app: App, dyno: Dyno): Body {
  return {
    attach_url: dyno.attachUrl ?? null,
    command: dyno.command,
    created_at: dyno.createdAt,
    id: dyno.id,
    name: dyno.name,
    release: { id: dyno.release.id, version: dyno.release.version },
    app: { name: app.name, id: app.id },
    size: dyno.size,
    state: dyno.state,
    type: dyno.type,
    updated_at: dyno.updatedAt,
  };
}

export function presentPipeline(pipeline: Pipeline): Body {
  return {
    created_at: pipeline.createdAt,
    id: pipeline.id,
    name: pipeline.name,
    owner: pipeline.owner,
    updated_at: pipeline.updatedAt,
    generation: { id: GENERATION_IDS[pipeline.generation], name: pipeline.generation },
  };
}

export function presentCoupling(ctx: PresentContext, coupling: Coupling): Body {
  const pipeline = ctx.state.pipelines.get(coupling.pipelineId);
  return {
    app: { id: coupling.appId },
    created_at: coupling.createdAt,
    id: coupling.id,
    // The schema lists only the id, but Heroku also sends the pipeline's name: its CLI prints
    // `coupling.pipeline.name` (pipelines:promote "Fetching apps from <name>", apps:info "Pipeline:").
    pipeline: pipeline ? { id: pipeline.id, name: pipeline.name } : { id: coupling.pipelineId },
    stage: coupling.stage,
    updated_at: coupling.updatedAt,
  };
}

export function presentPromotion(promotion: Promotion): Body {
  return {
    created_at: promotion.createdAt,
    id: promotion.id,
    pipeline: { id: promotion.pipelineId },
    source: { app: { id: promotion.sourceAppId }, release: { id: promotion.sourceReleaseId } },
    status: promotion.status,
    updated_at: promotion.updatedAt,
  };
}

export function presentPromotionTarget(promotion: Promotion, target: PromotionTarget): Body {
  return {
    app: { id: target.appId },
    error_message: target.errorMessage,
    id: target.id,
    pipeline_promotion: { id: promotion.id },
    release: target.releaseId ? { id: target.releaseId } : null,
    status: target.status,
  };
}

export function presentLogSession(ctx: PresentContext, session: LogSession): Body {
  return {
    created_at: session.createdAt,
    id: session.id,
    logplex_url: `${ctx.storageUrl}/sessions/${session.id}?srv=${Math.floor(Date.now() / 1000)}`,
    updated_at: session.createdAt,
  };
}

export function presentTeam(team: Team, accountId: string): Body {
  return {
    id: team.id,
    created_at: team.createdAt,
    credit_card_collections: false,
    default: false,
    enterprise_account: null,
    identity_provider: null,
    membership_limit: null,
    name: team.name,
    provisioned_licenses: false,
    role: team.members.has(accountId) ? 'admin' : null,
    type: 'team',
    updated_at: team.createdAt,
  };
}
