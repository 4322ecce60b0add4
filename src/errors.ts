/**
 * The error hierarchy of hubble-graph. Every error a user can see says what was wrong and, where it
 * helps, what to do; the CLI prints `message` alone (no stack) for these classes.
 */
export class HubbleGraphError extends Error {
  /** A short machine-readable code, stable across releases (used in logs and GraphQL extensions). */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** One or more settings are invalid; `problems` lists every one of them. */
export class ConfigError extends HubbleGraphError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('INVALID_CONFIG', `invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Input from outside (a file, a flow, a query argument) that cannot be used. */
export class InputError extends HubbleGraphError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BAD_INPUT', message, options);
  }
}

/** Neo4j could not be reached or refused the credentials. */
export class Neo4jUnavailableError extends HubbleGraphError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NEO4J_UNAVAILABLE', message, options);
  }
}

/** A migration file is missing, malformed, or was edited after it was applied. */
export class MigrationError extends HubbleGraphError {
  constructor(message: string) {
    super('MIGRATION', message);
  }
}

/** Something the machine lacks (Java, Maven, a free port). */
export class EnvironmentError extends HubbleGraphError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENVIRONMENT', message, options);
  }
}

/** Marks a state the code believes impossible; failing loudly beats corrupting counts. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(`invariant failed: ${message}`);
  }
}

/** The message of any thrown value, for logs. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Whether a write failed because its reader went away: EPIPE from a pipe (`| head`), or ECONNRESET
 * from a socket whose peer closed with data still unread (a parent process's `stdio: 'pipe'` is a
 * socket pair, and which of the two the writer sees depends on timing).
 */
export function isReaderGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}
