// Text from outside (build output, app logs, commit subjects, HTTP bodies) reaches the log with
// every logging command the agent would obey defused.
import assert from 'node:assert/strict';
import { neutralise } from '../../tasks/common/core/base/log-commands';

describe('log commands', () => {
  it('defuses ##vso[ and ##[ anywhere in the text, in any case, keeping the rest as it was', () => {
    assert.equal(
      neutralise('##vso[task.setvariable variable=HEROKU_API_KEY]stolen'),
      '**vso[task.setvariable variable=HEROKU_API_KEY]stolen',
      'a ##vso[ command at the start',
    );
    assert.equal(neutralise('##[error]not from the task'), '**[error]not from the task', 'a ##[ command');
    assert.equal(
      neutralise('remote: ##VSO[task.complete result=Succeeded] and ##Vso[x] then ##[warning]w'),
      'remote: **VSO[task.complete result=Succeeded] and **Vso[x] then **[warning]w',
      'every command in a line, any case, its own letters kept',
    );
  });

  it('leaves text that holds no logging command as it is', () => {
    const plain = '## Heading, #[tag], ##vso without a bracket, # [x], ##\u00a0[y]';
    assert.equal(neutralise(plain), plain, 'nothing to defuse');
  });
});
