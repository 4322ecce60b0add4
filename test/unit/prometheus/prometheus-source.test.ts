import { silentLogger } from '../../../src/logger';
import { HUBBLE_METRIC } from '../../../src/prometheus/hubble-metrics';
import type { PrometheusClient } from '../../../src/prometheus/prometheus-client';
import { PrometheusQueryError } from '../../../src/prometheus/prometheus-client';
import { createPrometheusSource } from '../../../src/prometheus/prometheus-source';

const config = { url: 'http://prom:9090', intervalMs: 30_000, timeoutMs: 1000 };
const flowLabels = {
  source: 'default/a',
  destination: 'default/b',
  protocol: 'TCP',
  type: 'Trace',
  subtype: 'to-endpoint',
  verdict: 'FORWARDED',
  instance: 'n1:9965',
  job: 'hubble',
};

/** A Prometheus holding one flow counter with the given samples; records the queries. */
function fakeClient(samples: { tMs: number; value: number }[], fail?: PrometheusQueryError) {
  const asked: { expr: string; atMs: number }[] = [];
  const client: PrometheusClient = {
    async queryRange(expr, atMs) {
      asked.push({ expr, atMs });
      if (fail) throw fail;
      if (!expr.startsWith(`${HUBBLE_METRIC.flows}[`)) return [];
      const rangeMs = Number(/\[(\d+)ms\]/.exec(expr)![1]);
      return [
        {
          labels: { __name__: HUBBLE_METRIC.flows, ...flowLabels },
          samples: samples.filter((s) => s.tMs <= atMs && s.tMs >= atMs - rangeMs),
        },
      ];
    },
  };
  return { client, asked };
}

describe('createPrometheusSource', () => {
  it('reads each window once and carries the cursor from poll to poll', async () => {
    let now = 100_000;
    const samples = [
      { tMs: 80_000, value: 5 },
      { tMs: 90_000, value: 7 },
      { tMs: 100_000, value: 9 },
      { tMs: 110_000, value: 12 },
      { tMs: 120_000, value: 2 },
    ];
    const { client, asked } = fakeClient(samples);
    const source = createPrometheusSource(config, silentLogger(), { client, now: () => now, settleMs: 0, initialWindowMs: 15_000 });
    const first = await source.poll(null);
    // First poll: window (85s, 100s]; 5 at 80s is the baseline.
    expect(first.report).toMatchObject({ ok: true, windowStartMs: 85_000, windowEndMs: 100_000, caughtUp: true, seriesRead: 1, calls: 1 });
    expect(first.batch.calls[0]!.flows).toBe(4);
    expect(asked).toHaveLength(9);
    expect(asked[0]!.atMs).toBe(100_000);
    now = 120_000;
    const second = await source.poll(first.cursor);
    expect(second.batch.calls[0]!.flows).toBe(3 + 2); // growth to 12, then a reset to 2
    const third = await source.poll(second.cursor);
    expect(third.batch.calls).toEqual([]);
    expect(third.cursor).toBe(second.cursor);
  });

  it('counts a series from 0 when it comes back after its target was scraped without it', async () => {
    let now = 100_000;
    let samples = [{ tMs: 90_000, value: 4 }];
    let ups = [90_000];
    const client: PrometheusClient = {
      async queryRange(expr) {
        if (expr.startsWith('up['))
          return [{ labels: { __name__: 'up', instance: 'n1:9965', job: 'hubble' }, samples: ups.map((tMs) => ({ tMs, value: 1 })) }];
        if (!expr.startsWith(`${HUBBLE_METRIC.flows}[`)) return [];
        return samples.length ? [{ labels: { __name__: HUBBLE_METRIC.flows, ...flowLabels }, samples }] : [];
      },
    };
    const source = createPrometheusSource(config, silentLogger(), {
      client,
      now: () => now,
      settleMs: 0,
      initialWindowMs: 60_000,
      vanishGraceMs: 5_000,
    });
    const first = await source.poll(null);
    expect(first.batch.calls[0]!.flows).toBe(4);
    // The agent restarts: scrapes at 100s and 110s succeed without the series.
    now = 120_000;
    samples = [];
    ups = [90_000, 100_000, 110_000];
    const second = await source.poll(first.cursor);
    expect(second.report.seriesVanished).toBe(1);
    // It comes back, at the value it had before.
    now = 140_000;
    samples = [{ tMs: 130_000, value: 4 }];
    ups = [100_000, 110_000, 120_000, 130_000];
    const third = await source.poll(second.cursor);
    expect(third.batch.calls[0]!.flows).toBe(4);
  });

  it('keeps the cursor and counts the reason when a query fails', async () => {
    const { client } = fakeClient([], new PrometheusQueryError('unreachable', 'down'));
    const source = createPrometheusSource(config, silentLogger(), { client, now: () => 200_000, settleMs: 0 });
    const cursor = { endMs: 170_000, series: new Map() };
    const r = await source.poll(cursor);
    expect(r.cursor).toBe(cursor);
    expect(r.batch.calls).toEqual([]);
    expect(r.report).toMatchObject({ ok: false, errors: { unreachable: 9 } });
  });

  it('cuts long windows and says it has not caught up', async () => {
    const { client } = fakeClient([]);
    const source = createPrometheusSource(config, silentLogger(), { client, now: () => 10_000_000, settleMs: 0, maxWindowMs: 1_000_000 });
    const r = await source.poll({ endMs: 1_000_000, series: new Map() });
    expect(r.report).toMatchObject({ ok: true, windowStartMs: 1_000_000, windowEndMs: 2_000_000, caughtUp: false });
    expect(r.cursor?.endMs).toBe(2_000_000);
  });

  it('forgets series not seen for a long time', async () => {
    const { client } = fakeClient([]);
    const source = createPrometheusSource(config, silentLogger(), {
      client,
      now: () => 200_000_000,
      settleMs: 0,
      forgetAfterMs: 86_400_000,
    });
    const old = new Map([
      ['gone', { value: 1, tMs: 1_000 }],
      ['recent', { value: 1, tMs: 199_000_000 }],
    ]);
    const r = await source.poll({ endMs: 199_990_000, series: old });
    expect([...r.cursor!.series.keys()]).toEqual(['recent']);
  });
});
