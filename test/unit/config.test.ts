import { ConfigError } from '../../src/errors';
import { deprecatedSettingsGiven, loadConfig, parseDurationMs, settingsMarkdown, SETTINGS } from '../../src/config';

describe('loadConfig', () => {
  it('gives the documented defaults when nothing is set', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.neo4j.uri).toBeUndefined();
    expect(cfg.local.boltPort).toBe(7687);
    expect(cfg.local.host).toBe('127.0.0.1');
    expect(cfg.hubble.server).toBe('localhost:4245');
    expect(cfg.collector.flushIntervalMs).toBe(1000);
    expect(cfg.api.port).toBe(4000);
    expect(cfg.filter.namespaces).toEqual([]);
  });

  it('prefers a flag to the environment, and the environment to the default', () => {
    const cfg = loadConfig({ env: { HG_API_PORT: '5000', HG_FLUSH_INTERVAL: '250ms' }, flags: { port: '6000' } });
    expect(cfg.api.port).toBe(6000);
    expect(cfg.collector.flushIntervalMs).toBe(250);
  });

  it('reports every invalid setting at once, naming the variable and the value', () => {
    let error: unknown;
    try {
      loadConfig({ env: { HG_API_PORT: 'eighty', NEO4J_URI: 'http://x', HG_FLUSH_INTERVAL: 'soon', HUBBLE_TLS: 'maybe' } });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect((error as ConfigError).problems).toHaveLength(4);
    expect(problems).toContain('HG_API_PORT');
    expect(problems).toContain('"eighty"');
    expect(problems).toContain('NEO4J_URI');
    expect(problems).toContain('HG_FLUSH_INTERVAL');
    expect(problems).toContain('HUBBLE_TLS');
  });

  it('refuses an mTLS client certificate without its key', () => {
    expect(() => loadConfig({ env: { HUBBLE_TLS_CLIENT_CERT_FILE: '/tmp/c.pem' } })).toThrow(/key/);
  });

  it('freezes the result', () => {
    const cfg = loadConfig({ env: {} });
    expect(Object.isFrozen(cfg.api)).toBe(true);
  });

  it('splits lists on commas and accepts repeated flags', () => {
    expect(loadConfig({ env: { HG_NAMESPACES: 'a, b,,c' } }).filter.namespaces).toEqual(['a', 'b', 'c']);
    expect(loadConfig({ env: {}, flags: { namespace: ['x', 'y'] } }).filter.namespaces).toEqual(['x', 'y']);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['1500', 1500],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['1.5s', 1500],
  ])('reads %s as %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it('rejects words', () => expect(parseDurationMs('soon')).toBeUndefined());
});

describe('settingsMarkdown', () => {
  it('lists every setting once', () => {
    const md = settingsMarkdown();
    for (const s of SETTINGS) expect(md).toContain(`\`${s.env}\``);
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
  });
});

describe('one declaration of the settings', () => {
  /** The dotted paths of a loaded config's values. */
  const paths = (o: object, prefix = ''): string[] =>
    Object.entries(o).flatMap(([k, v]) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? paths(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
    );

  it('gives the table and the config the same settings: every row is a field of the config, and every field a row', () => {
    const everySet = Object.fromEntries(
      SETTINGS.filter((s) => s.default === undefined && s.kind.type !== 'list').map((s) => [
        s.env,
        s.kind.type === 'url' ? 'bolt://x:1' : 'x',
      ]),
    );
    const cfg = loadConfig({
      env: {
        ...everySet,
        HG_SHARD_INDEX: '0',
        HUBBLE_TLS_CLIENT_KEY_FILE: 'k',
        HUBBLE_TLS_CLIENT_CERT_FILE: 'c',
        HG_PROMETHEUS_URL: 'http://p:9090',
      },
    });
    // time.buckets is an array of levels: its path ends at the group's field.
    const fields = paths(cfg).map((p) => p.replace(/^(time\.buckets)\..*$/, '$1'));
    expect([...new Set(fields)].sort()).toEqual(SETTINGS.map((s) => s.key).sort());
  });

  it('reads each value with the schema of its kind: numbers, booleans, durations, lists and enums come typed', () => {
    const cfg = loadConfig({
      env: {
        HG_API_PORT: '4100',
        HG_REPLAY_LOOP: 'yes',
        HG_API_READ_TIMEOUT: '2s',
        HG_NAMESPACES: 'a, b',
        HG_SOURCE: 'prometheus',
        HG_NEO4J_HEAP: '2G',
      },
    });
    expect([cfg.api.port, cfg.replay.loop, cfg.api.readTimeoutMs, cfg.filter.namespaces, cfg.collector.source, cfg.local.heap]).toEqual([
      4100,
      true,
      2000,
      ['a', 'b'],
      'prometheus',
      '2g',
    ]);
  });
});

describe('sharding settings', () => {
  it('reads one collector with paired attribution when nothing is set', () => {
    const cfg = loadConfig({ env: {} });
    expect([cfg.hubble.shardCount, cfg.hubble.shardIndex, cfg.hubble.nodesRefreshMs, cfg.collector.attribution]).toEqual([
      1,
      0,
      30_000,
      'paired',
    ]);
  });

  it('takes owner attribution by itself when the nodes are shared by several collectors', () => {
    const cfg = loadConfig({ env: { HG_SHARD_COUNT: '4', HG_SHARD_INDEX: '3' } });
    expect([cfg.hubble.shardCount, cfg.hubble.shardIndex, cfg.collector.attribution]).toEqual([4, 3, 'owner']);
  });

  it('takes the shard index from a StatefulSet pod name with ordinal', () => {
    const cfg = loadConfig({ env: { HG_SHARD_COUNT: '3', HG_SHARD_INDEX: 'ordinal', HOSTNAME: 'hubble-graph-collector-2' } });
    expect(cfg.hubble.shardIndex).toBe(2);
  });

  it('names what is wrong with the shard settings, all at once', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ env });
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
      return '';
    };
    expect(problems({ HG_SHARD_COUNT: '3' })).toContain(
      'HG_SHARD_INDEX / --shard-index: required when HG_SHARD_COUNT is 3 (a number from 0 to 2, or ordinal)',
    );
    expect(problems({ HG_SHARD_COUNT: '3', HG_SHARD_INDEX: '3' })).toContain(
      'HG_SHARD_INDEX / --shard-index: is 3, but HG_SHARD_COUNT 3 allows 0 to 2',
    );
    expect(problems({ HG_SHARD_COUNT: '3', HG_SHARD_INDEX: 'first' })).toContain('expected a number from 0 to 2 or ordinal, got "first"');
    expect(problems({ HG_SHARD_COUNT: '3', HG_SHARD_INDEX: 'ordinal', HOSTNAME: 'collector' })).toContain(
      'ordinal needs a pod name ending in -<number> (a StatefulSet pod), got hostname "collector"',
    );
    expect(problems({ HG_SHARD_COUNT: '2', HG_SHARD_INDEX: '0', HG_ATTRIBUTION: 'paired' })).toContain(
      'HG_ATTRIBUTION / --attribution: paired counts an exchange twice',
    );
    // 0 would ask Relay for its nodes in a loop without pause.
    for (const refresh of ['0', '500ms'])
      expect(problems({ HG_SHARD_NODES_REFRESH: refresh })).toContain(`a duration of at least 1s such as 30s`);
    expect(loadConfig({ env: { HG_SHARD_NODES_REFRESH: '1s' } }).hubble.nodesRefreshMs).toBe(1000);
  });
});

describe('HG_BUCKETS', () => {
  it('reads the default bucket sizes: 1 minute kept 48 h, 1 hour kept 30 days', () => {
    expect(loadConfig({ env: {} }).time.buckets).toEqual([
      { sizeMs: 60_000, retentionMs: 48 * 3_600_000 },
      { sizeMs: 3_600_000, retentionMs: 30 * 86_400_000 },
    ]);
  });

  it('refuses sizes out of order and names the setting and the value', () => {
    expect(() => loadConfig({ env: { HG_BUCKETS: '1h:2d,1m:1d' } })).toThrow(/HG_BUCKETS.*bucket size 1m is not a larger whole multiple/);
  });
});

describe('a renamed setting (HG_MAX_DIRTY_EDGES -> HG_WARN_UNWRITTEN_EDGES)', () => {
  it('still reads the former env var and flag, and names them as deprecated with their replacement', () => {
    expect(loadConfig({ env: { HG_MAX_DIRTY_EDGES: '123' } }).collector.warnUnwrittenEdges).toBe(123);
    expect(loadConfig({ env: {}, flags: { maxDirtyEdges: '456' } }).collector.warnUnwrittenEdges).toBe(456);
    expect(deprecatedSettingsGiven({ env: { HG_MAX_DIRTY_EDGES: '123' } })).toEqual([
      'HG_MAX_DIRTY_EDGES is deprecated: use HG_WARN_UNWRITTEN_EDGES',
    ]);
    expect(deprecatedSettingsGiven({ env: {}, flags: { maxDirtyEdges: '456' } })).toEqual([
      '--max-dirty-edges is deprecated: use --warn-unwritten-edges',
    ]);
  });

  it('prefers the new name when both are given, and reports nothing deprecated for the new name alone', () => {
    expect(loadConfig({ env: { HG_MAX_DIRTY_EDGES: '123', HG_WARN_UNWRITTEN_EDGES: '789' } }).collector.warnUnwrittenEdges).toBe(789);
    expect(deprecatedSettingsGiven({ env: { HG_WARN_UNWRITTEN_EDGES: '789' } })).toEqual([]);
  });

  it('names the former env var when its value is refused', () => {
    expect(() => loadConfig({ env: { HG_MAX_DIRTY_EDGES: 'lots' } })).toThrow(
      /HG_MAX_DIRTY_EDGES \(HG_WARN_UNWRITTEN_EDGES \/ --warn-unwritten-edges\): expected a whole number/,
    );
  });
});
