// The team's shared folder (../shared beside the clone): Heroku's Platform API schema and Azure
// Pipelines' schemas. Found by walking up from here, so that a copy of the tree one level deeper
// (Stryker's sandbox, .stryker-tmp/sandbox-*/) finds it as well.
import { existsSync } from 'node:fs';
import path from 'node:path';

function sharedFolder(): string {
  for (let dir = path.resolve(__dirname, '../..'); ; dir = path.dirname(dir)) {
    const candidate = path.join(path.dirname(dir), 'shared');
    if (existsSync(path.join(candidate, 'heroku-platform-api'))) return candidate;
    if (path.dirname(dir) === dir)
      throw new Error(
        `no shared/ folder (with heroku-platform-api/) beside ${path.resolve(__dirname, '../..')} or any folder above it`,
      );
  }
}

/** A path inside the shared folder, e.g. `sharedPath('heroku-platform-api', 'schema.json')`. */
export function sharedPath(...parts: string[]): string {
  return path.join(sharedFolder(), ...parts);
}
