// Installed as each app repository's pre-receive and post-receive hook. receive-pack runs it with
// the pushed refs on stdin; it hands them to the emulator (which holds the app's state) and prints
// what the emulator answers, so that git shows it to the pusher as `remote: ...` lines.
'use strict';
const http = require('node:http');

module.exports = function relay(hook) {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', () => {
    const payload = JSON.stringify({
      hook,
      stdin: Buffer.concat(chunks).toString('utf8'),
      objectDirectory: process.env.GIT_OBJECT_DIRECTORY || null,
      alternates: process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES || null,
      quarantine: process.env.GIT_QUARANTINE_PATH || null,
    });
    const request = http.request(
      `${process.env.EMULATOR_HOOK_URL}/${process.env.EMULATOR_PUSH_ID}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-emulator-hook-token': process.env.EMULATOR_HOOK_TOKEN || '' },
      },
      (response) => {
        let exitCode = 1;
        let pending = '';
        response.setEncoding('utf8');
        response.on('data', (text) => {
          const lines = (pending + text).split('\n');
          pending = lines.pop();
          for (const line of lines) {
            const exit = /^::emulator-hook-exit (\d+)$/.exec(line);
            if (exit) exitCode = Number(exit[1]);
            else process.stdout.write(`${line}\n`);
          }
        });
        response.on('end', () => process.exit(exitCode));
      },
    );
    request.on('error', (error) => {
      process.stdout.write(` !     Heroku emulator unreachable from the ${hook} hook: ${error.message}\n`);
      process.exit(1);
    });
    request.end(payload);
  });
};
