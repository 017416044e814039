// What Heroku does when a push arrives: the pre-receive hook builds (and may refuse the push),
// the post-receive hook releases what git accepted. Both print what Heroku prints.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { appWebUrl } from '../api/present';
import { BuildFailure } from '../platform/build';
import type { Platform } from '../platform/platform';
import { newId, type Account, type App, type Build } from '../state';

const run = promisify(execFile);
const ZERO = '0000000000000000000000000000000000000000';

/** One receive-pack request: a push from the moment it arrives until git is done with it. */
export interface Push {
  id: string;
  app: App;
  account: Account;
  /** Resolves if the pusher goes away (or the push is dropped) before the push completes. */
  aborted: Promise<void>;
  cancelled: boolean;
  /**
   * The push's build, from the moment it starts: compiled by the pre-receive hook, released by the
   * post-receive hook, marked failed by releaseLock() if the push ends before its release.
   */
  build: Build | null;
  holdsLock: boolean;
}

export interface HookInput {
  hook: 'pre-receive' | 'post-receive';
  stdin: string;
  objectDirectory: string | null;
  alternates: string | null;
  quarantine: string | null;
}

type Out = (line: string) => void;

interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

function parseUpdates(stdin: string): RefUpdate[] {
  return stdin
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 3)
    .map(([oldSha, newSha, ref]) => ({ oldSha: oldSha as string, newSha: newSha as string, ref: ref as string }));
}

const DEPLOY_REFS = ['refs/heads/main', 'refs/heads/master'];

export class ReceiveHooks {
  constructor(private readonly platform: Platform) {}

  /** Git with the push's quarantined objects visible (receive-pack keeps them apart until accepted). */
  private async git(push: Push, input: HookInput, args: string[], extraEnv: Record<string, string> = {}): Promise<string> {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
    if (input.objectDirectory) env.GIT_OBJECT_DIRECTORY = input.objectDirectory;
    if (input.alternates) env.GIT_ALTERNATE_OBJECT_DIRECTORIES = input.alternates;
    if (input.quarantine) env.GIT_QUARANTINE_PATH = input.quarantine;
    const { stdout } = await run('git', [`--git-dir=${push.app.repoDir}`, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  }

  async run(push: Push, input: HookInput, out: Out): Promise<number> {
    return input.hook === 'pre-receive' ? this.preReceive(push, input, out) : this.postReceive(push, out);
  }

  private async preReceive(push: Push, input: HookInput, out: Out): Promise<number> {
    const { app } = push;
    const updates = parseUpdates(input.stdin);
    const deploy = updates.find((u) => DEPLOY_REFS.includes(u.ref) && u.newSha !== ZERO);
    if (!deploy) {
      if (updates.some((u) => !DEPLOY_REFS.includes(u.ref))) out('Pushed to branch other than [main, master], skipping build.');
      return 0;
    }

    // Heroku refuses a push whose history it cannot complete (a shallow clone): git reports
    // `shallow update not allowed` for the ref whatever the hook answers; this is Heroku's line.
    try {
      await this.git(push, input, ['rev-list', '--objects', deploy.newSha, '--not', '--all']);
    } catch {
      out(
        '!\tPush rejected, source repository is a shallow clone. Unshallow it with `git fetch --all --unshallow` and try pushing again.',
      );
      return 1;
    }

    if (this.platform.buildLocks.has(app.id)) {
      out(' !     A build is already in progress for this app.');
      out(' !     Wait for it to finish (see `heroku builds -a ' + app.name + '`), then push again.');
      out('');
      out(` !\tPush rejected to ${app.name}.`);
      out('');
      return 1;
    }
    this.platform.buildLocks.set(app.id, push.id);
    push.holdsLock = true;

    if (deploy.oldSha !== ZERO) {
      const changed = await this.git(push, input, ['diff', '--name-only', deploy.oldSha, deploy.newSha]).catch(() => '');
      out(`Updated ${changed.split('\n').filter(Boolean).length} paths from ${deploy.oldSha.slice(0, 7)}`);
    }
    out('Compressing source files... done.');
    out('Building source:');
    out('');

    const subject = (await this.git(push, input, ['log', '-1', '--format=%s', deploy.newSha])).trim();
    const build = this.platform.beginBuild(app, push.account, {
      checksum: null,
      url: `${this.platform.storageUrl}/sources/${newId()}.tgz`,
      version: deploy.newSha,
      version_description: subject,
    });
    push.build = build;
    await this.platform.faults.waitIfHeld(push.aborted);
    if (push.cancelled) return 1;
    const dir = await this.platform.newSlugDir();
    const index = path.join(this.platform.dirs.work, `index-${newId()}`);
    try {
      // The pushed tree, checked out through a throwaway index: the source the build compiles.
      await this.git(push, input, ['read-tree', deploy.newSha], { GIT_INDEX_FILE: index });
      await this.git(push, input, [`--work-tree=${dir}`, 'checkout-index', '--all', '--force'], { GIT_INDEX_FILE: index });
    } finally {
      await fs.rm(index, { force: true });
    }

    try {
      await this.platform.compileBuild(app, build, dir, out, push.aborted);
      if (push.cancelled) return 1;
    } catch (error) {
      if (!(error instanceof BuildFailure)) throw error;
      if (error.reason !== 'Push failed') out(` !     ${error.reason}`);
      out(' !     Push failed');
      out('Verifying deploy...');
      out('');
      out(`!\tPush rejected to ${app.name}.`);
      out('');
      return 1;
    }
    return 0;
  }

  private async postReceive(push: Push, out: Out): Promise<number> {
    const { app, build } = push;
    if (!build || push.cancelled) return 0;
    push.build = null;
    out('-----> Launching...');
    const started = this.platform.releaseBuild(app, build, push.account);
    const { release } = started;
    if (release.status === 'pending')
      out(' !     Release command declared: this new release will not be available until the command succeeds.');
    out(`       Released v${release.version}`);
    out(`       ${appWebUrl(app)} deployed to Heroku`);
    out('');
    out('Verifying deploy... done.');
    if (release.output) {
      out('Running release command...');
      out('');
      for await (const chunk of release.output.follow()) for (const line of chunk.replace(/\n$/, '').split('\n')) out(line);
      const settled = await started.settled;
      out(`Waiting for release.... ${settled.status === 'succeeded' ? 'done.' : 'failed.'}`);
    }
    this.releaseLock(push);
    return 0;
  }

  /** Called when the push ends, however it ended. */
  releaseLock(push: Push): void {
    if (push.holdsLock && this.platform.buildLocks.get(push.app.id) === push.id) this.platform.buildLocks.delete(push.app.id);
    push.holdsLock = false;
    if (push.build && push.build.status === 'pending') this.platform.finishBuild(push.build, 'failed');
    push.build = null;
  }
}
