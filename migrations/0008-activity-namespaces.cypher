// The namespaces of an activity bucket's pod ends (docs/time-buckets.md "How ranges are read"): a
// namespace's ranged POD map seeks its buckets of the window through these two indexes instead of
// one seek per call of the namespace. An end that is not a pod has no namespace (no property).
CREATE INDEX activity_source_namespace IF NOT EXISTS FOR (k:Activity) ON (k.sourceNamespace, k.size, k.start);
CREATE INDEX activity_destination_namespace IF NOT EXISTS FOR (k:Activity) ON (k.destinationNamespace, k.size, k.start);
// Backfill for buckets written before, in bounded transactions: a pod's id is `namespace/podName`,
// and no other endpoint id holds a `/` (src/model/endpoint-ids.ts podNamespaceOf). Setting the same
// values again is harmless, so a backfill taken over by another process (migrate.ts) may repeat it.
MATCH (k:Activity)
CALL {
  WITH k
  SET k.sourceNamespace = CASE WHEN k.sourceId CONTAINS '/' THEN split(k.sourceId, '/')[0] END,
      k.destinationNamespace = CASE WHEN k.destinationId CONTAINS '/' THEN split(k.destinationId, '/')[0] END
} IN TRANSACTIONS OF 10000 ROWS;
