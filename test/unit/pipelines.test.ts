// Where a promotion goes when no target is named: the next stage of development -> staging ->
// production that has apps; review apps promote into that order, the test stage promotes nowhere.
import assert from 'node:assert/strict';
import { HerokuApiError } from '../../tasks/common/core/heroku/api';
import {
  couplingOf,
  downstreamStage,
  pipelineCouplings,
  type Coupling,
  type Stage,
} from '../../tasks/common/core/heroku/pipelines';
import { RecordingApi } from '../support/recording-api';

const coupled = (stages: Partial<Record<Stage, string[]>>): Coupling[] =>
  Object.entries(stages).flatMap(([stage, apps]) =>
    apps.map((id) => ({ app: { id }, stage: stage as Stage, pipeline: { id: 'p' } })),
  );

describe('pipelines: the stage downstream', () => {
  const full = coupled({
    review: ['pr-1'],
    development: ['dev'],
    staging: ['stg'],
    production: ['prod', 'prod-eu'],
    test: ['ci'],
  });

  it('is the next stage of development -> staging -> production', () => {
    assert.deepEqual(downstreamStage('development', full), { stage: 'staging', appIds: ['stg'] });
    assert.deepEqual(downstreamStage('staging', full), { stage: 'production', appIds: ['prod', 'prod-eu'] });
  });

  it('skips stages without apps', () => {
    assert.deepEqual(downstreamStage('development', coupled({ development: ['dev'], production: ['prod'] })), {
      stage: 'production',
      appIds: ['prod'],
    });
    assert.equal(downstreamStage('development', coupled({ development: ['dev'], review: ['pr-1'], test: ['ci'] })), null);
  });

  it('takes review apps to the first stage of the order that has apps', () => {
    assert.deepEqual(downstreamStage('review', full), { stage: 'development', appIds: ['dev'] });
    assert.deepEqual(downstreamStage('review', coupled({ review: ['pr-1'], staging: ['stg'] })), {
      stage: 'staging',
      appIds: ['stg'],
    });
  });

  it('has nothing after production, nor after the test stage', () => {
    assert.equal(downstreamStage('production', full), null);
    assert.equal(downstreamStage('test', full), null);
  });
});

describe('pipelines: reading couplings', () => {
  const failing = (status: number, id: string) =>
    new RecordingApi((method, path) => new HerokuApiError(status, id, 'Something went wrong', method, path));

  it("reads an app's coupling, and finds none when the app is in no pipeline", async () => {
    const coupling: Coupling = { app: { id: 'app-1' }, stage: 'staging', pipeline: { id: 'p-1', name: 'shop' } };
    const coupled = new RecordingApi(() => coupling);
    assert.deepEqual(await couplingOf(coupled.client().forApp('my-app')), coupling);
    assert.deepEqual(coupled.calls, ['GET /apps/my-app/pipeline-couplings']);
    assert.equal(await couplingOf(failing(404, 'not_found').client().forApp('my-app')), null);
  });

  it('says whose pipeline it was reading when Heroku fails', async () => {
    await assert.rejects(
      couplingOf(failing(500, 'internal_server_error').client().forApp('my-app')),
      /while reading the pipeline of my-app \(500/,
    );
  });

  it('lists the apps of a pipeline by its id, and names the pipeline when Heroku fails', async () => {
    const couplings: Coupling[] = [{ app: { id: 'app-1' }, stage: 'staging' }];
    const api = new RecordingApi(() => couplings);
    assert.deepEqual(await pipelineCouplings(api.client(), { id: 'p 1', name: 'shop' }), couplings);
    assert.deepEqual(api.calls, ['GET /pipelines/p%201/pipeline-couplings']);
    await assert.rejects(
      pipelineCouplings(failing(500, 'internal_server_error').client(), { id: 'p-1', name: 'shop' }),
      /while listing the apps of the pipeline shop \(500/,
    );
  });
});
