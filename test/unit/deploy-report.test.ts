// What the team reads after a deploy: the result line, the output variables and the build summary,
// every row and every table exactly as written, for each outcome and for a failure.
import assert from 'node:assert/strict';
import { TaskError } from '../../tasks/common/core/base/errors';
import { deployReport } from '../../tasks/common/core/deploy/report';
import type { DeployResult } from '../../tasks/common/core/deploy/types';
import { cell, stepsTable } from '../../tasks/common/core/workflow/report';

const sha = '3cced9be'.padEnd(40, '0');

function result(more: Partial<DeployResult> = {}): DeployResult {
  return {
    outcome: 'released',
    app: 'my-app',
    appUrl: 'https://my-app-1a2b3c.herokuapp.com/',
    account: 'dev@example.com',
    release: { id: 'rel-62', version: 62, status: 'succeeded', description: 'Deploy 3cced9be' },
    previous: { id: 'rel-61', version: 61, commit: 'f'.repeat(40) },
    commit: sha,
    subject: 'Fix the login',
    branch: 'feature/login',
    durationMs: 48_000,
    steps: [{ name: 'Deploy 3cced9be', outcome: 'done', detail: 'released v62' }],
    healthCheckStatus: '200',
    ...more,
  };
}

describe('deploy report', () => {
  it('summarises a release: result, linked app, commit, branch, previous release, health, account, duration, steps', () => {
    const report = deployReport('my-app', { ok: true, result: result() });
    assert.deepEqual(report.summary, {
      name: 'heroku-deploy-my-app',
      markdown: [
        '### Heroku deploy: my-app',
        '',
        '| | |',
        '|---|---|',
        '| Result | Released v62 (succeeded) |',
        '| App | [my-app](https://my-app-1a2b3c.herokuapp.com/) |',
        '| Commit | `3cced9be` Fix the login |',
        '| Branch | feature/login |',
        '| Previous release | v61 (`ffffffff`) |',
        '| Health check | healthy (200) |',
        '| Deployed by | dev@example.com |',
        '| Duration | 48s |',
        '',
        '| Step | Outcome | |',
        '|---|---|---|',
        '| Deploy 3cced9be | ✅ done | released v62 |',
        '',
      ].join('\n'),
    });
  });

  it('summarises an already-deployed commit with only the rows it has: no link, branch, previous release, health check or steps', () => {
    const report = deployReport('my-app', {
      ok: true,
      result: result({
        outcome: 'already-deployed',
        appUrl: null,
        branch: null,
        previous: null,
        healthCheckStatus: null,
        steps: [],
        durationMs: 65_000,
      }),
    });
    assert.equal(
      report.summary?.markdown,
      [
        '### Heroku deploy: my-app',
        '',
        '| | |',
        '|---|---|',
        '| Result | Already live as v62 (no new release) |',
        '| App | my-app |',
        '| Commit | `3cced9be` Fix the login |',
        '| Deployed by | dev@example.com |',
        '| Duration | 1m05s |',
        '',
      ].join('\n'),
    );
    assert.equal(
      report.line,
      'Already deployed: v62 of my-app runs this commit, no new release · commit 3cced9be · 1m05s',
      'no URL, no health',
    );
    assert.deepEqual(report.outputs, {
      releaseVersion: '62',
      releaseId: 'rel-62',
      commit: sha,
      appUrl: '',
      previousReleaseVersion: '',
      rolledBack: 'false',
      healthCheckStatus: '',
    });
  });

  it('says how the commit was deployed after the branch: a git push, or the Build API and its folder, kept in its cell', () => {
    const method = (source: DeployResult['source']): string[] =>
      (deployReport('my-app', { ok: true, result: result({ source }) }).summary?.markdown ?? '')
        .split('\n')
        .filter((line) => /^\| (Branch|Method|Previous release) \|/.test(line));
    assert.deepEqual(method({ method: 'git' }), [
      '| Branch | feature/login |',
      '| Method | git push |',
      '| Previous release | v61 (`ffffffff`) |',
    ]);
    assert.deepEqual(method({ method: 'build', appDirectory: 'a|b', packageFrom: 'directory' }), [
      '| Branch | feature/login |',
      '| Method | Build API: a\\|b (folder on disk) |',
      '| Previous release | v61 (`ffffffff`) |',
    ]);
  });

  it('says a release made again from the existing build is one, and its result row gives its status', () => {
    const report = deployReport('my-app', {
      ok: true,
      result: result({ outcome: 're-released', release: { id: 'rel-63', version: 63, status: 'pending', description: '' } }),
    });
    assert.equal(
      report.line,
      'Released v63 of my-app again from the existing build · commit 3cced9be · https://my-app-1a2b3c.herokuapp.com/ · healthy (200) · 48s',
    );
    assert.match(report.summary?.markdown ?? '', /\n\| Result \| Released v63 \(pending\) \|\n/);
  });

  it('shows a previous release that ran no commit by its version alone, and escapes a branch that would break the table', () => {
    const markdown =
      deployReport('my-app', {
        ok: true,
        result: result({ previous: { id: 'rel-1', version: 1, commit: null }, branch: 'a|b', account: 'ci|bot@example.com' }),
      }).summary?.markdown ?? '';
    assert.match(markdown, /\n\| Previous release \| v1 \|\n/);
    assert.match(markdown, /\n\| Branch \| a\\\|b \|\n/);
    assert.match(markdown, /\n\| Deployed by \| ci\\\|bot@example\.com \|\n/);
  });

  it('summarises a failure: the message, the steps, then the lines that explain it in a code block', () => {
    const failure = new TaskError('health-check', 'v62 of my-app failed\nits health check.', [
      'GET /health',
      '503 Service Unavailable',
    ]);
    const report = deployReport('my-app', {
      ok: false,
      failure,
      partial: {
        steps: [{ name: 'Health check', outcome: 'failed', detail: 'got 503' }],
        rolledBack: false,
        healthCheckStatus: null,
      },
    });
    assert.equal(report.line, null);
    assert.deepEqual(report.outputs, { rolledBack: 'false', healthCheckStatus: '' });
    assert.deepEqual(report.summary, {
      name: 'heroku-deploy-my-app',
      markdown: [
        '### Heroku deploy: my-app',
        '',
        '**Failed:** v62 of my-app failed its health check.',
        '',
        '| Step | Outcome | |',
        '|---|---|---|',
        '| Health check | ❌ failed | got 503 |',
        '',
        '```',
        'GET /health',
        '503 Service Unavailable',
        '```',
        '',
      ].join('\n'),
    });
  });

  it('summarises a failure before any step with the message alone, no outputs; and no summary without an app', () => {
    const failure = new TaskError('auth', 'The API key was rejected.');
    const report = deployReport('my-app', { ok: false, failure, partial: null });
    assert.deepEqual(report, {
      line: null,
      outputs: {},
      summary: { name: 'heroku-deploy-my-app', markdown: '### Heroku deploy: my-app\n\n**Failed:** The API key was rejected.\n' },
    });
    assert.equal(deployReport(null, { ok: false, failure, partial: null }).summary, null);
  });
});

describe('summary tables', () => {
  it('shows every step outcome with its mark, and a restore that failed as NOT restored', () => {
    assert.deepEqual(
      stepsTable([
        { name: 'Maintenance on', outcome: 'done', detail: '' },
        { name: 'Buildpacks', outcome: 'skipped', detail: 'already set' },
        { name: 'Deploy', outcome: 'failed', detail: 'build failed' },
        { name: 'Maintenance off', outcome: 'restored', detail: '' },
        { name: 'Start worker', outcome: 'not restored', detail: 'worker=2 by hand' },
      ]),
      [
        '',
        '| Step | Outcome | |',
        '|---|---|---|',
        '| Maintenance on | ✅ done |  |',
        '| Buildpacks | ➖ skipped | already set |',
        '| Deploy | ❌ failed | build failed |',
        '| Maintenance off | ↩️ restored |  |',
        '| Start worker | 🛑 NOT restored | worker=2 by hand |',
      ],
    );
    assert.deepEqual(stepsTable([]), [], 'no steps, no table');
  });

  it('keeps text in one cell: pipes escaped, line breaks (LF or CRLF) as spaces', () => {
    assert.equal(cell('a|b\nc\r\nd'), 'a\\|b c d');
  });
});
