import type { TruthCall } from '../../../src/generator/generate-flows';
import type { CallRow } from '../../../src/model/ingest-rows';

const COUNT_FIELDS = ['flows', 'connections', 'requests', 'responses', 'errors', 'latencyCount', 'firstSeenMs', 'lastSeenMs'] as const;

/** An aggregated row or a truth row as one comparable shape: keys, counts, breakdowns (lists sorted), latency bounds. */
export function comparableCall(x: CallRow | TruthCall) {
  return {
    key: x.key,
    sourceId: x.sourceId,
    destinationId: x.destinationId,
    port: x.port,
    protocol: x.protocol,
    verdict: x.verdict,
    ...Object.fromEntries(COUNT_FIELDS.map((f) => [f, x[f]])),
    statusCounts: x.statusCounts,
    methodCounts: x.methodCounts,
    rcodeCounts: x.rcodeCounts,
    dropReasons: x.dropReasons,
    l7Protocols: [...x.l7Protocols].sort(),
    dnsQueries: [...x.dnsQueries].sort(),
    latencyMaxMs: x.latencyMaxMs,
  };
}
