// `npm run demo`: the main job, end to end on this machine. Starts the local Heroku, creates an
// app, makes a sample repository whose branch `feature/demo` is checked out as a detached HEAD
// (as the agent checks out), runs the built HerokuDeploy task exactly as the agent runs it, shows
// the log as Azure Pipelines renders it, then asks the app at its URL.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startEmulator } from '../test/emulator';
import { agentEnvironment, parseCommands, taskEntry } from '../test/support/agent';
import { makeRepo, tempDir } from '../test/support/git';
import { herokuApi } from '../test/support/heroku-api';

const APP = 'demo-app';

/** Renders one line of task output the way the Azure Pipelines log viewer shows it. */
function render(line: string, state: { inGroup: boolean }, mask: (text: string) => string): string | null {
  if (line.startsWith('##[group]')) {
    state.inGroup = true;
    return `▼ ${line.slice('##[group]'.length)}`;
  }
  if (line.startsWith('##[endgroup]')) {
    state.inGroup = false;
    return null;
  }
  const [command] = parseCommands(line);
  if (command) {
    if (command.name === 'task.issue' || command.name === 'task.logissue')
      return `${command.properties.type === 'error' ? '✖ Error' : '⚠ Warning'}: ${mask(command.message)}`;
    return null; // debug, secrets, variables, summary and result are not log lines
  }
  return `${state.inGroup ? '  ' : ''}${mask(line)}`;
}

/** GET through the emulator's proxy, which is how anything reaches `<app>.herokuapp.com` here. */
function fetchViaProxy(proxyUrl: string, url: string): Promise<{ status: number; body: string }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: proxy.hostname, port: proxy.port, path: url, headers: { host: new URL(url).host } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on('error', reject);
    request.end();
  });
}

async function main(): Promise<void> {
  const heroku = await startEmulator();
  try {
    console.log(`Local Heroku: API ${heroku.apiUrl}, git ${heroku.gitUrl} (everything on 127.0.0.1)\n`);
    const api = herokuApi(heroku.apiUrl, heroku.apiKey);
    const created = await api.post<{ name: string; web_url: string }>('/apps', { name: APP });
    console.log(`Created the Heroku app ${created.body.name} (${created.body.web_url})`);

    const repo = await makeRepo({ branch: 'feature/demo', message: 'Sample app' });
    const sha = await repo.commit('Say hello from the demo', {
      'message.txt': 'Hello from HerokuDeploy@1 on the local Heroku!\n',
    });
    await repo.git('checkout', '--quiet', '--detach', sha);
    console.log(`Checked out feature/demo at ${sha.slice(0, 8)} as a detached HEAD in ${repo.dir}\n`);

    const tempDirectory = await tempDir('demo-agent-');
    const env = agentEnvironment(
      {
        cwd: repo.dir,
        inputs: { appName: APP, apiKey: heroku.apiKey, ref: 'HEAD', force: 'false', workingDirectory: repo.dir },
        variables: {
          HEROKU_API_URL: heroku.apiUrl,
          HEROKU_GIT_URL: heroku.gitUrl,
          'Build.SourceBranch': 'refs/heads/feature/demo',
          'Build.SourceBranchName': 'demo',
          'Build.SourceVersion': sha,
        },
      },
      tempDirectory,
    );
    const entry = taskEntry('HerokuDeployV1');
    console.log(`── node ${path.relative(process.cwd(), entry)}  (as the agent runs HerokuDeploy@1) ──`);
    const mask = (text: string): string => text.split(heroku.apiKey).join('***');
    const state = { inGroup: false };
    let stdout = '';
    let partial = '';
    const child = spawn(process.execPath, [entry], { cwd: repo.dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const shown = render(line, state, mask);
        if (shown !== null) console.log(shown);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    const commands = parseCommands(stdout);
    const result = commands.find((c) => c.name === 'task.complete')?.properties.result ?? (code === 0 ? 'Succeeded' : 'Failed');
    console.log(`── task result: ${result} ──\n`);
    const outputs = commands.filter((c) => c.name === 'task.setvariable');
    if (outputs.length) {
      console.log('Output variables:');
      for (const output of outputs) console.log(`  ${output.properties.variable} = ${output.message}`);
      console.log('');
    }
    for (const summary of commands.filter((c) => c.name === 'task.uploadsummary')) {
      console.log('Build summary tab:');
      console.log((await fs.readFile(summary.message, 'utf8')).replace(/^/gm, '  '));
    }
    if (result !== 'Succeeded') {
      process.exitCode = 1;
      return;
    }
    const answer = await fetchViaProxy(heroku.proxyUrl, created.body.web_url);
    console.log(`GET ${created.body.web_url} -> ${answer.status}: ${answer.body.trim()}`);
    if (answer.status !== 200) process.exitCode = 1;
  } finally {
    await heroku.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
