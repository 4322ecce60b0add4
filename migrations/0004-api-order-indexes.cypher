// The API's "worst calls first" (calls ordered by ERROR_RATE) reads the top N from this index
// instead of sorting every CALLS relationship. errorRate changes only when L7 responses arrive.
CREATE INDEX calls_error_rate IF NOT EXISTS FOR ()-[r:CALLS]-() ON (r.errorRate);
