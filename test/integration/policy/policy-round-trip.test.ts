import { checkFlow } from '../../../src/flows/check-flow';
import { EdgeAggregator } from '../../../src/flows/edge-aggregator';
import { generateFlows } from '../../../src/generator/generate-flows';
import type { Executor } from '../../../src/graph/executor';
import { readObservedEdges } from '../../../src/graph/read-observed-edges';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { buildPolicyCheck } from '../../../src/policy/build-policy-check';
import { type PolicyDraft, buildPolicyDrafts } from '../../../src/policy/build-policy-drafts';
import type { ObservedEdge, ObservedEndpoint } from '../../../src/policy/observed-traffic';
import { parsePolicyDocuments } from '../../../src/policy/parse-policy-documents';
import { toPolicyYaml } from '../../../src/policy/to-policy-yaml';
import { resetGraph, testExecutor } from '../../helpers/neo4j';
import { toSchemaErrors } from '../../unit/policy/policy-schemas';

/**
 * The round trip of issue 15 on a generated graph in real Neo4j: flows from the generator go
 * through the ingest path (check, aggregate with HTTP paths, write), the drafts are exported from
 * what Neo4j holds, and checked against the same graph.
 */
describe('policy round trip on a generated graph (real Neo4j)', () => {
  let executor: Executor;
  let edges: ObservedEdge[];
  let drafts: readonly PolicyDraft[];

  beforeAll(async () => {
    executor = testExecutor();
    await resetGraph(executor);
    const aggregator = new EdgeAggregator();
    for (const { flow } of generateFlows({ pods: 60, edges: 200, flows: 4000, seed: 15 }))
      if (checkFlow(flow) === undefined) aggregator.add(flow);
    await writeIngestBatch(executor, aggregator.drain(), { collectorId: 'round-trip', runId: 'r1', batchSeq: 1 });
    edges = await readObservedEdges(executor, { verdicts: ['FORWARDED'] });
    drafts = buildPolicyDrafts(edges, {}).policies;
  }, 300_000);

  afterAll(async () => executor?.close());

  const checkOf = (policies: readonly PolicyDraft[]) =>
    buildPolicyCheck(parsePolicyDocuments(toPolicyYaml(policies), { source: 'drafts.yaml' }), edges);
  const byKind = (kind: PolicyDraft['kind']) => drafts.filter((d) => d.kind === kind);

  it('reads the stored HTTP paths with the edges', () => {
    expect(edges.length).toBeGreaterThan(100);
    expect(edges.filter((e) => e.http !== null).length).toBeGreaterThan(10);
  });

  it('validates every exported CiliumNetworkPolicy against the CRD schema and every NetworkPolicy against its API shape', () => {
    expect(byKind('CiliumNetworkPolicy').length).toBeGreaterThan(10);
    expect(byKind('NetworkPolicy').length).toBe(byKind('CiliumNetworkPolicy').length);
    for (const d of drafts) expect([d.kind, d.name, toSchemaErrors(d.manifest)]).toEqual([d.kind, d.name, []]);
  });

  it.each(['CiliumNetworkPolicy', 'NetworkPolicy'] as const)(
    'the exported %s drafts, checked against the same graph, allow 100%% of its FORWARDED edges',
    (kind) => {
      const result = checkOf(byKind(kind));
      expect(result.decisions.length).toBe(edges.length);
      expect(
        result.decisions
          .filter((d) => d.verdict !== 'allowed')
          .map((d) => `${d.key}: ${d.verdict} ${d.egress.reason} / ${d.ingress.reason}`),
      ).toEqual([]);
    },
  );

  it('removing one ingress rule from a workload peer denies exactly the edges that rule covered', () => {
    // The first Cilium draft with an ingress rule that names pods by labels (fromEndpoints).
    const cilium = byKind('CiliumNetworkPolicy');
    const target = cilium.find((d) =>
      ((d.manifest.spec as { ingress?: Array<Record<string, unknown>> }).ingress ?? []).some((r) => r.fromEndpoints !== undefined),
    );
    expect(target).toBeDefined();
    const spec = target!.manifest.spec as {
      ingress: Array<{
        fromEndpoints?: Array<{ matchLabels: Record<string, string> }>;
        toPorts?: Array<{ ports: Array<{ port: string; protocol: string }> }>;
      }>;
    };
    const index = spec.ingress.findIndex((r) => r.fromEndpoints !== undefined);
    const removed = spec.ingress[index]!;

    // By hand: the FORWARDED edges into the target workload's pods whose client pod carries every
    // label of the removed rule's selector (the namespace label included) on one of its ports.
    const [namespace, workload] = target!.workload.split('/');
    const hasLabels = (ep: ObservedEndpoint, labels: Record<string, string>) =>
      ep.kind === 'pod' &&
      Object.entries(labels).every(([k, v]) => {
        const key = k.replace(/^k8s:/, '');
        return key === 'io.kubernetes.pod.namespace' ? ep.namespace === v : ep.labels.includes(`${key}=${v}`);
      });
    const ports = new Set((removed.toPorts ?? []).flatMap((p) => p.ports.map((x) => `${x.port}/${x.protocol}`)));
    const covered = edges
      .filter((e) => e.destination.kind === 'pod' && e.destination.namespace === namespace && e.destination.workload === workload)
      .filter((e) => removed.fromEndpoints!.some((sel) => hasLabels(e.source, sel.matchLabels)))
      .filter((e) => ports.size === 0 || ports.has(`${e.port}/${e.protocol}`))
      .map((e) => `${e.source.id}|${e.destination.id}|${e.port}|${e.protocol}|${e.verdict}`)
      .sort();
    expect(covered.length).toBeGreaterThan(0);

    const ingress = spec.ingress.filter((_r, i) => i !== index);
    const without = {
      ...target!,
      manifest: { ...target!.manifest, spec: { ...spec, ingress: ingress.length > 0 ? ingress : [{}] } },
      comments: [],
    };
    const result = checkOf(cilium.map((d) => (d === target ? without : d)));
    expect(result.decisions.filter((d) => d.verdict !== 'allowed').map((d) => [d.key, d.verdict])).toEqual(
      covered.map((key) => [key, 'denied']),
    );
  });
});
