// `npm run emulator`: the local Heroku on its own until Ctrl-C.
// `npm run emulator -- --json` prints one line {"apiUrl","gitUrl","apiKey","proxyUrl"} once ready.
// HEROKU_EMULATOR_LATENCY_MS=100 holds every Platform API answer back 100 ms (a round trip to Heroku).
import { startEmulator } from './index';

/** HEROKU_EMULATOR_LATENCY_MS: a whole number of milliseconds, or nothing. */
function latencyFromEnvironment(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  if (!/^\d+$/.test(value.trim()) || Number(value) > 60_000)
    throw new Error(`HEROKU_EMULATOR_LATENCY_MS must be a whole number of milliseconds up to 60000, not "${value}".`);
  return Number(value);
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const latencyMs = latencyFromEnvironment(process.env.HEROKU_EMULATOR_LATENCY_MS);
  const heroku = await startEmulator({ latencyMs });
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ apiUrl: heroku.apiUrl, gitUrl: heroku.gitUrl, apiKey: heroku.apiKey, proxyUrl: heroku.proxyUrl })}\n`,
    );
  } else {
    console.log('Local Heroku emulator ready.');
    console.log(`  Platform API  ${heroku.apiUrl}`);
    console.log(`  Git           ${heroku.gitUrl}/<app>.git`);
    console.log(`  App proxy     ${heroku.proxyUrl}   (reaches each app's web_url)`);
    console.log(`  API key       ${heroku.apiKey}   (account ${heroku.account.email}; may create apps)`);
    if (latencyMs) console.log(`  Latency       every API answer held back ${latencyMs} ms (HEROKU_EMULATOR_LATENCY_MS)`);
    console.log('');
    console.log('Try it:');
    console.log(`  HEROKU_HOST=${heroku.apiUrl} HEROKU_API_KEY=${heroku.apiKey} npx heroku apps:create my-app`);
    console.log(
      `  curl -s -H 'Accept: application/vnd.heroku+json; version=3' -H 'Authorization: Bearer ${heroku.apiKey}' ${heroku.apiUrl}/account`,
    );
    console.log(
      `  git -c http.extraHeader="Authorization: Basic $(printf ':%s' ${heroku.apiKey} | base64 -w0)" push ${heroku.gitUrl}/my-app.git HEAD:main`,
    );
    console.log(`  curl -x ${heroku.proxyUrl} http://my-app-<suffix>.herokuapp.com/`);
    console.log('');
    console.log('Ctrl-C stops it and removes its state.');
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    heroku.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
