// `npm run build`: each tasks/<Name>V<Major>/ becomes build/tasks/<Name>V<Major>/ — task.json, its
// icon and one bundled entry file, exactly what ships in the .vsix and what the tests run.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'build', 'tasks');

interface TaskJson {
  name: string;
  execution: Record<string, { target: string }>;
}

export async function taskFolders(): Promise<string[]> {
  const entries = await fs.readdir(path.join(ROOT, 'tasks'), { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && /V\d+$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Modules of axios that these tasks never run, left out of the bundle (each would cost start-up):
 * - form-data (and with it mime-db, 150 KB), for multipart bodies, which the tasks never send;
 * - the fetch adapter, which at load time builds a test Request and so loads Node's whole fetch
 *   implementation (undici); the tasks use the http adapter, named in every request;
 * - the XMLHttpRequest adapter, for browsers.
 * A stand-in that says so is bundled instead, in case one is ever reached.
 * And of task-lib, its tool runner (with the promise library q, 34 KB): the tasks start their
 * programs themselves (core/base/run-process.ts), with deadlines, caps and cancel it lacks. Its
 * stand-in throws if `tl.tool` or `tl.exec` is ever called.
 * And of task-lib's own messages only the English ones (64 KB with the nine translations, 8 KB
 * without): the tasks' messages are English, and task-lib falls back to English for any culture.
 * The tests check that loading a task loads none of Node's fetch, and that the English messages are
 * there (test/packaging/bundle.test.ts).
 */
const withoutUnusedModules: Plugin = {
  name: 'without-unused-modules',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^form-data$/ }, () => ({ path: 'form-data', namespace: 'stub' }));
    pluginBuild.onResolve({ filter: /^\.\/(fetch|xhr)\.js$/ }, (args) =>
      /[\\/]axios[\\/]lib[\\/]adapters$/.test(args.resolveDir) ? { path: args.path, namespace: 'stub' } : undefined,
    );
    pluginBuild.onLoad({ filter: /^form-data$/, namespace: 'stub' }, () => ({
      contents:
        'module.exports = class FormData { constructor() { throw new Error("multipart form data is not bundled in this task"); } };',
      loader: 'js',
    }));
    // adapters.js reads `getFetch` (fetch) and the default export (xhr); false means "not supported here".
    pluginBuild.onLoad({ filter: /^\.\/(fetch|xhr)\.js$/, namespace: 'stub' }, () => ({
      contents: 'export const getFetch = () => false; export default false;',
      loader: 'js',
    }));
    pluginBuild.onResolve({ filter: /^\.\/toolrunner$/ }, (args) =>
      /[\\/]azure-pipelines-task-lib$/.test(args.resolveDir) ? { path: 'task-lib-toolrunner', namespace: 'stub' } : undefined,
    );
    pluginBuild.onLoad({ filter: /^task-lib-toolrunner$/, namespace: 'stub' }, () => ({
      contents:
        'exports.ToolRunner = class ToolRunner { constructor() { throw new Error("task-lib\'s tool runner is not bundled in this task"); } };',
      loader: 'js',
    }));
    pluginBuild.onLoad({ filter: /[\\/]azure-pipelines-task-lib[\\/]lib-resource\.js$/ }, async (args) => {
      const resource = ((await import(args.path)) as { default: { messages?: Record<string, string> } }).default;
      if (!resource.messages?.LIB_InputRequired)
        throw new Error(`${args.path} no longer has task-lib's messages where scripts/build.ts expects them: update its trim.`);
      return { contents: `module.exports = ${JSON.stringify({ messages: resource.messages })};`, loader: 'js' };
    });
    // axios's utils read globalThis.FormData at load time, which makes Node load its fetch
    // implementation (undici, tens of ms) for a FormData class the tasks never send. Without it,
    // isFormData still knows a FormData by its tag.
    pluginBuild.onLoad({ filter: /[\\/]axios[\\/]lib[\\/]utils\.js$/ }, async (args) => {
      const source = await fs.readFile(args.path, 'utf8');
      const read = "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;";
      if (!source.includes(read))
        throw new Error(`${args.path} no longer reads G.FormData as scripts/build.ts expects: update its start-up trim.`);
      return { contents: source.replace(read, 'const FormDataCtor = undefined;'), loader: 'js' };
    });
  },
};

async function buildTask(folder: string): Promise<void> {
  const source = path.join(ROOT, 'tasks', folder);
  const out = path.join(OUT, folder);
  const taskJson = JSON.parse(await fs.readFile(path.join(source, 'task.json'), 'utf8')) as TaskJson;
  const targets = new Set(Object.values(taskJson.execution).map((e) => e.target));
  await fs.mkdir(out, { recursive: true });
  for (const target of targets) {
    const result = await build({
      entryPoints: [path.join(source, target.replace(/\.js$/, '.ts'))],
      outfile: path.join(out, target),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      minify: true,
      legalComments: 'eof',
      plugins: [withoutUnusedModules],
      logLevel: 'error',
      // task-lib loads a task's resource file with a runtime require of a path: leave it be.
      logOverride: { 'unsupported-require-call': 'silent' },
    });
    if (result.warnings.length) console.warn(result.warnings);
  }
  for (const file of ['task.json', 'icon.png']) await fs.copyFile(path.join(source, file), path.join(out, file));
  const size = (await fs.stat(path.join(out, [...targets][0] ?? 'index.js'))).size;
  console.log(`built build/tasks/${folder} (${taskJson.name}, ${Math.round(size / 1024)} KB bundle)`);
}

/** Builds every task into build/tasks/ (what `npm run build` runs; also the first step of `npm run package`). */
export async function main(): Promise<void> {
  await fs.rm(OUT, { recursive: true, force: true });
  for (const folder of await taskFolders()) await buildTask(folder);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
