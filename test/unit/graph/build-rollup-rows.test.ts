import { activityBucketId, buildRollupRows, type MapNodeRef, type MapNodesByEndpoint } from '../../../src/graph/build-rollup-rows';
import { ROW_TIME, httpCallRow } from '../../helpers/ingest-rows';
import type { CallRow } from '../../../src/model/ingest-rows';

const node = (id: string, namespace: string | null, kind = 'pod'): MapNodeRef => ({ id, kind, name: id.split('/').pop() ?? id, namespace });
const NODES: MapNodesByEndpoint = new Map([
  ['shop/web-1', { WORKLOAD: node('shop/web', 'shop'), NAMESPACE: node('shop', 'shop') }],
  ['shop/web-2', { WORKLOAD: node('shop/web', 'shop'), NAMESPACE: node('shop', 'shop') }],
  ['pay/ledger-1', { WORKLOAD: node('pay/ledger', 'pay'), NAMESPACE: node('pay', 'pay') }],
]);

function withMinute(call: CallRow, startMs: number, flows: number): CallRow {
  return { ...call, activity: [{ ...call, sizeMs: 60_000, startMs, flows }] };
}

describe('buildRollupRows', () => {
  it('sums the calls of two pods of one workload into one roll-up per level, all time and per bucket', () => {
    const a = withMinute(httpCallRow('shop/web-1', 'pay/ledger-1', 3), ROW_TIME, 3);
    const b = withMinute(httpCallRow('shop/web-2', 'pay/ledger-1', 4), ROW_TIME, 4);
    const rows = buildRollupRows([a, b], NODES, { calls: new Set([a.key]), buckets: new Set([activityBucketId(b.key, 60, ROW_TIME)]) });
    expect(rows.map((r) => [r.key, r.size, r.startMs, r.flows, r.calls])).toEqual([
      ['NAMESPACE|shop|pay|80|TCP|FORWARDED', 0, 0, 7, 1],
      ['NAMESPACE|shop|pay|80|TCP|FORWARDED', 60, ROW_TIME, 7, 1],
      ['WORKLOAD|shop/web|pay/ledger|80|TCP|FORWARDED', 0, 0, 7, 1],
      ['WORKLOAD|shop/web|pay/ledger|80|TCP|FORWARDED', 60, ROW_TIME, 7, 1],
    ]);
  });

  it('leaves out a call whose end has no map node', () => {
    expect(buildRollupRows([httpCallRow('shop/web-1', 'ip:10.0.0.1', 1)], NODES, { calls: new Set(), buckets: new Set() })).toEqual([]);
  });
});
