// HerokuDeploy@1's entry in-process, on an in-memory agent: inputs -> request, result -> outputs,
// line and summary, for success and failure alike. (The built bundle is run as the agent runs it in
// test/tasks/: those tests are the proof; these pin each mapping down in milliseconds.)
import assert from 'node:assert/strict';
import os from 'node:os';
import sinon from 'sinon';
import { TaskError } from '../../tasks/common/core/base/errors';
import type { DeployProgress, DeployRequest, DeployResult } from '../../tasks/common/core/deploy/types';
import type { Outcome } from '../../tasks/common/core/workflow/report';
import { runTask } from '../../tasks/common/pipeline/run-task';
import { deployTask } from '../../tasks/HerokuDeployV1/deploy-task';
import { FakeHost, type FakeAgent } from '../support/fake-host';

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
    subject: 'Fix | the login',
    branch: 'feature/login',
    durationMs: 48_000,
    steps: [{ name: 'Deploy 3cced9be', outcome: 'done', detail: 'released v62' }],
    healthCheckStatus: '200',
    ...more,
  };
}

/** Runs the task on a fake agent with the operation replaced by `run`. */
async function runWith(
  agent: FakeAgent,
  run: (request: DeployRequest) => Promise<Outcome<DeployResult, DeployProgress>>,
): Promise<FakeHost> {
  const host = new FakeHost(agent);
  await runTask(host, { ...deployTask, run });
  return host;
}

const minimal: FakeAgent = { inputs: { appName: 'my-app', apiKey: 'KEY-123', workingDirectory: os.tmpdir() } };

describe('HerokuDeploy@1 entry (in-process)', () => {
  it('turns the inputs into the deploy request, reading secrets without echo', () => {
    const host = new FakeHost({
      inputs: {
        appName: 'my-app',
        apiKey: ' KEY-123\n',
        ref: 'release/2.0',
        force: 'TRUE',
        workingDirectory: os.tmpdir(),
        maintenanceMode: 'true',
        stopProcessTypes: 'worker, clock',
        configVars: 'TOKEN=s3cret\nOLD=',
        healthCheckUrl: '/health',
        healthCheckTimeout: '30',
        rollbackOnFailure: 'false',
        buildpacks: 'heroku/nodejs',
      },
      variables: {
        HEROKU_API_URL: 'http://127.0.0.1:5000/',
        'Build.SourceBranch': 'refs/heads/feature/login',
        'Build.SourceVersion': sha,
        'Build.Repository.Provider': 'TfsGit',
        'Build.Repository.Uri': 'https://dev.azure.com/org/project/_git/repo',
      },
      connections: { SystemVssConnection: { parameters: { AccessToken: 'PIPELINE-TOKEN' } } },
    });
    const request = deployTask.read(host, deployTask.subject(host));
    assert.equal(request.appName, 'my-app');
    assert.equal(request.apiKey, 'KEY-123', 'trimmed');
    assert.deepEqual(request.api, { url: 'http://127.0.0.1:5000', isDefault: false, source: 'the variable HEROKU_API_URL' });
    assert.deepEqual(request.git, { url: 'https://git.heroku.com', isDefault: true, source: 'the default' });
    assert.equal(request.ref, 'release/2.0');
    assert.equal(request.force, true);
    assert.equal(request.workingDirectory, os.tmpdir());
    assert.equal(request.sourceBranch, 'refs/heads/feature/login');
    assert.equal(request.sourceVersion, sha);
    assert.deepEqual(request.originAccess, {
      token: 'PIPELINE-TOKEN',
      repositoryUrl: 'https://dev.azure.com/org/project/_git/repo',
    });
    assert.equal(request.signal, host.signal);
    assert.equal(request.userAgent, 'heroku-azure-pipelines HerokuDeploy/1');
    const { safeguards } = request;
    assert.equal(safeguards.maintenanceMode, true);
    assert.deepEqual(safeguards.stopProcessTypes, ['worker', 'clock']);
    assert.deepEqual(safeguards.configVars, { TOKEN: 's3cret', OLD: null });
    assert.equal(safeguards.healthCheck?.url, '/health');
    assert.equal(safeguards.healthCheck?.timeoutMs, 30_000);
    assert.equal(safeguards.rollbackOnFailure, false);
    assert.deepEqual(safeguards.buildpacks, ['heroku/nodejs']);
    assert.deepEqual(host.secrets, ['KEY-123', 'PIPELINE-TOKEN']);
    for (const quiet of ['apiKey', 'configVars', 'buildpacks', 'healthCheckExpectedText'])
      assert.ok(!host.echoedInputs.includes(quiet), `${quiet} is read without echo`);
  });

  it('takes the key and URL of the service connection over apiKey, and says so', () => {
    const host = new FakeHost({
      inputs: { appName: 'my-app', herokuConnection: 'conn-1', apiKey: 'IGNORED', workingDirectory: os.tmpdir() },
      connections: { 'conn-1': { url: 'https://api.heroku.example/', parameters: { apitoken: 'CONN-KEY' } } },
    });
    const request = deployTask.read(host, 'my-app');
    assert.equal(request.apiKey, 'CONN-KEY');
    assert.equal(request.api.url, 'https://api.heroku.example');
    assert.equal(request.api.source, 'the service connection');
    assert.deepEqual(host.lines, [
      'warn: Both herokuConnection and apiKey are set: using the service connection and ignoring apiKey.',
    ]);
  });

  it('reports a release: the result line, every output, the summary, and no failure', async () => {
    const host = await runWith(minimal, () => Promise.resolve({ ok: true, result: result() }));
    assert.equal(host.failure, null);
    assert.deepEqual(host.lines, [
      'Released v62 of my-app · commit 3cced9be · https://my-app-1a2b3c.herokuapp.com/ · healthy (200) · 48s',
    ]);
    assert.deepEqual(host.outputs, {
      releaseVersion: '62',
      releaseId: 'rel-62',
      commit: sha,
      appUrl: 'https://my-app-1a2b3c.herokuapp.com/',
      previousReleaseVersion: '61',
      rolledBack: 'false',
      healthCheckStatus: '200',
    });
    assert.equal(host.summaries.length, 1);
    assert.equal(host.summaries[0]?.name, 'heroku-deploy-my-app');
    const markdown = host.summaries[0]?.markdown ?? '';
    assert.match(markdown, /\| Commit \| `3cced9be` Fix \\\| the login \|/, 'a | in the subject cannot break the table');
    assert.match(markdown, /\| Previous release \| v61 \(`ffffffff`\) \|/);
    assert.match(markdown, /\| Deploy 3cced9be \| ✅ done \| released v62 \|/);
  });

  it('reports an already-deployed commit as such, with no previous release of its own', async () => {
    const same = { id: 'rel-62', version: 62, commit: sha };
    const host = await runWith(minimal, () =>
      Promise.resolve({ ok: true, result: result({ outcome: 'already-deployed', previous: same, healthCheckStatus: null }) }),
    );
    assert.deepEqual(host.lines, [
      'Already deployed: v62 of my-app runs this commit, no new release · commit 3cced9be · https://my-app-1a2b3c.herokuapp.com/ · 48s',
    ]);
    assert.equal(host.outputs.previousReleaseVersion, '62');
    assert.equal(host.outputs.healthCheckStatus, '');
    assert.doesNotMatch(host.summaries[0]?.markdown ?? '', /Previous release/);
  });

  it('reports a failure with what it had got to: details first, outputs, the steps, the message', async () => {
    const failure = new TaskError('health-check', 'v62 of my-app failed its health check.', ["Heroku's reason"]);
    const partial: DeployProgress = {
      steps: [{ name: 'Roll back to v61', outcome: 'done', detail: '' }],
      rolledBack: true,
      healthCheckStatus: '503',
    };
    const host = await runWith(minimal, () => Promise.resolve({ ok: false, failure, partial }));
    assert.equal(host.failure, 'v62 of my-app failed its health check.');
    assert.deepEqual(host.lines, ["Heroku's reason"]);
    assert.deepEqual(host.outputs, { rolledBack: 'true', healthCheckStatus: '503' });
    const markdown = host.summaries[0]?.markdown ?? '';
    assert.match(markdown, /^### Heroku deploy: my-app\n\n\*\*Failed:\*\* v62 of my-app failed its health check\./);
    assert.match(markdown, /\| Roll back to v61 \| ✅ done \|/);
    assert.match(markdown, /```\nHeroku's reason\n```/);
  });

  it('fails on a bad input before the deploy starts, naming the app in the summary when it can', async () => {
    const run = sinon.stub().rejects(new Error('must not run'));
    const host = await runWith({ inputs: { appName: 'my-app', workingDirectory: os.tmpdir() } }, run);
    sinon.assert.notCalled(run);
    assert.match(host.failure ?? '', /^No Heroku API key: set herokuConnection/);
    assert.deepEqual(host.outputs, {});
    assert.equal(host.summaries[0]?.name, 'heroku-deploy-my-app');

    const unnamed = await runWith({ inputs: { appName: 'My_App' } }, run);
    assert.match(unnamed.failure ?? '', /"My_App" is not a valid Heroku app name/);
    assert.deepEqual(unnamed.summaries, [], 'no app, no summary');
  });

  it('reports an error nobody expected once, as such, with its stack in the debug log', async () => {
    const host = await runWith(minimal, () => Promise.reject(new TypeError('boom')));
    assert.equal(host.failure, 'Unexpected error: boom');
    assert.ok(
      host.debugLines.some((line) => line.includes('TypeError: boom')),
      'the stack is in the debug log',
    );
    assert.match(host.summaries[0]?.markdown ?? '', /\*\*Failed:\*\* Unexpected error: boom/);
  });
});
