// The YAML a user can copy from this repository: every ```yaml block of the docs and of each task's
// help, and the repository's own azure-pipelines.yml. A block whose first line is a comment starting
// `# fragment` is a fragment on purpose (only parsed, never validated as steps or a pipeline).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Kind, Problem } from './pipeline-schema';
import type { TaskJson } from '../packaging/manifest';

export interface YamlBlock {
  /** The doc it comes from: `README.md`, `tasks/HerokuDeployV1/task.json helpMarkDown`. */
  doc: string;
  /** 1-based count of the YAML blocks in that doc (0 for a whole YAML file). */
  block: number;
  /** The doc's line where the YAML starts (after the opening fence). */
  line: number;
  text: string;
  /** `fragment` when marked so; otherwise left to the shape of the YAML. */
  kind?: Kind;
}

const FRAGMENT = /^\s*#\s*fragment\b/i;

/** The ```yaml / ```yml blocks of a markdown text, in order. */
export function yamlBlocks(doc: string, markdown: string): YamlBlock[] {
  const blocks: YamlBlock[] = [];
  const lines = markdown.split(/\r?\n/);
  let open: { fence: string; yaml: boolean; start: number; lines: string[] } | undefined;
  lines.forEach((line, index) => {
    const fence = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (!open) {
      if (fence?.[1]) open = { fence: fence[1], yaml: /^ya?ml$/i.test(fence[2] ?? ''), start: index + 2, lines: [] };
      return;
    }
    if (fence?.[1]?.startsWith(open.fence) && line.trim() === fence[1]) {
      if (open.yaml) {
        const text = `${open.lines.join('\n')}\n`;
        const first = open.lines.find((l) => l.trim() !== '') ?? '';
        blocks.push({
          doc,
          block: blocks.length + 1,
          line: open.start,
          text,
          ...(FRAGMENT.test(first) ? { kind: 'fragment' as const } : {}),
        });
      }
      open = undefined;
      return;
    }
    open.lines.push(line);
  });
  return blocks;
}

/** Every YAML example of the repository at `root`, and its azure-pipelines.yml. */
export function repositoryYaml(root: string): YamlBlock[] {
  const blocks: YamlBlock[] = [];
  for (const doc of ['README.md', 'overview.md']) blocks.push(...yamlBlocks(doc, readFileSync(path.join(root, doc), 'utf8')));
  const tasks = readdirSync(path.join(root, 'tasks'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && /V\d+$/.test(e.name))
    .map((e) => e.name)
    .sort();
  for (const folder of tasks) {
    const taskJson = JSON.parse(readFileSync(path.join(root, 'tasks', folder, 'task.json'), 'utf8')) as TaskJson;
    const help: Array<[string, string | undefined]> = [
      ['description', taskJson.description],
      ['helpMarkDown', taskJson.helpMarkDown],
      ...(taskJson.inputs ?? []).map((i): [string, string | undefined] => [`inputs.${i.name}.helpMarkDown`, i.helpMarkDown]),
    ];
    for (const [field, text] of help) if (text) blocks.push(...yamlBlocks(`tasks/${folder}/task.json ${field}`, text));
    const readme = path.join(root, 'tasks', folder, 'README.md');
    if (existsSync(readme)) blocks.push(...yamlBlocks(`tasks/${folder}/README.md`, readFileSync(readme, 'utf8')));
  }
  const pipeline = path.join(root, 'azure-pipelines.yml');
  if (existsSync(pipeline)) blocks.push({ doc: 'azure-pipelines.yml', block: 0, line: 1, text: readFileSync(pipeline, 'utf8') });
  return blocks;
}

/** `README.md block 3 (line 99)`: where a person finds the block. */
export function where(block: YamlBlock): string {
  return block.block ? `${block.doc} block ${block.block} (line ${block.line})` : block.doc;
}

/** One line a person can act on: the doc, the block, and where in it (`steps/2/inputs/appNmae`, or the doc's line). */
export function describeProblem(block: YamlBlock, problem: Problem): string {
  const at = problem.line ? `line ${block.line + problem.line - 1}, column ${problem.column ?? 1}` : problem.path;
  return `${where(block)}: ${at}: ${problem.message}`;
}
