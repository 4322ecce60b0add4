import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBuildInfo } from '../build-info';

/** The collector's Prometheus metrics, on a registry of its own (served at /metrics). */
export interface CollectorMetrics {
  readonly registry: Registry;
  readonly flowsReceived: Counter;
  readonly flowsIngested: Counter;
  readonly flowsSkipped: Counter<'reason'>;
  readonly fieldsDropped: Counter<'field'>;
  readonly deadLetterRows: Counter<'kind'>;
  readonly hubbleLostEvents: Counter<'source'>;
  readonly hubbleNodes: Gauge<'state'>;
  readonly batches: Counter<'result'>;
  readonly flushSeconds: Histogram;
  readonly lagSeconds: Histogram;
  readonly dirtyEdges: Gauge;
  /** Open buckets of activity kept in memory until they close (src/flows/activity-hold.ts). */
  readonly heldBuckets: Gauge;
  /** Entries each pairing window holds (window: tcp_opens, exchanges). */
  readonly pairingWindowEntries: Gauge<'window'>;
  /** How far back in flow time each pairing window reaches. */
  readonly pairingWindowReach: Gauge<'window'>;
  readonly pendingRows: Gauge;
  readonly overMemoryBound: Gauge;
  readonly neo4jUp: Gauge;
  readonly sourceConnected: Gauge;
  /** Hubble nodes this collector's shard reads (HG_SHARD_COUNT above 1). */
  readonly shardNodes: Gauge;
  /** 1 while this run holds its collector id (HG_COLLECTOR_LEASE), 0 while it waits for it or after it lost it. */
  readonly collectorIdHeld: Gauge;
  /** Hubble nodes whose flows this collector read lately that another live collector read too (their flows counted twice). */
  readonly hubbleNodesShared: Gauge;
  /** Rows (endpoints and calls) committed to Neo4j, by kind. */
  readonly rowsWritten: Counter<'kind'>;
}

export function createCollectorMetrics(registry = new Registry()): CollectorMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'hubble_graph_collector_' });
  registerBuildInfo(registry, 'collector');
  const p = 'hubble_graph_';
  return {
    registry,
    flowsReceived: new Counter({ name: `${p}flows_received_total`, help: 'Flows read from the source', registers: [registry] }),
    flowsIngested: new Counter({ name: `${p}flows_ingested_total`, help: 'Flows attributed to an edge', registers: [registry] }),
    flowsSkipped: new Counter({
      name: `${p}flows_skipped_total`,
      help: 'Flows or lines skipped, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    fieldsDropped: new Counter({
      name: `${p}flow_fields_dropped_total`,
      help: 'Invalid values removed from flows that were still counted, by field',
      labelNames: ['field'],
      registers: [registry],
    }),
    deadLetterRows: new Counter({
      name: `${p}dead_letter_rows_total`,
      help: 'Rows Neo4j refused for good, written to the dead-letter file, by kind (endpoint, call)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    hubbleLostEvents: new Counter({
      name: `${p}hubble_lost_events_total`,
      help: 'Events Hubble itself reported lost (not lost by hubble-graph), by Hubble source',
      labelNames: ['source'],
      registers: [registry],
    }),
    rowsWritten: new Counter({
      name: `${p}rows_written_total`,
      help: "Rows committed to Neo4j, by kind: endpoint, call, bucket (a call's activity in one time bucket)",
      labelNames: ['kind'],
      registers: [registry],
    }),
    shardNodes: new Gauge({
      name: `${p}shard_nodes`,
      help: 'Hubble nodes this collector reads as its shard (HG_SHARD_COUNT above 1; 0 otherwise)',
      registers: [registry],
    }),
    collectorIdHeld: new Gauge({
      name: `${p}collector_id_held`,
      help: '1 while this process holds its collector id; 0 while another process with the same id holds it (this one waits) or after it lost it',
      registers: [registry],
    }),
    hubbleNodesShared: new Gauge({
      name: `${p}hubble_nodes_shared`,
      help: 'Hubble nodes whose flows this collector read lately that another live collector (another id) read too: their flows are counted twice; give each shard its own HG_SHARD_INDEX, and run no single collector beside shards',
      registers: [registry],
    }),
    hubbleNodes: new Gauge({
      name: `${p}hubble_nodes`,
      help: 'Hubble nodes by state, from node_status events',
      labelNames: ['state'],
      registers: [registry],
    }),
    batches: new Counter({
      name: `${p}batches_total`,
      help: 'Write transactions, by result (committed, duplicate, failed)',
      labelNames: ['result'],
      registers: [registry],
    }),
    flushSeconds: new Histogram({
      name: `${p}flush_duration_seconds`,
      help: 'Time to write one flush to Neo4j',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    lagSeconds: new Histogram({
      name: `${p}ingest_lag_seconds`,
      help: 'From the newest flow time in a batch to its commit',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    dirtyEdges: new Gauge({ name: `${p}dirty_edges`, help: 'Edges changed in memory and not yet written', registers: [registry] }),
    heldBuckets: new Gauge({
      name: `${p}held_buckets`,
      help: 'Open buckets of activity (one per edge and finest bucket) kept in memory until they close (their totals are written), and edges with counts taken back after a restart that go out with the next write',
      registers: [registry],
    }),
    pairingWindowEntries: new Gauge({
      name: `${p}pairing_window_entries`,
      help: 'TCP opens (window="tcp_opens") and L7 exchanges (window="exchanges") the pairing windows hold, at most HG_PAIRING_WINDOW each',
      labelNames: ['window'],
      registers: [registry],
    }),
    pairingWindowReach: new Gauge({
      name: `${p}pairing_window_reach_seconds`,
      help: 'Flow time from the oldest entry of each pairing window to the newest: once a window is full, the two ends of an exchange or TCP open seen further apart are counted twice (raise HG_PAIRING_WINDOW)',
      labelNames: ['window'],
      registers: [registry],
    }),
    pendingRows: new Gauge({ name: `${p}pending_rows`, help: 'Rows drained and waiting for a successful write', registers: [registry] }),
    overMemoryBound: new Gauge({
      name: `${p}over_memory_bound`,
      help: '1 while unwritten edges exceed HG_WARN_UNWRITTEN_EDGES',
      registers: [registry],
    }),
    neo4jUp: new Gauge({ name: `${p}neo4j_up`, help: '1 when the last write reached Neo4j', registers: [registry] }),
    sourceConnected: new Gauge({ name: `${p}source_connected`, help: '1 while the flow source is connected', registers: [registry] }),
  };
}
