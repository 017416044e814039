// Parsing the safe-deploy inputs: what is accepted, and what each refusal says.
import assert from 'node:assert/strict';
import {
  NO_SAFEGUARDS,
  parseConfigVars,
  parseSafeguards,
  readsFirst,
  type SafeguardInputs,
} from '../../tasks/common/core/workflow/safeguards';

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
    assert.ok(
      regex?.expectedText && 'pattern' in regex.expectedText && regex.expectedText.pattern.test('UP'),
      "regex?.expectedText && 'pattern' in regex.expectedText && regex.expectedText.pattern.test('UP')",
    );
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

/** The health check parsed from `more` over blank inputs with a path URL. */
function healthCheck(more: Partial<SafeguardInputs>) {
  return parseSafeguards({ ...blank, healthCheckUrl: '/health', ...more }).healthCheck;
}

describe('safe-deploy inputs: health check numbers and URL', () => {
  it('means no safeguards at all when every input is left empty and rollbackOnFailure is false', () => {
    assert.deepEqual(parseSafeguards({ ...blank, rollbackOnFailure: false }), NO_SAFEGUARDS);
  });

  it('takes the URL, status, timeout and interval without the spaces around them, and blanks as the defaults', () => {
    assert.deepEqual(
      healthCheck({
        healthCheckUrl: '  /health \n',
        healthCheckExpectedStatus: ' 204 ',
        healthCheckTimeout: ' 30 ',
        healthCheckInterval: ' 2 ',
      }),
      { url: '/health', expectedStatus: 204, expectedText: null, timeoutMs: 30_000, intervalMs: 2000 },
    );
    assert.deepEqual(
      healthCheck({
        healthCheckExpectedStatus: '  ',
        healthCheckTimeout: '  ',
        healthCheckInterval: '\t',
        healthCheckExpectedText: '  ',
      }),
      { url: '/health', expectedStatus: 200, expectedText: null, timeoutMs: 120_000, intervalMs: 5000 },
    );
  });

  it('accepts http and https URLs, and refuses anything that is neither a path nor an http(s) URL', () => {
    assert.equal(healthCheck({ healthCheckUrl: 'http://my-app.example.com/health' })?.url, 'http://my-app.example.com/health');
    assert.equal(healthCheck({ healthCheckUrl: 'https://my-app.example.com/health' })?.url, 'https://my-app.example.com/health');
    assert.throws(
      () => healthCheck({ healthCheckUrl: 'health' }),
      /^TaskError: The input healthCheckUrl \("health"\) is neither a path like \/health nor a full URL like https:\/\/my-app\.herokuapp\.com\/health\.$/,
    );
    assert.throws(
      () => healthCheck({ healthCheckUrl: 'ftp://my-app.example.com/health' }),
      /^TaskError: The input healthCheckUrl must be an http\(s\) URL or a path, not ftp:$/,
    );
  });

  it('names the undefined pipeline variable a health check input still reads', () => {
    assert.throws(
      () => healthCheck({ healthCheckUrl: '$(HEALTH_URL)' }),
      /The input healthCheckUrl reads \$\(HEALTH_URL\), but the pipeline variable HEALTH_URL is not defined/,
    );
    assert.throws(
      () => healthCheck({ healthCheckExpectedText: '$(EXPECTED)' }),
      /The input healthCheckExpectedText reads \$\(EXPECTED\), but the pipeline variable EXPECTED is not defined/,
    );
  });

  it('accepts HTTP status codes from 100 to 599 only, whole numbers', () => {
    for (const status of [100, 302, 599])
      assert.equal(healthCheck({ healthCheckExpectedStatus: String(status) })?.expectedStatus, status);
    for (const status of ['99', '600', '200.5', 'ok'])
      assert.throws(
        () => healthCheck({ healthCheckExpectedStatus: status }),
        new RegExp(`^TaskError: The input healthCheckExpectedStatus is "${status}": give an HTTP status code such as 200\\.$`),
      );
  });

  it('accepts a timeout of up to an hour and an interval of up to ten minutes, in seconds from 1 (fractions above it too)', () => {
    assert.equal(healthCheck({ healthCheckTimeout: '1.5', healthCheckInterval: '1' })?.timeoutMs, 1500);
    assert.equal(healthCheck({ healthCheckTimeout: '3600' })?.timeoutMs, 3_600_000);
    assert.equal(healthCheck({ healthCheckTimeout: '3600', healthCheckInterval: '600' })?.intervalMs, 600_000);
    for (const timeout of ['0', '0.9', '-5', '3601', 'soon', 'Infinity'])
      assert.throws(
        () => healthCheck({ healthCheckTimeout: timeout }),
        new RegExp(`^TaskError: The input healthCheckTimeout is "${timeout}": give a number of seconds between 1 and 3600\\.$`),
      );
    for (const interval of ['0', '0.5', '601', 'often'])
      assert.throws(
        () => healthCheck({ healthCheckTimeout: '3600', healthCheckInterval: interval }),
        new RegExp(`^TaskError: The input healthCheckInterval is "${interval}": give a number of seconds between 1 and 600\\.$`),
      );
  });

  it('refuses an interval longer than the timeout, and takes one as long as it', () => {
    const checkedOnce = healthCheck({ healthCheckTimeout: '10', healthCheckInterval: '10' });
    assert.equal(checkedOnce?.timeoutMs, 10_000);
    assert.equal(checkedOnce?.intervalMs, 10_000);
    assert.throws(
      () => healthCheck({ healthCheckTimeout: '10', healthCheckInterval: '20' }),
      /^TaskError: The input healthCheckInterval \(20 s\) is longer than healthCheckTimeout \(10 s\): nothing would be checked twice\.$/,
    );
  });
});

describe('safe-deploy inputs: process types, app creation and buildpacks', () => {
  it('stops each process type once, and refuses names that are not Procfile process types', () => {
    assert.deepEqual(parseSafeguards({ ...blank, stopProcessTypes: 'worker\nworker,clock' }).stopProcessTypes, [
      'worker',
      'clock',
    ]);
    const longest = `w${'x'.repeat(127)}`;
    assert.deepEqual(parseSafeguards({ ...blank, stopProcessTypes: longest }).stopProcessTypes, [longest]);
    for (const type of ['-worker', 'worker!', 'worker.1', `${longest}x`])
      assert.throws(
        () => parseSafeguards({ ...blank, stopProcessTypes: `clock ${type}` }),
        (e: Error) =>
          e.message === `The input stopProcessTypes names "${type}", which is not a process type (a Procfile name like worker).`,
      );
  });

  it('says why web cannot be stopped and what to use instead', () => {
    assert.throws(
      () => parseSafeguards({ ...blank, stopProcessTypes: 'web' }),
      /^TaskError: The input stopProcessTypes includes web: stopping web dynos takes the app offline\. Use maintenanceMode: true to keep users out during the deploy instead\.$/,
    );
  });

  it('names the undefined pipeline variable in stopProcessTypes and buildpacks', () => {
    assert.throws(
      () => parseSafeguards({ ...blank, stopProcessTypes: '$(WORKERS)' }),
      /The input stopProcessTypes reads \$\(WORKERS\), but the pipeline variable WORKERS is not defined/,
    );
    assert.throws(
      () => parseSafeguards({ ...blank, buildpacks: 'heroku/nodejs\n$(BUILDPACK)' }),
      /The input buildpacks reads \$\(BUILDPACK\), but the pipeline variable BUILDPACK is not defined/,
    );
  });

  it('creates the app in the region, team and stack given, without the spaces around them', () => {
    assert.deepEqual(
      parseSafeguards({ ...blank, createApp: true, region: ' frankfurt ', team: ' my-team\n', stack: ' heroku-24 ' }).createApp,
      { region: 'frankfurt', team: 'my-team', stack: 'heroku-24' },
    );
    assert.deepEqual(parseSafeguards({ ...blank, createApp: true, team: 'acme' }).createApp, {
      region: null,
      team: 'acme',
      stack: null,
    });
    assert.deepEqual(parseSafeguards({ ...blank, createApp: true }).createApp, { region: null, team: null, stack: null });
  });

  it('refuses a region, team or stack that is not a Heroku name, with an example of one', () => {
    const refusals: Array<[keyof SafeguardInputs, string, string]> = [
      ['region', '-eu', 'us or eu'],
      ['region', 'eu!', 'us or eu'],
      ['region', 'EU', 'us or eu'],
      ['region', `e${'u'.repeat(30)}`, 'us or eu'],
      ['team', '-team', 'my-team'],
      ['team', 'team!', 'my-team'],
      ['team', 'my_team', 'my-team'],
      ['stack', '-heroku-24', 'heroku-24'],
      ['stack', 'heroku-24!', 'heroku-24'],
      ['stack', 'Heroku-24', 'heroku-24'],
    ];
    for (const [input, value, example] of refusals)
      assert.throws(
        () => parseSafeguards({ ...blank, createApp: true, [input]: value }),
        (e: Error) => e.message === `The input ${input} is "${value}": give a name such as ${example}.`,
        `${input}: ${value}`,
      );
  });

  it('refuses a region, team or stack without createApp, as each applies only to a new app', () => {
    for (const set of [{ region: 'eu' }, { team: 'my-team' }, { stack: 'heroku-24' }])
      assert.throws(
        () => parseSafeguards({ ...blank, ...set }),
        /^TaskError: region, team and stack apply only when creating the app: set createApp: true, or remove them \(an existing app keeps its region, team and stack\)\.$/,
        JSON.stringify(set),
      );
  });

  it('reads buildpacks one per line, trimmed, skipping comments; names and http(s) URLs only', () => {
    assert.deepEqual(
      parseSafeguards({
        ...blank,
        buildpacks: '# first the runtime\n  heroku/nodejs  \r\n\n  # then the files\nhttp://buildpacks.example.com/static.tgz\n',
      }).buildpacks,
      ['heroku/nodejs', 'http://buildpacks.example.com/static.tgz'],
    );
    for (const buildpack of [
      'nodejs',
      '/heroku/nodejs',
      'heroku/nodejs 1.2',
      'see https://example.com/bp',
      'https://example.com/a b',
    ])
      assert.throws(
        () => parseSafeguards({ ...blank, buildpacks: `heroku/python\n${buildpack}` }),
        (e: Error) =>
          e.message ===
          `The input buildpacks lists "${buildpack}": give one buildpack per line, a registry name like heroku/nodejs or a URL.`,
        buildpack,
      );
  });
});

describe('which deploys read the app before their release', () => {
  it('a plain deploy does not; each safeguard alone does (it reads or changes the app first)', () => {
    assert.equal(readsFirst(parseSafeguards(blank)), false);
    const each: Array<Partial<SafeguardInputs>> = [
      { healthCheckUrl: '/health' },
      { maintenanceMode: true },
      { stopProcessTypes: 'worker' },
      { configVars: 'FEATURE_X=on' },
      { configVars: 'OLD_FLAG=' },
      { createApp: true },
      { buildpacks: 'heroku/nodejs' },
    ];
    for (const inputs of each) assert.equal(readsFirst(parseSafeguards({ ...blank, ...inputs })), true, JSON.stringify(inputs));
  });
});

describe('safe-deploy inputs: config var lines and the expected text', () => {
  it('skips lines of spaces and indented comments', () => {
    assert.deepEqual(parseConfigVars('   \n  # a comment = not a var\n\tA=1'), { A: '1' });
  });

  it('refuses a line without =, even a bare name, and a key set twice, naming the input and the line', () => {
    assert.throws(
      () => parseConfigVars('A=1\nFEATURE'),
      (e: Error) =>
        e.message ===
        'The input configVars line 2 is not KEY=VALUE (keys are letters, digits and underscores; KEY= removes a var). The line is not shown here: its value may be secret.',
    );
    assert.throws(
      () => parseConfigVars('A=1\nB=2\nA=3'),
      (e: Error) => e.message === 'The input configVars sets A twice (line 3).',
    );
    assert.throws(
      () => parseConfigVars('TOKEN=$(Api.Token)'),
      (e: Error) => e.message.startsWith('The input configVars line 1 uses $(Api.Token)'),
    );
  });

  const expectedText = (text: string) =>
    parseSafeguards({ ...blank, healthCheckUrl: '/health', healthCheckExpectedText: text }).healthCheck?.expectedText;

  it('takes /pattern/flags, with any number of flags and spaces around, as a regular expression', () => {
    assert.deepEqual(expectedText('/db: (up|ok)/gi'), { pattern: /db: (up|ok)/gi });
    assert.deepEqual(expectedText('/ready/'), { pattern: /ready/ });
    assert.deepEqual(expectedText('  /ready/m  '), { pattern: /ready/m });
  });

  it('takes text that merely contains slashes as text to look for', () => {
    assert.deepEqual(expectedText('see /docs/api'), { text: 'see /docs/api' });
    assert.deepEqual(expectedText('/ready/ and more'), { text: '/ready/ and more' });
  });

  it('refuses a /regex/ that is not valid, saying how to write one', () => {
    assert.throws(
      () => expectedText('/(unclosed/'),
      (e: Error) =>
        /^The input healthCheckExpectedText is not a valid regular expression \(Invalid regular expression: .*\): write \/pattern\/flags, or plain text to look for\.$/.test(
          e.message,
        ),
    );
  });
});
