import { UnauthorizedError, type GraphqlClient } from '../api/graphql-client';
import {
  readCallsBetween,
  readDependencies,
  readEdgeActivity,
  readEndpointDetails,
  readMapDiff,
  readNamespaceCalls,
  readNamespaces,
  readPaths,
  readPolicyDraft,
  readPolicyDrops,
  readServiceMap,
  readWorkloadPods,
  subscribeCalls,
  subscribePods,
} from '../api/map-queries';
import type { ApiCall, ApiEndpoint, ApiMapEdge } from '../model/api-types';
import { mapEdgeId, toMapNode } from '../model/apply-live-event';
import { diffKindOf, toCompareView } from '../model/compare-maps';
import { policyDroppedEdgeIds, toPolicyScope } from '../model/policy-drops';
import type { ApiActivitySeries } from '../model/sparkline';
import { summarizeCalls } from '../model/summarize-calls';
import { type ApiRange, isLive, toActivityRange, toApiRange, toDiffRanges } from '../model/time-range';
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
  private policyRead = 0;
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
      JSON.stringify(prev.range) !== JSON.stringify(next.range) ||
      JSON.stringify(prev.compare) !== JSON.stringify(next.compare);
    if (dataChanged || prev.selection.join(',') !== next.selection.join(',') || prev.edge !== next.edge) this.store.setPolicy(null);
    if (dataChanged) {
      await this.loadMap(true);
      this.follow();
    }
    if (dataChanged || prev.selection.join(',') !== next.selection.join(',') || prev.mode !== next.mode || prev.edge !== next.edge) {
      await this.loadSelection();
    }
  }

  /** Reads the namespace list (the picker) once: every namespace the graph knows, whatever the range shown (a quiet range would leave nothing to pick). */
  async loadNamespaces() {
    try {
      this.store.setNamespaces(await readNamespaces(this.client, undefined));
    } catch (err) {
      this.fail(err);
    }
  }

  /** Reads the map for the current view; `relayout` false keeps positions (a refresh). */
  async loadMap(relayout: boolean) {
    const ticket = ++this.mapRead;
    const v = this.store.view;
    this.store.setStatus({ loading: true, error: null });
    const args = { namespaces: v.namespaces, level: v.level, filters: v.filters, topN: v.topN };
    try {
      if (v.compare) {
        const ranges = toDiffRanges(v.range, v.compare);
        const [after, diff, drops] = await Promise.all([
          readServiceMap(this.client, args, ranges.after),
          readMapDiff(this.client, args, ranges),
          this.readPolicyDrops(ranges.after),
        ]);
        if (ticket !== this.mapRead) return;
        const compared = toCompareView(after, diff);
        this.store.replaceMap(compared.map, relayout);
        this.store.setComparison(compared);
        this.store.setPolicyDrops(drops);
      } else {
        const range = toApiRange(v.range);
        const [map, drops] = await Promise.all([readServiceMap(this.client, args, range), this.readPolicyDrops(range)]);
        if (ticket !== this.mapRead) return;
        this.store.replaceMap(map, relayout);
        this.store.setComparison(null);
        this.store.setPolicyDrops(drops);
      }
      this.store.setStatus({ loading: false });
    } catch (err) {
      if (ticket === this.mapRead) this.fail(err);
    }
  }

  /** Map edges with policy drops in a range; an empty set (and a notice) when the read fails, so that the map still shows. */
  private async readPolicyDrops(range: ApiRange | undefined): Promise<Set<string>> {
    const v = this.store.view;
    try {
      const ids = policyDroppedEdgeIds(await readPolicyDrops(this.client, v.namespaces, range), v.level);
      this.store.setStatus({ notice: null });
      return ids;
    } catch (err) {
      this.store.setStatus({ notice: `policy drops not shown: ${err instanceof Error ? err.message : String(err)}` });
      return new Set();
    }
  }

  /** The range of the figures shown: the view's, or in compare mode the later of the two. */
  private dataRange(): ApiRange | undefined {
    const v = this.store.view;
    return v.compare ? toDiffRanges(v.range, v.compare).after : toApiRange(v.range);
  }

  /** Starts or stops following subscriptions as the range asks (compare mode reads two fixed ranges: no live updates). */
  follow() {
    this.stopLive?.();
    this.stopLive = null;
    const v = this.store.view;
    if (!isLive(v.range) || v.compare !== null) {
      this.store.setStatus({ liveStatus: 'off' });
      return;
    }
    this.store.setStatus({ liveStatus: 'connecting' });
    const onError = (e: Error) => this.store.setStatus({ liveStatus: 'error', error: `live updates stopped: ${e.message}` });
    // A change committed after the map was read but before the server registered the
    // subscriptions comes as no event: the map is read once more when they are up, which the first
    // event proves (the server registered them before that change), or else a moment without
    // error suggests. Positions are kept. This read catches up once per subscribe: it does not
    // count against RECONCILE_MIN_MS, so an update that needs a settling read soon after is not
    // held back by it.
    let up = false;
    const onUp = () => {
      if (up) return;
      up = true;
      if (this.store.liveStatus === 'connecting') this.store.setStatus({ liveStatus: 'live' });
      void this.loadMap(false);
    };
    const onCall = (isNew: boolean) => (c: ApiCall) => {
      // The first event's catch-up read already holds its change: no settling read on top of it.
      const catchingUp = !up;
      onUp();
      if (!this.passes(c)) return;
      const exact = this.store.applyCall(c, isNew);
      if (!exact && !catchingUp) this.scheduleReconcile();
    };
    const onPod = (p: ApiEndpoint) => {
      onUp();
      this.store.addPod(p);
    };
    const stopCalls = subscribeCalls(this.client, v.namespaces, { added: onCall(true), updated: onCall(false), error: onError });
    const stopPods = subscribePods(this.client, v.namespaces, { added: onPod, error: onError });
    // graphql-ws does not say when the server has registered a subscription.
    const ack = setTimeout(onUp, 1500);
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
    const range = this.dataRange();
    try {
      if (v.edge && v.selection.length === 0) {
        const edge = this.store.edges.get(v.edge);
        this.store.setTrace(null);
        if (!edge) return this.store.setDetails(null);
        const change = this.store.comparison?.changes.get(edge.id) ?? null;
        const calls = await this.readEdgeCalls(edge, range);
        if (ticket !== this.panelRead) return;
        const details = {
          kind: 'edge' as const,
          edge,
          calls: summarizeCalls(calls, 'outgoing', v.level),
          activity: null,
          activityNote: 'reading activity…',
          diff: diffKindOf(edge.id, this.store.diff),
          change,
        };
        this.store.setDetails(details);
        const { series, note } = await this.readEdgeActivity(edge);
        if (ticket !== this.panelRead) return;
        return this.store.setDetails({ ...details, activity: series, activityNote: note });
      }
      const [first, second] = v.selection;
      if (first === undefined) {
        this.store.setDetails(null);
        return this.store.setTrace(null);
      }
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

  /** Opens the policy draft of the selected node in the panel (one click in the panel). */
  async loadPolicy(format: 'CILIUM' | 'KUBERNETES') {
    const details = this.store.details;
    if (details?.kind !== 'node' || details.policyScope === null) return;
    const ticket = ++this.policyRead;
    const scope = details.policyScope;
    this.store.setPolicy({ scope, format, yaml: null, policies: 0, warnings: [], error: null });
    try {
      const draft = await readPolicyDraft(this.client, scope, format);
      if (ticket !== this.policyRead) return;
      this.store.setPolicy({ scope, format, yaml: draft.yaml, policies: draft.policies.length, warnings: draft.warnings, error: null });
    } catch (err) {
      if (ticket === this.policyRead)
        this.store.setPolicy({
          scope,
          format,
          yaml: null,
          policies: 0,
          warnings: [],
          error: err instanceof Error ? err.message : String(err),
        });
    }
  }

  closePolicy() {
    this.policyRead += 1;
    this.store.setPolicy(null);
  }

  /**
   * The calls rolled up into a map edge, heaviest first: between the two endpoints at POD level,
   * else the calls of the namespace at the edge's pod end that belong to both of its nodes.
   */
  private async readEdgeCalls(edge: ApiMapEdge, range: ApiRange | undefined): Promise<ApiCall[]> {
    const v = this.store.view;
    if (this.isEndpoint(edge.source) && this.isEndpoint(edge.target)) return readCallsBetween(this.client, edge.source, edge.target, range);
    const ns = this.store.nodes.get(edge.source)?.namespace ?? this.store.nodes.get(edge.target)?.namespace ?? null;
    if (ns === null) return [];
    const { nodes } = await readNamespaceCalls(this.client, ns, range);
    return nodes.filter((c) => toMapNode(c.source, v.level).id === edge.source && toMapNode(c.destination, v.level).id === edge.target);
  }

  /**
   * The edge's activity over the shown range (the last hour for all-time views): every call
   * between its two map nodes at the view's level, one series (rolled-up levels from the API's
   * roll-ups, so a workload edge's line is all of its calls).
   */
  private async readEdgeActivity(edge: ApiMapEdge): Promise<{ series: ApiActivitySeries | null; note: string | null }> {
    const v = this.store.view;
    const range = v.compare ? toDiffRanges(v.range, v.compare).after : toActivityRange(v.range);
    try {
      return { series: await readEdgeActivity(this.client, edge.source, edge.target, v.level, range), note: null };
    } catch (err) {
      return { series: null, note: `activity not read: ${err instanceof Error ? err.message : String(err)}` };
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
    trace.summary =
      'Paths and blast radius follow single endpoints: switch to the POD level (or pick DNS names, IPs or reserved identities).';
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
    const range = this.dataRange();
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
        policyScope: toPolicyScope(e, v.level, e.workloadName ?? null),
      };
    }
    // Rolled-up nodes: their calls are those of the namespace (heaviest first) that belong to the node.
    const ns = node?.namespace ?? id;
    const [calls, pods] = await Promise.all([
      readNamespaceCalls(this.client, ns, range),
      v.level === 'WORKLOAD' && node ? readWorkloadPods(this.client, ns, node.name) : Promise.resolve(null),
    ]);
    const inNode = (e: ApiEndpoint) => toMapNode(e, v.level).id === id;
    const note =
      calls.totalCount > calls.nodes.length
        ? `Calls from the ${calls.nodes.length} heaviest of the namespace's ${calls.totalCount}.`
        : null;
    const incoming = summarizeCalls(
      calls.nodes.filter((c) => inNode(c.destination)),
      'incoming',
      v.level,
    );
    const outgoing = summarizeCalls(
      calls.nodes.filter((c) => inNode(c.source)),
      'outgoing',
      v.level,
    );
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
          {
            key: 'pods',
            value: pods.nodes.map((p) => p.name).join(', ') + (pods.totalCount > pods.nodes.length ? ` … (${pods.totalCount})` : ''),
          },
          ...(identities.length > 0 ? [{ key: 'identity', value: identities.join(', ') }] : []),
          ...(nodesRun.length > 0 ? [{ key: 'node', value: nodesRun.join(', ') }] : []),
        ],
        labels: first?.labels?.filter((l) => l.key !== 'pod-template-hash') ?? [],
        incoming,
        outgoing,
        note,
        policyScope: node ? toPolicyScope(node, v.level, null) : null,
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
      policyScope: node ? toPolicyScope(node, v.level, null) : null,
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
