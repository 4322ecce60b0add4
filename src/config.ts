import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './errors';
import { ordinalOfHostname } from './hubble/shard-of-node';
import { LOG_LEVELS, type LogLevel } from './logger';
import { z } from 'zod';
import { type BucketSpec, DEFAULT_BUCKETS, parseBucketSpec } from './model/time-buckets';

/**
 * Every setting of hubble-graph, declared once (DECLARED below): its environment variable, its
 * flag, its default, what it means, and the zod schema that turns the text into its typed value.
 * The settings table (SETTINGS, the README's configuration section, the commands' flags) and the
 * config types (AppConfig and its groups) are both derived from that declaration. This module is
 * the only reader of `process.env` and of parsed flags; the result is validated once (every
 * problem reported together) and frozen.
 */
export type SettingGroup = 'log' | 'neo4j' | 'local' | 'hubble' | 'filter' | 'collector' | 'prometheus' | 'api' | 'time' | 'replay';

type KindName = 'string' | 'secret' | 'int' | 'bool' | 'duration' | 'list' | 'enum' | 'hostport' | 'url' | 'size' | 'buckets';

/** How a setting's text is read: a name (for help and flags) and the schema from text to value. */
interface Kind<T> {
  readonly type: KindName;
  readonly schema: z.ZodType<T, z.ZodTypeDef, string>;
}

/** A schema from text that reports `expected …, got "<text>"` when `read` gives undefined. */
function textKind<T>(type: KindName, expected: string | ((raw: string) => string), read: (raw: string) => T | undefined): Kind<T> {
  return {
    type,
    schema: z.string().transform((raw, ctx) => {
      const value = read(raw);
      if (value !== undefined) return value;
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: typeof expected === 'string' ? `expected ${expected}, got "${raw}"` : expected(raw),
      });
      return z.NEVER;
    }),
  };
}

const str = textKind('string', '', (raw) => raw);
const secret = textKind('secret', '', (raw) => raw);
const int = (min: number, max: number) =>
  textKind(`int`, `a whole number from ${min} to ${max}`, (raw) =>
    /^\s*-?\d+\s*$/.test(raw) && Number(raw) >= min && Number(raw) <= max ? Number(raw) : undefined,
  );
const bool = textKind('bool', 'true or false', (raw) => {
  const v = raw.trim().toLowerCase();
  return ['true', '1', 'yes', 'on'].includes(v) ? true : ['false', '0', 'no', 'off'].includes(v) ? false : undefined;
});
const dur = textKind('duration', 'a duration such as 500ms, 30s, 5m, 24h', (raw) => parseDurationMs(raw));
/** A duration of at least `min` (such as `1s`): where 0 or a few ms would make a loop spin. */
const durAtLeast = (min: string) =>
  textKind('duration', `a duration of at least ${min} such as 30s`, (raw) => {
    const ms = parseDurationMs(raw);
    return ms !== undefined && ms >= (parseDurationMs(min) ?? 0) ? ms : undefined;
  });
const list: Kind<readonly string[]> = {
  type: 'list',
  schema: z.string().transform((raw) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ),
};
const oneOf = <const V extends readonly string[]>(values: V) =>
  textKind('enum', `one of ${values.join(', ')}`, (raw) => values.find((v): v is V[number] => v === raw));
const hostport = textKind('hostport', 'host:port', (raw) => {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim());
  return m && Number(m[2]) <= 65535 ? raw.trim() : undefined;
});
const url = (protocols: readonly string[]) => {
  const parse = (raw: string): URL | undefined => {
    try {
      return new URL(raw);
    } catch {
      return undefined;
    }
  };
  return textKind(
    'url',
    (raw) =>
      parse(raw) === undefined
        ? `expected a URL such as ${protocols[0]}://host:port, got "${raw}"`
        : `expected a URL with scheme ${protocols.join(', ')}, got "${raw}"`,
    (raw) => (protocols.includes(parse(raw)?.protocol.replace(/:$/, '') ?? '') ? raw : undefined),
  );
};
const size = textKind('size', 'a size such as 512m or 2g', (raw) => (/^\d+[kmgKMG]?$/.test(raw) ? raw.toLowerCase() : undefined));
const buckets: Kind<BucketSpec> = {
  type: 'buckets',
  schema: z.string().transform((raw, ctx) => {
    const spec = parseBucketSpec(raw);
    if (typeof spec !== 'string') return spec;
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: spec });
    return z.NEVER;
  }),
};

interface SettingText {
  readonly env: string;
  /** Long flag name without leading dashes. */
  readonly flag: string;
  /** Default as the user would type it; absent means unset. */
  readonly default?: string;
  readonly help: string;
  /** Only for a setting outside the groups (logLevel): its group. */
  readonly group?: SettingGroup;
  /** Former names of a renamed setting, still read (when the new ones are not given) and reported as deprecated. */
  readonly deprecated?: { readonly env: string; readonly flag: string };
}

/** A declared setting; `Set` says whether it always has a value (a default, or a list: empty when unset). */
interface Setting<T, Set extends boolean> extends SettingText {
  readonly kind: Kind<T>;
  readonly alwaysSet: Set;
}

function setting<T>(kind: Kind<T>, text: SettingText & { default: string }): Setting<T, true>;
function setting(kind: Kind<readonly string[]>, text: SettingText): Setting<readonly string[], true>;
function setting<T>(kind: Kind<T>, text: SettingText): Setting<T, false>;
function setting<T>(kind: Kind<T>, text: SettingText): Setting<T, boolean> {
  return { ...text, kind, alwaysSet: text.default !== undefined || kind.type === 'list' };
}

/** The settings, by group (logLevel stands alone); the README's configuration section lists the same rows (`hubble-graph settings`). */
const DECLARED = {
  logLevel: setting(oneOf(LOG_LEVELS), {
    group: 'log',
    env: 'LOG_LEVEL',
    flag: 'log-level',
    default: 'info',
    help: 'log level of the JSON logs on stderr (debug: the collector also logs each batch it writes, "batch written", with its rows by kind and writeMs)',
  }),
  neo4j: {
    uri: setting(url(['bolt', 'bolt+s', 'bolt+ssc', 'neo4j', 'neo4j+s', 'neo4j+ssc']), {
      env: 'NEO4J_URI',
      flag: 'neo4j-uri',
      help: 'an external Neo4j (bolt:// or routing neo4j://); unset: the local Neo4j is started and used',
    }),
    username: setting(str, { env: 'NEO4J_USERNAME', flag: 'neo4j-username', default: 'neo4j', help: 'Neo4j user' }),
    password: setting(secret, {
      env: 'NEO4J_PASSWORD',
      flag: 'neo4j-password',
      default: 'hubble-graph',
      help: 'Neo4j password (the local Neo4j is given this password; at least 8 characters)',
    }),
    database: setting(str, { env: 'NEO4J_DATABASE', flag: 'neo4j-database', default: 'neo4j', help: 'Neo4j database name' }),
    queryTimeoutMs: setting(dur, {
      env: 'HG_NEO4J_QUERY_TIMEOUT',
      flag: 'neo4j-query-timeout',
      default: '30s',
      help: 'timeout of each Neo4j transaction',
    }),
    connectTimeoutMs: setting(dur, {
      env: 'HG_NEO4J_CONNECT_TIMEOUT',
      flag: 'neo4j-connect-timeout',
      default: '15s',
      help: 'how long to wait for Neo4j to answer at start',
    }),
  },
  local: {
    home: setting(str, {
      env: 'HG_NEO4J_HOME',
      flag: 'neo4j-home',
      default: '.data/neo4j',
      help: 'directory of the local Neo4j (data, logs, pid file); relative paths are under the project root',
    }),
    host: setting(str, { env: 'HG_NEO4J_HOST', flag: 'neo4j-host', default: '127.0.0.1', help: 'address the local Neo4j listens on' }),
    boltPort: setting(int(1, 65535), {
      env: 'HG_NEO4J_BOLT_PORT',
      flag: 'neo4j-bolt-port',
      default: '7687',
      help: 'Bolt port of the local Neo4j',
    }),
    httpPort: setting(int(0, 65535), {
      env: 'HG_NEO4J_HTTP_PORT',
      flag: 'neo4j-http-port',
      default: '7474',
      help: 'HTTP port of the local Neo4j (Neo4j Browser at /browser/); 0 turns it off',
    }),
    heap: setting(size, { env: 'HG_NEO4J_HEAP', flag: 'neo4j-heap', default: '1g', help: 'JVM heap of the local Neo4j (-Xmx)' }),
    pageCache: setting(size, {
      env: 'HG_NEO4J_PAGECACHE',
      flag: 'neo4j-pagecache',
      default: '512m',
      help: 'page cache of the local Neo4j',
    }),
    startTimeoutMs: setting(dur, {
      env: 'HG_NEO4J_START_TIMEOUT',
      flag: 'neo4j-start-timeout',
      default: '180s',
      help: 'how long to wait for the local Neo4j to answer on Bolt',
    }),
    java: setting(str, {
      env: 'HG_JAVA',
      flag: 'java',
      help: 'java executable for the local Neo4j (default: $JAVA_HOME/bin/java, else java on PATH)',
    }),
    mvn: setting(str, { env: 'HG_MVN', flag: 'mvn', default: 'mvn', help: 'Maven executable that fetches the Neo4j jars on first use' }),
  },
  hubble: {
    server: setting(hostport, {
      env: 'HUBBLE_SERVER',
      flag: 'hubble-server',
      default: 'localhost:4245',
      help: 'Hubble Relay or Hubble server address (host:port)',
    }),
    tls: setting(bool, { env: 'HUBBLE_TLS', flag: 'hubble-tls', default: 'false', help: 'use TLS to reach Hubble' }),
    tlsCaFile: setting(str, {
      env: 'HUBBLE_TLS_CA_FILE',
      flag: 'hubble-tls-ca-file',
      help: 'CA certificate (PEM) that signed the Hubble server certificate',
    }),
    tlsCertFile: setting(str, {
      env: 'HUBBLE_TLS_CLIENT_CERT_FILE',
      flag: 'hubble-tls-client-cert-file',
      help: 'client certificate (PEM) for mTLS',
    }),
    tlsKeyFile: setting(str, { env: 'HUBBLE_TLS_CLIENT_KEY_FILE', flag: 'hubble-tls-client-key-file', help: 'client key (PEM) for mTLS' }),
    tlsServerName: setting(str, {
      env: 'HUBBLE_TLS_SERVER_NAME',
      flag: 'hubble-tls-server-name',
      help: 'server name to verify, e.g. instance.hubble-relay.cilium.io',
    }),
    reconnectMinMs: setting(dur, {
      env: 'HG_RECONNECT_MIN',
      flag: 'reconnect-min',
      default: '250ms',
      help: 'first reconnect delay (doubles up to the maximum, with jitter)',
    }),
    resumeOverlapMs: setting(dur, {
      env: 'HG_RESUME_OVERLAP',
      flag: 'resume-overlap',
      default: '2s',
      help: 'on reconnect or restart, ask again for flows this far before the last one received or committed (Relay sorts flows in a short window); those already received or committed are dropped by uuid (else content)',
    }),
    resumeWarmupMs: setting(dur, {
      env: 'HG_RESUME_WARMUP',
      flag: 'resume-warmup',
      default: '10s',
      help: 'after a restart, also ask for the committed flows of this long before the resume point, so that both ends of a connection or request that straddle the restart are paired (counted once)',
    }),
    reconnectMaxMs: setting(dur, { env: 'HG_RECONNECT_MAX', flag: 'reconnect-max', default: '30s', help: 'longest reconnect delay' }),
    shardCount: setting(int(1, 10_000), {
      env: 'HG_SHARD_COUNT',
      flag: 'shard-count',
      default: '1',
      help: 'collectors sharing the Hubble nodes of one Relay: each asks Relay (GetFlows node_name) only for the nodes whose name hashes to its shard (see docs/scale-out.md)',
    }),
    shardIndex: setting(str, {
      env: 'HG_SHARD_INDEX',
      flag: 'shard-index',
      help: "this collector's shard, 0 to HG_SHARD_COUNT-1, or `ordinal`: the trailing number of the pod name (HOSTNAME) of a StatefulSet pod; required when HG_SHARD_COUNT is above 1",
    }),
    nodesRefreshMs: setting(durAtLeast('1s'), {
      env: 'HG_SHARD_NODES_REFRESH',
      flag: 'shard-nodes-refresh',
      default: '30s',
      help: 'how often a sharded collector asks Relay for its nodes (GetNodes); a node_status event naming a node of its shard is taken at once; while no node falls to its shard it asks again after 1 s, then twice as long each time up to this',
    }),
  },
  filter: {
    namespaces: setting(list, {
      env: 'HG_NAMESPACES',
      flag: 'namespace',
      help: 'only flows from or to these namespaces (comma-separated)',
    }),
    pods: setting(list, { env: 'HG_PODS', flag: 'pod', help: 'only flows from or to these pods (namespace/pod or pod-name prefix)' }),
    verdicts: setting(list, { env: 'HG_VERDICTS', flag: 'verdict', help: 'only flows with these verdicts (FORWARDED, DROPPED, ...)' }),
    excludeNamespaces: setting(list, {
      env: 'HG_EXCLUDE_NAMESPACES',
      flag: 'exclude-namespace',
      help: 'drop flows from or to these namespaces',
    }),
    excludeReserved: setting(list, {
      env: 'HG_EXCLUDE_RESERVED',
      flag: 'exclude-reserved',
      help: 'drop flows from or to these reserved identities (e.g. health,host,remote-node)',
    }),
  },
  collector: {
    source: setting(oneOf(['hubble', 'prometheus'] as const), {
      env: 'HG_SOURCE',
      flag: 'source',
      default: 'hubble',
      help: 'where flows come from',
    }),
    id: setting(str, {
      env: 'HG_COLLECTOR_ID',
      flag: 'collector-id',
      help: 'name of this collector in the graph; a restart with the same id resumes where it left off (default: the hostname for collect, run and start; hostname-import-pid for import; hostname-follow-FILE-HASH for import --follow)',
    }),
    flushIntervalMs: setting(dur, {
      env: 'HG_FLUSH_INTERVAL',
      flag: 'flush-interval',
      default: '1s',
      help: 'write aggregated changes to Neo4j this often',
    }),
    flushMaxEdges: setting(int(1, 10_000_000), {
      env: 'HG_FLUSH_MAX_EDGES',
      flag: 'flush-max-edges',
      default: '20000',
      help: 'flush early once this many edges are dirty',
    }),
    batchSize: setting(int(1, 1_000_000), {
      env: 'HG_BATCH_SIZE',
      flag: 'batch-size',
      default: '5000',
      help: 'rows per write transaction; a larger flush is first staged in Neo4j with its resume point, then written in parts of this size',
    }),
    stagedBucketWriters: setting(int(1, 16), {
      env: 'HG_STAGED_BUCKET_WRITERS',
      flag: 'staged-bucket-writers',
      default: '2',
      help: "transactions that apply a staged flush (one of more than HG_BATCH_SIZE rows) at once: its calls' parts in one, its activity buckets' parts in the others (most of the flush after a burst or an import, when every held bucket goes out); 1 applies every part one after the other",
    }),
    warnUnwrittenEdges: setting(int(1, 100_000_000), {
      env: 'HG_WARN_UNWRITTEN_EDGES',
      flag: 'warn-unwritten-edges',
      default: '2000000',
      help: 'warning threshold, not a limit: above this many edges held in memory unwritten (Neo4j unavailable) the collector logs an error and sets hubble_graph_over_memory_bound; nothing is dropped (formerly HG_MAX_DIRTY_EDGES / --max-dirty-edges, still read)',
      deprecated: { env: 'HG_MAX_DIRTY_EDGES', flag: 'max-dirty-edges' },
    }),
    listen: setting(hostport, {
      env: 'HG_COLLECTOR_LISTEN',
      flag: 'collector-listen',
      default: '127.0.0.1:9465',
      help: 'address of the collector /metrics, /healthz and /readyz (port 0: any free port)',
    }),
    maxFlowAheadMs: setting(dur, {
      env: 'HG_MAX_FLOW_AHEAD',
      flag: 'max-flow-ahead',
      default: '5m',
      help: "skip flows dated further ahead of this machine's clock (counted as time_out_of_range)",
    }),
    maxFlowAgeMs: setting(dur, {
      env: 'HG_MAX_FLOW_AGE',
      flag: 'max-flow-age',
      default: '0',
      help: 'skip flows older than this (time_out_of_range; 0: no limit); flows dated before 2000 are always skipped',
    }),
    deadLetterFile: setting(str, {
      env: 'HG_DEAD_LETTER_FILE',
      flag: 'dead-letter-file',
      default: '.data/dead-letters.jsonl',
      help: 'JSON lines file for rows Neo4j refuses for good (with the reason); relative paths are under the project root',
    }),
    leaseMs: setting(dur, {
      env: 'HG_COLLECTOR_LEASE',
      flag: 'collector-lease',
      default: '15s',
      help: 'a running collector holds its id and renews it every third of this; another process started with the same id waits (not ready) until the holder stops or has not renewed for this long, and a holder that lost its id stops without writing (0: take the id over at once)',
    }),
    slot: setting(str, {
      env: 'HG_COLLECTOR_SLOT',
      flag: 'collector-slot',
      help: "a name for where this process runs that never has two processes at once, such as a Kubernetes pod's UID (the manifests set it by the downward API): a holder of the id with the same slot in another pid namespace is this container before a restart and is not waited for; never the same for two replicas",
    }),
    pruneOlderThanMs: setting(dur, {
      env: 'HG_PRUNE_OLDER_THAN',
      flag: 'prune-older-than',
      default: '0',
      help: 'periodically remove nodes and edges not seen for this long (0: never)',
    }),
    pruneIntervalMs: setting(dur, {
      env: 'HG_PRUNE_INTERVAL',
      flag: 'prune-interval',
      default: '10m',
      help: 'how often the periodic prune runs (of several shards, on shard 0 only)',
    }),
    migrate: setting(bool, {
      env: 'HG_MIGRATE',
      flag: 'migrate',
      default: 'true',
      help: 'apply pending migrations at start (collect, import, run, start; false: leave them to `hubble-graph migrate`)',
    }),
    attribution: setting(oneOf(['auto', 'paired', 'owner'] as const), {
      env: 'HG_ATTRIBUTION',
      flag: 'attribution',
      default: 'auto',
      help: 'how an exchange seen at both ends counts once: paired (both ends in this collector), owner (only at the side that owns it, so that collectors of different nodes agree); auto: owner when HG_SHARD_COUNT is above 1',
    }),
    pairingWindow: setting(int(1, 10_000_000), {
      env: 'HG_PAIRING_WINDOW',
      flag: 'pairing-window',
      default: '100000',
      help: 'TCP opens, and L7 exchanges, each of the two pairing windows keeps (oldest forgotten first; about 110 bytes each): the two ends of one seen further apart than its window reaches (hubble_graph_pairing_window_reach_seconds) are counted twice',
    }),
  },
  prometheus: {
    url: setting(url(['http', 'https']), {
      env: 'HG_PROMETHEUS_URL',
      flag: 'prometheus-url',
      help: 'Prometheus server holding Hubble metrics (for --source prometheus)',
    }),
    intervalMs: setting(dur, { env: 'HG_PROMETHEUS_INTERVAL', flag: 'interval', default: '30s', help: 'how often Prometheus is queried' }),
    timeoutMs: setting(dur, {
      env: 'HG_PROMETHEUS_TIMEOUT',
      flag: 'prometheus-timeout',
      default: '10s',
      help: 'timeout of each Prometheus query',
    }),
  },
  api: {
    host: setting(str, { env: 'HG_API_HOST', flag: 'host', default: '127.0.0.1', help: 'address the GraphQL API listens on' }),
    port: setting(int(0, 65535), { env: 'HG_API_PORT', flag: 'port', default: '4000', help: 'port of the GraphQL API (0: any free port)' }),
    path: setting(str, { env: 'HG_API_PATH', flag: 'path', default: '/graphql', help: 'path of GraphQL over HTTP and WebSocket' }),
    introspection: setting(bool, {
      env: 'HG_API_INTROSPECTION',
      flag: 'introspection',
      default: 'true',
      help: 'allow schema introspection',
    }),
    explorer: setting(bool, {
      env: 'HG_API_EXPLORER',
      flag: 'explorer',
      default: 'true',
      help: 'serve the GraphiQL explorer (offline, from local files) on GET of the API path',
    }),
    tokens: setting(secret, {
      env: 'HG_API_TOKENS',
      flag: 'tokens',
      help: 'comma-separated bearer tokens; when set (or a tokens file), every request needs one',
    }),
    tokensFile: setting(str, {
      env: 'HG_API_TOKENS_FILE',
      flag: 'tokens-file',
      help: 'file with one bearer token per line; read again when it changes (removed tokens stop working, their subscriptions are closed)',
    }),
    corsOrigins: setting(list, {
      env: 'HG_API_CORS_ORIGINS',
      flag: 'cors-origins',
      help: 'origins allowed by CORS (comma-separated, * for any); unset: no CORS headers',
    }),
    maxDepth: setting(int(1, 100), { env: 'HG_API_MAX_DEPTH', flag: 'max-depth', default: '12', help: 'maximum GraphQL query depth' }),
    maxCost: setting(int(1, 1_000_000_000), {
      env: 'HG_API_MAX_COST',
      flag: 'max-cost',
      default: '50000',
      help: 'maximum estimated cost of one GraphQL operation (about the rows it may have Neo4j read; see the API section)',
    }),
    maxRootFields: setting(int(1, 10_000), {
      env: 'HG_API_MAX_ROOT_FIELDS',
      flag: 'max-root-fields',
      default: '20',
      help: 'maximum root fields (aliases included) in one GraphQL operation',
    }),
    maxHops: setting(int(1, 50), {
      env: 'HG_API_MAX_HOPS',
      flag: 'max-hops',
      default: '10',
      help: 'cap on maxHops and depth in path and dependency searches',
    }),
    maxPageSize: setting(int(1, 100_000), {
      env: 'HG_API_MAX_PAGE_SIZE',
      flag: 'max-page-size',
      default: '1000',
      help: 'cap on `first` and on result sizes',
    }),
    maxSessionsPerRequest: setting(int(1, 1000), {
      env: 'HG_API_MAX_SESSIONS_PER_REQUEST',
      flag: 'max-sessions-per-request',
      default: '4',
      help: 'Neo4j sessions one request or subscription may hold at once; its other reads wait their turn',
    }),
    heavyCost: setting(int(1, 1_000_000_000), {
      env: 'HG_API_HEAVY_COST',
      flag: 'heavy-cost',
      default: '5000',
      help: 'estimated cost from which an operation is costly: costly operations share HG_API_MAX_HEAVY_SESSIONS',
    }),
    maxHeavySessions: setting(int(1, 1000), {
      env: 'HG_API_MAX_HEAVY_SESSIONS',
      flag: 'max-heavy-sessions',
      default: '4',
      help: 'Neo4j sessions all costly operations of one API process may hold at once; cheap ones never wait for them',
    }),
    readTimeoutMs: setting(dur, {
      env: 'HG_API_READ_TIMEOUT',
      flag: 'read-timeout',
      default: '10s',
      help: 'time budget of one GraphQL request (of each Neo4j read of a subscription); past it the request fails with QUERY_TIMEOUT and Neo4j stops its work',
    }),
    maxBodyBytes: setting(int(1_000, 1_000_000_000), {
      env: 'HG_API_MAX_BODY_BYTES',
      flag: 'max-body-bytes',
      default: '1000000',
      help: 'largest HTTP request body, in bytes (larger: 413)',
    }),
    changePollMs: setting(dur, {
      env: 'HG_API_CHANGE_POLL',
      flag: 'change-poll',
      default: '500ms',
      help: 'how often the API reads the change feed from Neo4j for subscriptions',
    }),
    mapMaxAgeMs: setting(dur, {
      env: 'HG_API_MAP_MAX_AGE',
      flag: 'map-max-age',
      default: '0s',
      help: "how long an all-time map (serviceMap, hubbleServiceMap, dag without a range) may still be answered from the API's cache after the graph changed; 0: the first request after each write batch reads it again. Under a collector flushing every second, a map that takes longer than that to read keeps Neo4j busy reading it unless this is larger",
    }),
    updateCoalesceMs: setting(dur, {
      env: 'HG_API_UPDATE_COALESCE',
      flag: 'update-coalesce',
      default: '1s',
      help: 'at most one callUpdated event per edge per this interval',
    }),
    development: setting(bool, { env: 'HG_DEV', flag: 'dev', default: 'false', help: 'development mode: stack traces in GraphQL errors' }),
  },
  time: {
    buckets: setting(buckets, {
      env: 'HG_BUCKETS',
      flag: 'buckets',
      default: DEFAULT_BUCKETS,
      help: 'bucket sizes of flow time and how long each is kept (SIZE:RETENTION,..., finest first, each a multiple of the one before; off: no buckets, no ranged queries); the collector writes them, the API reads ranges from them; buckets of a size removed from the setting are expired after the longest retention left (30 days when off)',
    }),
    writeIntervalMs: setting(dur, {
      env: 'HG_BUCKET_WRITE_INTERVAL',
      flag: 'bucket-write-interval',
      default: '15s',
      help: "longest time a collector keeps an open bucket's counts in memory before writing them (a bucket is written once the flows' time is HG_RESUME_OVERLAP past its end, or after this long; all-time totals go out with every flush): how late ranged reads of the finest size may see the current bucket (an open bucket goes to the finest size alone; the coarser sizes get all of it once, when it closes); 0: write every bucket with every flush",
    }),
    expireIntervalMs: setting(dur, {
      env: 'HG_BUCKET_EXPIRE_INTERVAL',
      flag: 'bucket-expire-interval',
      default: '1m',
      help: 'how often a collector removes buckets past their retention (of several shards, shard 0 only)',
    }),
    expireBatch: setting(int(1, 1_000_000), {
      env: 'HG_BUCKET_EXPIRE_BATCH',
      flag: 'bucket-expire-batch',
      default: '10000',
      help: 'buckets removed per transaction when they expire',
    }),
  },
  replay: {
    listen: setting(hostport, {
      env: 'HG_REPLAY_LISTEN',
      flag: 'listen',
      default: '127.0.0.1:4245',
      help: 'address the replay server listens on',
    }),
    rate: setting(int(0, 100_000_000), {
      env: 'HG_REPLAY_RATE',
      flag: 'rate',
      default: '0',
      help: 'flows per second served to followers (0: as fast as possible)',
    }),
    loop: setting(bool, { env: 'HG_REPLAY_LOOP', flag: 'loop', default: 'false', help: 'start again at the end of the recording' }),
    retime: setting(bool, {
      env: 'HG_REPLAY_RETIME',
      flag: 'retime',
      default: 'false',
      help: 'shift flow times so that the recording happens now',
    }),
  },
} as const;

// ---------------------------------------------------------------- types derived from DECLARED

type AnySetting = Setting<unknown, boolean>;
type SetKeys<G> = { [K in keyof G]: G[K] extends Setting<unknown, true> ? K : never }[keyof G];
type UnsetKeys<G> = Exclude<keyof G, SetKeys<G>>;
type ValueOf<S> = S extends Setting<infer T, boolean> ? T : never;
/** A group's settings as config fields: those without a value when unset are optional. */
type GroupConfig<G> = { readonly [K in SetKeys<G>]: ValueOf<G[K]> } & { readonly [K in UnsetKeys<G>]?: ValueOf<G[K]> };
type Declared = typeof DECLARED;
/** Fields whose read value loadConfig resolves further (see resolveSharding). */
interface Resolved {
  readonly hubble: { readonly shardIndex: number };
  readonly collector: { readonly attribution: Attribution };
}
type ResolvedGroup<G extends keyof Declared> = G extends keyof Resolved
  ? Omit<GroupConfig<Declared[G]>, keyof Resolved[G]> & Resolved[G]
  : GroupConfig<Declared[G]>;

/** See CollectorConfig.attribution: how an exchange seen at both ends counts once (docs/flow-to-graph-rules.md). */
export type Attribution = 'paired' | 'owner';

export type Neo4jConfig = ResolvedGroup<'neo4j'>;
/** `home` is absolute; `java` defaults to $JAVA_HOME/bin/java. */
export type LocalNeo4jConfig = ResolvedGroup<'local'>;
export type HubbleConfig = ResolvedGroup<'hubble'>;
export type FilterConfig = ResolvedGroup<'filter'>;
/** `deadLetterFile` is absolute; `attribution` is `paired` or `owner` (`auto` resolved). */
export type CollectorConfig = ResolvedGroup<'collector'>;
export type PrometheusConfig = ResolvedGroup<'prometheus'>;
export type ApiConfig = ResolvedGroup<'api'>;
export type TimeConfig = ResolvedGroup<'time'>;
export type ReplayConfig = ResolvedGroup<'replay'>;

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

// ---------------------------------------------------------------- the table derived from DECLARED

/** One row of the settings table. */
export interface SettingDef {
  /** Dotted path in the resulting config object. */
  readonly key: string;
  readonly group: SettingGroup;
  readonly env: string;
  readonly flag: string;
  readonly kind: { readonly type: KindName };
  readonly default?: string;
  readonly help: string;
  /** Former env and flag names, still read (see SettingText.deprecated). */
  readonly deprecated?: { readonly env: string; readonly flag: string };
  /** Text to value (with the problem's message when it cannot). */
  readonly schema: z.ZodType<unknown, z.ZodTypeDef, string>;
}

const isSetting = (v: unknown): v is AnySetting => typeof v === 'object' && v !== null && 'kind' in v && 'env' in v;

/** The settings table, in declaration order. */
export const SETTINGS: readonly SettingDef[] = Object.entries(DECLARED).flatMap(([name, entry]): SettingDef[] => {
  const row = (key: string, group: SettingGroup, s: AnySetting): SettingDef => ({
    key,
    group,
    env: s.env,
    flag: s.flag,
    kind: { type: s.kind.type },
    ...(s.default !== undefined ? { default: s.default } : {}),
    help: s.help,
    ...(s.deprecated !== undefined ? { deprecated: s.deprecated } : {}),
    schema: s.kind.schema,
  });
  if (isSetting(entry)) return [row(name, entry.group ?? 'log', entry)];
  return Object.entries(entry as Record<string, AnySetting>).map(([field, s]) => row(`${name}.${field}`, name as SettingGroup, s));
});

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

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  const leaf = parts.pop() ?? key;
  let node = target;
  for (const part of parts) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[leaf] = value;
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

/** The text a setting was given and where: its flag, its env var, then its deprecated flag and env var; undefined when none. */
function givenText(
  def: SettingDef,
  flags: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
): { raw: string; source: string } | undefined {
  const names = [{ env: def.env, flag: def.flag }, ...(def.deprecated ? [def.deprecated] : [])];
  for (const name of names) {
    const flagValue = flags[flagProperty(name.flag)];
    if (flagValue !== undefined && flagValue !== null)
      return { raw: Array.isArray(flagValue) ? flagValue.join(',') : String(flagValue), source: `--${name.flag}` };
    const envValue = env[name.env];
    if (envValue !== undefined && envValue !== '') return { raw: envValue, source: name.env };
  }
  return undefined;
}

/** One line per deprecated setting name that was given (flag or env var), naming its replacement. */
export function deprecatedSettingsGiven(options: LoadConfigOptions = {}): string[] {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  return SETTINGS.flatMap((def) => {
    const given = givenText(def, flags, env);
    const old = def.deprecated;
    if (given === undefined || old === undefined || (given.source !== old.env && given.source !== `--${old.flag}`)) return [];
    return [`${given.source} is deprecated: use ${given.source === old.env ? def.env : `--${def.flag}`}`];
  });
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
    let raw: string | undefined;
    let source = 'default';
    const given = givenText(def, flags, env);
    if (given !== undefined) {
      ({ raw, source } = given);
    } else {
      raw = def.default;
    }
    let value: unknown;
    if (raw !== undefined) {
      const parsed = def.schema.safeParse(raw);
      if (parsed.success) value = parsed.data;
      else problems.push(...parsed.error.issues.map((i) => `${source} (${def.env} / --${def.flag}): ${i.message}`));
    }
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
    if (count > 1)
      problems.push(
        `HG_SHARD_INDEX / --shard-index: required when HG_SHARD_COUNT is ${count} (a number from 0 to ${count - 1}, or ordinal)`,
      );
    index = 0;
  } else if (raw.trim() === 'ordinal') {
    const hostname = env.HOSTNAME || os.hostname();
    index = ordinalOfHostname(hostname);
    if (index === undefined)
      problems.push(
        `HG_SHARD_INDEX / --shard-index: ordinal needs a pod name ending in -<number> (a StatefulSet pod), got hostname "${hostname}"`,
      );
  } else if (/^\s*\d+\s*$/.test(raw)) {
    index = Number(raw);
  } else {
    problems.push(`HG_SHARD_INDEX / --shard-index: expected a number from 0 to ${count - 1} or ordinal, got "${raw}"`);
  }
  if (index !== undefined && index >= count)
    problems.push(`HG_SHARD_INDEX / --shard-index: is ${index}, but HG_SHARD_COUNT ${count} allows 0 to ${count - 1}`);
  hubble.shardIndex = index ?? 0;
  if (collector.attribution === 'paired' && count > 1) {
    problems.push(
      `HG_ATTRIBUTION / --attribution: paired counts an exchange twice when its two ends are on nodes of different shards; use owner (or auto) with HG_SHARD_COUNT ${count}`,
    );
  }
  if (collector.attribution === 'auto' || collector.attribution === undefined) collector.attribution = count > 1 ? 'owner' : 'paired';
}

/** The settings table as Markdown, for the README (`hubble-graph settings`). */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map((d) => `| \`${d.env}\` | \`--${d.flag}\` | ${d.default === undefined ? '' : `\`${d.default}\``} | ${d.help} |`);
  return ['| env | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
