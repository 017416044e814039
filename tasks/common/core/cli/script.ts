// The script as a command line, for each script type, as AzureCLI@2 and CmdLine@2 run them: bash
// with `-e -o pipefail` and no profile; PowerShell (pwsh or Windows PowerShell) through a wrapper
// that stops on errors and returns the last native exit code; cmd.exe with CALL. An inline script
// is written to a file in the run's folder (removed with it). Only the program names are per shell:
// every path comes from the inputs and the agent's temp directory.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TaskError } from '../base/errors';
import type { ScriptRequest, ScriptType } from './types';

export interface ScriptCommand {
  command: string;
  args: string[];
  /** cmd.exe parses its own command line: Node must pass it as it is. */
  windowsVerbatimArguments: boolean;
  /** What the log calls it: `bash`, `pwsh`. */
  shell: string;
}

const EXTENSION: Record<ScriptType, string> = { bash: '.sh', pscore: '.ps1', ps: '.ps1', batch: '.cmd' };

/**
 * Arguments split as a shell would, without expanding anything: spaces separate, double quotes
 * group (`\"` and `\\` inside them stand for `"` and `\`), single quotes group literally.
 */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let current = '';
  let started = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
    } else if (quote === '"') {
      const next = text.charAt(i + 1);
      if (c === '\\' && (next === '"' || next === '\\')) {
        current += next;
        i++;
      } else if (c === '"') quote = null;
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += c;
      started = true;
    }
  }
  if (quote)
    throw new TaskError(
      'input',
      `The input arguments has an unclosed ${quote} quote: close it, or escape it inside double quotes (\\").`,
    );
  if (started) args.push(current);
  return args;
}

/** A PowerShell single-quoted string. */
const psQuoted = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** The program that runs a script type on this platform. */
export function shellFor(type: ScriptType): string {
  return { bash: 'bash', pscore: 'pwsh', ps: 'powershell.exe', batch: 'cmd.exe' }[type];
}

/**
 * Writes what the script needs into `runDir` (the inline script, PowerShell's wrapper) and returns
 * the command that runs it.
 */
export async function prepareScript(script: ScriptRequest, runDir: string, platform: NodeJS.Platform): Promise<ScriptCommand> {
  let file: string;
  if (script.source.kind === 'inline') {
    file = path.join(runDir, `script${EXTENSION[script.type]}`);
    await fs.writeFile(file, script.source.text, { encoding: 'utf8', mode: 0o700 });
  } else file = script.source.path;
  const shell = shellFor(script.type);
  switch (script.type) {
    case 'bash': {
      // Git Bash on Windows reads forward slashes.
      const scriptPath = platform === 'win32' ? file.replace(/\\/g, '/') : file;
      return {
        command: shell,
        args: ['--noprofile', '--norc', '-e', '-o', 'pipefail', scriptPath, ...splitArguments(script.arguments)],
        windowsVerbatimArguments: false,
        shell,
      };
    }
    case 'pscore':
    case 'ps': {
      // PowerShell parses the arguments itself, as in AzureCLI@2.
      const wrapper = path.join(runDir, 'run.ps1');
      await fs.writeFile(
        wrapper,
        [
          "$ErrorActionPreference = 'Stop'",
          "$ProgressPreference = 'SilentlyContinue'",
          `. ${psQuoted(file)} ${script.arguments}`.trimEnd(),
          'if (!(Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit 0 }',
          'exit $LASTEXITCODE',
          '',
        ].join('\n'),
        { encoding: 'utf8', mode: 0o700 },
      );
      return {
        command: shell,
        args: [
          '-NoLogo',
          '-NoProfile',
          '-NonInteractive',
          '-ExecutionPolicy',
          'Unrestricted',
          '-Command',
          `. ${psQuoted(wrapper)}`,
        ],
        windowsVerbatimArguments: false,
        shell,
      };
    }
    case 'batch':
      // As CmdLine@2: cmd.exe /D (no AutoRun) /E:ON /V:OFF /S /C "CALL "<file>" <arguments>".
      return {
        command: shell,
        args: ['/D', '/E:ON', '/V:OFF', '/S', '/C', `"CALL "${file}"${script.arguments ? ` ${script.arguments}` : ''}"`],
        windowsVerbatimArguments: true,
        shell,
      };
  }
}
