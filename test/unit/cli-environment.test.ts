// The environment HerokuCli@1 gives the CLI and the script: the sign-in, the run's own state
// folders, the switches, HEROKU_HOST only for a non-default API, the agent's proxy (NO_PROXY from
// what it bypasses) and CA; and which CLI on PATH is found.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NetworkSettings } from '../../tasks/common/core/base/network';
import { scriptEnvironment, withPathFirst } from '../../tasks/common/core/cli/environment';
import { cliCommand, findOnPath } from '../../tasks/common/core/cli/install';
import { FakeHost } from '../support/fake-host';

const api = { url: 'https://api.heroku.com', isDefault: true, source: 'the default' };
const DIRECT: NetworkSettings = { proxyFor: () => null, proxyConfigured: false };

describe('HerokuCli environment', () => {
  const log = new FakeHost().log;
  const base = { PATH: '/usr/bin', HEROKU_HOST: 'stale', HEROKU_API_KEY: 'old', KEEP: 'me' };

  it("signs in by HEROKU_API_KEY, keeps the rest of the agent's environment, points the state folders into the run, and quiets the CLI", () => {
    const env = scriptEnvironment({ base, apiKey: 'the-key', api, network: DIRECT, stateRoot: '/t/run/home', urls: [], log });
    assert.equal(env.HEROKU_API_KEY, 'the-key');
    assert.equal(env.KEEP, 'me');
    assert.equal(env.HEROKU_HOST, undefined, 'a stale HEROKU_HOST would send the key elsewhere');
    assert.equal(env.XDG_CONFIG_HOME, path.join('/t/run/home', 'config'));
    assert.equal(env.XDG_CACHE_HOME, path.join('/t/run/home', 'cache'));
    assert.equal(env.XDG_DATA_HOME, path.join('/t/run/home', 'data'));
    assert.equal(env.XDG_STATE_HOME, path.join('/t/run/home', 'state'));
    assert.equal(env.HEROKU_CACHE_DIR, path.join('/t/run/home', 'cache', 'heroku'));
    assert.equal(env.HEROKU_CONFIG_DIR, path.join('/t/run/home', 'config', 'heroku'));
    assert.equal(env.HEROKU_DATA_DIR, path.join('/t/run/home', 'data', 'heroku'));
    assert.equal(env.HEROKU_SKIP_NEW_VERSION_CHECK, 'true');
    assert.equal(env.HEROKU_DISABLE_AUTOUPDATE, 'true');
    assert.equal(env.DISABLE_TELEMETRY, 'true');
    assert.equal(env.HEROKU_SKIP_ANALYTICS, '1');
    assert.equal(env.HTTPS_PROXY, undefined);
    assert.equal(env.NODE_EXTRA_CA_CERTS, undefined);
  });

  it('sets HEROKU_HOST for a non-default API base', () => {
    const local = { url: 'http://127.0.0.1:5000', isDefault: false, source: 'the variable HEROKU_API_URL' };
    assert.equal(
      scriptEnvironment({ base, apiKey: 'k', api: local, network: DIRECT, stateRoot: '/r', urls: [], log }).HEROKU_HOST,
      local.url,
    );
  });

  it("passes the agent's proxy with its credentials (masked), NO_PROXY for what it bypasses, and its CA", () => {
    const host = new FakeHost();
    const network: NetworkSettings = {
      proxyConfigured: true,
      proxyFor: (url) => (url.includes('git.heroku.com') ? null : { url: 'http://proxy:3128', username: 'u', password: 'p w' }),
      caFile: '/etc/agent-ca.pem',
    };
    const env = scriptEnvironment({
      base,
      apiKey: 'k',
      api,
      network,
      stateRoot: '/r',
      urls: ['https://mirror.corp'],
      log: host.log,
    });
    assert.equal(env.HTTPS_PROXY, 'http://u:p%20w@proxy:3128');
    assert.equal(env.http_proxy, env.HTTPS_PROXY);
    assert.equal(env.NO_PROXY, '127.0.0.1,localhost,::1,git.heroku.com');
    assert.equal(env.no_proxy, env.NO_PROXY);
    assert.equal(env.NODE_EXTRA_CA_CERTS, '/etc/agent-ca.pem');
    assert.deepEqual(host.secrets, ['http://u:p%20w@proxy:3128']);
  });

  it("masks the proxy URL only when it carries a password, and keeps the agent's own CA bundle when no CA is set", () => {
    const host = new FakeHost();
    const network: NetworkSettings = { proxyConfigured: true, proxyFor: () => ({ url: 'http://proxy:3128' }) };
    const env = scriptEnvironment({
      base: { ...base, NODE_EXTRA_CA_CERTS: '/agent/ca.pem' },
      apiKey: 'k',
      api,
      network,
      stateRoot: '/r',
      urls: [],
      log: host.log,
    });
    assert.equal(env.HTTPS_PROXY, 'http://proxy:3128');
    assert.deepEqual(host.secrets, [], 'nothing secret to mask');
    assert.equal(env.NODE_EXTRA_CA_CERTS, '/agent/ca.pem');
    assert.ok('NODE_EXTRA_CA_CERTS' in env, 'kept');
  });

  it('puts a folder on PATH when there is no PATH yet, and finds PATH among other variables', () => {
    assert.deepEqual(withPathFirst({ HOME: '/h' }, '/cli'), { HOME: '/h', PATH: '/cli' });
    assert.deepEqual(withPathFirst({ AAA: 'x', Path: '/a' }, '/cli'), { AAA: 'x', Path: `/cli${path.delimiter}/a` });
  });

  it('puts a folder first on PATH once, under whatever name the platform gives PATH', () => {
    const env = withPathFirst({ Path: `/a${path.delimiter}/cli${path.delimiter}/b` }, '/cli');
    assert.deepEqual(env, { Path: `/cli${path.delimiter}/a${path.delimiter}/b` });
  });

  it('finds a heroku executable on PATH, and nothing when there is none', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-path-'));
    try {
      const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-path-empty-'));
      await fs.mkdir(path.join(empty, 'heroku'));
      assert.equal(findOnPath({ PATH: `${empty}:/nonexistent` }, 'linux'), null, 'a folder named heroku is no CLI');
      await fs.writeFile(path.join(dir, 'heroku'), '', { mode: 0o644 });
      assert.equal(findOnPath({ PATH: dir }, 'linux'), null, 'a file that cannot be executed is no CLI');
      await fs.chmod(path.join(dir, 'heroku'), 0o755);
      assert.equal(findOnPath({ PATH: `/nonexistent::${empty}:${dir}` }, 'linux'), dir);
      await fs.writeFile(path.join(dir, 'heroku.cmd'), '');
      assert.equal(findOnPath({ Path: `${empty};${dir}` }, 'win32'), dir);
      await fs.rm(empty, { recursive: true });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('finds each Windows form of the CLI, and skips empty PATH entries (they would mean the current folder)', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'cli-path-forms-'));
    const cwd = process.cwd();
    try {
      for (const name of ['heroku.exe', 'heroku.bat']) {
        await fs.mkdir(path.join(root, name));
        await fs.writeFile(path.join(root, name, name), '');
        assert.equal(findOnPath({ Path: path.join(root, name) }, 'win32'), path.join(root, name), name);
        assert.equal(findOnPath({ PATH: path.join(root, name) }, 'linux'), null, `${name} is no CLI on Linux`);
      }
      await fs.writeFile(path.join(root, 'heroku'), '', { mode: 0o755 });
      process.chdir(root);
      assert.equal(
        findOnPath({ PATH: `:${path.join(root, 'heroku.exe')}:` }, 'linux'),
        null,
        'the current folder is not searched',
      );
      assert.equal(findOnPath({}, 'linux'), null, 'no PATH, no CLI');
    } finally {
      process.chdir(cwd);
      await fs.rm(root, { recursive: true, force: true });
    }
  });

  it('passes every argument to the CLI through cmd.exe', () => {
    assert.deepEqual(
      cliCommand('C:\\h\\bin', 'win32', ['apps:info', '-a', 'my-app']).args.at(-1),
      `""${path.join('C:\\h\\bin', 'heroku.cmd')}" apps:info -a my-app"`,
    );
  });

  it('runs the CLI directly on POSIX and through cmd.exe on Windows', () => {
    assert.deepEqual(cliCommand('/tools/heroku/bin', 'linux', ['--version']), {
      command: path.join('/tools/heroku/bin', 'heroku'),
      args: ['--version'],
    });
    assert.deepEqual(cliCommand('C:\\tools\\heroku\\bin', 'win32', ['--version']), {
      command: 'cmd.exe',
      args: ['/D', '/S', '/C', `""${path.join('C:\\tools\\heroku\\bin', 'heroku.cmd')}" --version"`],
    });
  });
});
