import pino from 'pino';

export type Logger = pino.Logger;

/** Log levels accepted by `LOG_LEVEL` / `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON logs on stderr (one object per line, pino's format), so that stdout stays free for command
 * output such as `cypher` records.
 */
export function createLogger(level: LogLevel, name = 'hubble-graph'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
