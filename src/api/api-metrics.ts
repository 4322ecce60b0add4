import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBuildInfo } from '../build-info';

/** The API's Prometheus metrics, on a registry of its own (several servers may live in one process). */
export interface ApiMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'transport' | 'operation'>;
  readonly errors: Counter<'code'>;
  readonly resolverSeconds: Histogram<'field'>;
  readonly neo4jSeconds: Histogram<'kind'>;
  readonly subscriptionsOpen: Gauge<'topic'>;
  readonly changeFeedSeq: Gauge;
  readonly changeFeedEvents: Counter<'topic'>;
  readonly changeFeedErrors: Counter;
  readonly changeFeedSkipped: Counter;
  readonly answerCache: Counter<'result'>;
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** @param subscriptionCounts open subscriptions per topic, read at scrape time */
export function createApiMetrics(subscriptionCounts: () => Record<string, number>): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hubble_graph_api_' });
  registerBuildInfo(registry, 'api');
  return {
    registry,
    requests: new Counter({
      name: 'hubble_graph_api_requests_total',
      help: 'GraphQL operations received',
      labelNames: ['transport', 'operation'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'hubble_graph_api_errors_total',
      help: 'GraphQL errors returned, by extensions.code',
      labelNames: ['code'],
      registers: [registry],
    }),
    resolverSeconds: new Histogram({
      name: 'hubble_graph_api_resolver_duration_seconds',
      help: 'time of top-level resolvers',
      labelNames: ['field'],
      buckets: BUCKETS,
      registers: [registry],
    }),
    neo4jSeconds: new Histogram({
      name: 'hubble_graph_api_neo4j_duration_seconds',
      help: 'time of Neo4j read transactions',
      labelNames: ['kind'],
      buckets: BUCKETS,
      registers: [registry],
    }),
    subscriptionsOpen: new Gauge({
      name: 'hubble_graph_api_subscriptions_open',
      help: 'open GraphQL subscriptions',
      labelNames: ['topic'],
      registers: [registry],
      collect() {
        for (const [topic, n] of Object.entries(subscriptionCounts())) this.set({ topic }, n);
      },
    }),
    changeFeedSeq: new Gauge({
      name: 'hubble_graph_api_change_feed_seq',
      help: 'last change-feed sequence read from Neo4j',
      registers: [registry],
    }),
    changeFeedEvents: new Counter({
      name: 'hubble_graph_api_change_feed_events_total',
      help: 'subscription events produced from the change feed',
      labelNames: ['topic'],
      registers: [registry],
    }),
    changeFeedErrors: new Counter({
      name: 'hubble_graph_api_change_feed_errors_total',
      help: 'failed change-feed polls',
      registers: [registry],
    }),
    changeFeedSkipped: new Counter({
      name: 'hubble_graph_api_change_feed_skipped_total',
      help: 'change-feed sequence numbers given up on (change-log entry trimmed before it was read, or never written)',
      registers: [registry],
    }),
    answerCache: new Counter({
      name: 'hubble_graph_api_answer_cache_total',
      help: 'all-time map operations over HTTP answered from a kept answer (hit: the graph unchanged, or the answer younger than HG_API_MAP_MAX_AGE) or executed (miss)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
