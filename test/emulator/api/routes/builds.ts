// Builds API: build from a source tarball URL (e.g. a /sources put_url), follow its output, release it.
import { HerokuError, notFound } from '../../errors';
import { BuildFailure } from '../../platform/build';
import { newId, timestamp, type Account, type App, type Build } from '../../state';
import { presentBuild } from '../present';
import { type ApiContext, type ApiRouter } from '../router';

async function fetchSource(url: string): Promise<Buffer> {
  const parsed = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname))
    throw new Error(`the emulator only fetches sources from loopback, not ${parsed.hostname}`);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

async function runBuild(ctx: ApiContext, app: App, build: Build, user: Account): Promise<void> {
  const out = (): void => undefined; // the output goes to the build's stream
  try {
    const tarball = await fetchSource(build.sourceBlob.url);
    const dir = await ctx.platform.newSlugDir();
    await ctx.platform.unpackSource(tarball, dir);
    await ctx.platform.compileBuild(app, build, dir, out, new Promise(() => undefined));
    ctx.platform.releaseBuild(app, build, user);
  } catch (error) {
    const reason = error instanceof BuildFailure ? error.reason : error instanceof Error ? error.message : String(error);
    build.output.write(` !     ${reason}\n`);
    ctx.platform.finishBuild(build, 'failed');
  } finally {
    if (ctx.platform.buildLocks.get(app.id) === build.id) ctx.platform.buildLocks.delete(app.id);
  }
}

export function buildRoutes(api: ApiRouter): void {
  api.on('build', 'Create', (req, ctx) => {
    const app = req.app();
    if (ctx.platform.buildLocks.has(app.id))
      throw new HerokuError(
        409,
        'conflict',
        'A build is already in progress for this app. Wait for it to finish, then try again.',
      );
    const blob = req.body.source_blob as {
      url: string;
      version?: string | null;
      checksum?: string | null;
      version_description?: string | null;
    };
    if (Array.isArray(req.body.buildpacks)) {
      app.buildpacks = (req.body.buildpacks as Array<{ url?: string; name?: string }>).map((b) => ({
        url: b.url ?? b.name ?? '',
        name: b.name ?? b.url ?? '',
      }));
    }
    const build = ctx.platform.beginBuild(app, req.account, {
      checksum: blob.checksum ?? null,
      url: blob.url,
      version: blob.version ?? null,
      version_description: blob.version_description ?? null,
    });
    ctx.platform.buildLocks.set(app.id, build.id);
    void runBuild(ctx, app, build, req.account);
    return { status: 201, body: presentBuild(ctx.present, build) };
  });
  api.on('build', 'Info', (req, ctx) => {
    const app = req.app();
    const build = app.builds.find((b) => b.id === req.params.build);
    if (!build) throw notFound('build', "Couldn't find that build.");
    return { body: presentBuild(ctx.present, build) };
  });
  api.on('build', 'List', (req, ctx) => ({ body: req.app().builds.map((b) => presentBuild(ctx.present, b)) }), {
    range: ['id', 'created_at'],
  });

  const createSource = (_req: unknown, ctx: ApiContext) => {
    const id = newId();
    ctx.state.sources.set(id, { id, data: null, createdAt: timestamp() });
    const url = `${ctx.present.storageUrl}/sources/${id}`;
    return { status: 201, body: { source_blob: { get_url: url, put_url: url } } };
  };
  api.on('source', 'Create', createSource);
  api.on('source', 'Create - Deprecated', (req, ctx) => {
    req.app();
    return createSource(req, ctx);
  });
}
