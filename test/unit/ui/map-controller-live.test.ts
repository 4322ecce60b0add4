import type { GraphqlClient, SubscriptionSink } from '../../../ui/src/api/graphql-client';
import type { ApiCall, ApiEndpoint, ApiServiceMap } from '../../../ui/src/model/api-types';
import { DEFAULT_VIEW } from '../../../ui/src/model/view-state';
import { MapController } from '../../../ui/src/state/map-controller';
import { MapStore } from '../../../ui/src/state/map-store';
import { apiCall, mapEdge, mapNode } from '../../helpers/map-data';
import { waitUntil } from '../../helpers/wait-until';

const pod = (name: string): ApiEndpoint => ({
  id: `shop/${name}-0`,
  kind: 'POD',
  name: `${name}-0`,
  namespace: 'shop',
  workloadName: name,
});
const web = pod('web');

/** The WORKLOAD map of web calling each of `to` once. */
function mapOf(to: ApiEndpoint[]): ApiServiceMap {
  const nodes = [web, ...to].map((e) => mapNode(`shop/${e.workloadName}`));
  const edges = to.map((e) => mapEdge('shop/web', `shop/${e.workloadName}`));
  return {
    level: 'WORKLOAD',
    nodes,
    edges,
    totals: { nodes: nodes.length, edges: edges.length, calls: edges.length, flows: 10 * edges.length, requests: 0, errors: 0 },
    truncated: false,
    range: null,
  };
}

/**
 * The API as the page meets it: a map read answers the graph as stored now; a subscription gets
 * only what is pushed after it was registered (`push`), like the server's change feed.
 */
class FakeApi implements GraphqlClient {
  stored: ApiServiceMap = mapOf([]);
  mapReads = 0;
  private readonly subscriptions = new Set<{ query: string; sink: SubscriptionSink<unknown> }>();

  query<T>(query: string): Promise<T> {
    if (!query.includes('serviceMap(')) return Promise.reject(new Error('not served by this fake'));
    this.mapReads++;
    return Promise.resolve({ serviceMap: structuredClone(this.stored) } as T);
  }

  subscribe<T>(query: string, _variables: Record<string, unknown>, sink: SubscriptionSink<T>): () => void {
    const entry = { query, sink: sink as SubscriptionSink<unknown> };
    this.subscriptions.add(entry);
    return () => this.subscriptions.delete(entry);
  }

  /** A new call committed and delivered to the registered subscriptions. */
  pushAdded(call: ApiCall): void {
    for (const { query, sink } of this.subscriptions) if (query.includes('callAdded(')) sink.next({ callAdded: call });
  }

  /** A change of a call already drawn, delivered to the registered subscriptions. */
  pushUpdated(call: ApiCall): void {
    for (const { query, sink } of this.subscriptions) if (query.includes('callUpdated(')) sink.next({ callUpdated: call });
  }

  reconnect(): void {}
  dispose(): void {}
}

describe('the live map page and changes committed while it subscribes', () => {
  const [api, db, cache] = [pod('api'), pod('db'), pod('cache')];

  async function openLivePage(fake: FakeApi): Promise<{ store: MapStore; controller: MapController }> {
    const store = new MapStore();
    const controller = new MapController(store, fake, () => {});
    fake.stored = mapOf([api]);
    await controller.setView(DEFAULT_VIEW, true);
    expect([...store.edges.keys()]).toEqual(['shop/web->shop/api']);
    return { store, controller };
  }

  it('reads the map again once the first event shows the subscriptions are up, so a change from between the two is shown', async () => {
    const fake = new FakeApi();
    const { store } = await openLivePage(fake);
    // Committed after the map read, before the server registered the subscriptions: no event.
    fake.stored = mapOf([api, db]);
    // Committed after: its event comes, and the page adds it exactly (no re-read needed for it).
    fake.stored = mapOf([api, db, cache]);
    fake.pushAdded(apiCall(web, cache));
    expect(store.edges.has('shop/web->shop/cache')).toBe(true);
    await waitUntil('the catch-up read to add web -> db', () => store.edges.has('shop/web->shop/db'));
    expect([...store.edges.keys()].sort()).toEqual(['shop/web->shop/api', 'shop/web->shop/cache', 'shop/web->shop/db']);
    expect(fake.mapReads).toBe(2);
  });

  it('reads it again after a moment without error when no event comes', async () => {
    const fake = new FakeApi();
    const { store } = await openLivePage(fake);
    fake.stored = mapOf([api, db]);
    await waitUntil('the read after a moment to add web -> db', () => store.edges.has('shop/web->shop/db'));
    expect([...store.edges.keys()].sort()).toEqual(['shop/web->shop/api', 'shop/web->shop/db']);
    expect(store.liveStatus).toBe('live');
    // Once per subscribe: later events are folded in without another read.
    fake.stored = mapOf([api, db, cache]);
    fake.pushAdded(apiCall(web, cache));
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.mapReads).toBe(2);
  });

  it('does not count that read against the settling reads: an update known only from totals is settled at once after it', async () => {
    const fake = new FakeApi();
    await openLivePage(fake);
    await waitUntil('the second map read', () => fake.mapReads === 2);
    expect(fake.mapReads).toBe(2);
    // The page knows web -> api only from the map's totals: the update cannot be added exactly and
    // asks for a map read, which must not wait out RECONCILE_MIN_MS behind the catch-up read.
    fake.pushUpdated(apiCall(web, api));
    await waitUntil('a third map read for the update', () => fake.mapReads === 3);
    expect(fake.mapReads).toBe(3);
  });
});
