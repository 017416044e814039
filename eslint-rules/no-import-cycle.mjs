// An ESLint rule: no import circle through relative imports, type-only imports included.
// (import-x/no-cycle skips `import type`, and a circle of types today is a load-order bug the day a
// constant moves across it.) Other files are read from disk with TypeScript's import scanner; the
// file being linted is read from its source, so that an editor sees a circle as it is typed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** file -> the files it imports (relative imports only), read once per lint run. */
const graph = new Map();

function resolve(from, specifier) {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, base, path.join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function importsIn(file, text) {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => resolve(file, specifier))
    .filter(Boolean);
}

function importsOf(file) {
  if (!graph.has(file)) graph.set(file, importsIn(file, readFileSync(file, 'utf8')));
  return graph.get(file);
}

/** The shortest import path from `start` back to `file`, or null. */
function pathBack(start, file) {
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const current = queue.shift();
    if (current === file) {
      const chain = [];
      for (let at = current; at !== null; at = previous.get(at)) chain.unshift(at);
      return chain;
    }
    for (const next of importsOf(current)) {
      if (!previous.has(next)) {
        previous.set(next, current);
        queue.push(next);
      }
    }
  }
  return null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import circles, type-only imports included' },
    messages: { cycle: 'Import circle: {{chain}}. Move what both sides need (often a type) into a module of its own.' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const target = resolve(file, specifier);
      const chain = target && pathBack(target, file);
      if (!chain) return;
      const root = context.cwd ?? process.cwd();
      context.report({
        node,
        messageId: 'cycle',
        data: { chain: [file, ...chain].map((f) => path.relative(root, f)).join(' -> ') },
      });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};
