// `npm run publish-extension`: publishes the .vsix in dist/ to the Marketplace with tfx, the personal
// access token taken from the environment variable MARKETPLACE_TOKEN (in azure-pipelines.yml, a
// secret variable mapped into the step's `env:`). tfx has no environment variable for a token: it
// reads one from `--token` (the command line, which any process on the agent can list) or from its
// prompt. The token goes to the prompt, on tfx's standard input, and never into tfx's command line,
// environment, a file or the log.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { neutralise } from '../tasks/common/core/base/log-commands';
import { DIST, ROOT } from './package';
import { runTool } from './run-tool';

export const TOKEN_VARIABLE = 'MARKETPLACE_TOKEN';
/** Publishing uploads the .vsix and waits for the Marketplace's validation to start. */
const PUBLISH_DEADLINE_MS = 10 * 60_000;

export interface PublishOptions {
  vsix?: string;
  /** Another Marketplace (the tests' stand-in on 127.0.0.1); tfx's default otherwise. */
  serviceUrl?: string;
  /** Organisations a private extension is shared with (the test organisation). */
  shareWith?: string[];
}

/** The token from the environment, or an error that says how to give it. */
export function tokenFrom(env: NodeJS.ProcessEnv): string {
  const token = env[TOKEN_VARIABLE]?.trim();
  if (!token)
    throw new Error(
      `${TOKEN_VARIABLE} is not set. In azure-pipelines.yml, map the secret variable holding the Marketplace token into the step: env: { ${TOKEN_VARIABLE}: $(MarketplaceToken) } (secret variables never reach a script's environment otherwise).`,
    );
  const macro = /^\$\(([\w.]+)\)$/.exec(token);
  if (macro)
    throw new Error(
      `${TOKEN_VARIABLE} reads $(${macro[1]}): the pipeline variable ${macro[1]} is not defined. Define it as a secret variable (Pipelines > Edit > Variables, "Keep this value secret").`,
    );
  return token;
}

/** tfx's arguments: never the token. */
export function publishArgs(vsix: string, serviceUrl?: string, shareWith: string[] = []): string[] {
  return [
    'extension',
    'publish',
    '--vsix',
    vsix,
    '--auth-type',
    'pat',
    '--no-color',
    ...(serviceUrl ? ['--service-url', serviceUrl] : []),
    ...(shareWith.length ? ['--share-with', ...shareWith] : []),
  ];
}

async function theVsix(): Promise<string> {
  const made = (await fs.readdir(DIST).catch(() => [])).filter((f) => f.endsWith('.vsix'));
  if (made.length !== 1)
    throw new Error(
      `dist/ holds ${made.length ? made.join(', ') : 'no .vsix'}: run npm run package first (it leaves exactly one), or give --vsix <file>.`,
    );
  return path.join(DIST, made[0] ?? '');
}

/** What tfx printed, fit for the log: logging commands defused and the token masked. */
export function fitForLog(text: string, token: string): string {
  return neutralise(text.split(token).join('***'));
}

export async function publish(options: PublishOptions, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const token = tokenFrom(env);
  const vsix = options.vsix ? path.resolve(options.vsix) : await theVsix();
  const tfx = require.resolve('tfx-cli/_build/tfx-cli.js', { paths: [ROOT] });
  const childEnv: NodeJS.ProcessEnv = { ...env, TFX_BYPASS_CACHE: '1', NO_COLOR: '1' };
  delete childEnv[TOKEN_VARIABLE];
  const result = await runTool(process.execPath, [tfx, ...publishArgs(vsix, options.serviceUrl, options.shareWith)], {
    cwd: ROOT,
    env: childEnv,
    input: `${token}\n`,
    deadlineMs: PUBLISH_DEADLINE_MS,
  }).catch((error: unknown) => {
    throw new Error(fitForLog(error instanceof Error ? error.message : String(error), token));
  });
  const output = fitForLog(`${result.stdout}\n${result.stderr}`.trim(), token);
  if (result.code !== 0 || /^\s*error:/im.test(output))
    throw new Error(`tfx extension publish failed (exit ${result.code}) for ${path.basename(vsix)}:\n${output}`);
  return output;
}

function parseArgs(argv: string[]): PublishOptions {
  const options: PublishOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (!value || value.startsWith('--'))
      throw new Error(
        `Unknown or incomplete argument "${arg}": npm run publish-extension takes --vsix <file>, --service-url <url> and --share-with <organisation>.`,
      );
    if (arg === '--vsix') options.vsix = value;
    else if (arg === '--service-url') options.serviceUrl = value;
    else if (arg === '--share-with') options.shareWith = [...(options.shareWith ?? []), value];
    else throw new Error(`Unknown argument "${arg}": npm run publish-extension takes --vsix, --service-url and --share-with.`);
    i++;
  }
  return options;
}

if (require.main === module) {
  Promise.resolve()
    .then(() => publish(parseArgs(process.argv.slice(2))))
    .then((output) => console.log(output))
    .catch((error: unknown) => {
      console.error(neutralise(error instanceof Error ? error.message : String(error)));
      process.exit(1);
    });
}
