import type { ApiCall, ApiEndpoint, ApiMapEdge, ApiMapNode, ApiServiceMap } from '../model/api-types';
import { type CallCounters, applyCallEvent, callCounters, toMapNode } from '../model/apply-live-event';
import { type Point, layoutLayered, placeNewNodes } from '../model/layered-layout';
import { filterMap } from '../model/to-drawable-graph';
import { DEFAULT_VIEW, type ViewState } from '../model/view-state';
import type { CallRow } from '../model/summarize-calls';

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
}

/** The edge panel's content. */
export interface EdgeDetails {
  kind: 'edge';
  edge: ApiMapEdge;
  /** Calls of the edge (read at POD level; rolled-up levels show the edge's figures only). */
  calls: CallRow[];
  /** Placeholder for the activity series of the API's `activity` (issue 11): null until then. */
  activity: { t: string; requests: number; errors: number }[] | null;
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

/**
 * Placeholder for the compare mode (issue 13 case 6, once the API has `mapDiff`): edges and nodes
 * marked added, removed or changed. Always null in this version; the renderer already draws it.
 */
export interface DiffMarks {
  added: Set<string>;
  removed: Set<string>;
  changed: Set<string>;
}

export type LiveStatus = 'off' | 'connecting' | 'live' | 'error';

/** What changed, so that listeners do only the work needed. */
export type StoreChange = 'view' | 'graph' | 'figures' | 'marks' | 'panel' | 'trace' | 'status' | 'namespaces';

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
  /** Element id -> time (ms) until which it is marked new. */
  newUntil = new Map<string, number>();
  /** Edge id -> time (ms) until which it is marked active. */
  activeUntil = new Map<string, number>();
  totals: ApiServiceMap['totals'] | null = null;
  truncated = false;
  namespaces: string[] = [];
  details: NodeDetails | EdgeDetails | null = null;
  trace: Trace | null = null;
  diff: DiffMarks | null = null;
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
    if (relayout) {
      // Another level or filter: the known counters belong to other edges. A refresh keeps them, so
      // that the next update of a call adds its difference instead of asking for yet another read.
      this.knownCalls.clear();
      this.newUntil.clear();
      this.activeUntil.clear();
      this.positions = layoutLayered([...this.nodes.keys()], map.edges, { groupKey: (id) => `${this.nodes.get(id)?.namespace ?? '~'}/${id}` });
    } else {
      for (const id of this.positions.keys()) if (!this.nodes.has(id)) this.positions.delete(id);
      const added = [...this.nodes.keys()].filter((id) => !before.has(id));
      this.place(added);
      const until = this.now() + NEW_HIGHLIGHT_MS;
      for (const id of added) this.newUntil.set(id, until);
      for (const id of this.edges.keys()) if (!beforeEdges.has(id)) this.newUntil.set(id, until);
    }
    this.emit('graph');
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
    for (const n of change.newNodes) this.nodes.set(n.id, n);
    this.edges.set(change.edge.id, change.edge);
    if (change.newNodes.length > 0) {
      this.place(change.newNodes.map((n) => n.id));
      for (const n of change.newNodes) this.newUntil.set(n.id, now + NEW_HIGHLIGHT_MS);
    }
    if (change.edgeIsNew) this.newUntil.set(change.edge.id, now + NEW_HIGHLIGHT_MS);
    else this.activeUntil.set(change.edge.id, now + ACTIVE_MARK_MS);
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
