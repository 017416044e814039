// Checks on what the user typed, made before any network call.
import { TaskError } from './errors';

/** Heroku's app name rule: 3 to 30 characters, lowercase letters, digits and dashes, starting with a letter. */
export const APP_NAME = /^[a-z][a-z0-9-]{1,28}[a-z0-9]$/;

/**
 * The agent leaves an undefined `$(NAME)` macro as it is: an input still reading `$(NAME)`
 * means the pipeline variable NAME does not exist. Returns NAME, or undefined.
 */
export function undefinedVariable(value: string | undefined): string | undefined {
  // Only a variable name is a macro (letters, digits, `_`, `.`, `-`): other `$(...)` text is literal.
  return value ? /\$\(([A-Za-z_][\w.-]*)\)/.exec(value)?.[1] : undefined;
}

export function undefinedVariableError(input: string, variable: string): TaskError {
  return new TaskError(
    'input',
    `The input ${input} reads $(${variable}), but the pipeline variable ${variable} is not defined. ` +
      `Define ${variable} (as a secret variable if it holds a key: Pipelines > Edit > Variables, or a variable group), or fix its name in the ${input} input.`,
  );
}

/** Rejects an input that still holds an undefined `$(NAME)` macro. */
export function requireDefined(input: string, value: string | undefined): void {
  const variable = undefinedVariable(value);
  if (variable) throw undefinedVariableError(input, variable);
}

/** A Heroku app name; `role` says what the app is for, in the message for an empty input. */
export function validateAppName(value: string | undefined, input = 'appName', role = 'to deploy to'): string {
  const name = (value ?? '').trim();
  if (!name)
    throw new TaskError(
      'input',
      `The input ${input} is empty: give the name of the Heroku app ${role} (as shown by \`heroku apps\`).`,
    );
  requireDefined(input, name);
  if (!APP_NAME.test(name)) {
    const hint = APP_NAME.test(name.toLowerCase()) ? ` Did you mean "${name.toLowerCase()}"?` : '';
    throw new TaskError(
      'input',
      `"${name}" is not a valid Heroku app name: app names are 3 to 30 lowercase letters, digits and dashes, start with a letter and end with a letter or digit.${hint}`,
    );
  }
  return name;
}

/**
 * The API key as Heroku expects it: surrounding whitespace (a trailing newline from a file or a
 * copy-paste) removed. The format is never checked: Heroku issues several formats.
 */
export function normalizeApiKey(value: string | undefined, source: string): string {
  requireDefined(source, value);
  return (value ?? '').trim();
}

/** What to deploy: a ref, commit or revision (`HEAD~1`) git can resolve, never an option. */
export function validateRef(value: string | undefined): string {
  const ref = (value ?? '').trim() || 'HEAD';
  requireDefined('ref', ref);
  if (ref.startsWith('-') || /[\s\p{Cc}]/u.test(ref)) {
    throw new TaskError(
      'input',
      `The input ref "${ref}" is not a git ref or commit: use a branch, tag or commit SHA of the checkout, or leave it empty to deploy the checked-out commit (HEAD).`,
    );
  }
  return ref;
}

/** Heroku app names separated by commas, spaces or line breaks (each checked), without repeats; empty for none. */
export function validateAppNames(value: string | undefined, input: string): string[] {
  requireDefined(input, value);
  // Stryker disable next-line Regex: the empty strings a single-character separator leaves are filtered out
  const names = (value ?? '').split(/[\s,]+/).filter(Boolean);
  return [...new Set(names.map((name) => validateAppName(name, input)))];
}

/**
 * A commit SHA (full, or abbreviated to at least 7 hex digits), lowercased; null when empty. A
 * branch or tag name is refused: only a SHA says exactly which build was tested.
 */
export function validateCommitSha(value: string | undefined, input: string): string | null {
  const sha = (value ?? '').trim();
  if (!sha) return null;
  requireDefined(input, sha);
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) {
    throw new TaskError(
      'input',
      `The input ${input} is "${sha}", which is not a commit SHA: give the full SHA the pipeline built, e.g. $(Build.SourceVersion) or the deploy stage's commit output, or leave it empty to skip the check.`,
    );
  }
  return sha.toLowerCase();
}

/**
 * `KEY=VALUE` lines (configVars, a one-off dyno's env): lines end at LF, CRLF or CR; blank lines and
 * `# comments` are skipped; spaces around the key and the value are trimmed; keys are letters, digits
 * and underscores, each once. A bad line is named by its number, never shown: its value may be secret.
 * `hint` ends the message for a line that is not KEY=VALUE (what the input's lines mean).
 */
export function parseKeyValueLines(value: string, input: string, hint: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const bad = (message: string): TaskError => new TaskError('input', `The input ${input} ${message}`);
  value.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    // Only the variable's name is printed, never the text around it (it may be part of a secret).
    const missing = undefinedVariable(line);
    if (missing) throw bad(`line ${index + 1} uses $(${missing}), but the pipeline variable ${missing} is not defined.`);
    const eq = line.indexOf('=');
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a line without = (or starting with it) is refused below whatever key is taken from it
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    // Stryker disable next-line EqualityOperator: at eq = 0 the key is empty, which the key pattern refuses too
    if (eq < 0 || !/^\w+$/.test(key))
      throw bad(
        `line ${index + 1} is not KEY=VALUE (keys are letters, digits and underscores; ${hint}). The line is not shown here: its value may be secret.`,
      );
    if (pairs.some(([k]) => k === key)) throw bad(`sets ${key} twice (line ${index + 1}).`);
    pairs.push([key, line.slice(eq + 1).trim()]);
  });
  return pairs;
}
