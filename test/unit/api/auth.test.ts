import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TokenSet, bearerToken, parseTokensFile, watchTokensFile } from '../../../src/api/auth';
import { silentLogger } from '../../../src/logger';
import { waitUntil } from '../../helpers/wait-until';

describe('bearer tokens', () => {
  it('reads the token of a Bearer authorization value', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('accepts only known tokens, and everything when none are configured', () => {
    const set = new TokenSet(['t1', 't2']);
    expect(set.accepts('Bearer t2')).toBe(true);
    expect(set.accepts('Bearer t3')).toBe(false);
    expect(set.accepts(undefined)).toBe(false);
    expect(new TokenSet([]).accepts(undefined)).toBe(true);
  });

  it('refuses everyone, rather than letting everyone in, when a required token set is emptied', () => {
    const emptied = new TokenSet([], true);
    expect(emptied.enabled).toBe(true);
    expect(emptied.accepts('Bearer anything')).toBe(false);
    expect(emptied.accepts(undefined)).toBe(false);
  });

  it('reads one token per line of a tokens file, skipping blank lines and comments', () => {
    expect(parseTokensFile('# API tokens\n t1 \r\n\n#t2\nt3\n')).toEqual(['t1', 't3']);
  });
});

describe('the tokens file, watched', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-tokens-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Watches `file` as the API does; returns which of `probes` each reload accepted. */
  function watch(file: string, probes: readonly string[]): { seen: string[][]; stop: () => void } {
    const seen: string[][] = [];
    const stop = watchTokensFile({ tokensFile: file }, silentLogger(), (set) =>
      seen.push(probes.filter((t) => set.accepts(`Bearer ${t}`))),
    );
    return { seen, stop };
  }

  it('is read once an editor that truncates it and writes it piece by piece has finished: no token is refused in between', async () => {
    const file = path.join(dir, 'truncated');
    fs.writeFileSync(file, 'alpha\nbeta\n');
    const { seen, stop } = watch(file, ['alpha', 'beta', 'gamma']);
    try {
      // A slow non-atomic write for 2.5 s, across at least two of the watcher's checks (every
      // second): each state lasts 50 ms, far less than the 300 ms a change must stay before it is read.
      const states = ['', 'alp', 'alpha\n', 'alpha\nbe', 'alpha\nbeta\n', 'alpha\nbeta\nga'];
      for (let i = 0; i < 50; i++) {
        fs.writeFileSync(file, states[i % states.length] as string);
        await sleep(50);
      }
      fs.writeFileSync(file, 'alpha\nbeta\ngamma\n');
      await waitUntil('the tokens file to be read again', () => seen.length > 0, 5000);
      await sleep(1500);
      expect(seen.every((accepted) => accepted.join() === 'alpha,beta,gamma')).toBe(true);
    } finally {
      stop();
    }
  }, 15_000);

  it('refuses every former token once the file has stayed empty', async () => {
    const file = path.join(dir, 'emptied');
    fs.writeFileSync(file, 'alpha\n');
    const { seen, stop } = watch(file, ['alpha']);
    try {
      await sleep(100);
      fs.writeFileSync(file, '');
      await waitUntil('the tokens file to be read again', () => seen.length > 0, 5000);
      expect(seen).toEqual([[]]);
    } finally {
      stop();
    }
  });
});
