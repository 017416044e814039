// What starting a task costs: the bundle loads none of Node's fetch implementation (undici), which
// axios would otherwise pull in at load time for adapters and a FormData class the tasks never use
// (scripts/build.ts leaves them out), and the tasks whose start-up matters load no HTTP stack until
// they make a request (core/base/http-loader.ts). Every millisecond here is paid by every deploy.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { taskEntry } from '../support/agent';
import { tempDir } from '../support/git';
import { sourceTaskFolders } from './manifest';

/** Node's own modules loaded by the time `entry` exits (it fails at once: no inputs). */
async function modulesLoaded(entry: string): Promise<string[]> {
  const dir = await tempDir('bundle-start-');
  const preload = path.join(dir, 'record.js');
  const out = path.join(dir, 'loaded.json');
  await fs.writeFile(
    preload,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));\n`,
  );
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', preload, entry], {
      cwd: dir,
      env: { PATH: process.env.PATH, AGENT_TEMPDIRECTORY: dir },
      stdio: 'ignore',
    });
    child.on('error', reject);
    child.on('close', () => resolve());
  });
  return JSON.parse(await fs.readFile(out, 'utf8')) as string[];
}

describe('task bundles: start-up', () => {
  for (const task of sourceTaskFolders()) {
    it(`${task} loads no fetch implementation (undici) when it starts`, async () => {
      const loaded = await modulesLoaded(taskEntry(task));
      assert.ok(
        loaded.some((m) => m === 'NativeModule child_process'),
        `the record works: ${loaded.length} modules`,
      );
      assert.deepEqual(
        loaded.filter((m) => /undici/.test(m)),
        [],
      );
    });

    // HerokuRun attaches with its own TLS client (rendezvous), HerokuCli downloads with tool-lib's.
    if (!['HerokuRunV1', 'HerokuCliV1'].includes(task)) {
      it(`${task} loads no HTTP stack (axios, http, https, http2, tls, zlib) before its first request`, async () => {
        const loaded = await modulesLoaded(taskEntry(task));
        assert.deepEqual(
          loaded.filter((m) => /^NativeModule (http|https|http2|tls|zlib)$/.test(m)),
          [],
          'a task that fails on its inputs has made no request, so it has no reason to load them',
        );
      });
    }

    it(`${task} carries task-lib's English messages and none of their translations, nor its tool runner`, async () => {
      const bundle = await fs.readFile(taskEntry(task), 'utf8');
      assert.ok(bundle.includes('Input required: %s'), "task-lib's English messages are bundled");
      assert.ok(!bundle.includes('Eingabe erforderlich'), 'the German translation is left out');
      assert.ok(bundle.includes("task-lib's tool runner is not bundled in this task"), "task-lib's tool runner is left out");
    });
  }
});
