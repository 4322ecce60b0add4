import type { ApiCall, ApiEndpoint, ApiMapEdge, ApiMapNode, ApiServiceMap } from '../model/api-types';
import { type CallCounters, applyCallEvent, callCounters, mapEdgeId, toMapNode } from '../model/apply-live-event';
import type { CompareView, DiffMarks, EarlierFigures } from '../model/compare-maps';
import type { DiffKind } from '../model/map-style';
import { type PolicyScope, isPolicyDrop } from '../model/policy-drops';
import type { ApiActivitySeries } from '../model/sparkline';
import type { CoveredRange } from '../model/time-range';
import { type Point, layoutLayered, placeNewNodes } from '../model/layered-layout';
import { filterMap } from '../model/to-drawable-graph';
import { nodeRadiusPx } from '../model/map-style';
import { type RouteEdge, routeEdges } from '../model/route-edges';
import { DEFAULT_VIEW, type ViewState } from '../model/view-state';
import type { CallRow } from '../model/summarize-calls';

/**
 * Above this many edges lines stay straight: routing costs about 0.6 ms per edge here, more than
 * the first draw's budget, and at that size the map is read by its clusters rather than its lines.
 */
export const ROUTE_MAX_EDGES = 3000;

/** How long a new node or edge stays highlighted, ms. */
export const NEW_HIGHLIGHT_MS = 5000;
/** How long an edge whose counters changed is marked active, ms. */
export const ACTIVE_MARK_MS = 1500;

/** The node panel's content. */
export interface NodeDetails {
  kind: 'node';
  nodeId: string;
  /** Label rows: labels, workload, namespace, identity, node (what is known for the node). */
  facts: { key: string; value: string }[];
  labels: { key: string; value: string }[];
  incoming: CallRow[];
  outgoing: CallRow[];
  /** E.g. "50 of 120 pods" when a panel read was capped. */
  note: string | null;
  /** Whose network policy draft the panel offers (null: not a workload or namespace of pods). */
  policyScope: PolicyScope | null;
}

/** The edge panel's content. */
export interface EdgeDetails {
  kind: 'edge';
  edge: ApiMapEdge;
  /** Calls of the edge. */
  calls: CallRow[];
  /** The edge's activity over the shown range (the last hour for all-time views); null while read or when it failed. */
  activity: ApiActivitySeries | null;
  /** "reading activity…" while it is read, or why there is none (the read failed). */
  activityNote: string | null;
  /** Compare mode: added, removed or changed (null: unchanged, or not comparing). */
  diff: DiffKind | null;
  /** Compare mode: the edge's earlier figures and the thresholds crossed, for a changed edge. */
  change: { before: EarlierFigures; reasons: string[] } | null;
}

/** The policy draft shown in the panel. */
export interface PolicyDraftView {
  scope: PolicyScope;
  format: 'CILIUM' | 'KUBERNETES';
  /** Null while read. */
  yaml: string | null;
  policies: number;
  warnings: string[];
  error: string | null;
}

/** Endpoints and edges a path search, blast radius or dependency search lit up. */
export interface Trace {
  kind: 'path' | 'blast' | 'deps';
  nodes: Set<string>;
  edges: Set<string>;
  /** Edges of the shortest path (path searches only). */
  shortest: Set<string>;
  /** Hops from the root per node (blast, deps). */
  distance: Map<string, number>;
  summary: string;
}

export type { DiffMarks };

export type LiveStatus = 'off' | 'connecting' | 'live' | 'error';

/** What changed, so that listeners do only the work needed. */
export type StoreChange = 'view' | 'graph' | 'figures' | 'marks' | 'panel' | 'trace' | 'status' | 'namespaces' | 'policy';

type Listener = (changes: ReadonlySet<StoreChange>) => void;

/**
 * The page's domain state: the view (what the URL holds), the map at the current level, positions,
 * live marks, panel content and traces. It does no I/O and no drawing: the controller feeds it from
 * GraphQL, the view draws what it holds. Listeners are told once per microtask with the set of
 * changes, so that a burst of live events costs one redraw.
 */
export class MapStore {
  view: ViewState = DEFAULT_VIEW;
  nodes = new Map<string, ApiMapNode>();
  edges = new Map<string, ApiMapEdge>();
  positions = new Map<string, Point>();
  /** Curves of the edges that would cross a node straight (edge id -> control point), kept with the positions. */
  bends = new Map<string, Point>();
  /** Element id -> time (ms) until which it is marked new. */
  newUntil = new Map<string, number>();
  /** Edge id -> time (ms) until which it is marked active. */
  activeUntil = new Map<string, number>();
  /** How long a changed edge stays marked active (ACTIVE_MARK_MS; the test hook may lengthen it). */
  activeMarkMs = ACTIVE_MARK_MS;
  totals: ApiServiceMap['totals'] | null = null;
  truncated = false;
  namespaces: string[] = [];
  details: NodeDetails | EdgeDetails | null = null;
  trace: Trace | null = null;
  /** Compare mode's marks, null outside it. */
  diff: DiffMarks | null = null;
  /** Compare mode: both covered ranges and the changed edges' earlier figures. */
  comparison: Omit<CompareView, 'map' | 'marks'> | null = null;
  /** The range the API says the map covers (null for all-time reads). */
  covered: CoveredRange | null = null;
  /** Map edge ids with traffic a network policy dropped. */
  policyDrops = new Set<string>();
  /** The network policy draft open in the panel. */
  policy: PolicyDraftView | null = null;
  liveStatus: LiveStatus = 'off';
  loading = false;
  error: string | null = null;
  notice: string | null = null;
  /** Live events received and applied, for the status line and tests. */
  liveEvents = 0;
  /** The last counters of each call learned from live events. */
  private knownCalls = new Map<string, CallCounters>();
  private listeners = new Set<Listener>();
  private pending = new Set<StoreChange>();
  private visibleCache: { key: unknown; value: { nodes: ApiMapNode[]; edges: ApiMapEdge[] } } | null = null;
  private graphVersion = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: StoreChange) {
    if (change === 'graph' || change === 'figures' || change === 'view') {
      this.graphVersion += 1;
    }
    const first = this.pending.size === 0;
    this.pending.add(change);
    if (!first) return;
    queueMicrotask(() => {
      const changes = new Set(this.pending);
      this.pending.clear();
      for (const l of this.listeners) l(changes);
    });
  }

  setView(view: ViewState) {
    this.view = view;
    this.emit('view');
  }

  setStatus(s: { loading?: boolean; error?: string | null; notice?: string | null; liveStatus?: LiveStatus }) {
    if (s.loading !== undefined) this.loading = s.loading;
    if (s.error !== undefined) this.error = s.error;
    if (s.notice !== undefined) this.notice = s.notice;
    if (s.liveStatus !== undefined) this.liveStatus = s.liveStatus;
    this.emit('status');
  }

  setNamespaces(namespaces: string[]) {
    this.namespaces = namespaces;
    this.emit('namespaces');
  }

  /**
   * Replaces the map with a fresh read. `relayout`: a new view (level, namespaces, filters), laid out
   * anew; otherwise (a refresh of the same view) placed nodes keep their positions and new ones are
   * placed beside their neighbours and marked new.
   */
  replaceMap(map: ApiServiceMap, relayout: boolean) {
    const before = new Set(this.nodes.keys());
    const beforeEdges = new Set(this.edges.keys());
    this.nodes = new Map(map.nodes.map((n) => [n.id, n]));
    this.edges = new Map(map.edges.map((e) => [e.id, e]));
    this.totals = map.totals;
    this.truncated = map.truncated;
    this.covered = map.range;
    if (relayout) {
      // Another level or filter: the known counters belong to other edges. A refresh keeps them, so
      // that the next update of a call adds its difference instead of asking for yet another read.
      this.knownCalls.clear();
      this.newUntil.clear();
      this.activeUntil.clear();
      this.positions = layoutLayered([...this.nodes.keys()], map.edges, {
        groupKey: (id) => `${this.nodes.get(id)?.namespace ?? '~'}/${id}`,
      });
    } else {
      for (const id of this.positions.keys()) if (!this.nodes.has(id)) this.positions.delete(id);
      const added = [...this.nodes.keys()].filter((id) => !before.has(id));
      this.place(added);
      const until = this.now() + NEW_HIGHLIGHT_MS;
      for (const id of added) this.newUntil.set(id, until);
      for (const id of this.edges.keys()) if (!beforeEdges.has(id)) this.newUntil.set(id, until);
    }
    this.bends = this.route(this.edges.values());
    this.emit('graph');
  }

  /** Compare mode on (with the view the diff gives) or off; the map itself comes through replaceMap. */
  setComparison(view: CompareView | null) {
    this.diff = view?.marks ?? null;
    this.comparison = view ? { changes: view.changes, before: view.before, after: view.after } : null;
    this.emit('graph');
  }

  /** Replaces the set of map edges with policy drops (read with the map). */
  setPolicyDrops(ids: Set<string>) {
    this.policyDrops = ids;
    this.emit('graph');
  }

  setPolicy(policy: PolicyDraftView | null) {
    this.policy = policy;
    this.emit('policy');
  }

  /** Bends for `edges` over the current positions (see route-edges.ts). */
  private route(edges: Iterable<RouteEdge>): Map<string, Point> {
    if (this.edges.size > ROUTE_MAX_EDGES) return new Map();
    return routeEdges(this.positions, edges, { radiusOf: (id) => nodeRadiusPx(this.nodes.get(id)?.pods ?? 0) });
  }

  private place(ids: string[]) {
    if (ids.length === 0) return;
    for (const [id, p] of placeNewNodes(this.positions, ids, [...this.edges.values()])) this.positions.set(id, p);
  }

  /** Folds a live call event into the map (see applyCallEvent). Returns false when the figures must wait for a map read. */
  applyCall(call: ApiCall, isNewCall: boolean): boolean {
    const change = applyCallEvent(call, isNewCall, this.view.level, this.nodes, this.edges, this.knownCalls);
    this.knownCalls.set(call.key, callCounters(call));
    const now = this.now();
    if (call.verdict === 'DROPPED' && isPolicyDrop(call.dropReasons)) {
      this.policyDrops.add(mapEdgeId(toMapNode(call.source, this.view.level).id, toMapNode(call.destination, this.view.level).id));
    }
    for (const n of change.newNodes) this.nodes.set(n.id, n);
    this.edges.set(change.edge.id, change.edge);
    if (change.newNodes.length > 0) {
      this.place(change.newNodes.map((n) => n.id));
      for (const n of change.newNodes) this.newUntil.set(n.id, now + NEW_HIGHLIGHT_MS);
    }
    if (change.edgeIsNew) {
      this.newUntil.set(change.edge.id, now + NEW_HIGHLIGHT_MS);
      for (const [id, bend] of this.route([change.edge])) this.bends.set(id, bend);
    } else this.activeUntil.set(change.edge.id, now + this.activeMarkMs);
    this.liveEvents += 1;
    this.emit(change.edgeIsNew || change.newNodes.length > 0 ? 'graph' : 'figures');
    return change.figuresExact;
  }

  /** A new pod: a node at the current level unless it is on the map already. */
  addPod(pod: ApiEndpoint) {
    const node = toMapNode(pod, this.view.level);
    const existing = this.nodes.get(node.id);
    this.liveEvents += 1;
    if (existing) {
      if (this.view.level !== 'POD') this.nodes.set(node.id, { ...existing, pods: existing.pods + 1 });
      this.emit('figures');
      return;
    }
    this.nodes.set(node.id, node);
    this.place([node.id]);
    this.newUntil.set(node.id, this.now() + NEW_HIGHLIGHT_MS);
    this.emit('graph');
  }

  /** Drops expired new/active marks; returns true when any mark remains (the view keeps a timer while so). */
  expireMarks(): boolean {
    const now = this.now();
    let changed = false;
    for (const m of [this.newUntil, this.activeUntil]) {
      for (const [id, until] of m) {
        if (until <= now) {
          m.delete(id);
          changed = true;
        }
      }
    }
    if (changed) this.emit('marks');
    return this.newUntil.size > 0 || this.activeUntil.size > 0;
  }

  setDetails(details: NodeDetails | EdgeDetails | null) {
    this.details = details;
    this.emit('panel');
  }

  setTrace(trace: Trace | null) {
    this.trace = trace;
    this.emit('trace');
  }

  /** Nodes and edges after the page's own filters, recomputed only when the map or filters changed. */
  visible(): { nodes: ApiMapNode[]; edges: ApiMapEdge[] } {
    const key = this.graphVersion;
    if (this.visibleCache?.key === key) return this.visibleCache.value;
    const value = filterMap(this.nodes.values(), this.edges.values(), this.view.filters);
    this.visibleCache = { key, value };
    return value;
  }
}
