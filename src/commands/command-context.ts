import { Command, Option } from 'commander';
import { type AppConfig, SETTINGS, type SettingGroup, deprecatedSettingsGiven, loadConfig } from '../config';
import { createLogger, type Logger } from '../logger';

/**
 * Adds the flags of the given setting groups to a command; each flag's help names its environment
 * variable and default, so `--help` documents every setting the command reads.
 */
export function withSettings(command: Command, groups: readonly SettingGroup[]): Command {
  for (const def of SETTINGS) {
    if (!groups.includes(def.group) && def.group !== 'log') continue;
    const valueName = def.kind.type === 'bool' ? '[bool]' : def.kind.type === 'list' ? '<list>' : '<value>';
    const opt = new Option(
      `--${def.flag} ${valueName}`,
      `${def.help} (env ${def.env}${def.default !== undefined ? `, default ${def.default}` : ''})`,
    );
    if (def.kind.type === 'list') {
      opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), ...v.split(',').filter(Boolean)]);
    }
    command.addOption(opt);
    // A renamed setting's old flag still works, unlisted (commandContext says it is deprecated).
    if (def.deprecated) command.addOption(new Option(`--${def.deprecated.flag} ${valueName}`).hideHelp());
  }
  return command;
}

export interface CommandContext {
  readonly config: AppConfig;
  readonly log: Logger;
}

/** Validates every setting of a command (throws ConfigError listing all problems) and makes the logger. */
export function commandContext(flags: Record<string, unknown>): CommandContext {
  const normalized: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) normalized[k] = v === true ? 'true' : v;
  const config = loadConfig({ flags: normalized });
  const log = createLogger(config.logLevel);
  for (const warning of deprecatedSettingsGiven({ flags: normalized })) log.warn(warning);
  return { config, log };
}

/** Resolves when the process receives SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
