// What the in-process deploy tests share: a folder of bare repositories standing in for Heroku's git
// host, and a recorded Platform API for my-app whose builds follow its releases.
import assert from 'node:assert/strict';
import path from 'node:path';
import sinon from 'sinon';
import { DIRECT } from '../../tasks/common/core/base/network';
import type { DeployProgress, DeployRequest, DeployResult } from '../../tasks/common/core/deploy/types';
import type { HerokuApi, Release } from '../../tasks/common/core/heroku/api';
import { HerokuClient } from '../../tasks/common/core/heroku/client';
import type { Outcome } from '../../tasks/common/core/workflow/report';
import { NO_SAFEGUARDS } from '../../tasks/common/core/workflow/safeguards';
import { gitEnv, runCommand, tempDir } from './git';
import { RecordingApi, type Route } from './recording-api';

/** A folder of bare repositories, `<app>.git`, as Heroku's git host; its file:// URL. */
export async function gitHost(app: string): Promise<string> {
  const dir = await tempDir('git-host-');
  const made = await runCommand('git', ['init', '--quiet', '--bare', path.join(dir, `${app}.git`)], { cwd: dir, env: gitEnv() });
  assert.equal(made.code, 0, made.stderr);
  return `file://${dir}`;
}

export const release = (version: number, more: Partial<Release> = {}): Release => ({
  id: `rel-${version}`,
  version,
  status: 'succeeded',
  slug: { id: `slug-${version}` },
  description: '',
  ...more,
});

/** my-app, whose releases are `releases()` (newest first) and whose slugs run `commits`. */
export function heroku(releases: () => Release[], commits: Record<string, string>, more: Route = () => undefined): RecordingApi {
  return new RecordingApi((method, p, body) => {
    const answer = more(method, p, body);
    if (answer !== undefined) return answer;
    if (method === 'GET' && p === '/account') return { email: 'dev@example.com' };
    if (method === 'GET' && p === '/apps/my-app')
      return { id: 'app-1', name: 'my-app', web_url: 'https://my-app.herokuapp.com/', maintenance: false };
    if (method === 'GET' && p === '/apps/my-app/releases') return releases();
    // A build per release of code, newest first: its commit and the release it made.
    if (method === 'GET' && p === '/apps/my-app/builds')
      return releases()
        .filter((r) => r.slug?.id && commits[r.slug.id])
        .map((r) => ({
          id: `build-${r.version}`,
          status: 'succeeded',
          source_blob: { version: commits[r.slug!.id!] },
          release: { id: r.id },
        }));
    const slug = /^\/apps\/my-app\/slugs\/(.+)$/.exec(p)?.[1];
    if (method === 'GET' && slug) return { id: slug, commit: commits[slug] ?? null };
    return new Error(`no route for ${method} ${p}`);
  });
}

/** A plain deploy request of the checkout `dir` to my-app on the git host `gitUrl`. */
export function deployRequest(dir: string, gitUrl: string, more: Partial<DeployRequest> = {}): DeployRequest {
  return {
    apiKey: 'KEY',
    api: { url: 'https://api.heroku.example', isDefault: false, source: 'test' },
    git: { url: gitUrl, isDefault: false, source: 'test' },
    appName: 'my-app',
    ref: 'HEAD',
    force: false,
    workingDirectory: dir,
    sourceBranch: 'refs/heads/feature/x',
    originAccess: null,
    network: DIRECT,
    safeguards: NO_SAFEGUARDS,
    ...more,
  };
}

/** Makes every client the deploy connects talk to `api()` (call in beforeEach; sinon.restore() undoes it). */
export function connectTo(api: () => RecordingApi): void {
  const connect = HerokuClient.connect.bind(HerokuClient);
  sinon.stub(HerokuClient, 'connect').callsFake((options) => connect(options, api() as unknown as HerokuApi));
}

/**
 * Asserts that the deploy failed in the release phase of v`version`, its message saying what stays
 * live (`kept`: "Heroku kept v4 live", "no release is live") and that `sha` is not serving traffic.
 */
export function assertReleasePhaseFailed(
  outcome: Outcome<DeployResult, DeployProgress>,
  version: number,
  kept: string,
  sha: string,
): void {
  assert.ok(!outcome.ok, `the release phase of v${version} failed the deploy`);
  assert.equal(outcome.failure.kind, 'release-phase');
  const expected = `The release phase of v${version} failed: its release command exited non-zero, so ${kept} and ${sha.slice(0, 8)} is not serving traffic.`;
  assert.ok(outcome.failure.message.startsWith(expected), `${outcome.failure.message}\ndoes not start with\n${expected}`);
}
