import { buildDemoStream, readRecordedDemoFlows, toWorkloadFromPodName } from '../../src/demo/demo-events';
import type { Flow } from '../../src/flows/flow';

describe('the demo stream', () => {
  it.each([
    ['reviews-v1-545db77b95-s6jb8', { name: 'reviews-v1', kind: 'Deployment' }],
    ['ratings-v1-b6994bb9-jgqxb', { name: 'ratings-v1', kind: 'Deployment' }],
    ['coredns-558bd4d5db-w2m67', { name: 'coredns', kind: 'Deployment' }],
    ['node-local-dns-88zrp', { name: 'node-local-dns', kind: 'DaemonSet' }],
    ['postgres-0', { name: 'postgres', kind: 'StatefulSet' }],
    ['kafka-12', { name: 'kafka', kind: 'StatefulSet' }],
    ['my-debug-pod', undefined],
  ])('reads the owner of pod %s from the name its controller gave it', (pod, owner) => {
    expect(toWorkloadFromPodName(pod)).toEqual(owner);
  });

  it('gives every pod of the recorded captures (bookinfo, kube-system) a workload, so they roll up in the WORKLOAD map', () => {
    const flows = readRecordedDemoFlows();
    const pods = flows.flatMap((f) => [f.source, f.destination]).filter((e) => e?.pod_name);
    expect(pods.length).toBeGreaterThan(100);
    for (const p of pods) expect(p!.workloads?.[0]?.name).toBeTruthy();
    const bookinfo = new Set(
      pods.filter((p) => p!.namespace === 'bookinfo').map((p) => `${p!.workloads![0]!.kind}/${p!.workloads![0]!.name}`),
    );
    expect(bookinfo).toEqual(
      new Set([
        'Deployment/productpage-v1',
        'Deployment/details-v1',
        'Deployment/ratings-v1',
        'Deployment/reviews-v1',
        'Deployment/reviews-v2',
        'Deployment/reviews-v3',
      ]),
    );
  });

  it('plays the generated cluster and the recorded captures in order of flow time, from the start on, with unique uuids', () => {
    const startMs = Date.UTC(2026, 5, 1, 12, 0, 30);
    const flows: Flow[] = [];
    for (const e of buildDemoStream({ startMs, flowsPerSecond: 200 })) {
      if (e.kind === 'flow') flows.push(e.flow);
      if (flows.length >= 30_000) break;
    }
    const times = flows.map((f) => Date.parse(f.time!));
    expect(times[0]).toBeGreaterThanOrEqual(startMs);
    expect(times.findIndex((t, i) => i > 0 && t < times[i - 1]!)).toBe(-1);
    expect(new Set(flows.map((f) => f.uuid)).size).toBe(flows.length);
    // The captures come at the start and then once a minute: bookinfo is there within the first second and again later.
    const bookinfo = times.filter((_, i) => flows[i]!.source?.namespace === 'bookinfo');
    expect(bookinfo[0]! - startMs).toBeLessThan(1000);
    expect(bookinfo.some((t) => t >= startMs + 60_000)).toBe(true);
    // About 200 generated flows a second (x the daily rhythm, ~1.4 at noon) plus the captures: flow time spans minutes, not seconds.
    expect(times[times.length - 1]! - startMs).toBeGreaterThan(60_000);
  });
});
