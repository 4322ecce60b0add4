import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { ApiConfig } from '../config';
import { ConfigError, errorMessage } from '../errors';
import type { Logger } from '../logger';

/** The accepted bearer tokens, compared in constant time. */
export class TokenSet {
  private readonly digests: Buffer[];

  /**
   * @param tokens the accepted tokens
   * @param required authentication stays on even when `tokens` is empty (a tokens file that was
   *   emptied refuses everyone rather than letting everyone in)
   */
  constructor(
    tokens: readonly string[],
    private readonly required = false,
  ) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.required || this.digests.length > 0;
  }

  /** Whether an `Authorization` value (`Bearer <token>`) carries an accepted token. */
  accepts(authorization: unknown): boolean {
    if (!this.enabled) return true;
    const token = bearerToken(authorization);
    if (token === undefined) return false;
    const d = digest(token);
    let ok = false;
    for (const known of this.digests) ok = timingSafeEqual(known, d) || ok;
    return ok;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The token of `Bearer <token>` (scheme case-insensitive), or undefined. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[1] : undefined;
}

/** The tokens of a tokens file: one per line, blank lines and `#` comments skipped. */
export function parseTokensFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((t) => t && !t.startsWith('#'));
}

const FILE_SETTING = 'HG_API_TOKENS_FILE / --tokens-file';

/** Tokens from HG_API_TOKENS (comma-separated) and HG_API_TOKENS_FILE (one per line, `#` comments). */
export function loadTokens(api: Pick<ApiConfig, 'tokens' | 'tokensFile'>): TokenSet {
  const tokens = envTokens(api);
  if (api.tokensFile) {
    let text: string;
    try {
      text = fs.readFileSync(api.tokensFile, 'utf8');
    } catch (err) {
      throw new ConfigError([`${FILE_SETTING}: cannot read ${api.tokensFile}: ${errorMessage(err)}`]);
    }
    tokens.push(...parseTokensFile(text));
    if (tokens.length === 0) throw new ConfigError([`${FILE_SETTING}: ${api.tokensFile} holds no token`]);
  }
  return new TokenSet(tokens, tokens.length > 0);
}

function envTokens(api: Pick<ApiConfig, 'tokens'>): string[] {
  return (api.tokens ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

/** How often the tokens file is checked for changes, in ms. */
const TOKENS_FILE_POLL_MS = 1000;
/** How long a changed tokens file must stay unchanged before it is read, in ms. */
const TOKENS_FILE_SETTLE_MS = 300;

/** Whether two stats of a file say the same file with the same contents (size, times, inode). */
function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.ino === b.ino;
}

/**
 * Reads HG_API_TOKENS_FILE again whenever it changes (checked every second by its size, times and
 * inode, so that editors that replace the file are seen too) and hands the new token set, with the
 * HG_API_TOKENS tokens, to `onReload`. A change is read once the file has stayed unchanged for
 * TOKENS_FILE_SETTLE_MS (checked again then, and waited for again while it changes): an editor
 * that truncates the file and then writes it (not an atomic replace) would otherwise be caught in
 * between, with every token, or the one being written, refused until the next check. An unreadable
 * file keeps the tokens in use (with a warning); an emptied one refuses every token it held.
 * Returns the disposer; does nothing without a file.
 */
export function watchTokensFile(
  api: Pick<ApiConfig, 'tokens' | 'tokensFile'>,
  log: Logger,
  onReload: (tokens: TokenSet) => void,
): () => void {
  const file = api.tokensFile;
  if (!file) return () => undefined;
  let settling: NodeJS.Timeout | undefined;
  const read = () => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      log.warn({ file, err: errorMessage(err) }, 'tokens file unreadable; keeping the tokens in use');
      return;
    }
    const fromFile = parseTokensFile(text);
    if (fromFile.length === 0) log.warn({ file }, 'tokens file holds no token: its former tokens are refused');
    onReload(new TokenSet([...envTokens(api), ...fromFile], true));
    log.info({ file, tokens: fromFile.length }, 'tokens file read again');
  };
  // After a change seen as `seen`: read once the file is still as it was then, else wait again.
  const settle = (seen: fs.Stats) => {
    clearTimeout(settling);
    settling = setTimeout(() => {
      settling = undefined;
      let now: fs.Stats;
      try {
        now = fs.statSync(file);
      } catch {
        return read(); // gone or unreadable: read says so and keeps the tokens
      }
      if (sameFile(now, seen)) read();
      else settle(now);
    }, TOKENS_FILE_SETTLE_MS);
    settling.unref();
  };
  const listener = (curr: fs.Stats, prev: fs.Stats) => {
    if (!sameFile(curr, prev)) settle(curr);
  };
  fs.watchFile(file, { interval: TOKENS_FILE_POLL_MS }, listener);
  return () => {
    clearTimeout(settling);
    fs.unwatchFile(file, listener);
  };
}
