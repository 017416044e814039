// Builds API: build from a source tarball URL (e.g. a /sources get_url), follow its output, release it.
// As strict as Heroku where a deploy relies on it: the tarball must be gzip, match its checksum and
// hold a detectable app; one build at a time per app (409); a build in progress can be cancelled.
import { createHash, randomBytes } from 'node:crypto';
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

async function runBuild(ctx: ApiContext, app: App, build: Build, user: Account, aborted: Promise<void>): Promise<void> {
  const out = (): void => undefined; // the output goes to the build's stream
  let cancelled = false;
  void aborted.then(() => (cancelled = true));
  try {
    await ctx.platform.faults.waitIfHeld(aborted);
    if (cancelled) throw new BuildFailure('Build cancelled');
    const tarball = await fetchSource(build.sourceBlob.url);
    if (tarball[0] !== 0x1f || tarball[1] !== 0x8b)
      throw new BuildFailure('The source is not a gzipped tarball (source_blob.url must point to a .tar.gz)');
    const checksum = build.sourceBlob.checksum;
    if (checksum) {
      const actual = `SHA256:${createHash('sha256').update(tarball).digest('hex')}`;
      if (checksum.toLowerCase() !== actual.toLowerCase())
        throw new BuildFailure(`Checksum of the source (${actual}) does not match source_blob.checksum (${checksum})`);
    }
    const dir = await ctx.platform.newSlugDir();
    await ctx.platform.unpackSource(tarball, dir);
    await ctx.platform.compileBuild(app, build, dir, out, aborted);
    if (cancelled) throw new BuildFailure('Build cancelled');
    ctx.platform.releaseBuild(app, build, user);
  } catch (error) {
    const reason = error instanceof BuildFailure ? error.reason : error instanceof Error ? error.message : String(error);
    if (!build.output.done) build.output.write(` !     ${reason}\n`);
    ctx.platform.finishBuild(build, 'failed');
  } finally {
    ctx.platform.buildCancels.delete(build.id);
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
    let cancel!: () => void;
    const aborted = new Promise<void>((resolve) => (cancel = resolve));
    ctx.platform.buildCancels.set(build.id, cancel);
    void runBuild(ctx, app, build, req.account, aborted);
    return { status: 201, body: presentBuild(ctx.present, build) };
  });
  api.on('build', 'Info', (req, ctx) => {
    const app = req.app();
    const build = app.builds.find((b) => b.id === req.params.build);
    if (!build) throw notFound('build', "Couldn't find that build.");
    return { body: presentBuild(ctx.present, build) };
  });
  api.on('build', 'Cancel', (req, ctx) => {
    const app = req.app();
    const build = app.builds.find((b) => b.id === req.params.build);
    if (!build) throw notFound('build', "Couldn't find that build.");
    if (build.status !== 'pending') throw new HerokuError(422, 'invalid_params', 'Build is not in progress.');
    ctx.platform.buildCancels.get(build.id)?.();
    return { body: presentBuild(ctx.present, build) };
  });
  api.on('build', 'List', (req, ctx) => ({ body: req.app().builds.map((b) => presentBuild(ctx.present, b)) }), {
    range: ['id', 'created_at'],
  });

  // Two pre-signed URLs, as Heroku's S3 ones: distinct signatures for PUT and GET, expiring together.
  const createSource = (_req: unknown, ctx: ApiContext) => {
    const id = newId();
    const blob = {
      id,
      data: null,
      createdAt: timestamp(),
      putSignature: randomBytes(16).toString('hex'),
      getSignature: randomBytes(16).toString('hex'),
      expiresAt: Date.now() + ctx.platform.sourceUrlTtlMs,
    };
    ctx.state.sources.set(id, blob);
    const base = `${ctx.present.storageUrl}/sources/${id}?X-Amz-Expires=${Math.round(ctx.platform.sourceUrlTtlMs / 1000)}`;
    return {
      status: 201,
      body: {
        source_blob: {
          get_url: `${base}&X-Amz-Signature=${blob.getSignature}`,
          put_url: `${base}&X-Amz-Signature=${blob.putSignature}`,
        },
      },
    };
  };
  api.on('source', 'Create', createSource);
  api.on('source', 'Create - Deprecated', (req, ctx) => {
    req.app();
    return createSource(req, ctx);
  });
}
