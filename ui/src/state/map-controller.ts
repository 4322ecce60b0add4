import { UnauthorizedError, type GraphqlClient } from '../api/graphql-client';
import {
  readCallsBetween,
  readDependencies,
  readEndpointDetails,
  readNamespaceCalls,
  readNamespaces,
  readPaths,
  readServiceMap,
  readWorkloadPods,
  subscribeCalls,
  subscribePods,
} from '../api/map-queries';
import type { ApiCall, ApiEndpoint } from '../model/api-types';
import { mapEdgeId, toMapNode } from '../model/apply-live-event';
import { summarizeCalls } from '../model/summarize-calls';
import { isLive, rangeIsApplied, toApiRange } from '../model/time-range';
import { type ViewState, formatViewState } from '../model/view-state';
import type { MapStore, NodeDetails, Trace } from './map-store';

/**
 * Least time between two map reads made to settle live figures, ms. A whole map read is what the
 * API pays most for (seconds for a cluster-wide map), and the first update of a call the page has
 * not seen changes all-time totals by little, so these reads are rare.
 */
export const RECONCILE_MIN_MS = 30_000;

/**
 * Feeds the store from the API: reads the map when the view asks for other data, follows
 * subscriptions in live mode, loads panel content and traces for the selection, and keeps the URL
 * in step with the view. All reads pass the view's range through `toApiRange`.
 */
export class MapController {
  private stopLive: (() => void) | null = null;
  private mapRead = 0;
  private panelRead = 0;
  private reconcileTimer: ReturnType<typeof setTimeout> | null = null;
  private lastReconcile = 0;

  constructor(
    private readonly store: MapStore,
    private readonly client: GraphqlClient,
    private readonly onUrl: (query: string) => void,
  ) {}

  /** Applies a new view: reads what it needs and no more (everything when `force`, e.g. at start or with a new token). */
  async setView(next: ViewState, force = false) {
    const prev = this.store.view;
    const first = force || this.mapRead === 0;
    this.store.setView(next);
    this.onUrl(formatViewState(next));
    const dataChanged =
      first ||
      prev.level !== next.level ||
      prev.namespaces.join(',') !== next.namespaces.join(',') ||
      prev.filters.verdicts.join(',') !== next.filters.verdicts.join(',') ||
      prev.filters.protocol !== next.filters.protocol ||
      prev.topN !== next.topN ||
      JSON.stringify(prev.range) !== JSON.stringify(next.range);
    this.store.setStatus({ notice: rangeIsApplied(next.range) ? null : 'This API does not take time ranges yet: the map shows all-time figures.' });
    if (dataChanged) {
      await this.loadMap(true);
      this.follow();
    }
    if (dataChanged || prev.selection.join(',') !== next.selection.join(',') || prev.mode !== next.mode || prev.edge !== next.edge) {
      await this.loadSelection();
    }
  }

  /** Reads the namespace list (the picker) once. */
  async loadNamespaces() {
    try {
      this.store.setNamespaces(await readNamespaces(this.client, toApiRange(this.store.view.range)));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reads the map for the current view; `relayout` false keeps positions (a refresh). */
  async loadMap(relayout: boolean) {
    const ticket = ++this.mapRead;
    const v = this.store.view;
    this.store.setStatus({ loading: true, error: null });
    try {
      const map = await readServiceMap(this.client, { namespaces: v.namespaces, level: v.level, filters: v.filters, topN: v.topN }, toApiRange(v.range));
      if (ticket !== this.mapRead) return;
      this.store.replaceMap(map, relayout);
      this.store.setStatus({ loading: false });
    } catch (err) {
      if (ticket === this.mapRead) this.fail(err);
    }
  }

  /** Starts or stops following subscriptions as the range asks. */
  follow() {
    this.stopLive?.();
    this.stopLive = null;
    const v = this.store.view;
    if (!isLive(v.range)) {
      this.store.setStatus({ liveStatus: 'off' });
      return;
    }
    this.store.setStatus({ liveStatus: 'connecting' });
    const onError = (e: Error) => this.store.setStatus({ liveStatus: 'error', error: `live updates stopped: ${e.message}` });
    const onCall = (isNew: boolean) => (c: ApiCall) => {
      this.store.setStatus({ liveStatus: 'live' });
      if (!this.passes(c)) return;
      const exact = this.store.applyCall(c, isNew);
      if (!exact) this.scheduleReconcile();
    };
    const stopCalls = subscribeCalls(this.client, v.namespaces, { added: onCall(true), updated: onCall(false), error: onError });
    const stopPods = subscribePods(this.client, v.namespaces, { added: (p) => this.store.addPod(p), error: onError });
    // The subscriptions are open once the server acknowledges them; graphql-ws does not say when,
    // so the status turns live with the first event, or after a moment without error.
    const ack = setTimeout(() => this.store.liveStatus === 'connecting' && this.store.setStatus({ liveStatus: 'live' }), 1500);
    this.stopLive = () => {
      clearTimeout(ack);
      stopCalls();
      stopPods();
    };
  }

  /** Whether a live call belongs to the map as queried (the subscription filter has no verdict list or protocol of the map's kind). */
  private passes(c: ApiCall): boolean {
    const f = this.store.view.filters;
    if (f.verdicts.length > 0 && !f.verdicts.includes(c.verdict)) return false;
    if (f.protocol && f.protocol !== c.protocol) return false;
    return true;
  }

  private scheduleReconcile() {
    if (this.reconcileTimer) return;
    const wait = Math.max(0, this.lastReconcile + RECONCILE_MIN_MS - Date.now());
    this.reconcileTimer = setTimeout(() => {
      this.reconcileTimer = null;
      this.lastReconcile = Date.now();
      void this.loadMap(false);
    }, wait);
  }

  /** Loads the panel and the trace for the selection and mode. */
  async loadSelection() {
    const ticket = ++this.panelRead;
    const v = this.store.view;
    const range = toApiRange(v.range);
    try {
      if (v.edge && v.selection.length === 0) {
        const edge = this.store.edges.get(v.edge);
        this.store.setTrace(null);
        if (!edge) return this.store.setDetails(null);
        const calls = v.level === 'POD' && this.isEndpoint(edge.source) && this.isEndpoint(edge.target) ? await readCallsBetween(this.client, edge.source, edge.target, range) : [];
        if (ticket !== this.panelRead) return;
        return this.store.setDetails({ kind: 'edge', edge, calls: summarizeCalls(calls, 'outgoing', v.level), activity: null });
      }
      if (v.selection.length === 0) {
        this.store.setDetails(null);
        return this.store.setTrace(null);
      }
      const [first, second] = v.selection;
      const details = await this.readNodeDetails(first);
      if (ticket !== this.panelRead) return;
      this.store.setDetails(details);
      if (v.mode === 'path' && second !== undefined) {
        if (!this.isEndpoint(first) || !this.isEndpoint(second)) return this.traceNeedsEndpoints();
        const { shortestPath, paths } = await readPaths(this.client, first, second, range);
        if (ticket !== this.panelRead) return;
        const trace = this.emptyTrace('path');
        for (const p of [...paths, ...(shortestPath ? [shortestPath] : [])]) this.addHops(trace, p.endpoints, p.hops);
        if (shortestPath) for (const h of shortestPath.hops) trace.shortest.add(this.edgeOf(h.source, h.destination));
        trace.summary = shortestPath
          ? `Shortest path: ${shortestPath.length} hop${shortestPath.length === 1 ? '' : 's'}; ${paths.length} path${paths.length === 1 ? '' : 's'} in all.`
          : 'No path between these two endpoints.';
        return this.store.setTrace(trace);
      }
      if (v.mode === 'blast' || v.mode === 'deps') {
        if (!this.isEndpoint(first)) return this.traceNeedsEndpoints();
        const deps = await readDependencies(this.client, first, v.mode === 'blast' ? 'UPSTREAM' : 'DOWNSTREAM', range);
        if (ticket !== this.panelRead) return;
        const trace = this.emptyTrace(v.mode);
        const level = v.level;
        for (const n of deps.nodes) {
          const id = toMapNode(n.endpoint, level).id;
          trace.nodes.add(id);
          trace.distance.set(id, Math.min(trace.distance.get(id) ?? Infinity, n.distance));
        }
        for (const c of deps.calls) trace.edges.add(this.edgeOf(c.source, c.destination));
        const count = deps.nodes.filter((n) => n.distance > 0).length;
        trace.summary =
          v.mode === 'blast'
            ? `Blast radius: ${count} endpoint${count === 1 ? '' : 's'} depend on it${deps.truncated ? ' (cut short)' : ''}.`
            : `Dependencies: it depends on ${count} endpoint${count === 1 ? '' : 's'}${deps.truncated ? ' (cut short)' : ''}.`;
        return this.store.setTrace(trace);
      }
      this.store.setTrace(null);
    } catch (err) {
      if (ticket === this.panelRead) this.fail(err);
    }
  }

  dispose() {
    this.stopLive?.();
    if (this.reconcileTimer) clearTimeout(this.reconcileTimer);
  }

  /** Map node ids that are endpoint ids too: every node at POD level, and non-pod endpoints at any level. */
  private isEndpoint(id: string): boolean {
    const node = this.store.nodes.get(id);
    return this.store.view.level === 'POD' || (node !== undefined && node.kind !== 'POD');
  }

  private traceNeedsEndpoints() {
    const trace = this.emptyTrace('path');
    trace.summary = 'Paths and blast radius follow single endpoints: switch to the POD level (or pick DNS names, IPs or reserved identities).';
    this.store.setTrace(trace);
  }

  private emptyTrace(kind: Trace['kind']): Trace {
    return { kind, nodes: new Set(), edges: new Set(), shortest: new Set(), distance: new Map(), summary: '' };
  }

  private edgeOf(source: ApiEndpoint, destination: ApiEndpoint): string {
    const level = this.store.view.level;
    return mapEdgeId(toMapNode(source, level).id, toMapNode(destination, level).id);
  }

  private addHops(trace: Trace, endpoints: ApiEndpoint[], hops: { source: ApiEndpoint; destination: ApiEndpoint }[]) {
    for (const e of endpoints) trace.nodes.add(toMapNode(e, this.store.view.level).id);
    for (const h of hops) trace.edges.add(this.edgeOf(h.source, h.destination));
  }

  private async readNodeDetails(id: string): Promise<NodeDetails> {
    const v = this.store.view;
    const range = toApiRange(v.range);
    const node = this.store.nodes.get(id);
    if (v.level === 'POD' || (node && node.kind !== 'POD')) {
      const e = await readEndpointDetails(this.client, id, range);
      const facts = [
        { key: 'kind', value: e.kind },
        ...(e.namespace ? [{ key: 'namespace', value: e.namespace }] : []),
        ...(e.workloadName ? [{ key: 'workload', value: `${e.workloadName}${e.workloadKind ? ` (${e.workloadKind})` : ''}` }] : []),
        ...(e.identity !== undefined && e.identity !== null ? [{ key: 'identity', value: String(e.identity) }] : []),
        ...(e.node ? [{ key: 'node', value: e.node }] : []),
        ...(e.lastSeen ? [{ key: 'last seen', value: e.lastSeen }] : []),
      ];
      return {
        kind: 'node',
        nodeId: id,
        facts,
        labels: e.labels ?? [],
        incoming: summarizeCalls(e.incoming, 'incoming', v.level),
        outgoing: summarizeCalls(e.outgoing, 'outgoing', v.level),
        note: null,
      };
    }
    // Rolled-up nodes: their calls are those of the namespace (heaviest first) that belong to the node.
    const ns = node?.namespace ?? id;
    const [calls, pods] = await Promise.all([
      readNamespaceCalls(this.client, ns, range),
      v.level === 'WORKLOAD' && node ? readWorkloadPods(this.client, ns, node.name, range) : Promise.resolve(null),
    ]);
    const inNode = (e: ApiEndpoint) => toMapNode(e, v.level).id === id;
    const note = calls.totalCount > calls.nodes.length ? `Calls from the ${calls.nodes.length} heaviest of the namespace's ${calls.totalCount}.` : null;
    const incoming = summarizeCalls(calls.nodes.filter((c) => inNode(c.destination)), 'incoming', v.level);
    const outgoing = summarizeCalls(calls.nodes.filter((c) => inNode(c.source)), 'outgoing', v.level);
    if (pods) {
      const first = pods.nodes[0];
      const identities = [...new Set(pods.nodes.map((p) => p.identity).filter((i): i is number => i !== null && i !== undefined))];
      const nodesRun = [...new Set(pods.nodes.map((p) => p.node).filter((n): n is string => !!n))];
      return {
        kind: 'node',
        nodeId: id,
        facts: [
          { key: 'kind', value: 'workload' },
          { key: 'namespace', value: ns },
          { key: 'workload', value: `${node?.name ?? id}${first?.workloadKind ? ` (${first.workloadKind})` : ''}` },
          { key: 'pods', value: pods.nodes.map((p) => p.name).join(', ') + (pods.totalCount > pods.nodes.length ? ` … (${pods.totalCount})` : '') },
          ...(identities.length > 0 ? [{ key: 'identity', value: identities.join(', ') }] : []),
          ...(nodesRun.length > 0 ? [{ key: 'node', value: nodesRun.join(', ') }] : []),
        ],
        labels: first?.labels?.filter((l) => l.key !== 'pod-template-hash') ?? [],
        incoming,
        outgoing,
        note,
      };
    }
    return {
      kind: 'node',
      nodeId: id,
      facts: [
        { key: 'kind', value: 'namespace' },
        { key: 'namespace', value: ns },
        ...(node ? [{ key: 'pods', value: String(node.pods) }] : []),
      ],
      labels: [],
      incoming,
      outgoing,
      note,
    };
  }

  private fail(err: unknown) {
    if (err instanceof UnauthorizedError) {
      this.store.setStatus({ loading: false, error: 'The API needs a token.' });
      return;
    }
    this.store.setStatus({ loading: false, error: err instanceof Error ? err.message : String(err) });
  }
}
