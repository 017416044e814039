// Parsing the safe-deploy inputs: what is accepted, and what each refusal says.
import assert from 'node:assert/strict';
import { parseConfigVars, parseSafeguards, type SafeguardInputs } from '../../tasks/common/core/workflow/safeguards';

const blank: SafeguardInputs = {
  healthCheckUrl: '',
  healthCheckExpectedStatus: '',
  healthCheckExpectedText: '',
  healthCheckTimeout: '',
  healthCheckInterval: '',
  rollbackOnFailure: true,
  maintenanceMode: false,
  stopProcessTypes: '',
  configVars: '',
  createApp: false,
  region: '',
  team: '',
  stack: '',
  buildpacks: '',
};

describe('safe-deploy inputs', () => {
  it('reads config vars: = kept inside values, KEY= removes, comments and blank lines skipped, spaces around trimmed', () => {
    assert.deepEqual(
      parseConfigVars('# flags\nFEATURE=on\n\nDATABASE_URL=postgres://u:p@h/db?x=1\r\nOLD=\n  INDENTED=yes  \nSPACED = a b \t'),
      { FEATURE: 'on', DATABASE_URL: 'postgres://u:p@h/db?x=1', OLD: null, INDENTED: 'yes', SPACED: 'a b' },
    );
    assert.deepEqual(parseConfigVars('A=1\rB=2\r\nC=3\nD= \r'), { A: '1', B: '2', C: '3', D: null }, 'CR, CRLF and LF alike');
  });

  it('names an undefined $(VARIABLE) in a config var, never the text around it; other $(...) text is a value', () => {
    assert.throws(
      () => parseConfigVars('OK=1\nTOKEN=s3cr3t$(Api.Token)tail'),
      (e: Error) =>
        e.message.includes('line 2 uses $(Api.Token), but the pipeline variable Api.Token is not defined') &&
        !/s3cr3t|tail/.test(e.message),
    );
    assert.throws(() => parseConfigVars('$(KEY_NAME)=1'), /uses \$\(KEY_NAME\)/);
    assert.deepEqual(parseConfigVars('PASS=a$(b c)d'), { PASS: 'a$(b c)d' });
  });

  it('never echoes a config value in its refusal', () => {
    assert.throws(
      () => parseConfigVars('SECRET_TOKEN abc123'),
      (e: Error) => /line 1 is not KEY=VALUE/.test(e.message) && !e.message.includes('abc123'),
    );
    assert.throws(() => parseConfigVars('BAD-KEY=1'), /line 1 is not KEY=VALUE/);
  });

  it('defaults the health check and accepts a path, a URL, text or a /regex/', () => {
    const check = parseSafeguards({ ...blank, healthCheckUrl: '/health' }).healthCheck;
    assert.deepEqual(check, { url: '/health', expectedStatus: 200, expectedText: null, timeoutMs: 120_000, intervalMs: 5000 });
    const regex = parseSafeguards({
      ...blank,
      healthCheckUrl: 'https://my-app.example.com/up',
      healthCheckExpectedText: '/ok|up/i',
    }).healthCheck;
    assert.ok(regex?.expectedText && 'pattern' in regex.expectedText && regex.expectedText.pattern.test('UP'));
    assert.deepEqual(
      parseSafeguards({ ...blank, healthCheckUrl: '/', healthCheckExpectedText: 'ready' }).healthCheck?.expectedText,
      { text: 'ready' },
    );
    assert.equal(parseSafeguards(blank).healthCheck, null);
  });

  it('splits process types on commas and spaces, refusing web', () => {
    assert.deepEqual(parseSafeguards({ ...blank, stopProcessTypes: 'worker, clock  urgent_worker' }).stopProcessTypes, [
      'worker',
      'clock',
      'urgent_worker',
    ]);
    assert.throws(() => parseSafeguards({ ...blank, stopProcessTypes: 'worker web' }), /web/);
  });

  it('creates apps only when asked, and reads buildpack names and URLs', () => {
    assert.deepEqual(parseSafeguards({ ...blank, createApp: true, region: 'eu', stack: 'heroku-24' }).createApp, {
      region: 'eu',
      team: null,
      stack: 'heroku-24',
    });
    assert.equal(parseSafeguards({ ...blank }).createApp, null);
    assert.deepEqual(
      parseSafeguards({ ...blank, buildpacks: 'heroku/nodejs\nhttps://github.com/heroku/heroku-buildpack-static\n' }).buildpacks,
      ['heroku/nodejs', 'https://github.com/heroku/heroku-buildpack-static'],
    );
  });
});
