// Write-time roll-ups (issue 11.2, docs/time-buckets.md "Roll-ups"): one (:Rollup) node per map level
// (WORKLOAD, NAMESPACE), source map node, target map node, port, protocol, verdict, bucket size
// (seconds; 0 = all time) and bucket start (epoch 0 for all time). The writer merges on
// (key, size, start) in the transaction of the rows (src/graph/cypher/rollup-queries.ts UPSERT_ROLLUPS).
CREATE CONSTRAINT rollup_bucket IF NOT EXISTS FOR (u:Rollup) REQUIRE (u.key, u.size, u.start) IS UNIQUE;
// The maps read the roll-ups of one level and size between two instants; expiry scans one size.
CREATE INDEX rollup_level_size_start IF NOT EXISTS FOR (u:Rollup) ON (u.level, u.size, u.start);
// A pod whose workload changes has the roll-ups of its old and new workload rebuilt.
CREATE INDEX rollup_source IF NOT EXISTS FOR (u:Rollup) ON (u.source);
CREATE INDEX rollup_target IF NOT EXISTS FOR (u:Rollup) ON (u.target);
// Backfill for graphs written before, in bounded transactions. It starts from nothing, so that a
// backfill interrupted and taken over by another process (migrate.ts) counts everything once.
MATCH (u:Rollup)
CALL { WITH u DELETE u } IN TRANSACTIONS OF 10000 ROWS;
// All time: every call into the roll-ups of its two ends' map nodes (as stored now). Latency
// sketches are summed bin by bin, as DDSketch merges them (src/flows/latency-sketch.ts, form v1).
MATCH (a:Endpoint)-[r:CALLS]->(b:Endpoint)
CALL {
  WITH a, r, b
  UNWIND [{level: 'WORKLOAD', s: [a_m IN [a {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: a:Pod}] | {id: CASE WHEN a_m.isPod THEN a_m.namespace + '/' + (CASE WHEN a_m.workload IS NULL OR a_m.workload = '' THEN a_m.name WHEN a_m.workloadKind = 'ReplicaSet' AND a_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(a_m.workload, size(a_m.workload) - size(last(split(a_m.workload, '-'))) - 1) ELSE a_m.workload END) ELSE a_m.id END, kind: a_m.kind, name: CASE WHEN a_m.isPod THEN CASE WHEN a_m.workload IS NULL OR a_m.workload = '' THEN a_m.name WHEN a_m.workloadKind = 'ReplicaSet' AND a_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(a_m.workload, size(a_m.workload) - size(last(split(a_m.workload, '-'))) - 1) ELSE a_m.workload END ELSE a_m.name END, namespace: a_m.namespace}][0], t: [b_m IN [b {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: b:Pod}] | {id: CASE WHEN b_m.isPod THEN b_m.namespace + '/' + (CASE WHEN b_m.workload IS NULL OR b_m.workload = '' THEN b_m.name WHEN b_m.workloadKind = 'ReplicaSet' AND b_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(b_m.workload, size(b_m.workload) - size(last(split(b_m.workload, '-'))) - 1) ELSE b_m.workload END) ELSE b_m.id END, kind: b_m.kind, name: CASE WHEN b_m.isPod THEN CASE WHEN b_m.workload IS NULL OR b_m.workload = '' THEN b_m.name WHEN b_m.workloadKind = 'ReplicaSet' AND b_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(b_m.workload, size(b_m.workload) - size(last(split(b_m.workload, '-'))) - 1) ELSE b_m.workload END ELSE b_m.name END, namespace: b_m.namespace}][0]},
          {level: 'NAMESPACE', s: [a_m IN [a {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: a:Pod}] | {id: CASE WHEN a_m.isPod THEN a_m.namespace ELSE a_m.id END, kind: a_m.kind, name: CASE WHEN a_m.isPod THEN a_m.namespace ELSE a_m.name END, namespace: a_m.namespace}][0], t: [b_m IN [b {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: b:Pod}] | {id: CASE WHEN b_m.isPod THEN b_m.namespace ELSE b_m.id END, kind: b_m.kind, name: CASE WHEN b_m.isPod THEN b_m.namespace ELSE b_m.name END, namespace: b_m.namespace}][0]}] AS m
  MERGE (u:Rollup {key: m.level + '|' + m.s.id + '|' + m.t.id + '|' + toString(r.port) + '|' + r.protocol + '|' + r.verdict,
                   size: 0, start: datetime({epochMillis: 0})})
  ON CREATE SET u.level = m.level, u.source = m.s.id, u.target = m.t.id,
                u.sourceKind = m.s.kind, u.sourceName = m.s.name, u.sourceNamespace = m.s.namespace,
                u.targetKind = m.t.kind, u.targetName = m.t.name, u.targetNamespace = m.t.namespace,
                u.port = toInteger(r.port), u.protocol = r.protocol, u.verdict = r.verdict,
                u.flows = 0, u.connections = 0, u.requests = 0, u.responses = 0, u.errors = 0, u.calls = 0
  SET u.flows = u.flows + coalesce(r.flows, 0),
      u.connections = u.connections + coalesce(r.connections, 0),
      u.requests = u.requests + coalesce(r.requests, 0),
      u.responses = u.responses + coalesce(r.responses, 0),
      u.errors = u.errors + coalesce(r.errors, 0),
      u.calls = u.calls + 1,
      u.lastSeen = CASE WHEN u.lastSeen IS NULL OR u.lastSeen < r.lastSeen THEN r.lastSeen ELSE u.lastSeen END,
      u.latencySketch = CASE WHEN r.latencySketch IS NULL OR NOT r.latencySketch STARTS WITH 'v1;' THEN u.latencySketch
    WHEN u.latencySketch IS NULL OR NOT u.latencySketch STARTS WITH 'v1;' THEN r.latencySketch
    ELSE [p IN [{a: split(u.latencySketch, ';'), b: split(r.latencySketch, ';')}] |
      [q IN [{za: toInteger(p.a[1]), zb: toInteger(p.b[1]), fa: toInteger(p.a[2]), fb: toInteger(p.b[2]),
              ca: CASE WHEN p.a[3] = '' THEN [] ELSE [c IN split(p.a[3], ',') | toInteger(c)] END,
              cb: CASE WHEN p.b[3] = '' THEN [] ELSE [c IN split(p.b[3], ',') | toInteger(c)] END}] |
        [x IN [{lo: CASE WHEN size(q.ca) = 0 THEN q.fb WHEN size(q.cb) = 0 OR q.fa < q.fb THEN q.fa ELSE q.fb END,
                hi: CASE WHEN size(q.ca) = 0 THEN q.fb + size(q.cb) - 1 WHEN size(q.cb) = 0 OR q.fa + size(q.ca) > q.fb + size(q.cb)
                    THEN q.fa + size(q.ca) - 1 ELSE q.fb + size(q.cb) - 1 END}] |
          'v1;' + toString(q.za + q.zb) + ';' + CASE WHEN size(q.ca) + size(q.cb) = 0 THEN '0;' ELSE toString(x.lo) + ';' +
            reduce(s = '', k IN range(x.lo, x.hi) | s + CASE WHEN k = x.lo THEN '' ELSE ',' END + toString(
              coalesce(CASE WHEN k >= q.fa AND k < q.fa + size(q.ca) THEN q.ca[k - q.fa] END, 0) +
              coalesce(CASE WHEN k >= q.fb AND k < q.fb + size(q.cb) THEN q.cb[k - q.fb] END, 0))) END
        ][0]
      ][0]
    ][0] END
} IN TRANSACTIONS OF 1000 ROWS;
// Per bucket: every activity bucket of a call into the roll-up bucket of the same size and start.
MATCH (k:Activity) WHERE k.size > 0
CALL {
  WITH k
  MATCH (a:Endpoint {id: k.sourceId})
  MATCH (b:Endpoint {id: k.destinationId})
  UNWIND [{level: 'WORKLOAD', s: [a_m IN [a {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: a:Pod}] | {id: CASE WHEN a_m.isPod THEN a_m.namespace + '/' + (CASE WHEN a_m.workload IS NULL OR a_m.workload = '' THEN a_m.name WHEN a_m.workloadKind = 'ReplicaSet' AND a_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(a_m.workload, size(a_m.workload) - size(last(split(a_m.workload, '-'))) - 1) ELSE a_m.workload END) ELSE a_m.id END, kind: a_m.kind, name: CASE WHEN a_m.isPod THEN CASE WHEN a_m.workload IS NULL OR a_m.workload = '' THEN a_m.name WHEN a_m.workloadKind = 'ReplicaSet' AND a_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(a_m.workload, size(a_m.workload) - size(last(split(a_m.workload, '-'))) - 1) ELSE a_m.workload END ELSE a_m.name END, namespace: a_m.namespace}][0], t: [b_m IN [b {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: b:Pod}] | {id: CASE WHEN b_m.isPod THEN b_m.namespace + '/' + (CASE WHEN b_m.workload IS NULL OR b_m.workload = '' THEN b_m.name WHEN b_m.workloadKind = 'ReplicaSet' AND b_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(b_m.workload, size(b_m.workload) - size(last(split(b_m.workload, '-'))) - 1) ELSE b_m.workload END) ELSE b_m.id END, kind: b_m.kind, name: CASE WHEN b_m.isPod THEN CASE WHEN b_m.workload IS NULL OR b_m.workload = '' THEN b_m.name WHEN b_m.workloadKind = 'ReplicaSet' AND b_m.workload =~ '.+-[a-z0-9]{5,10}' THEN left(b_m.workload, size(b_m.workload) - size(last(split(b_m.workload, '-'))) - 1) ELSE b_m.workload END ELSE b_m.name END, namespace: b_m.namespace}][0]},
          {level: 'NAMESPACE', s: [a_m IN [a {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: a:Pod}] | {id: CASE WHEN a_m.isPod THEN a_m.namespace ELSE a_m.id END, kind: a_m.kind, name: CASE WHEN a_m.isPod THEN a_m.namespace ELSE a_m.name END, namespace: a_m.namespace}][0], t: [b_m IN [b {.id, .kind, .name, .namespace, .workload, .workloadKind, isPod: b:Pod}] | {id: CASE WHEN b_m.isPod THEN b_m.namespace ELSE b_m.id END, kind: b_m.kind, name: CASE WHEN b_m.isPod THEN b_m.namespace ELSE b_m.name END, namespace: b_m.namespace}][0]}] AS m
  MERGE (u:Rollup {key: m.level + '|' + m.s.id + '|' + m.t.id + '|' + toString(k.port) + '|' + k.protocol + '|' + k.verdict,
                   size: k.size, start: k.start})
  ON CREATE SET u.level = m.level, u.source = m.s.id, u.target = m.t.id,
                u.sourceKind = m.s.kind, u.sourceName = m.s.name, u.sourceNamespace = m.s.namespace,
                u.targetKind = m.t.kind, u.targetName = m.t.name, u.targetNamespace = m.t.namespace,
                u.port = toInteger(k.port), u.protocol = k.protocol, u.verdict = k.verdict,
                u.flows = 0, u.connections = 0, u.requests = 0, u.responses = 0, u.errors = 0, u.calls = 0
  SET u.flows = u.flows + coalesce(k.flows, 0),
      u.connections = u.connections + coalesce(k.connections, 0),
      u.requests = u.requests + coalesce(k.requests, 0),
      u.responses = u.responses + coalesce(k.responses, 0),
      u.errors = u.errors + coalesce(k.errors, 0),
      u.calls = u.calls + 1,
      u.lastSeen = CASE WHEN u.lastSeen IS NULL OR u.lastSeen < k.lastSeen THEN k.lastSeen ELSE u.lastSeen END,
      u.latencySketch = CASE WHEN k.latencySketch IS NULL OR NOT k.latencySketch STARTS WITH 'v1;' THEN u.latencySketch
    WHEN u.latencySketch IS NULL OR NOT u.latencySketch STARTS WITH 'v1;' THEN k.latencySketch
    ELSE [p IN [{a: split(u.latencySketch, ';'), b: split(k.latencySketch, ';')}] |
      [q IN [{za: toInteger(p.a[1]), zb: toInteger(p.b[1]), fa: toInteger(p.a[2]), fb: toInteger(p.b[2]),
              ca: CASE WHEN p.a[3] = '' THEN [] ELSE [c IN split(p.a[3], ',') | toInteger(c)] END,
              cb: CASE WHEN p.b[3] = '' THEN [] ELSE [c IN split(p.b[3], ',') | toInteger(c)] END}] |
        [x IN [{lo: CASE WHEN size(q.ca) = 0 THEN q.fb WHEN size(q.cb) = 0 OR q.fa < q.fb THEN q.fa ELSE q.fb END,
                hi: CASE WHEN size(q.ca) = 0 THEN q.fb + size(q.cb) - 1 WHEN size(q.cb) = 0 OR q.fa + size(q.ca) > q.fb + size(q.cb)
                    THEN q.fa + size(q.ca) - 1 ELSE q.fb + size(q.cb) - 1 END}] |
          'v1;' + toString(q.za + q.zb) + ';' + CASE WHEN size(q.ca) + size(q.cb) = 0 THEN '0;' ELSE toString(x.lo) + ';' +
            reduce(s = '', k IN range(x.lo, x.hi) | s + CASE WHEN k = x.lo THEN '' ELSE ',' END + toString(
              coalesce(CASE WHEN k >= q.fa AND k < q.fa + size(q.ca) THEN q.ca[k - q.fa] END, 0) +
              coalesce(CASE WHEN k >= q.fb AND k < q.fb + size(q.cb) THEN q.cb[k - q.fb] END, 0))) END
        ][0]
      ][0]
    ][0] END
} IN TRANSACTIONS OF 1000 ROWS;
