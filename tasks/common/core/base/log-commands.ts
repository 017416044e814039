// The agent obeys `##vso[...]` and `##[...]` wherever a line holds them: text from outside (build
// output, app logs, commit subjects, HTTP bodies, a tool's output) must never reach the log with them.

/**
 * The text with every `##vso[` and `##[` defused, anywhere in it, any case, so that none of it can
 * become a logging command the agent obeys. Commands meant for the agent are never written through this.
 */
export function neutralise(text: string): string {
  return text.replace(/##(vso)?\[/gi, (match) => `**${match.slice(2)}`);
}
