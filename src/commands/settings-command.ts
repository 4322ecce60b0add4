import { Command } from 'commander';
import { settingsMarkdown } from '../config';

/** `hubble-graph settings`: every setting with its env var, flag and default, as a Markdown table. */
export function settingsCommand(): Command {
  return new Command('settings').description('print every setting (env var, flag, default) as a Markdown table').action(() => {
    process.stdout.write(`${settingsMarkdown()}\n`);
  });
}
