// The environment git children get: where the key goes (and nowhere else).
import assert from 'node:assert/strict';
import { gitEnvironment } from '../../tasks/common/core/git/git';
import { tokenForOrigin } from '../../tasks/common/core/git/history';
import { httpTransport } from '../../tasks/common/core/base/http-transport';
import { gitNetworkConfig } from '../../tasks/common/core/base/network';
import { isLoopback } from '../../tasks/common/core/base/endpoints';
import { credentialConfig } from '../../tasks/common/core/git/push';

describe('git environment', () => {
  it('passes configuration through GIT_CONFIG_*, after any the agent already set', () => {
    const env = gitEnvironment([['http.https://git.heroku.com/a.git.extraHeader', 'Authorization: Basic xyz']], {
      PATH: '/bin',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'user.name',
      GIT_CONFIG_VALUE_0: 'Agent',
      GIT_ASKPASS: '/x/askpass',
    });
    assert.equal(env.GIT_CONFIG_KEY_0, 'user.name', 'existing entries are kept');
    assert.equal(env.GIT_CONFIG_COUNT, '4');
    assert.equal(env.GIT_CONFIG_KEY_1, 'credential.helper');
    assert.equal(env.GIT_CONFIG_VALUE_1, '', 'no credential helper may answer or store');
    assert.equal(env.GIT_CONFIG_KEY_3, 'http.https://git.heroku.com/a.git.extraHeader');
    assert.equal(env.GIT_TERMINAL_PROMPT, '0');
    assert.equal(env.GIT_ASKPASS, undefined, 'no askpass program may prompt');
    assert.equal(env.LC_ALL, 'C');
    assert.equal(env.LANGUAGE, 'C', "git's messages in English, to be read");
    assert.equal(env.GCM_INTERACTIVE, 'never', 'Git Credential Manager may not prompt either');
  });

  it("scopes Heroku's credentials to the app's repository URL, and refuses redirects (git would send them on)", () => {
    assert.deepEqual(credentialConfig('https://git.heroku.com/my-app.git', 'KEY'), [
      [
        'http.https://git.heroku.com/my-app.git.extraHeader',
        `Authorization: Basic ${Buffer.from('heroku:KEY').toString('base64')}`,
      ],
      ['http.followRedirects', 'false'],
    ]);
  });

  it('applies the proxy to a URL, goes direct for a bypassed one only when a proxy exists, and adds the CA', () => {
    const network = {
      proxyConfigured: true,
      caFile: '/etc/ca.pem',
      proxyFor: (url: string) => (url.includes('bypass') ? null : { url: 'http://proxy:8080', username: 'u', password: 'p@ss' }),
    };
    assert.deepEqual(gitNetworkConfig('https://git.heroku.com/a.git', network), [
      ['http.https://git.heroku.com/a.git.proxy', 'http://u:p%40ss@proxy:8080'],
      ['http.https://git.heroku.com/a.git.sslCAInfo', '/etc/ca.pem'],
    ]);
    assert.deepEqual(gitNetworkConfig('https://bypass.example/a.git', { ...network, caFile: undefined }), [
      ['http.https://bypass.example/a.git.proxy', ''],
    ]);
    assert.deepEqual(gitNetworkConfig('https://git.heroku.com/a.git', { proxyConfigured: false, proxyFor: () => null }), []);
  });

  it("gives the pipeline's token only to its own Azure Repos host, over https", () => {
    const access = { token: 'T', repositoryUrl: 'https://dev.azure.com/org/project/_git/app' };
    assert.equal(tokenForOrigin('https://org@dev.azure.com/org/project/_git/app', access), 'T');
    assert.equal(tokenForOrigin('https://github.com/org/app.git', access), null);
    assert.equal(tokenForOrigin('git@ssh.dev.azure.com:v3/org/project/app', access), null);
    assert.equal(tokenForOrigin('http://dev.azure.com/org/project/_git/app', access), null, 'never over plain http off loopback');
    assert.equal(tokenForOrigin('https://dev.azure.com/org/project/_git/app', null), null);

    const local = { token: 'T', repositoryUrl: 'http://127.0.0.1:8080/org/project/_git/app' };
    assert.equal(tokenForOrigin('http://127.0.0.1:8080/org/project/_git/app', local), 'T', 'plain http on this machine');
    assert.equal(tokenForOrigin('ssh://127.0.0.1:8080/org/project/_git/app', local), null, 'never over another protocol');
  });

  it('switches off credential helpers and askpass first, then numbers the run configuration on from them', () => {
    const env = gitEnvironment([['http.proxy', '']], { PATH: '/bin' });
    assert.equal(env.GIT_CONFIG_COUNT, '3');
    assert.deepEqual(
      [0, 1, 2].map((i) => [env[`GIT_CONFIG_KEY_${i}`], env[`GIT_CONFIG_VALUE_${i}`]]),
      [
        ['credential.helper', ''],
        ['core.askPass', ''],
        ['http.proxy', ''],
      ],
    );
  });

  it('never sends loopback (127.x.y.z, localhost, ::1) through the proxy, whatever the bypass list says', () => {
    const network = { proxyConfigured: true, proxyFor: () => ({ url: 'http://proxy:8080', username: 'u', password: 'p' }) };
    for (const url of [
      'http://127.0.0.1:5000/a.git',
      'http://127.0.0.2:5000/a.git',
      'http://localhost:5000/a.git',
      'http://[::1]:5000/a.git',
    ])
      assert.deepEqual(gitNetworkConfig(url, network), [[`http.${url}.proxy`, '']], url);
    const api = httpTransport('http://127.0.0.1:5000', network);
    assert.equal(api.proxy, false);
    assert.equal(api.httpsAgent.constructor.name, 'Agent', 'no tunnelling agent');
    const remote = httpTransport('https://api.heroku.com', network);
    assert.equal(remote.proxy, false, 'https goes through a CONNECT tunnel, not axios proxying');
    assert.notEqual(remote.httpsAgent.constructor.name, 'Agent');
    assert.ok(
      !isLoopback('127.0.0.1.example.com') && !isLoopback('10.0.0.1') && isLoopback('LOCALHOST'),
      "!isLoopback('127.0.0.1.example.com') && !isLoopback('10.0.0.1') && isLoopback('LOCALHOST')",
    );
  });
});
