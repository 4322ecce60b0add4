// One (:Activity) node per call, bucket size (seconds) and bucket start: the call's counts for the
// flows dated in that bucket (docs/time-buckets.md). The writer merges on this key.
CREATE CONSTRAINT activity_bucket IF NOT EXISTS FOR (k:Activity) REQUIRE (k.key, k.size, k.start) IS UNIQUE;
// Ranged reads and expiry scan the buckets of one size between two instants.
CREATE INDEX activity_size_start IF NOT EXISTS FOR (k:Activity) ON (k.size, k.start);
