// HerokuPromote@1's entry in-process, on an in-memory agent: inputs -> request, and every target's
// result -> outputs, line and summary, for success and failure alike.
import assert from 'node:assert/strict';
import path from 'node:path';
import os from 'node:os';
import { TaskError } from '../../tasks/common/core/base/errors';
import type { PromoteProgress, PromoteRequest, PromoteResult, TargetResult } from '../../tasks/common/core/promote/types';
import type { Outcome } from '../../tasks/common/core/workflow/report';
import { runTask } from '../../tasks/common/pipeline/run-task';
import { promoteTask } from '../../tasks/HerokuPromoteV1/promote-task';
import { promoteReport } from '../../tasks/common/core/promote/report';
import { FakeHost, type FakeAgent } from '../support/fake-host';

const sha = 'abcdef12'.padEnd(40, '3');
const release = (version: number, commit: string | null = sha) => ({
  id: `rel-${version}`,
  version,
  status: 'succeeded',
  commit,
});

function target(app: string, more: Partial<TargetResult> = {}): TargetResult {
  const made = release(17);
  return {
    app,
    appUrl: `https://${app}.herokuapp.com/`,
    stage: 'production',
    outcome: 'promoted',
    before: release(16, 'c'.repeat(40)),
    release: made,
    live: made,
    healthCheckStatus: null,
    diff: null,
    failure: null,
    ...more,
  };
}

function result(targets: TargetResult[]): PromoteResult {
  return {
    source: { app: 'my-app-staging', appUrl: 'https://my-app-staging.herokuapp.com/', stage: 'staging', release: release(12) },
    pipeline: { id: 'pipe-1', name: 'my-pipeline' },
    promotionId: 'promo-1',
    commit: sha,
    targets,
    account: 'dev@example.com',
    durationMs: 9000,
    steps: [],
  };
}

async function runWith(agent: FakeAgent, outcome: Outcome<PromoteResult, PromoteProgress>): Promise<FakeHost> {
  const host = new FakeHost(agent);
  await runTask(host, { ...promoteTask, run: (_request: PromoteRequest) => Promise.resolve(outcome) });
  return host;
}

const agent: FakeAgent = { inputs: { sourceApp: 'my-app-staging', apiKey: 'KEY' } };

describe('HerokuPromote@1 entry (in-process)', () => {
  it('turns the inputs into the promotion request', () => {
    const missing = path.join(os.tmpdir(), 'no-checkout-here');
    const host = new FakeHost({
      inputs: {
        sourceApp: 'my-app-staging',
        targetApps: 'my-app, my-app-eu\nmy-app',
        expectedCommit: 'ABCDEF1',
        healthCheckUrl: '/health',
        workingDirectory: missing,
        apiKey: 'KEY',
      },
    });
    const request = promoteTask.read(host, promoteTask.subject(host));
    assert.equal(request.sourceApp, 'my-app-staging');
    assert.deepEqual(request.targetApps, ['my-app', 'my-app-eu'], 'without repeats');
    assert.equal(request.expectedCommit, 'abcdef1', 'lowercased');
    assert.equal(request.healthCheck?.url, '/health');
    assert.equal(request.rollbackOnFailure, true, 'rollback is on by default');
    assert.equal(request.workingDirectory, missing, 'a deployment job may have no checkout');
    assert.equal(request.apiKey, 'KEY');
    assert.equal(request.userAgent, 'heroku-azure-pipelines HerokuPromote/1');
  });

  it('reports every target of a promotion: line, outputs and a row each', async () => {
    const host = await runWith(agent, {
      ok: true,
      result: result([target('my-app'), target('my-app-eu', { outcome: 'same-commit', release: null, live: release(16) })]),
    });
    assert.equal(host.failure, null);
    assert.deepEqual(host.lines, [
      'Promoted my-app-staging v12 (commit abcdef12) · my-app v17 · my-app-eu already at this commit (v16) · 9s',
    ]);
    assert.deepEqual(host.outputs, { promotionId: 'promo-1', releaseVersions: 'my-app:17,my-app-eu:16', commit: sha });
    assert.equal(host.summaries[0]?.name, 'heroku-promote-my-app-staging');
    assert.match(
      host.summaries[0]?.markdown ?? '',
      /\| \[my-app-eu\]\(https:\/\/my-app-eu\.herokuapp\.com\/\) \| production \| v16 `cccccccc` \| v16 `abcdef12` \| — \| ➖ already at this commit \|/,
    );
  });

  it('reports a failed target with the others: the promotion id, what is live on each, the message', async () => {
    const failure = new TaskError('promotion', 'The promotion to my-app-eu failed: boom.');
    const failed = target('my-app-eu', { outcome: 'failed', release: null, live: release(16, null), failure });
    const partial = { steps: [], result: result([target('my-app'), failed]) };
    const host = await runWith(agent, {
      ok: false,
      failure: new TaskError('promotion', 'The promotion to my-app-eu failed: boom. my-app was promoted (v17).'),
      partial,
    });
    assert.equal(host.failure, 'The promotion to my-app-eu failed: boom. my-app was promoted (v17).');
    assert.deepEqual(host.lines, [
      'Promotion of my-app-staging v12 (commit abcdef12) failed on my-app-eu · my-app v17 · my-app-eu FAILED, v16 kept · 9s',
    ]);
    assert.deepEqual(host.outputs, { promotionId: 'promo-1', releaseVersions: 'my-app:17,my-app-eu:16', commit: sha });
    assert.match(host.summaries[0]?.markdown ?? '', /\| Result \| \*\*Failed\*\* on my-app-eu \|/);
  });

  it('reports a failure before any promotion with the steps it got through, and no outputs', async () => {
    const failure = new TaskError(
      'verification',
      'Refusing to promote: my-app-staging runs v12 with commit 99999999, not the expected abcdef12.',
    );
    const partial = { steps: [{ name: 'Diff my-app-staging -> my-app', outcome: 'done' as const, detail: '' }], result: null };
    const host = await runWith(agent, { ok: false, failure, partial });
    assert.equal(host.failure, failure.message);
    assert.deepEqual(host.outputs, {});
    assert.deepEqual(host.lines, []);
    assert.equal(host.summaries[0]?.name, 'heroku-promote-my-app-staging');
    const markdown = host.summaries[0]?.markdown ?? '';
    assert.match(markdown, /^### Heroku promote: my-app-staging\n\n\*\*Failed:\*\* Refusing to promote/);
    assert.match(markdown, /\| Diff my-app-staging -> my-app \| ✅ done \|/);
  });

  it('names every outcome a target can have, in the result line and in its summary row', () => {
    const old = release(16, 'c'.repeat(40));
    const targets: TargetResult[] = [
      target('a', {
        healthCheckStatus: '200',
        before: old,
        diff: { kind: 'listed', added: { commits: [], total: 3 }, removed: { commits: [], total: 1 } },
      }),
      target('b', { outcome: 'same-commit', release: null, live: release(16), before: release(16) }),
      target('c', {
        outcome: 'failed',
        release: release(17, null),
        live: old,
        failure: new TaskError('promotion', 'The promotion to c failed: x.'),
      }),
      target('d', {
        outcome: 'unhealthy',
        healthCheckStatus: '',
        failure: new TaskError('health-check', 'd | unhealthy'),
        diff: { kind: 'unavailable', reason: 'no checkout' },
      }),
      target('e', {
        outcome: 'rolled-back',
        healthCheckStatus: '200',
        live: release(18, old.commit),
        failure: new TaskError('health-check', 'e rolled back'),
      }),
      target('f', { outcome: 'rollback-failed', healthCheckStatus: '503', failure: new TaskError('rollback', 'f ACT NOW') }),
    ];
    targets[2]!.release!.status = 'failed';
    const promoted = { ...result(targets), pipeline: { id: 'p', name: 'shop|x' }, durationMs: 65_000 };
    const report = promoteReport('my-app-staging', {
      ok: false,
      failure: new TaskError('promotion', 'x'),
      partial: { steps: [], result: promoted },
    });
    assert.equal(
      report.line,
      'Promotion of my-app-staging v12 (commit abcdef12) failed on c, d, e, f · a v17 healthy (200) · b already at this commit (v16) · c FAILED (v17 failed), v16 kept · d v17 UNHEALTHY (no answer), still live · e v17 unhealthy, rolled back to v16 (now v18) · f v17 unhealthy, ROLLBACK FAILED · 1m05s',
    );
    assert.equal(report.outputs.releaseVersions, 'a:17,b:16,c:16,d:17,e:18,f:17');
    const rows = (report.summary?.markdown ?? '').split('\n');
    for (const row of [
      '| Result | **Failed** on c, d, e, f |',
      '| Source | [my-app-staging](https://my-app-staging.herokuapp.com/) (staging) v12 `abcdef12` |',
      '| Pipeline | shop\\|x |',
      '| Promotion | `promo-1` |',
      '| Promoted by | dev@example.com |',
      '| Duration | 1m05s |',
      '| Target | Stage | Before | Now live | Commits | Outcome |',
      '| [a](https://a.herokuapp.com/) | production | v16 `cccccccc` | v17 `abcdef12` | 3 new, 1 taken out | ✅ promoted — health check 200 |',
      '| [b](https://b.herokuapp.com/) | production | v16 `abcdef12` | v16 `abcdef12` | — | ➖ already at this commit |',
      '| [c](https://c.herokuapp.com/) | production | v16 `cccccccc` | v16 `cccccccc` | — | ❌ failed — The promotion to c failed: x. |',
      '| [d](https://d.herokuapp.com/) | production | v16 `cccccccc` | v17 `abcdef12` | not listed (no history) | ❌ unhealthy, still live — d \\| unhealthy |',
      '| [e](https://e.herokuapp.com/) | production | v16 `cccccccc` | v18 `cccccccc` | — | ↩️ unhealthy, rolled back — health check 200: e rolled back |',
      '| [f](https://f.herokuapp.com/) | production | v16 `cccccccc` | v17 `abcdef12` | — | 🛑 unhealthy, ROLLBACK FAILED — health check 503: f ACT NOW |',
    ])
      assert.ok(rows.includes(row), `the summary has the row ${row}\n${rows.join('\n')}`);
  });

  it('says when nothing was promoted, in the line and the summary', () => {
    const same = target('my-app', { outcome: 'same-commit', release: null, live: release(16), before: release(16) });
    const report = promoteReport('my-app-staging', { ok: true, result: { ...result([same]), promotionId: null } });
    assert.equal(
      report.line,
      'Nothing to promote: every target already runs my-app-staging v12 (commit abcdef12) · my-app already at this commit (v16) · 9s',
    );
    assert.deepEqual(report.outputs, { promotionId: '', releaseVersions: 'my-app:16', commit: sha });
    assert.match(
      report.summary?.markdown ?? '',
      /\| Result \| Nothing to promote: every target already runs this commit \(no promotion, no new release\) \|/,
    );
    assert.doesNotMatch(report.summary?.markdown ?? '', /\| Promotion \|/);
  });

  it('sums up a successful promotion on the build page: the facts, then a row per target, then the steps', () => {
    const report = promoteReport('my-app-staging', {
      ok: true,
      result: {
        ...result([
          target('my-app', {
            healthCheckStatus: '200',
            diff: { kind: 'listed', added: { commits: [], total: 2 }, removed: { commits: [], total: 0 } },
          }),
          target('my-app-eu', { outcome: 'same-commit', release: null, live: release(16), before: release(16) }),
        ]),
        steps: [{ name: 'Promote abcdef12 to my-app', outcome: 'done', detail: 'my-app: succeeded' }],
      },
    });
    assert.equal(report.summary?.name, 'heroku-promote-my-app-staging');
    assert.equal(
      report.summary?.markdown,
      [
        '### Heroku promote: my-app-staging',
        '',
        '| | |',
        '|---|---|',
        '| Result | Promoted to my-app |',
        '| Source | [my-app-staging](https://my-app-staging.herokuapp.com/) (staging) v12 `abcdef12` |',
        '| Pipeline | my-pipeline |',
        '| Promotion | `promo-1` |',
        '| Promoted by | dev@example.com |',
        '| Duration | 9s |',
        '',
        '| Target | Stage | Before | Now live | Commits | Outcome |',
        '|---|---|---|---|---|---|',
        '| [my-app](https://my-app.herokuapp.com/) | production | v16 `cccccccc` | v17 `abcdef12` | 2 new | ✅ promoted — health check 200 |',
        '| [my-app-eu](https://my-app-eu.herokuapp.com/) | production | v16 `abcdef12` | v16 `abcdef12` | — | ➖ already at this commit |',
        '',
        '| Step | Outcome | |',
        '|---|---|---|',
        '| Promote abcdef12 to my-app | ✅ done | my-app: succeeded |',
        '',
      ].join('\n'),
    );
  });

  it('shows a live release that has not succeeded with its status, and a release it does not know as none', () => {
    const pending = { ...release(17), status: 'pending' };
    const report = promoteReport('my-app-staging', {
      ok: true,
      result: result([target('my-app', { live: pending }), target('my-app-eu', { outcome: 'rolled-back', live: null })]),
    });
    assert.match(report.summary?.markdown ?? '', /\| v17 `abcdef12` \(pending\) \|/);
    assert.match(report.line ?? '', / · my-app-eu v17 unhealthy, rolled back to v16 \(now none\) · /);
  });

  it('names every target promoted in the verdict, and only those', () => {
    const same = target('my-app-us', { outcome: 'same-commit', release: null, live: release(16), before: release(16) });
    const report = promoteReport('my-app-staging', { ok: true, result: result([target('my-app'), same, target('my-app-eu')]) });
    assert.match(report.summary?.markdown ?? '', /\n\| Result \| Promoted to my-app, my-app-eu \|\n/);
  });

  it('says what it knows when Heroku records no commit and a target has nothing live', () => {
    const unrecorded = release(17, null);
    const targets = [
      target('a', { appUrl: null, stage: null, before: release(16, null), release: unrecorded, live: unrecorded }),
      target('b', {
        outcome: 'failed',
        before: null,
        release: null,
        live: null,
        failure: new TaskError('promotion', 'The promotion to b failed: no release.'),
      }),
    ];
    const promoted: PromoteResult = {
      ...result(targets),
      commit: null,
      source: { ...result([]).source, appUrl: null, release: release(12, null) },
    };
    const report = promoteReport('my-app-staging', {
      ok: false,
      failure: new TaskError('promotion', 'x'),
      partial: { steps: [], result: promoted },
    });
    assert.equal(report.line, 'Promotion of my-app-staging v12 failed on b · a v17 · b FAILED · 9s');
    assert.deepEqual(report.outputs, { promotionId: 'promo-1', releaseVersions: 'a:17', commit: '' });
    const rows = (report.summary?.markdown ?? '').split('\n');
    for (const row of [
      '| Source | my-app-staging (staging) v12 |',
      '| a | — | v16 | v17 | — | ✅ promoted |',
      '| [b](https://b.herokuapp.com/) | production | — | — | — | ❌ failed — The promotion to b failed: no release. |',
    ])
      assert.ok(rows.includes(row), `the summary has the row ${row}\n${rows.join('\n')}`);
  });
});
