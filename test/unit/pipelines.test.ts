// Where a promotion goes when no target is named: the next stage of development -> staging ->
// production that has apps; review apps promote into that order, the test stage promotes nowhere.
import assert from 'node:assert/strict';
import { downstreamStage, type Coupling, type Stage } from '../../tasks/common/core/heroku/pipelines';

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
