import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { ApiConfig } from '../config';
import { ConfigError, errorMessage } from '../errors';

/** The accepted bearer tokens, compared in constant time; empty means authentication is off. */
export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get enabled(): boolean {
    return this.digests.length > 0;
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

/** Tokens from HG_API_TOKENS (comma-separated) and HG_API_TOKENS_FILE (one per line, `#` comments). */
export function loadTokens(api: Pick<ApiConfig, 'tokens' | 'tokensFile'>): TokenSet {
  const tokens = (api.tokens ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (api.tokensFile) {
    let text: string;
    try {
      text = fs.readFileSync(api.tokensFile, 'utf8');
    } catch (err) {
      throw new ConfigError([`HG_API_TOKENS_FILE / --tokens-file: cannot read ${api.tokensFile}: ${errorMessage(err)}`]);
    }
    for (const line of text.split(/\r?\n/)) {
      const t = line.trim();
      if (t && !t.startsWith('#')) tokens.push(t);
    }
    if (tokens.length === 0) throw new ConfigError([`HG_API_TOKENS_FILE / --tokens-file: ${api.tokensFile} holds no token`]);
  }
  return new TokenSet(tokens);
}
