import { SAMPLE_CYPHER, buildStartBanner, type StartBannerInfo } from '../../src/commands/start-banner';

const info: StartBannerInfo = {
  apiUrl: 'http://127.0.0.1:4000/graphql',
  wsUrl: 'ws://127.0.0.1:4000/graphql',
  boltUri: 'bolt://127.0.0.1:7687',
  neo4jUser: 'neo4j',
  browserUrl: 'http://127.0.0.1:7474/browser/',
  browserGuideUrl: 'http://127.0.0.1:4000/neo4j-browser/guide.html',
  browserStyleUrl: 'http://127.0.0.1:4000/neo4j-browser/style.grass',
  replayAddress: '127.0.0.1:4245',
  collectorMetricsUrl: 'http://127.0.0.1:9465/metrics',
};

describe('the npm start banner', () => {
  it('says what to try first: the explorer, then Neo4j Browser with a sample query, its style and guide', () => {
    const banner = buildStartBanner(info);
    const tryFirst = banner.slice(banner.indexOf('Try first'), banner.indexOf('Also running'));
    expect(tryFirst).toContain('GraphQL explorer   http://127.0.0.1:4000/graphql');
    expect(tryFirst).toContain(`sample Cypher: ${SAMPLE_CYPHER}`);
    expect(tryFirst).toContain(':style http://127.0.0.1:4000/neo4j-browser/style.grass');
    expect(tryFirst).toContain(':play http://127.0.0.1:4000/neo4j-browser/guide.html');
    const link = /(http:\/\/127\.0\.0\.1:7474\/browser\/\?\S+)/.exec(tryFirst)?.[1] ?? '';
    const params = new URL(link).searchParams;
    expect(params.get('dbms')).toBe('bolt://neo4j@127.0.0.1:7687');
    expect(params.get('cmd')).toBe('edit');
    expect(params.get('arg')).toBe(SAMPLE_CYPHER);
  });

  it('puts the map page first once there is one, and has no map line before', () => {
    expect(buildStartBanner(info)).not.toMatch(/map/i);
    const banner = buildStartBanner({ ...info, mapUrl: 'http://127.0.0.1:4000/map' });
    const lines = banner.split('\n');
    expect(lines[lines.findIndex((l) => l.includes('Try first')) + 1]).toContain('http://127.0.0.1:4000/map');
  });

  it('names the other addresses below, and says so when the collector had not written yet', () => {
    const banner = buildStartBanner({ ...info, notWrittenYet: true });
    const also = banner.slice(banner.indexOf('Also running'));
    for (const part of ['ws://127.0.0.1:4000/graphql', 'bolt://127.0.0.1:7687', '127.0.0.1:4245', 'http://127.0.0.1:9465/metrics'])
      expect(also).toContain(part);
    expect(banner).toContain('the collector has written nothing yet');
  });

  it('tells how to connect another Browser when Neo4j is not the local one', () => {
    const banner = buildStartBanner({ ...info, browserUrl: undefined });
    expect(banner).toContain('connect yours to bolt://127.0.0.1:7687');
    expect(banner).toContain('browser.remote_content_hostname_whitelist');
  });
});
