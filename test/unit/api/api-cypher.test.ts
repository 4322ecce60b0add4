import { buildCallsPage, buildDrops } from '../../../src/graph/cypher/api-call-queries';
import { buildEndpointCalls, buildPodsPage } from '../../../src/graph/cypher/api-endpoint-queries';
import { hopLiteral } from '../../../src/graph/cypher/api-fragments';
import { buildPodMap, buildServiceMap } from '../../../src/graph/cypher/api-map-queries';
import { buildShortestPath } from '../../../src/graph/cypher/api-path-queries';

const EVIL = "x') DETACH DELETE n //";

describe('the API Cypher builders', () => {
  it('put client values in parameters only', () => {
    const queries = [
      buildPodsPage(
        { namespaces: [EVIL], workload: EVIL, kind: EVIL, activeSince: EVIL, selector: [{ key: EVIL, op: 'in', values: [EVIL] }] },
        0,
        10,
      ).page,
      buildCallsPage(
        { source: EVIL, destination: EVIL, namespaces: [EVIL], protocol: EVIL, verdicts: [EVIL] },
        { field: 'REQUESTS', direction: 'DESC' },
        0,
        10,
      ).page,
      buildDrops({ namespaces: [EVIL], reasons: [EVIL], activeSince: EVIL }, 10),
      buildEndpointCalls('outgoing', [EVIL], { protocol: EVIL }, 10),
      buildServiceMap('WORKLOAD', { namespaces: [EVIL], verdicts: [EVIL], protocol: EVIL, includeExternal: true }, 10),
      buildPodMap({ namespaces: [EVIL], verdicts: [EVIL], protocol: EVIL, includeExternal: true }, 10),
      buildShortestPath(3, { verdicts: [EVIL] }),
    ];
    for (const q of queries) {
      expect(q.cypher).not.toContain('DETACH');
      expect(JSON.stringify(q.params)).toContain('DETACH DELETE');
    }
  });

  it('uses one fixed text for any label selector', () => {
    const a = buildPodsPage({ selector: [{ key: 'app', op: 'in', values: ['web'] }] }, 0, 10).page.cypher;
    const b = buildPodsPage(
      {
        selector: [
          { key: 'tier', op: 'notexists', values: [] },
          { key: 'x', op: 'notin', values: ['1', '2'] },
        ],
      },
      0,
      10,
    ).page.cypher;
    expect(a).toBe(b);
  });

  it('takes path bounds only as checked integers', () => {
    expect(buildShortestPath(4, {}).cypher).toContain('[:CALLS*1..4]');
    expect(() => hopLiteral(2.5)).toThrow(/invariant/);
    expect(() => hopLiteral(Number('1; MATCH (n) DETACH DELETE n'))).toThrow(/invariant/);
  });

  it('reads one-namespace maps through the pod_namespace index on both ends', () => {
    for (const q of [
      buildServiceMap('WORKLOAD', { namespaces: ['shop'], includeExternal: true, activeSince: '2026-01-01T00:00:00Z' }, 10).cypher,
      buildPodMap({ namespaces: ['shop'], includeExternal: true }, 10).cypher,
    ]) {
      expect(q).toContain('MATCH (a:Pod) WHERE a.namespace IN $namespaces');
      expect(q).toContain('MATCH (b:Pod) WHERE b.namespace IN $namespaces');
    }
  });
});
