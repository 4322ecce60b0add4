import { ConfigError } from '../../src/errors';
import { loadConfig, parseDurationMs, settingsMarkdown, SETTINGS } from '../../src/config';

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
