// `npm run publish-extension` hands the Marketplace token to tfx on its standard input: tfx sends it
// (as Basic auth, the way it sends a --token), and it is in no command line, no child environment and
// no line of the log. The Marketplace is a stand-in on 127.0.0.1 that records what reaches it.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createVsix, ROOT } from '../../scripts/package';
import { fitForLog, publishArgs, tokenFrom, TOKEN_VARIABLE } from '../../scripts/publish';
import { runCommand } from '../support/git';

const TOKEN = 'pat-7f3a9c0e5b1d4a2c8e6f0b9d3a7c5e1f';

interface Seen {
  method: string;
  url: string;
  authorization: string;
}

describe('publishing to the Marketplace (npm run publish-extension)', function () {
  this.timeout(120_000);
  let server: http.Server;
  let serviceUrl = '';
  const seen: Seen[] = [];
  let scratch = '';
  let vsix = '';

  before(async () => {
    server = http.createServer((request, response) => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization ?? '' });
      request.resume();
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'TF400813: ##vso[task.setvariable variable=hijacked]yes is not authorized' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'publish-'));
    vsix = await createVsix(ROOT, scratch);
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await fs.rm(scratch, { recursive: true, force: true });
  });

  /** The script as the pipeline runs it, with the token in its environment. */
  function publishScript(env: NodeJS.ProcessEnv) {
    return runCommand(process.execPath, ['--import', 'tsx', 'scripts/publish.ts', '--vsix', vsix, '--service-url', serviceUrl], {
      cwd: ROOT,
      env,
      timeoutMs: 90_000,
    });
  }

  it('sends the token from MARKETPLACE_TOKEN to the Marketplace, and it appears in no output', async () => {
    const run = await publishScript({ ...process.env, [TOKEN_VARIABLE]: TOKEN });
    const authorizations = new Set(seen.map((s) => s.authorization));
    assert.deepEqual([...authorizations], [`Basic ${Buffer.from(`OAuth:${TOKEN}`).toString('base64')}`], JSON.stringify(seen));
    assert.notEqual(run.code, 0, 'the stand-in refuses every call: the publish must fail');
    assert.match(run.stderr, /tfx extension publish failed|error/i);
    assert.ok(!`${run.stdout}${run.stderr}`.includes(TOKEN), `the token is in the output:\n${run.stdout}${run.stderr}`);
  });

  it('never puts the token in tfx command line, and masks it and defuses logging commands in what it prints', () => {
    const args = publishArgs('/tmp/x.vsix', serviceUrl, ['my-test-org']);
    assert.deepEqual(args.slice(-2), ['--share-with', 'my-test-org']);
    assert.ok(!args.join(' ').includes(TOKEN), "!args.join(' ').includes(TOKEN)");
    assert.ok(!args.some((a) => /^--?t(oken)?$/.test(a)), `a token argument: ${args.join(' ')}`);
    assert.equal(
      fitForLog(`a ${TOKEN} b ##vso[task.setvariable variable=x]y ##[error]z`, TOKEN),
      'a *** b **vso[task.setvariable variable=x]y **[error]z',
    );
  });

  it('says how to give the token when it is missing or an undefined variable', async () => {
    assert.throws(() => tokenFrom({}), /MARKETPLACE_TOKEN is not set\. In azure-pipelines\.yml, map the secret variable/);
    assert.throws(() => tokenFrom({ [TOKEN_VARIABLE]: '  ' }), /is not set/);
    assert.throws(
      () => tokenFrom({ [TOKEN_VARIABLE]: '$(MarketplaceToken)' }),
      /the pipeline variable MarketplaceToken is not defined/,
    );
    assert.equal(tokenFrom({ [TOKEN_VARIABLE]: ` ${TOKEN}\n` }), TOKEN);
    const before = seen.length;
    const env = { ...process.env };
    delete env[TOKEN_VARIABLE];
    const run = await publishScript(env);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /MARKETPLACE_TOKEN is not set/);
    assert.equal(seen.length, before, 'nothing was sent without a token');
  });
});
