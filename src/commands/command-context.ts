import { Command, Option } from 'commander';
import { type AppConfig, SETTINGS, type SettingGroup, deprecatedSettingsGiven, loadConfig } from '../config';
import { createLogger, type Logger } from '../logger';

/** A group of settings, or one setting by its key in the config (`hubble.resumeOverlapMs`). */
export type SettingSelection = SettingGroup | `${SettingGroup}.${string}`;

/**
 * Adds the flags of the selected settings to a command (whole groups, single settings by key, less
 * the keys in `except`); each flag's help names its environment variable and default, so `--help`
 * documents every setting the command reads, and a setting it does not read is not offered as a flag.
 */
export function withSettings(command: Command, selection: readonly SettingSelection[], except: readonly string[] = []): Command {
  const unknown = [...selection.filter((s) => s.includes('.')), ...except].filter((key) => !SETTINGS.some((def) => def.key === key));
  if (unknown.length > 0) throw new Error(`${command.name()}: no setting has the key ${unknown.join(', ')}`);
  for (const def of SETTINGS) {
    const selected = def.group === 'log' || selection.includes(def.group) || selection.includes(def.key as SettingSelection);
    if (!selected || except.includes(def.key)) continue;
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
