import { sketchQuantiles } from '../../../src/model/latency-sketch';
import { buildPrometheusBatch, toLatency } from '../../../src/prometheus/build-prometheus-batch';
import { HUBBLE_METRIC, type HubbleMetricName, type PromSeries } from '../../../src/prometheus/hubble-metrics';
import type { ActivityRow } from '../../../src/model/ingest-rows';
import { type BucketSpec, parseBucketSpec } from '../../../src/model/time-buckets';

const TIE = 'default/tiefighter';
const DEATH = 'default/deathstar-6c94dcc57b-2chb9';
const XWING = 'default/xwing';
const target = {
  app_kubernetes_io_managed_by: 'Helm',
  job: 'kubernetes-endpoints',
  k8s_app: 'hubble',
  namespace: 'kube-system',
  service: 'hubble-metrics',
};

/** A series growing from 0 to `value` inside the window (at t=1000 and t=2000). */
function series(
  name: HubbleMetricName,
  labels: Record<string, string>,
  value: number,
  instance = '192.168.50.139:9965',
): [HubbleMetricName, PromSeries] {
  return [
    name,
    {
      labels: { __name__: name, ...labels, ...target, instance },
      samples: [
        { tMs: 1000, value: value / 2 },
        { tMs: 2000, value },
      ],
    },
  ];
}

function build(entries: [HubbleMetricName, PromSeries][]) {
  const seriesByMetric = new Map<HubbleMetricName, PromSeries[]>();
  for (const [name, s] of entries) seriesByMetric.set(name, [...(seriesByMetric.get(name) ?? []), s]);
  return buildPrometheusBatch({ seriesByMetric, marks: new Map(), context: 'pod' });
}

const call = (r: ReturnType<typeof build>, key: string) => r.batch.calls.find((c) => c.key === key);

describe('buildPrometheusBatch', () => {
  it('turns flow counters of every agent into one edge with port 0 and the IP protocol of the L7 protocol', () => {
    const r = build([
      series(
        HUBBLE_METRIC.flows,
        { source: TIE, destination: DEATH, type: 'L7', protocol: 'HTTP', subtype: 'HTTP', verdict: 'DROPPED' },
        2,
      ),
      series(
        HUBBLE_METRIC.flows,
        { source: TIE, destination: DEATH, type: 'L7', protocol: 'HTTP', subtype: 'HTTP', verdict: 'DROPPED' },
        4,
        '192.168.50.140:9965',
      ),
      series(
        HUBBLE_METRIC.flows,
        { source: TIE, destination: 'kube-system/coredns-1', type: 'L7', protocol: 'DNS', subtype: 'DNS', verdict: 'FORWARDED' },
        6,
      ),
    ]);
    expect(call(r, `${TIE}|${DEATH}|0|TCP|DROPPED`)).toMatchObject({
      flows: 6,
      port: 0,
      protocol: 'TCP',
      verdict: 'DROPPED',
      source: 'prometheus',
      firstSeenMs: 1000,
      lastSeenMs: 2000,
    });
    expect(call(r, `${TIE}|kube-system/coredns-1|0|UDP|FORWARDED`)).toMatchObject({ flows: 6, l7Protocols: ['DNS'] });
    expect(r.batch.endpoints.map((e) => e.id).sort()).toEqual([DEATH, TIE, 'kube-system/coredns-1'].sort());
    expect(r.batch.endpoints.find((e) => e.id === TIE)).toMatchObject({
      kind: 'pod',
      namespace: 'default',
      name: 'tiefighter',
      source: 'prometheus',
    });
    expect(r.batch.maxFlowTimeMs).toBe(2000);
  });

  it('attributes an HTTP v1 response (server labelled as source) to the client->server edge', () => {
    const r = build([
      series(HUBBLE_METRIC.httpRequests, { source: TIE, destination: DEATH, protocol: 'HTTP/1.1', method: 'POST' }, 4),
      series(HUBBLE_METRIC.httpResponses, { source: DEATH, destination: TIE, method: 'POST', status: '200' }, 2),
      series(HUBBLE_METRIC.httpResponses, { source: DEATH, destination: TIE, method: 'POST', status: '503' }, 2),
    ]);
    expect(r.batch.calls).toHaveLength(1);
    expect(call(r, `${TIE}|${DEATH}|0|TCP|FORWARDED`)).toMatchObject({
      requests: 4,
      responses: 4,
      errors: 2,
      statusCounts: { '200': 2, '503': 2 },
      methodCounts: { POST: 4 },
      l7Protocols: ['HTTP/1.1'],
    });
  });

  it('reads httpV2 requests with status as request and response, and keeps the client report when both proxies report', () => {
    const labels = { source: XWING, destination: DEATH, protocol: 'HTTP/1.1', method: 'GET', status: '200' };
    const r = build([
      series(HUBBLE_METRIC.httpRequests, { ...labels, reporter: 'client' }, 6),
      series(HUBBLE_METRIC.httpRequests, { ...labels, reporter: 'server' }, 6, '192.168.50.140:9965'),
      series(HUBBLE_METRIC.httpRequests, { ...labels, destination: TIE, reporter: 'server' }, 2, '192.168.50.140:9965'),
    ]);
    expect(call(r, `${XWING}|${DEATH}|0|TCP|FORWARDED`)).toMatchObject({
      requests: 6,
      responses: 6,
      statusCounts: { '200': 6 },
      methodCounts: { GET: 6 },
    });
    expect(call(r, `${XWING}|${TIE}|0|TCP|FORWARDED`)).toMatchObject({ requests: 2 });
  });

  it('attributes TCP reply flows to the client->server edge when the tcp metric shows who answered SYNs', () => {
    const r = build([
      series(
        HUBBLE_METRIC.flows,
        { source: TIE, destination: DEATH, type: 'Trace', protocol: 'TCP', subtype: 'to-endpoint', verdict: 'FORWARDED' },
        6,
      ),
      series(
        HUBBLE_METRIC.flows,
        { source: DEATH, destination: TIE, type: 'Trace', protocol: 'TCP', subtype: 'to-endpoint', verdict: 'FORWARDED' },
        4,
      ),
      series(HUBBLE_METRIC.tcpFlags, { source: TIE, destination: DEATH, flag: 'SYN', family: 'IPv4' }, 2),
      series(HUBBLE_METRIC.tcpFlags, { source: DEATH, destination: TIE, flag: 'SYN-ACK', family: 'IPv4' }, 2),
      series(HUBBLE_METRIC.tcpFlags, { source: TIE, destination: DEATH, flag: 'FIN', family: 'IPv4' }, 2),
    ]);
    expect(r.batch.calls).toHaveLength(1);
    expect(call(r, `${TIE}|${DEATH}|0|TCP|FORWARDED`)).toMatchObject({ flows: 10, connections: 2 });
  });

  it('adds drop reasons to the DROPPED edge without counting the dropped flow again', () => {
    const r = build([
      series(HUBBLE_METRIC.flows, { source: TIE, destination: DEATH, type: 'Drop', protocol: 'TCP', subtype: '', verdict: 'DROPPED' }, 2),
      series(HUBBLE_METRIC.drops, { source: TIE, destination: DEATH, reason: 'POLICY_DENIED', protocol: 'TCP' }, 2),
    ]);
    expect(call(r, `${TIE}|${DEATH}|0|TCP|DROPPED`)).toMatchObject({ flows: 2, dropReasons: { POLICY_DENIED: 2 } });
  });

  it('turns v1 latency histograms (server labelled as source) into a sketch on the client->server edge', () => {
    const h = (le: string, v: number) =>
      series(HUBBLE_METRIC.httpDurationBucket, { source: DEATH, destination: TIE, method: 'POST', le }, v);
    const r = build([
      h('0.005', 0),
      h('0.01', 50),
      h('0.025', 90),
      h('0.05', 100),
      h('+Inf', 100),
      series(HUBBLE_METRIC.httpDurationSum, { source: DEATH, destination: TIE, method: 'POST' }, 1.2),
      series(HUBBLE_METRIC.httpDurationCount, { source: DEATH, destination: TIE, method: 'POST' }, 100),
    ]);
    const c = call(r, `${TIE}|${DEATH}|0|TCP|FORWARDED`)!;
    expect(c).toMatchObject({ latencyCount: 100, latencyMaxMs: 50 });
    expect(c.latencySumMs).toBeCloseTo(1200, 6);
    const q = sketchQuantiles(c.latencySketch!);
    expect(q.p50).toBeGreaterThan(7.4); // the 5-10 ms bucket, placed at 7.5 ms (1% sketch accuracy)
    expect(q.p50).toBeLessThan(7.6);
    expect(q.p95).toBeCloseTo(37.5, 0);
  });

  it('reads httpV2 latency histograms as labelled (client first) on an agent whose requests carry status', () => {
    const h = (le: string, v: number) =>
      series(HUBBLE_METRIC.httpDurationBucket, { source: XWING, destination: DEATH, method: 'GET', reporter: 'client', le }, v);
    const r = build([
      series(
        HUBBLE_METRIC.httpRequests,
        { source: XWING, destination: DEATH, method: 'GET', protocol: 'HTTP/1.1', status: '200', reporter: 'client' },
        10,
      ),
      h('0.1', 10),
      h('+Inf', 10),
      series(HUBBLE_METRIC.httpDurationCount, { source: XWING, destination: DEATH, method: 'GET', reporter: 'client' }, 10),
    ]);
    expect(r.batch.calls.map((c) => c.key)).toEqual([`${XWING}|${DEATH}|0|TCP|FORWARDED`]);
    expect(r.batch.calls[0]).toMatchObject({ requests: 10, latencyCount: 10, latencyMaxMs: 100 });
  });

  it('keeps the client report of v1 responses when both proxies report them', () => {
    const labels = { source: DEATH, destination: TIE, method: 'POST', status: '200' };
    const r = build([
      series(HUBBLE_METRIC.httpResponses, { ...labels, reporter: 'client' }, 4),
      series(HUBBLE_METRIC.httpResponses, { ...labels, reporter: 'server' }, 4, '192.168.50.140:9965'),
    ]);
    expect(call(r, `${TIE}|${DEATH}|0|TCP|FORWARDED`)).toMatchObject({ responses: 4, statusCounts: { '200': 4 } });
  });

  it('counts malformed and unlabelled series and names the metrics that lack source/destination', () => {
    const r = build([
      series(
        HUBBLE_METRIC.flows,
        { source: 'nope', destination: DEATH, type: 'L3_L4', protocol: 'TCP', subtype: 'to-endpoint', verdict: 'FORWARDED' },
        3,
      ),
      series(
        HUBBLE_METRIC.flows,
        { source: TIE, destination: '', type: 'L3_L4', protocol: 'TCP', subtype: 'to-stack', verdict: 'FORWARDED' },
        3,
      ),
      series(HUBBLE_METRIC.flows, { type: 'L3_L4', protocol: 'TCP', subtype: 'to-stack', verdict: 'FORWARDED' }, 7),
      series(HUBBLE_METRIC.tcpFlags, { source: TIE, flag: 'SYN', family: 'IPv4' }, 7),
    ]);
    expect(r.batch.calls).toEqual([]);
    expect(r.problems.skipped).toEqual({ 'malformed-labels': 1, 'unlabelled-endpoint': 1 });
    expect(r.problems.missingLabels).toEqual({
      [HUBBLE_METRIC.flows]: ['destination', 'source'],
      [HUBBLE_METRIC.tcpFlags]: ['destination'],
    });
    expect(r.seriesRead).toEqual({ [HUBBLE_METRIC.flows]: 3, [HUBBLE_METRIC.tcpFlags]: 1 });
  });

  it('writes nothing for counters that did not move, but remembers them', () => {
    const [name, s] = series(
      HUBBLE_METRIC.flows,
      { source: TIE, destination: DEATH, type: 'L3_L4', protocol: 'TCP', subtype: 'to-endpoint', verdict: 'FORWARDED' },
      4,
    );
    const first = buildPrometheusBatch({ seriesByMetric: new Map([[name, [s]]]), marks: new Map(), context: 'pod' });
    const again = buildPrometheusBatch({ seriesByMetric: new Map([[name, [s]]]), marks: first.marks, context: 'pod' });
    expect(first.batch.calls[0]!.flows).toBe(4);
    expect(again.batch).toEqual({ endpoints: [], calls: [], maxFlowTimeMs: 0 });
    expect(again.marks).toEqual(first.marks);
  });

  it('builds namespace-level edges from namespace context', () => {
    const [name, s] = series(
      HUBBLE_METRIC.flows,
      { source: 'default', destination: 'kube-system', type: 'L7', protocol: 'DNS', subtype: 'DNS', verdict: 'FORWARDED' },
      5,
    );
    const r = buildPrometheusBatch({ seriesByMetric: new Map([[name, [s]]]), marks: new Map(), context: 'namespace' });
    expect(r.batch.calls[0]!.key).toBe('namespace:default|namespace:kube-system|0|UDP|FORWARDED');
  });
});

describe('buildPrometheusBatch with buckets of flow time', () => {
  const MIN = 60_000;
  const HOUR = 3_600_000;
  const SPEC = parseBucketSpec('1m:48h,1h:30d') as BucketSpec;
  /** Samples at 10:58:30, 10:59:10, 10:59:50, 11:00:20 and 11:02:40 (UTC, some day): three minutes with samples, two hours. */
  const T0 = Date.UTC(2026, 11, 1, 10, 58, 30);
  const TIMES = [T0, T0 + 40_000, T0 + 80_000, T0 + 110_000, T0 + 250_000];
  /** A counter series with these values at TIMES. */
  const grows = (name: HubbleMetricName, labels: Record<string, string>, values: readonly number[]): [HubbleMetricName, PromSeries] => [
    name,
    {
      labels: { __name__: name, ...labels, ...target, instance: '192.168.50.139:9965' },
      samples: values.map((value, i) => ({ tMs: TIMES[i]!, value })),
    },
  ];
  const h = (le: string, values: readonly number[]) =>
    grows(HUBBLE_METRIC.httpDurationBucket, { source: XWING, destination: DEATH, method: 'GET', reporter: 'client', le }, values);
  const v2 = { source: XWING, destination: DEATH, method: 'GET', protocol: 'HTTP/1.1', reporter: 'client' };
  const entries = [
    grows(
      HUBBLE_METRIC.flows,
      { source: XWING, destination: DEATH, type: 'L7', protocol: 'HTTP', subtype: 'HTTP', verdict: 'FORWARDED' },
      [2, 5, 5, 9, 12],
    ),
    grows(HUBBLE_METRIC.httpRequests, { ...v2, status: '200' }, [1, 3, 3, 5, 6]),
    // A counter reset (agent restart) between the 3rd and 4th samples: the 4th counts from 0.
    grows(HUBBLE_METRIC.httpRequests, { ...v2, status: '503' }, [0, 1, 2, 1, 1]),
    // 11:02 adds one latency between 10 and 100 ms: the 10 ms bound does not increase in that minute.
    h('0.01', [1, 3, 3, 4, 4]),
    h('0.1', [1, 4, 5, 6, 7]),
    h('+Inf', [1, 4, 5, 6, 7]),
    grows(HUBBLE_METRIC.httpDurationCount, { source: XWING, destination: DEATH, method: 'GET', reporter: 'client' }, [1, 4, 5, 6, 7]),
  ];
  /** First poll with its baseline before every sample: each sample's increase counts, the first one from 0. */
  const r = (() => {
    const seriesByMetric = new Map<HubbleMetricName, PromSeries[]>();
    for (const [name, s] of entries) seriesByMetric.set(name, [...(seriesByMetric.get(name) ?? []), s]);
    return buildPrometheusBatch({ seriesByMetric, marks: new Map(), baselineAtMs: T0 - MIN, context: 'pod', buckets: SPEC });
  })();
  const row = r.batch.calls.find((c) => c.key === `${XWING}|${DEATH}|0|TCP|FORWARDED`)!;
  const bucketsOf = (sizeMs: number) => (row.activity ?? []).filter((a) => a.sizeMs === sizeMs).sort((a, b) => a.startMs - b.startMs);

  it("counts each sample's increase in the bucket of its time, each size on its own", () => {
    const minute = (t: number) => t - (t % MIN);
    expect(bucketsOf(MIN).map((a) => [a.startMs, a.flows, a.requests, a.responses, a.errors, a.statusCounts, a.latencyCount])).toEqual([
      // 10:58: the first samples, counted from 0.
      [minute(T0), 2, 1, 1, 0, { '200': 1 }, 1],
      // 10:59: +3 and +0 flows; 200s +2 +0, 503s +1 +1; latencies +3 +1.
      [minute(T0 + 40_000), 3, 4, 4, 2, { '200': 2, '503': 2 }, 4],
      // 11:00: +4 flows; 200s +2; the 503 counter restarted at 1.
      [minute(T0 + 110_000), 4, 3, 3, 1, { '200': 2, '503': 1 }, 1],
      // 11:02: +3 flows; 200s +1; 503s unchanged.
      [minute(T0 + 250_000), 3, 1, 1, 0, { '200': 1 }, 1],
    ]);
    expect(bucketsOf(HOUR).map((a) => [a.startMs, a.flows, a.requests, a.errors, a.latencyCount, a.firstSeenMs, a.lastSeenMs])).toEqual([
      [T0 - (T0 % HOUR), 5, 5, 2, 5, TIMES[0], TIMES[2]],
      [T0 - (T0 % HOUR) + HOUR, 7, 4, 1, 2, TIMES[3], TIMES[4]],
    ]);
    // The latency histogram of a bucket is its own: 10:59 saw 2 under 10 ms and 2 between 10 and 100 ms.
    const m59 = bucketsOf(MIN)[1]!;
    expect([m59.latencyMinMs, m59.latencyMaxMs]).toEqual([0, 100]);
    expect(sketchQuantiles(m59.latencySketch!).p50).toBeLessThan(10);
    // A bound that did not increase in a bucket still bounds the ones above it there.
    const m02 = bucketsOf(MIN)[3]!;
    expect([m02.latencyCount, m02.latencyMinMs, m02.latencyMaxMs]).toEqual([1, 10, 100]);
    expect(sketchQuantiles(m02.latencySketch!).p50).toBeCloseTo(55, 0);
  });

  it("sums each size's buckets exactly to the call's counts", () => {
    for (const { sizeMs } of SPEC) {
      const sum = (f: (a: ActivityRow) => number) => bucketsOf(sizeMs).reduce((n, a) => n + f(a), 0);
      expect([
        sum((a) => a.flows),
        sum((a) => a.requests),
        sum((a) => a.responses),
        sum((a) => a.errors),
        sum((a) => a.latencyCount),
      ]).toEqual([row.flows, row.requests, row.responses, row.errors, row.latencyCount]);
    }
    expect(row).toMatchObject({ flows: 12, requests: 9, errors: 3, latencyCount: 7 });
  });

  it('attributes a bucket by the evidence of the whole poll: reply flows of a minute without SYNs go to the client->server edge', () => {
    const seriesByMetric = new Map<HubbleMetricName, PromSeries[]>();
    for (const [name, s] of [
      // The handshake increased in the first sample only; the replies (server labelled first) later.
      grows(HUBBLE_METRIC.tcpFlags, { source: TIE, destination: DEATH, family: 'IPv4', flag: 'SYN' }, [1, 1, 1, 1, 1]),
      grows(HUBBLE_METRIC.tcpFlags, { source: DEATH, destination: TIE, family: 'IPv4', flag: 'SYN-ACK' }, [1, 1, 1, 1, 1]),
      grows(
        HUBBLE_METRIC.flows,
        { source: DEATH, destination: TIE, type: 'Trace', protocol: 'TCP', subtype: 'to-endpoint', verdict: 'FORWARDED' },
        [0, 0, 0, 2, 4],
      ),
    ])
      seriesByMetric.set(name, [...(seriesByMetric.get(name) ?? []), s]);
    const tcp = buildPrometheusBatch({ seriesByMetric, marks: new Map(), baselineAtMs: T0 - MIN, context: 'pod', buckets: SPEC });
    expect(tcp.batch.calls.map((c) => c.key)).toEqual([`${TIE}|${DEATH}|0|TCP|FORWARDED`]);
    const minutes = tcp.batch.calls[0]!.activity!.filter((a) => a.sizeMs === MIN).sort((a, b) => a.startMs - b.startMs);
    expect(minutes.map((a) => [a.startMs - T0 + (T0 % MIN), a.flows, a.connections])).toEqual([
      [0, 0, 1],
      [120_000, 2, 0],
      [240_000, 2, 0],
    ]);
  });

  it('leaves rows without activity when buckets are off', () => {
    const seriesByMetric = new Map<HubbleMetricName, PromSeries[]>();
    for (const [name, s] of entries) seriesByMetric.set(name, [...(seriesByMetric.get(name) ?? []), s]);
    const off = buildPrometheusBatch({ seriesByMetric, marks: new Map(), baselineAtMs: T0 - MIN, context: 'pod' });
    expect(off.batch.calls.map((c) => c.activity)).toEqual([undefined]);
    expect(off.batch.calls[0]).toMatchObject({ flows: row.flows, requests: row.requests, errors: row.errors });
  });
});

describe('toLatency', () => {
  it('places the +Inf bucket at the largest finite bound and reports no sketch without observations', () => {
    expect(
      toLatency(
        new Map([
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ]),
      ),
    ).toEqual({ sketch: null, count: 0, minMs: 0, maxMs: 0 });
    const r = toLatency(
      new Map([
        [0.1, 0],
        [Number.POSITIVE_INFINITY, 3],
      ]),
    );
    expect(r).toMatchObject({ count: 3, maxMs: 100 });
  });
});
