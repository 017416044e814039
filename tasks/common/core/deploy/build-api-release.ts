// The Build API release strategy (deployMethod: build): a folder of the checkout packed as a tarball
// (source-package.ts), uploaded to a source blob's pre-signed URL, built with POST /apps/{app}/builds,
// its output followed live (resumed with Range when the stream drops), then the same proof as a push:
// the build's release, its release phase followed, the commit it runs equal to the deployed SHA.
// No git history is needed, and Heroku's git repository of the app is left as it is.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { sleep as realSleep, type Sleep } from '../base/async';
import { TaskError, cancelled, errorMessage } from '../base/errors';
import { short } from '../base/format';
import type { TaskLog } from '../base/log';
import { buildInProgress } from '../git/push';
import type { Build, Release, SourceUrls } from '../heroku/api';
import { UNDO_DEADLINES, type AppClient } from '../heroku/client';
import { readRelease, releaseSnapshot, settleRelease } from '../heroku/releases';
import type { ReleaseStrategy } from '../workflow/safe-release';
import { verifyRelease, type Pushed } from './git-push-release';
import { checkAppDirectory, packSource, type PackageFrom, type SourcePackage, type SourceSpec } from './source-package';

export interface BuildSource {
  appDirectory: string;
  packageFrom: PackageFrom;
}

export interface BuildTarget {
  app: AppClient;
  sha: string;
  subject: string;
  source: BuildSource;
  /** The uploaded tarball: where Heroku reads it, and its SHA-256. */
  getUrl: string;
  sha256: string;
  log: TaskLog;
  signal?: AbortSignal;
  /** How long a build may run (Heroku stops builds after an hour), and the polls' interval. */
  timeoutMs?: number;
  pollMs?: number;
  sleep?: Sleep;
}

/** The folder and how it is packed, as the log and summary say it: `services/api (files of the commit)`. */
export function describeSource(source: BuildSource): string {
  const how = source.packageFrom === 'commit' ? 'files of the commit' : 'folder on disk';
  return `${source.appDirectory || 'checkout root'} (${how})`;
}

/** A packed source in its temp folder, deleted by `discard` on every exit path. */
export interface PackedSource extends SourcePackage {
  discard(): Promise<void>;
}

/**
 * Checks appDirectory and packs it (before anything changes on Heroku). The temp folder is removed
 * if packing fails; otherwise the caller calls `discard`.
 */
export async function prepareSource(spec: SourceSpec, log: TaskLog, tempRoot = os.tmpdir()): Promise<PackedSource> {
  const { warning } = await checkAppDirectory(spec);
  if (warning) log.warn(warning);
  const dir = await fs.mkdtemp(path.join(tempRoot, 'heroku-source-'));
  const discard = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  try {
    const packed = await packSource(spec, path.join(dir, 'source.tar.gz'));
    const source = describeSource(spec);
    log.info(
      `Packed ${source}: ${packed.files} files, ${formatBytes(packed.bytes)} gzipped (SHA-256 ${packed.sha256.slice(0, 12)}...).`,
    );
    return { ...packed, discard };
  } catch (error) {
    await discard();
    throw error;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/** POST /sources, then the tarball PUT to its put_url: returns the get_url a build reads. */
export async function uploadSource(app: AppClient, packed: SourcePackage, signal?: AbortSignal): Promise<string> {
  const urls = await app.post<SourceUrls>('/sources', {}, 'creating a source URL for the upload', true);
  const putUrl = urls.source_blob?.put_url;
  const getUrl = urls.source_blob?.get_url;
  if (!putUrl || !getUrl) {
    throw new TaskError(
      'api',
      "Heroku's POST /sources answered without put_url and get_url: re-run the job, and check https://status.heroku.com.",
    );
  }
  await app.uploadFile(putUrl, packed.file, packed.bytes, 'uploading the source tarball to its storage URL', signal);
  return getUrl;
}

export function buildApiRelease(target: BuildTarget): ReleaseStrategy<Pushed> {
  return {
    title: `Build ${short(target.sha)} from ${target.source.appDirectory || 'the checkout root'}`,
    release: () => buildAndRelease(target),
    describe: (p) => `built and released v${p.release.version}`,
  };
}

async function buildAndRelease(target: BuildTarget): Promise<Pushed> {
  const { app, sha, log } = target;
  // The release live before: what stays live if the build or its release phase fails.
  const before = await releaseSnapshot(app);
  const body = {
    source_blob: { url: target.getUrl, version: sha, checksum: `SHA256:${target.sha256}`, version_description: target.subject },
  };
  const build = await app.postUnlessConflict<Build>(app.path('builds'), body, `starting a build of ${short(sha)}`, (message) =>
    buildInProgress('Heroku refused the build', app.name, [message]),
  );
  if (!build.id)
    throw new TaskError('api', `Heroku started a build of ${app.name} without an id: check \`heroku builds -a ${app.name}\`.`);
  let done: Build;
  try {
    const lastLines = await log.group(`Heroku build of ${short(sha)}: ${describeSource(target.source)}`, () =>
      followBuildOutput(target, build),
    );
    done = await waitForBuild(target, build);
    if (done.status === 'failed') {
      const quoted = failureLines(lastLines);
      throw new TaskError(
        'build',
        `Heroku's build of ${short(sha)} failed, so nothing was released and ${app.name} still runs its previous release. Its last lines: ${quoted.map((l) => l.trim()).join(' / ') || '(none)'}. Fix the build (its full output is above), then run the pipeline again.`,
        quoted,
      );
    }
  } catch (error) {
    if (target.signal?.aborted) await cancelBuild(target, build);
    throw error;
  }
  const release = await releaseOf(target, done);
  const settled = await settleRelease(app, release, { log, signal: target.signal });
  await verifyRelease(target, settled, { previous: before.current, previousCommit: null, build: done });
  return { outcome: 'released', release: settled, commit: sha, previous: before.current, previousCommit: null };
}

/**
 * Prints the build's output live, line by line. A dropped stream is resumed from the last byte read
 * (`Range`), so no line is printed twice. Returns the last lines, for a failure's message.
 */
async function followBuildOutput(target: BuildTarget, build: Build): Promise<string[]> {
  const { app, log, signal } = target;
  const url = build.output_stream_url;
  const last: string[] = [];
  if (!url) return last;
  const emit = (line: string): void => {
    log.info(line);
    last.push(line);
    if (last.length > 40) last.shift();
  };
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let offset = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      const stream = await app.openStream(url, offset, signal);
      if (!stream.done) {
        for await (const chunk of stream.body) {
          offset += chunk.length;
          const lines = (partial + decoder.write(chunk)).split(/\r?\n/);
          // Stryker disable next-line StringLiteral: split() always gives at least one element, so pop() is never undefined
          partial = lines.pop() ?? '';
          lines.forEach(emit);
        }
      }
      break;
    } catch (error) {
      if (signal?.aborted) throw cancelled(`Heroku was building ${short(target.sha)}`);
      if (attempt >= 5) {
        log.warn(
          `The build's output stream dropped ${attempt + 1} times (${errorMessage(error)}): following the build without its output.`,
        );
        break;
      }
      log.debug(`the build's output stream dropped after ${offset} bytes (${errorMessage(error)}): resuming from there`);
      await (target.sleep ?? realSleep)(500 * (attempt + 1), signal);
    }
  }
  partial += decoder.end();
  if (partial) emit(partial);
  return last;
}

/**
 * What a failed build's message quotes: its last error lines (` !     Push failed`, `npm ERR!`,
 * `ERROR: ...`), not the sign-off after them; its last lines when none says error.
 */
export function failureLines(lines: string[]): string[] {
  const said = lines.filter((line) => line.trim());
  const errors = said.filter((line) => /^\s*!|\berr(or)?\b|ERR!|failed/i.test(line));
  return (errors.length ? errors : said).slice(-5);
}

/** Polls the build until it is no longer pending. */
async function waitForBuild(target: BuildTarget, build: Build): Promise<Build> {
  const { app, signal } = target;
  const deadline = Date.now() + (target.timeoutMs ?? 60 * 60_000);
  const sleep = target.sleep ?? realSleep;
  for (;;) {
    const current = await app.get<Build>(app.path('builds', build.id), `reading the build of ${short(target.sha)}`);
    if (current.status !== 'pending') return current;
    if (Date.now() > deadline) {
      throw new TaskError(
        'build',
        `Heroku's build of ${short(target.sha)} was still running after ${Math.round((target.timeoutMs ?? 3_600_000) / 60_000)} minutes. Check it with \`heroku builds:info ${build.id} -a ${app.name}\`; the previous release stays live.`,
      );
    }
    await sleep(target.pollMs ?? 2000, signal);
  }
}

/** The release a succeeded build made (Heroku may list it a moment after the build ends). */
async function releaseOf(target: BuildTarget, build: Build): Promise<Release> {
  const { app } = target;
  const sleep = target.sleep ?? realSleep;
  let current = build;
  for (let attempt = 0; !current.release?.id && attempt < 10; attempt++) {
    await sleep(1000, target.signal);
    current = await app.get<Build>(app.path('builds', build.id), `reading the build of ${short(target.sha)}`);
  }
  const id = current.release?.id;
  if (!id) {
    throw new TaskError(
      'verification',
      `Heroku's build of ${short(target.sha)} succeeded but made no release. Check \`heroku builds:info ${build.id} -a ${app.name}\` and \`heroku releases -a ${app.name}\`, then run the pipeline again.`,
    );
  }
  return readRelease(app, id, `reading the release of the build of ${short(target.sha)}`);
}

/** Cancel: the build in progress is cancelled on Heroku (within the undo deadlines, after the cancel). */
async function cancelBuild(target: BuildTarget, build: Build): Promise<void> {
  const { app, log } = target;
  const undo = app.withDeadlines(UNDO_DEADLINES);
  try {
    await undo.delete(app.path('builds', build.id), `cancelling the build of ${short(target.sha)}`);
    log.info(`Cancelled Heroku's build of ${short(target.sha)} (${build.id}): nothing of it is released.`);
  } catch (error) {
    log.warn(
      `Could not cancel Heroku's build ${build.id} (${errorMessage(error)}): it may still release ${short(target.sha)}. Check \`heroku builds:info ${build.id} -a ${app.name}\`.`,
    );
  }
}
