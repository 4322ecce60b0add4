// Lock nodes between staged parts of activity buckets alone and workload moves
// (src/graph/cypher/rollup-queries.ts, BUCKET_LANES): a part holds one lane, a move all of them.
// Each is made by the first transaction that needs it; the constraint lets two make it at once.
CREATE CONSTRAINT bucket_lane_id IF NOT EXISTS FOR (l:BucketLane) REQUIRE l.id IS UNIQUE;
