import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './errors';
import { ordinalOfHostname } from './hubble/shard-of-node';
import { LOG_LEVELS, type LogLevel } from './logger';
import { type BucketSpec, DEFAULT_BUCKETS, parseBucketSpec } from './flows/time-buckets';

/**
 * Every setting of hubble-graph, in one table: its environment variable, its flag, its default and
 * what it means. This module is the only reader of `process.env` and of parsed flags; the result is
 * validated once (every problem reported together) and frozen.
 */
export type SettingGroup = 'log' | 'neo4j' | 'local' | 'hubble' | 'filter' | 'collector' | 'prometheus' | 'api' | 'time' | 'replay';

type Kind =
  | { type: 'string' }
  | { type: 'secret' }
  | { type: 'int'; min: number; max: number }
  | { type: 'bool' }
  | { type: 'duration' }
  | { type: 'list' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'hostport' }
  | { type: 'url'; protocols: readonly string[] }
  | { type: 'size' }
  | { type: 'buckets' };

export interface SettingDef {
  /** Dotted path in the resulting config object. */
  readonly key: string;
  readonly group: SettingGroup;
  readonly env: string;
  /** Long flag name without leading dashes. */
  readonly flag: string;
  readonly kind: Kind;
  /** Default as the user would type it; undefined means unset. */
  readonly default?: string;
  readonly help: string;
}

const int = (min: number, max: number): Kind => ({ type: 'int', min, max });
const str: Kind = { type: 'string' };
const bool: Kind = { type: 'bool' };
const dur: Kind = { type: 'duration' };
const list: Kind = { type: 'list' };

/** The settings table; the README's configuration section lists the same rows (`hubble-graph settings`). */
export const SETTINGS: readonly SettingDef[] = [
  { key: 'logLevel', group: 'log', env: 'LOG_LEVEL', flag: 'log-level', kind: { type: 'enum', values: LOG_LEVELS }, default: 'info', help: 'log level of the JSON logs on stderr' },

  { key: 'neo4j.uri', group: 'neo4j', env: 'NEO4J_URI', flag: 'neo4j-uri', kind: { type: 'url', protocols: ['bolt', 'bolt+s', 'bolt+ssc', 'neo4j', 'neo4j+s', 'neo4j+ssc'] }, help: 'an external Neo4j (bolt:// or routing neo4j://); unset: the local Neo4j is started and used' },
  { key: 'neo4j.username', group: 'neo4j', env: 'NEO4J_USERNAME', flag: 'neo4j-username', kind: str, default: 'neo4j', help: 'Neo4j user' },
  { key: 'neo4j.password', group: 'neo4j', env: 'NEO4J_PASSWORD', flag: 'neo4j-password', kind: { type: 'secret' }, default: 'hubble-graph', help: 'Neo4j password (the local Neo4j is given this password; at least 8 characters)' },
  { key: 'neo4j.database', group: 'neo4j', env: 'NEO4J_DATABASE', flag: 'neo4j-database', kind: str, default: 'neo4j', help: 'Neo4j database name' },
  { key: 'neo4j.queryTimeoutMs', group: 'neo4j', env: 'HG_NEO4J_QUERY_TIMEOUT', flag: 'neo4j-query-timeout', kind: dur, default: '30s', help: 'timeout of each Neo4j transaction' },
  { key: 'neo4j.connectTimeoutMs', group: 'neo4j', env: 'HG_NEO4J_CONNECT_TIMEOUT', flag: 'neo4j-connect-timeout', kind: dur, default: '15s', help: 'how long to wait for Neo4j to answer at start' },

  { key: 'local.home', group: 'local', env: 'HG_NEO4J_HOME', flag: 'neo4j-home', kind: str, default: '.data/neo4j', help: 'directory of the local Neo4j (data, logs, pid file); relative paths are under the project root' },
  { key: 'local.host', group: 'local', env: 'HG_NEO4J_HOST', flag: 'neo4j-host', kind: str, default: '127.0.0.1', help: 'address the local Neo4j listens on' },
  { key: 'local.boltPort', group: 'local', env: 'HG_NEO4J_BOLT_PORT', flag: 'neo4j-bolt-port', kind: int(1, 65535), default: '7687', help: 'Bolt port of the local Neo4j' },
  { key: 'local.httpPort', group: 'local', env: 'HG_NEO4J_HTTP_PORT', flag: 'neo4j-http-port', kind: int(0, 65535), default: '7474', help: 'HTTP port of the local Neo4j (Neo4j Browser at /browser/); 0 turns it off' },
  { key: 'local.heap', group: 'local', env: 'HG_NEO4J_HEAP', flag: 'neo4j-heap', kind: { type: 'size' }, default: '1g', help: 'JVM heap of the local Neo4j (-Xmx)' },
  { key: 'local.pageCache', group: 'local', env: 'HG_NEO4J_PAGECACHE', flag: 'neo4j-pagecache', kind: { type: 'size' }, default: '512m', help: 'page cache of the local Neo4j' },
  { key: 'local.startTimeoutMs', group: 'local', env: 'HG_NEO4J_START_TIMEOUT', flag: 'neo4j-start-timeout', kind: dur, default: '180s', help: 'how long to wait for the local Neo4j to answer on Bolt' },
  { key: 'local.java', group: 'local', env: 'HG_JAVA', flag: 'java', kind: str, help: 'java executable for the local Neo4j (default: $JAVA_HOME/bin/java, else java on PATH)' },
  { key: 'local.mvn', group: 'local', env: 'HG_MVN', flag: 'mvn', kind: str, default: 'mvn', help: 'Maven executable that fetches the Neo4j jars on first use' },

  { key: 'hubble.server', group: 'hubble', env: 'HUBBLE_SERVER', flag: 'hubble-server', kind: { type: 'hostport' }, default: 'localhost:4245', help: 'Hubble Relay or Hubble server address (host:port)' },
  { key: 'hubble.tls', group: 'hubble', env: 'HUBBLE_TLS', flag: 'hubble-tls', kind: bool, default: 'false', help: 'use TLS to reach Hubble' },
  { key: 'hubble.tlsCaFile', group: 'hubble', env: 'HUBBLE_TLS_CA_FILE', flag: 'hubble-tls-ca-file', kind: str, help: 'CA certificate (PEM) that signed the Hubble server certificate' },
  { key: 'hubble.tlsCertFile', group: 'hubble', env: 'HUBBLE_TLS_CLIENT_CERT_FILE', flag: 'hubble-tls-client-cert-file', kind: str, help: 'client certificate (PEM) for mTLS' },
  { key: 'hubble.tlsKeyFile', group: 'hubble', env: 'HUBBLE_TLS_CLIENT_KEY_FILE', flag: 'hubble-tls-client-key-file', kind: str, help: 'client key (PEM) for mTLS' },
  { key: 'hubble.tlsServerName', group: 'hubble', env: 'HUBBLE_TLS_SERVER_NAME', flag: 'hubble-tls-server-name', kind: str, help: 'server name to verify, e.g. instance.hubble-relay.cilium.io' },
  { key: 'hubble.reconnectMinMs', group: 'hubble', env: 'HG_RECONNECT_MIN', flag: 'reconnect-min', kind: dur, default: '250ms', help: 'first reconnect delay (doubles up to the maximum, with jitter)' },
  { key: 'hubble.resumeOverlapMs', group: 'hubble', env: 'HG_RESUME_OVERLAP', flag: 'resume-overlap', kind: dur, default: '2s', help: 'on reconnect or restart, ask again for flows this far before the last one received or committed (Relay sorts flows in a short window); those already received or committed are dropped by uuid (else content)' },
  { key: 'hubble.resumeWarmupMs', group: 'hubble', env: 'HG_RESUME_WARMUP', flag: 'resume-warmup', kind: dur, default: '10s', help: 'after a restart, also ask for the committed flows of this long before the resume point, so that both ends of a connection or request that straddle the restart are paired (counted once)' },
  { key: 'hubble.reconnectMaxMs', group: 'hubble', env: 'HG_RECONNECT_MAX', flag: 'reconnect-max', kind: dur, default: '30s', help: 'longest reconnect delay' },
  { key: 'hubble.shardCount', group: 'hubble', env: 'HG_SHARD_COUNT', flag: 'shard-count', kind: int(1, 10_000), default: '1', help: 'collectors sharing the Hubble nodes of one Relay: each asks Relay (GetFlows node_name) only for the nodes whose name hashes to its shard (see docs/scale-out.md)' },
  { key: 'hubble.shardIndex', group: 'hubble', env: 'HG_SHARD_INDEX', flag: 'shard-index', kind: str, help: 'this collector\'s shard, 0 to HG_SHARD_COUNT-1, or `ordinal`: the trailing number of the pod name (HOSTNAME) of a StatefulSet pod; required when HG_SHARD_COUNT is above 1' },
  { key: 'hubble.nodesRefreshMs', group: 'hubble', env: 'HG_SHARD_NODES_REFRESH', flag: 'shard-nodes-refresh', kind: dur, default: '30s', help: 'how often a sharded collector asks Relay for its nodes (GetNodes); a node_status event naming a node of its shard is taken at once' },

  { key: 'filter.namespaces', group: 'filter', env: 'HG_NAMESPACES', flag: 'namespace', kind: list, help: 'only flows from or to these namespaces (comma-separated)' },
  { key: 'filter.pods', group: 'filter', env: 'HG_PODS', flag: 'pod', kind: list, help: 'only flows from or to these pods (namespace/pod or pod-name prefix)' },
  { key: 'filter.verdicts', group: 'filter', env: 'HG_VERDICTS', flag: 'verdict', kind: list, help: 'only flows with these verdicts (FORWARDED, DROPPED, ...)' },
  { key: 'filter.excludeNamespaces', group: 'filter', env: 'HG_EXCLUDE_NAMESPACES', flag: 'exclude-namespace', kind: list, help: 'drop flows from or to these namespaces' },
  { key: 'filter.excludeReserved', group: 'filter', env: 'HG_EXCLUDE_RESERVED', flag: 'exclude-reserved', kind: list, help: 'drop flows from or to these reserved identities (e.g. health,host,remote-node)' },

  { key: 'collector.source', group: 'collector', env: 'HG_SOURCE', flag: 'source', kind: { type: 'enum', values: ['hubble', 'prometheus'] }, default: 'hubble', help: 'where flows come from' },
  { key: 'collector.id', group: 'collector', env: 'HG_COLLECTOR_ID', flag: 'collector-id', kind: str, help: 'name of this collector in the graph; a restart with the same id resumes where it left off (default: the hostname for collect, run and start; hostname-import-pid for import)' },
  { key: 'collector.flushIntervalMs', group: 'collector', env: 'HG_FLUSH_INTERVAL', flag: 'flush-interval', kind: dur, default: '1s', help: 'write aggregated changes to Neo4j this often' },
  { key: 'collector.flushMaxEdges', group: 'collector', env: 'HG_FLUSH_MAX_EDGES', flag: 'flush-max-edges', kind: int(1, 10_000_000), default: '20000', help: 'flush early once this many edges are dirty' },
  { key: 'collector.batchSize', group: 'collector', env: 'HG_BATCH_SIZE', flag: 'batch-size', kind: int(1, 1_000_000), default: '5000', help: 'rows per write transaction; a larger flush is first staged in Neo4j with its resume point, then written in parts of this size' },
  { key: 'collector.maxDirtyEdges', group: 'collector', env: 'HG_MAX_DIRTY_EDGES', flag: 'max-dirty-edges', kind: int(1, 100_000_000), default: '2000000', help: 'memory bound: dirty edges kept while Neo4j is unavailable before warning loudly' },
  { key: 'collector.listen', group: 'collector', env: 'HG_COLLECTOR_LISTEN', flag: 'collector-listen', kind: { type: 'hostport' }, default: '127.0.0.1:9465', help: 'address of the collector /metrics, /healthz and /readyz (port 0: any free port)' },
  { key: 'collector.maxFlowAheadMs', group: 'collector', env: 'HG_MAX_FLOW_AHEAD', flag: 'max-flow-ahead', kind: dur, default: '5m', help: 'skip flows dated further ahead of this machine\'s clock (counted as time_out_of_range)' },
  { key: 'collector.maxFlowAgeMs', group: 'collector', env: 'HG_MAX_FLOW_AGE', flag: 'max-flow-age', kind: dur, default: '0', help: 'skip flows older than this (time_out_of_range; 0: no limit); flows dated before 2000 are always skipped' },
  { key: 'collector.deadLetterFile', group: 'collector', env: 'HG_DEAD_LETTER_FILE', flag: 'dead-letter-file', kind: str, default: '.data/dead-letters.jsonl', help: 'JSON lines file for rows Neo4j refuses for good (with the reason); relative paths are under the project root' },
  { key: 'collector.pruneOlderThanMs', group: 'collector', env: 'HG_PRUNE_OLDER_THAN', flag: 'prune-older-than', kind: dur, default: '0', help: 'periodically remove nodes and edges not seen for this long (0: never)' },
  { key: 'collector.pruneIntervalMs', group: 'collector', env: 'HG_PRUNE_INTERVAL', flag: 'prune-interval', kind: dur, default: '10m', help: 'how often the periodic prune runs' },
  { key: 'collector.migrate', group: 'collector', env: 'HG_MIGRATE', flag: 'migrate', kind: bool, default: 'true', help: 'apply pending migrations at start' },
  { key: 'collector.attribution', group: 'collector', env: 'HG_ATTRIBUTION', flag: 'attribution', kind: { type: 'enum', values: ['auto', 'paired', 'owner'] }, default: 'auto', help: 'how an exchange seen at both ends counts once: paired (both ends in this collector), owner (only at the side that owns it, so that collectors of different nodes agree); auto: owner when HG_SHARD_COUNT is above 1' },

  { key: 'prometheus.url', group: 'prometheus', env: 'HG_PROMETHEUS_URL', flag: 'prometheus-url', kind: { type: 'url', protocols: ['http', 'https'] }, help: 'Prometheus server holding Hubble metrics (for --source prometheus)' },
  { key: 'prometheus.intervalMs', group: 'prometheus', env: 'HG_PROMETHEUS_INTERVAL', flag: 'interval', kind: dur, default: '30s', help: 'how often Prometheus is queried' },
  { key: 'prometheus.timeoutMs', group: 'prometheus', env: 'HG_PROMETHEUS_TIMEOUT', flag: 'prometheus-timeout', kind: dur, default: '10s', help: 'timeout of each Prometheus query' },

  { key: 'api.host', group: 'api', env: 'HG_API_HOST', flag: 'host', kind: str, default: '127.0.0.1', help: 'address the GraphQL API listens on' },
  { key: 'api.port', group: 'api', env: 'HG_API_PORT', flag: 'port', kind: int(0, 65535), default: '4000', help: 'port of the GraphQL API (0: any free port)' },
  { key: 'api.path', group: 'api', env: 'HG_API_PATH', flag: 'path', kind: str, default: '/graphql', help: 'path of GraphQL over HTTP and WebSocket' },
  { key: 'api.introspection', group: 'api', env: 'HG_API_INTROSPECTION', flag: 'introspection', kind: bool, default: 'true', help: 'allow schema introspection' },
  { key: 'api.explorer', group: 'api', env: 'HG_API_EXPLORER', flag: 'explorer', kind: bool, default: 'true', help: 'serve the GraphiQL explorer (offline, from local files) on GET of the API path' },
  { key: 'api.tokens', group: 'api', env: 'HG_API_TOKENS', flag: 'tokens', kind: { type: 'secret' }, help: 'comma-separated bearer tokens; when set (or a tokens file), every request needs one' },
  { key: 'api.tokensFile', group: 'api', env: 'HG_API_TOKENS_FILE', flag: 'tokens-file', kind: str, help: 'file with one bearer token per line; read again when it changes (removed tokens stop working, their subscriptions are closed)' },
  { key: 'api.corsOrigins', group: 'api', env: 'HG_API_CORS_ORIGINS', flag: 'cors-origins', kind: list, help: 'origins allowed by CORS (comma-separated, * for any); unset: no CORS headers' },
  { key: 'api.maxDepth', group: 'api', env: 'HG_API_MAX_DEPTH', flag: 'max-depth', kind: int(1, 100), default: '12', help: 'maximum GraphQL query depth' },
  { key: 'api.maxCost', group: 'api', env: 'HG_API_MAX_COST', flag: 'max-cost', kind: int(1, 1_000_000_000), default: '50000', help: 'maximum estimated cost of one GraphQL operation (about the rows it may have Neo4j read; see the API section)' },
  { key: 'api.maxRootFields', group: 'api', env: 'HG_API_MAX_ROOT_FIELDS', flag: 'max-root-fields', kind: int(1, 10_000), default: '20', help: 'maximum root fields (aliases included) in one GraphQL operation' },
  { key: 'api.maxHops', group: 'api', env: 'HG_API_MAX_HOPS', flag: 'max-hops', kind: int(1, 50), default: '10', help: 'cap on maxHops and depth in path and dependency searches' },
  { key: 'api.maxPageSize', group: 'api', env: 'HG_API_MAX_PAGE_SIZE', flag: 'max-page-size', kind: int(1, 100_000), default: '1000', help: 'cap on `first` and on result sizes' },
  { key: 'api.maxSessionsPerRequest', group: 'api', env: 'HG_API_MAX_SESSIONS_PER_REQUEST', flag: 'max-sessions-per-request', kind: int(1, 1000), default: '4', help: 'Neo4j sessions one request or subscription may hold at once; its other reads wait their turn' },
  { key: 'api.heavyCost', group: 'api', env: 'HG_API_HEAVY_COST', flag: 'heavy-cost', kind: int(1, 1_000_000_000), default: '5000', help: 'estimated cost from which an operation is costly: costly operations share HG_API_MAX_HEAVY_SESSIONS' },
  { key: 'api.maxHeavySessions', group: 'api', env: 'HG_API_MAX_HEAVY_SESSIONS', flag: 'max-heavy-sessions', kind: int(1, 1000), default: '4', help: 'Neo4j sessions all costly operations of one API process may hold at once; cheap ones never wait for them' },
  { key: 'api.readTimeoutMs', group: 'api', env: 'HG_API_READ_TIMEOUT', flag: 'read-timeout', kind: dur, default: '10s', help: 'time budget of one GraphQL request (of each Neo4j read of a subscription); past it the request fails with QUERY_TIMEOUT and Neo4j stops its work' },
  { key: 'api.maxBodyBytes', group: 'api', env: 'HG_API_MAX_BODY_BYTES', flag: 'max-body-bytes', kind: int(1_000, 1_000_000_000), default: '1000000', help: 'largest HTTP request body, in bytes (larger: 413)' },
  { key: 'api.changePollMs', group: 'api', env: 'HG_API_CHANGE_POLL', flag: 'change-poll', kind: dur, default: '500ms', help: 'how often the API reads the change feed from Neo4j for subscriptions' },
  { key: 'api.updateCoalesceMs', group: 'api', env: 'HG_API_UPDATE_COALESCE', flag: 'update-coalesce', kind: dur, default: '1s', help: 'at most one callUpdated event per edge per this interval' },
  { key: 'api.development', group: 'api', env: 'HG_DEV', flag: 'dev', kind: bool, default: 'false', help: 'development mode: stack traces in GraphQL errors' },

  { key: 'time.buckets', group: 'time', env: 'HG_BUCKETS', flag: 'buckets', kind: { type: 'buckets' }, default: DEFAULT_BUCKETS, help: 'bucket sizes of flow time and how long each is kept (SIZE:RETENTION,..., finest first, each a multiple of the one before; off: no buckets, no ranged queries); the collector writes them, the API reads ranges from them' },
  { key: 'time.expireIntervalMs', group: 'time', env: 'HG_BUCKET_EXPIRE_INTERVAL', flag: 'bucket-expire-interval', kind: dur, default: '1m', help: 'how often a collector removes buckets past their retention' },
  { key: 'time.expireBatch', group: 'time', env: 'HG_BUCKET_EXPIRE_BATCH', flag: 'bucket-expire-batch', kind: int(1, 1_000_000), default: '10000', help: 'buckets removed per transaction when they expire' },

  { key: 'replay.listen', group: 'replay', env: 'HG_REPLAY_LISTEN', flag: 'listen', kind: { type: 'hostport' }, default: '127.0.0.1:4245', help: 'address the replay server listens on' },
  { key: 'replay.rate', group: 'replay', env: 'HG_REPLAY_RATE', flag: 'rate', kind: int(0, 100_000_000), default: '0', help: 'flows per second served to followers (0: as fast as possible)' },
  { key: 'replay.loop', group: 'replay', env: 'HG_REPLAY_LOOP', flag: 'loop', kind: bool, default: 'false', help: 'start again at the end of the recording' },
  { key: 'replay.retime', group: 'replay', env: 'HG_REPLAY_RETIME', flag: 'retime', kind: bool, default: 'false', help: 'shift flow times so that the recording happens now' },
];

export interface Neo4jConfig {
  readonly uri?: string;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  readonly queryTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export interface LocalNeo4jConfig {
  /** Absolute directory of the local server. */
  readonly home: string;
  readonly host: string;
  readonly boltPort: number;
  /** 0: HTTP connector and Neo4j Browser off. */
  readonly httpPort: number;
  readonly heap: string;
  readonly pageCache: string;
  readonly startTimeoutMs: number;
  readonly java?: string;
  readonly mvn: string;
}

export interface HubbleConfig {
  readonly server: string;
  readonly tls: boolean;
  readonly tlsCaFile?: string;
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  readonly tlsServerName?: string;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly resumeOverlapMs: number;
  readonly resumeWarmupMs: number;
  /** Collectors sharing the Hubble nodes (1: this one reads them all). */
  readonly shardCount: number;
  /** This collector's shard, 0..shardCount-1 (from HG_SHARD_INDEX, or the pod name's ordinal). */
  readonly shardIndex: number;
  /** How often a sharded collector reads Relay's node list (ms). */
  readonly nodesRefreshMs: number;
}

export interface FilterConfig {
  readonly namespaces: readonly string[];
  readonly pods: readonly string[];
  readonly verdicts: readonly string[];
  readonly excludeNamespaces: readonly string[];
  readonly excludeReserved: readonly string[];
}

export interface CollectorConfig {
  readonly source: 'hubble' | 'prometheus';
  readonly id?: string;
  readonly flushIntervalMs: number;
  readonly flushMaxEdges: number;
  readonly batchSize: number;
  readonly maxDirtyEdges: number;
  /** Flows dated more than this ahead of the clock are skipped (ms). */
  readonly maxFlowAheadMs: number;
  /** Flows older than this are skipped (ms); 0: no limit. */
  readonly maxFlowAgeMs: number;
  /** Absolute path of the dead-letter file. */
  readonly deadLetterFile: string;
  readonly listen: string;
  readonly pruneOlderThanMs: number;
  readonly pruneIntervalMs: number;
  readonly migrate: boolean;
  /**
   * How an exchange seen at both ends counts once (docs/flow-to-graph-rules.md): `paired` in this
   * collector's pairing windows, `owner` only at the observation of the side that owns it.
   */
  readonly attribution: Attribution;
}

/** See CollectorConfig.attribution. */
export type Attribution = 'paired' | 'owner';

export interface PrometheusConfig {
  readonly url?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface ApiConfig {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly introspection: boolean;
  readonly explorer: boolean;
  readonly tokens?: string;
  readonly tokensFile?: string;
  readonly corsOrigins: readonly string[];
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxRootFields: number;
  readonly maxHops: number;
  readonly maxPageSize: number;
  readonly maxSessionsPerRequest: number;
  readonly heavyCost: number;
  readonly maxHeavySessions: number;
  readonly readTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly changePollMs: number;
  readonly updateCoalesceMs: number;
  readonly development: boolean;
}

export interface TimeConfig {
  /** Bucket sizes and retentions, finest first; empty: buckets off. */
  readonly buckets: BucketSpec;
  readonly expireIntervalMs: number;
  /** Buckets deleted per transaction. */
  readonly expireBatch: number;
}

export interface ReplayConfig {
  readonly listen: string;
  readonly rate: number;
  readonly loop: boolean;
  readonly retime: boolean;
}

/** The validated configuration; a command only reads the groups it asked for. */
export interface AppConfig {
  readonly logLevel: LogLevel;
  readonly neo4j: Neo4jConfig;
  readonly local: LocalNeo4jConfig;
  readonly hubble: HubbleConfig;
  readonly filter: FilterConfig;
  readonly collector: CollectorConfig;
  readonly prometheus: PrometheusConfig;
  readonly api: ApiConfig;
  readonly time: TimeConfig;
  readonly replay: ReplayConfig;
}

/** The project root (the nearest folder above this file with a package.json), for relative paths. */
export const PROJECT_ROOT = findProjectRoot(__dirname);

function findProjectRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/** Parses `1500`, `1500ms`, `30s`, `5m`, `24h`, `7d` into milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Math.round(Number(m[1]) * unit);
}

function parseValue(def: SettingDef, raw: string, problems: string[], source: string): unknown {
  const where = `${source} (${def.env} / --${def.flag})`;
  const k = def.kind;
  switch (k.type) {
    case 'string':
    case 'secret':
      return raw;
    case 'int': {
      const n = Number(raw);
      if (!/^\s*-?\d+\s*$/.test(raw) || n < k.min || n > k.max) {
        problems.push(`${where}: expected a whole number from ${k.min} to ${k.max}, got "${raw}"`);
        return undefined;
      }
      return n;
    }
    case 'bool': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      problems.push(`${where}: expected true or false, got "${raw}"`);
      return undefined;
    }
    case 'duration': {
      const ms = parseDurationMs(raw);
      if (ms === undefined) problems.push(`${where}: expected a duration such as 500ms, 30s, 5m, 24h, got "${raw}"`);
      return ms;
    }
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'enum':
      if (!k.values.includes(raw)) {
        problems.push(`${where}: expected one of ${k.values.join(', ')}, got "${raw}"`);
        return undefined;
      }
      return raw;
    case 'hostport': {
      const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim());
      if (!m || Number(m[2]) > 65535) {
        problems.push(`${where}: expected host:port, got "${raw}"`);
        return undefined;
      }
      return raw.trim();
    }
    case 'url': {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        problems.push(`${where}: expected a URL such as ${k.protocols[0]}://host:port, got "${raw}"`);
        return undefined;
      }
      const scheme = url.protocol.replace(/:$/, '');
      if (!k.protocols.includes(scheme)) {
        problems.push(`${where}: expected a URL with scheme ${k.protocols.join(', ')}, got "${raw}"`);
        return undefined;
      }
      return raw;
    }
    case 'buckets': {
      const spec = parseBucketSpec(raw);
      if (typeof spec === 'string') {
        problems.push(`${where}: ${spec}`);
        return undefined;
      }
      return spec;
    }
    case 'size':
      if (!/^\d+[kmgKMG]?$/.test(raw)) {
        problems.push(`${where}: expected a size such as 512m or 2g, got "${raw}"`);
        return undefined;
      }
      return raw.toLowerCase();
  }
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]] = value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The commander-style camelCase name of a flag (`neo4j-uri` -> `neo4jUri`). */
export function flagProperty(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export interface LoadConfigOptions {
  /** Parsed flags, keyed by camelCase flag name; undefined values are ignored. */
  readonly flags?: Readonly<Record<string, unknown>>;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Reads every setting from flags (first), then the environment, then the default; validates all of
 * them and throws one ConfigError listing every problem.
 */
export function loadConfig(options: LoadConfigOptions = {}): AppConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const def of SETTINGS) {
    const flagValue = flags[flagProperty(def.flag)];
    let raw: string | undefined;
    let source = 'default';
    if (flagValue !== undefined && flagValue !== null) {
      raw = Array.isArray(flagValue) ? flagValue.join(',') : String(flagValue);
      source = `--${def.flag}`;
    } else if (env[def.env] !== undefined && env[def.env] !== '') {
      raw = env[def.env];
      source = def.env;
    } else {
      raw = def.default;
    }
    let value = raw === undefined ? undefined : parseValue(def, raw, problems, source);
    if (value === undefined && def.kind.type === 'list') value = [];
    setPath(out, def.key, value);
  }
  const cfg = out as unknown as AppConfig & { local: { java?: string; home: string } };
  // Derived values and cross-field rules.
  (cfg.local as { home: string }).home = path.resolve(PROJECT_ROOT, cfg.local.home);
  (cfg.collector as { deadLetterFile: string }).deadLetterFile = path.resolve(PROJECT_ROOT, cfg.collector.deadLetterFile);
  if (!cfg.local.java && env.JAVA_HOME) (cfg.local as { java?: string }).java = path.join(env.JAVA_HOME, 'bin', 'java');
  if (cfg.neo4j.password !== undefined && !cfg.neo4j.uri && cfg.neo4j.password.length < 8) {
    problems.push('NEO4J_PASSWORD / --neo4j-password: the local Neo4j needs a password of at least 8 characters');
  }
  if ((cfg.hubble.tlsCertFile === undefined) !== (cfg.hubble.tlsKeyFile === undefined)) {
    problems.push('HUBBLE_TLS_CLIENT_CERT_FILE and HUBBLE_TLS_CLIENT_KEY_FILE: mTLS needs both the client certificate and its key');
  }
  if (cfg.collector.flushIntervalMs !== undefined && cfg.collector.flushIntervalMs < 10) {
    problems.push(`HG_FLUSH_INTERVAL / --flush-interval: at least 10ms, got ${cfg.collector.flushIntervalMs}ms`);
  }
  if (cfg.local.boltPort !== undefined && cfg.local.boltPort === cfg.local.httpPort) {
    problems.push('HG_NEO4J_BOLT_PORT and HG_NEO4J_HTTP_PORT must differ');
  }
  if (cfg.api.readTimeoutMs !== undefined && cfg.api.readTimeoutMs < 100) {
    problems.push(`HG_API_READ_TIMEOUT / --read-timeout: at least 100ms, got ${cfg.api.readTimeoutMs}ms`);
  }
  if (!cfg.api.path?.startsWith('/')) problems.push(`HG_API_PATH / --path: must start with /, got "${cfg.api.path}"`);
  resolveSharding(cfg, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return deepFreeze(cfg);
}

/**
 * Turns HG_SHARD_INDEX into a number (a StatefulSet's pod ordinal for `ordinal`) and `auto`
 * attribution into the rule sharding needs: with several shards, the two ends of one exchange can
 * be read by different collectors, and only `owner` counts it once then.
 */
function resolveSharding(cfg: AppConfig, env: NodeJS.ProcessEnv, problems: string[]): void {
  const hubble = cfg.hubble as { shardCount: number; shardIndex: number | string | undefined };
  const collector = cfg.collector as { attribution: Attribution | 'auto' };
  const count = hubble.shardCount ?? 1;
  const raw = hubble.shardIndex as string | undefined;
  let index: number | undefined;
  if (raw === undefined || raw.trim() === '') {
    if (count > 1) problems.push(`HG_SHARD_INDEX / --shard-index: required when HG_SHARD_COUNT is ${count} (a number from 0 to ${count - 1}, or ordinal)`);
    index = 0;
  } else if (raw.trim() === 'ordinal') {
    const hostname = env.HOSTNAME || os.hostname();
    index = ordinalOfHostname(hostname);
    if (index === undefined) problems.push(`HG_SHARD_INDEX / --shard-index: ordinal needs a pod name ending in -<number> (a StatefulSet pod), got hostname "${hostname}"`);
  } else if (/^\s*\d+\s*$/.test(raw)) {
    index = Number(raw);
  } else {
    problems.push(`HG_SHARD_INDEX / --shard-index: expected a number from 0 to ${count - 1} or ordinal, got "${raw}"`);
  }
  if (index !== undefined && index >= count) problems.push(`HG_SHARD_INDEX / --shard-index: is ${index}, but HG_SHARD_COUNT ${count} allows 0 to ${count - 1}`);
  hubble.shardIndex = index ?? 0;
  if (collector.attribution === 'paired' && count > 1) {
    problems.push(`HG_ATTRIBUTION / --attribution: paired counts an exchange twice when its two ends are on nodes of different shards; use owner (or auto) with HG_SHARD_COUNT ${count}`);
  }
  if (collector.attribution === 'auto' || collector.attribution === undefined) collector.attribution = count > 1 ? 'owner' : 'paired';
}

/** The settings table as Markdown, for the README (`hubble-graph settings`). */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map(
    (d) => `| \`${d.env}\` | \`--${d.flag}\` | ${d.default === undefined ? '' : `\`${d.default}\``} | ${d.help} |`,
  );
  return ['| env | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
