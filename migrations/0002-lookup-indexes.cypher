// Lookups that the API and the pruner make.
CREATE INDEX pod_namespace IF NOT EXISTS FOR (p:Pod) ON (p.namespace);
CREATE INDEX pod_workload IF NOT EXISTS FOR (p:Pod) ON (p.namespace, p.workload);
CREATE INDEX endpoint_kind IF NOT EXISTS FOR (e:Endpoint) ON (e.kind);
CREATE INDEX endpoint_last_seen IF NOT EXISTS FOR (e:Endpoint) ON (e.lastSeen);
CREATE INDEX calls_last_seen IF NOT EXISTS FOR ()-[r:CALLS]-() ON (r.lastSeen);
CREATE INDEX calls_verdict IF NOT EXISTS FOR ()-[r:CALLS]-() ON (r.verdict);
// The change feed of subscriptions reads edges and pods changed after a sequence number.
CREATE INDEX calls_change_seq IF NOT EXISTS FOR ()-[r:CALLS]-() ON (r.changeSeq);
CREATE INDEX endpoint_change_seq IF NOT EXISTS FOR (e:Endpoint) ON (e.changeSeq);
