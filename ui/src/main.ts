import { createGraphqlClient } from './api/graphql-client';
import type { MapLevel } from './model/api-types';
import { searchNodes } from './model/search-nodes';
import {
  type CompareChoice,
  type RangeChoice,
  describeCoveredRange,
  formatRangeChoice,
  parseCompareChoice,
  parseRangeChoice,
} from './model/time-range';
import { type Scene, type SceneEdgeCache, toScene } from './model/to-scene';
import { type SelectionMode, type ViewState, parseViewState } from './model/view-state';
import { CanvasRenderer, type Hit } from './render/canvas-renderer';
import { MapController } from './state/map-controller';
import { MapStore, type StoreChange } from './state/map-store';
import { readToken, writeToken } from './state/token-store';
import { renderPanel } from './view/details-panel';
import { byId, el, fmtCount, fmtMs, fmtPct } from './view/dom';
import { renderLegend } from './view/legend';

/** The read-only test hook: what the renderer drew and the page's state, for browser tests and the bench. */
export interface MapTestHook {
  snapshot(): {
    nodes: Pick<
      Scene['nodes'][number],
      'id' | 'label' | 'kind' | 'shape' | 'fill' | 'x' | 'y' | 'isNew' | 'selected' | 'match' | 'onTrace' | 'dimmed' | 'diff'
    >[];
    edges: Pick<
      Scene['edges'][number],
      | 'id'
      | 'source'
      | 'target'
      | 'health'
      | 'colour'
      | 'dash'
      | 'widthPx'
      | 'dropMark'
      | 'isNew'
      | 'active'
      | 'onTrace'
      | 'shortest'
      | 'dimmed'
      | 'diff'
      | 'bend'
    >[];
    /** The range the API says the map covers (null: all time), and in compare mode both ranges. */
    covered: { since: string; until: string } | null;
    compared: { before: { since: string; until: string }; after: { since: string; until: string } } | null;
    loading: boolean;
    error: string | null;
    liveStatus: string;
    liveEvents: number;
    draws: number;
    recentDrawMs: number[];
    /** Times the cached base layer of edges was drawn (a live update of a few edges draws them over it instead). */
    baseBuilds: number;
    /** Edges the last frame drew over the base layer (highlighted, changed or new since it was drawn). */
    overlayEdges: number;
    /** Whether the scene the snapshot shows has been drawn (false between a change and its frame). */
    sceneDrawn: boolean;
    url: string;
  };
  /** Screen position of a node relative to the canvas (to click it). */
  screenOf(id: string): { x: number; y: number } | null;
  /** Sets how long a changed edge stays marked active, so that a test on a slow machine can see the mark. */
  setActiveMarkMs(ms: number): void;
}

declare global {
  interface Window {
    __hubbleGraphMap?: MapTestHook;
  }
}

const apiPath =
  document.documentElement.dataset.apiPath && !document.documentElement.dataset.apiPath.startsWith('%')
    ? document.documentElement.dataset.apiPath
    : '/graphql';
const httpUrl = new URL(apiPath, window.location.href).toString();
const wsUrl = httpUrl.replace(/^http/, 'ws');

const store = new MapStore();
const tokenDialog = byId<HTMLDialogElement>('token-dialog');
const client = createGraphqlClient({ httpUrl, wsUrl, getToken: readToken, onUnauthorized: () => askForToken() });
const controller = new MapController(store, client, (q) => history.replaceState(null, '', `${window.location.pathname}?${q}`));

const tooltip = byId<HTMLDivElement>('tooltip');
const panel = byId<HTMLElement>('panel');
const status = byId<HTMLSpanElement>('status');
const matchesList = byId<HTMLOListElement>('matches');

const renderer = new CanvasRenderer(byId<HTMLCanvasElement>('map'), {
  onClick: (hit, e) => select(hit, e.shiftKey),
  onHover: (hit, p) => hover(hit, p),
});

function askForToken() {
  if (!tokenDialog.open) {
    writeToken(null);
    tokenDialog.showModal();
  }
}
byId<HTMLFormElement>('token-form').addEventListener('submit', () => {
  writeToken(byId<HTMLInputElement>('token-input').value.trim());
  client.reconnect();
  void start();
});

function update(next: Partial<ViewState>) {
  void controller.setView({ ...store.view, ...next });
}

function select(hit: Hit, shift: boolean) {
  const v = store.view;
  if (hit.kind === 'none') return update({ selection: [], edge: null });
  if (hit.kind === 'edge') return update({ selection: [], edge: hit.edge.id, mode: 'details' });
  const id = hit.node.id;
  const pairing = v.mode === 'path' || shift;
  const [only] = v.selection;
  if (pairing && v.selection.length === 1 && only !== undefined && only !== id)
    return update({ selection: [only, id], edge: null, mode: 'path' });
  update({ selection: [id], edge: null });
}

function hover(hit: Hit, p: { x: number; y: number }) {
  if (hit.kind === 'none') {
    tooltip.hidden = true;
    return;
  }
  tooltip.replaceChildren();
  if (hit.kind === 'node') {
    const n = store.nodes.get(hit.node.id);
    const edges = store.visible().edges;
    const ins = edges.filter((e) => e.target === hit.node.id);
    const outs = edges.filter((e) => e.source === hit.node.id);
    const sum = (es: typeof edges) => es.reduce((s, e) => s + e.requests, 0);
    tooltip.append(
      el('strong', {}, hit.node.id),
      el('div', {}, `${n?.kind ?? ''}${n?.namespace ? ` · ${n.namespace}` : ''}${n && n.pods > 1 ? ` · ${n.pods} pods` : ''}`),
      el('div', {}, `in: ${ins.length} callers, ${fmtCount(sum(ins))} requests`),
      el('div', {}, `out: ${outs.length} callees, ${fmtCount(sum(outs))} requests`),
    );
  } else {
    const e = store.edges.get(hit.edge.id);
    if (!e) return;
    tooltip.append(
      el('strong', {}, `${e.source} → ${e.target}`),
      el('div', {}, `${fmtCount(e.requests)} requests · ${fmtCount(e.flows)} flows`),
      el('div', {}, `errors ${fmtPct(e.errorRate)} · p95 ${fmtMs(e.latencyP95Ms)}`),
      el('div', {}, `${e.verdicts.join(', ')} · ports ${e.ports.join(', ')}`),
    );
  }
  tooltip.style.left = `${p.x + 14}px`;
  tooltip.style.top = `${p.y + 14}px`;
  tooltip.hidden = false;
}

// ------------------------------------------------------------------ controls

const nsSelect = byId<HTMLSelectElement>('namespaces');
const levelSelect = byId<HTMLSelectElement>('level');
const rangeSelect = byId<HTMLSelectElement>('range');
const customRange = byId<HTMLSpanElement>('custom-range');
const since = byId<HTMLInputElement>('range-since');
const until = byId<HTMLInputElement>('range-until');
const search = byId<HTMLInputElement>('search');
const verdict = byId<HTMLSelectElement>('verdict');
const protocol = byId<HTMLSelectElement>('protocol');
const port = byId<HTMLInputElement>('port');
const hideReserved = byId<HTMLInputElement>('hide-reserved');
const hideWorld = byId<HTMLInputElement>('hide-world');
const onlyDropped = byId<HTMLInputElement>('only-dropped');
const modeButtons = [...document.querySelectorAll<HTMLButtonElement>('.modes button')];

nsSelect.addEventListener('change', () =>
  update({ namespaces: [...nsSelect.selectedOptions].map((o) => o.value), selection: [], edge: null }),
);
levelSelect.addEventListener('change', () => update({ level: levelSelect.value as MapLevel, selection: [], edge: null }));
const compareSelect = byId<HTMLSelectElement>('compare');
const compareRange = byId<HTMLSpanElement>('compare-range');
const compareSince = byId<HTMLInputElement>('compare-since');
const compareUntil = byId<HTMLInputElement>('compare-until');
const covered = byId<HTMLSpanElement>('covered');
/** The instants of two datetime-local inputs (read in the browser's time zone), or null while one is empty or they are out of order. */
const instants = (a: HTMLInputElement, b: HTMLInputElement): { since: string; until: string } | null => {
  if (!a.value || !b.value) return null;
  const [s, u] = [new Date(a.value), new Date(b.value)];
  return s < u ? { since: s.toISOString(), until: u.toISOString() } : null;
};
/** An ISO instant as a datetime-local value in the browser's time zone. */
const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
/**
 * Wires a range picker (the shown range, or the one compared with): its select, the custom
 * since/until inputs it shows for `custom`, and the view change a choice makes.
 */
function wireRangePicker<T>(
  select: HTMLSelectElement,
  customBox: HTMLElement,
  [from, to]: [HTMLInputElement, HTMLInputElement],
  parse: (value: string) => T,
  toCustom: (r: { since: string; until: string }) => T,
  apply: (choice: T) => void,
) {
  const applyCustom = () => {
    const r = instants(from, to);
    if (r) apply(toCustom(r));
  };
  select.addEventListener('change', () => {
    customBox.hidden = select.value !== 'custom';
    if (select.value === 'custom') applyCustom();
    else apply(parse(select.value));
  });
  for (const input of [from, to]) input.addEventListener('change', applyCustom);
}
wireRangePicker<RangeChoice>(
  rangeSelect,
  customRange,
  [since, until],
  parseRangeChoice,
  (r) => ({ kind: 'custom', ...r }),
  (range) => update({ range }),
);
wireRangePicker<CompareChoice | null>(
  compareSelect,
  compareRange,
  [compareSince, compareUntil],
  parseCompareChoice,
  (r) => ({ kind: 'custom', ...r }),
  (compare) => update({ compare }),
);
let searchTimer: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => update({ search: search.value }), 150);
});
search.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter') return;
  const first = searchNodes(store.visible().nodes, search.value)[0];
  if (first) {
    update({ search: search.value, selection: [first.id], edge: null });
    renderer.fit([first.id]);
  }
});
const filterChange = () =>
  update({
    filters: {
      verdicts: verdict.value ? [verdict.value] : [],
      protocol: protocol.value || null,
      port: port.value === '' ? null : Number(port.value),
      hideReserved: hideReserved.checked,
      hideWorld: hideWorld.checked,
      onlyDropped: onlyDropped.checked,
    },
  });
for (const c of [verdict, protocol, port, hideReserved, hideWorld, onlyDropped]) c.addEventListener('change', filterChange);
for (const b of modeButtons)
  b.addEventListener('click', () => update({ mode: b.dataset.mode as SelectionMode, selection: store.view.selection.slice(0, 1) }));
byId<HTMLButtonElement>('fit').addEventListener('click', () => renderer.fit());

/** Puts the view's values into the controls (after a URL load, or a change made elsewhere). */
function syncControls(v: ViewState) {
  levelSelect.value = v.level;
  const r = formatRangeChoice(v.range);
  rangeSelect.value = v.range.kind === 'custom' ? 'custom' : r;
  customRange.hidden = v.range.kind !== 'custom';
  if (v.range.kind === 'custom') {
    since.value = toLocalInput(v.range.since);
    until.value = toLocalInput(v.range.until);
  }
  compareSelect.value = v.compare === null ? '' : v.compare.kind === 'custom' ? 'custom' : v.compare.by;
  compareRange.hidden = v.compare?.kind !== 'custom';
  if (v.compare?.kind === 'custom') {
    compareSince.value = toLocalInput(v.compare.since);
    compareUntil.value = toLocalInput(v.compare.until);
  }
  if (search.value !== v.search && document.activeElement !== search) search.value = v.search;
  verdict.value = v.filters.verdicts[0] ?? '';
  protocol.value = v.filters.protocol ?? '';
  port.value = v.filters.port === null ? '' : String(v.filters.port);
  hideReserved.checked = v.filters.hideReserved;
  hideWorld.checked = v.filters.hideWorld;
  onlyDropped.checked = v.filters.onlyDropped;
  for (const b of modeButtons) b.setAttribute('aria-pressed', String(b.dataset.mode === v.mode));
}

/**
 * The namespace picker: every namespace the graph knows and those the view names (a shared link's,
 * before the list has arrived), the view's selected. Options are rebuilt only when that set changes.
 */
function renderNamespaceOptions() {
  const wanted = [...new Set([...store.namespaces, ...store.view.namespaces])].sort();
  if ([...nsSelect.options].map((o) => o.value).join('\n') !== wanted.join('\n'))
    nsSelect.replaceChildren(...wanted.map((ns) => el('option', { value: ns }, ns)));
  for (const o of nsSelect.options) o.selected = store.view.namespaces.includes(o.value);
}

/** The range the figures cover, as the API answered it (not as asked: it widens to whole buckets). */
function renderCovered() {
  covered.replaceChildren();
  const c = store.comparison;
  if (c) {
    covered.append(
      el(
        'span',
        { 'data-covered': 'before', 'data-since': c.before.since, 'data-until': c.before.until },
        `before: ${describeCoveredRange(c.before)}`,
      ),
      ' vs ',
      el(
        'span',
        { 'data-covered': 'after', 'data-since': c.after.since, 'data-until': c.after.until },
        `after: ${describeCoveredRange(c.after)}`,
      ),
    );
    return;
  }
  const r = store.covered;
  if (r)
    covered.append(
      el('span', { 'data-covered': 'map', 'data-since': r.since, 'data-until': r.until }, `covers ${describeCoveredRange(r)}`),
    );
  else if (store.totals) covered.append(el('span', { 'data-covered': 'all' }, 'all-time figures'));
}

function renderStatus() {
  status.replaceChildren();
  const t = store.totals;
  const shown = store.visible();
  if (store.liveStatus !== 'off') status.append(el('span', { class: store.liveStatus === 'live' ? 'live' : '' }, `${store.liveStatus} `));
  if (store.loading) status.append('loading… ');
  if (t)
    status.append(
      `${shown.nodes.length} nodes, ${shown.edges.length} edges shown${store.truncated ? ` (heaviest ${store.edges.size} of ${t.edges} edges)` : ''} `,
    );
  if (store.notice) status.append(el('span', { class: 'notice' }, store.notice));
  if (store.error) status.append(el('span', { class: 'error' }, ` ${store.error}`));
}

/** Copies text: the Clipboard API where the page may use it, else a selected text area and the copy command. */
async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Denied (no permission, or the page not focused): fall back below.
    }
  }
  const area = el('textarea', { readonly: '' }) as HTMLTextAreaElement;
  area.value = text;
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the browser refused to copy');
}

const panelActions = {
  openPolicy: (format: 'CILIUM' | 'KUBERNETES') => void controller.loadPolicy(format),
  closePolicy: () => controller.closePolicy(),
  copy: copyText,
};

// ------------------------------------------------------------------ drawing

let fitPending = true;
const sceneEdges: SceneEdgeCache = new WeakMap();
let markTimer: ReturnType<typeof setInterval> | undefined;

function redraw() {
  const v = store.view;
  const { nodes, edges } = store.visible();
  const matches = new Set(searchNodes(nodes, v.search).map((n) => n.id));
  matchesList.replaceChildren(
    ...[...matches].slice(0, 20).map((id) => {
      const li = el('li', { 'data-match': id }, id);
      li.addEventListener('click', () => {
        update({ selection: [id], edge: null });
        renderer.fit([id]);
      });
      return li;
    }),
  );
  matchesList.hidden = matches.size === 0;
  const now = Date.now();
  const live = (m: Map<string, number>) => new Set([...m].filter(([, t]) => t > now).map(([id]) => id));
  renderer.setScene(
    toScene(
      {
        nodes,
        edges,
        positions: store.positions,
        newIds: live(store.newUntil),
        activeIds: live(store.activeUntil),
        selectedNodes: v.selection,
        selectedEdge: v.edge,
        matches,
        trace: store.trace,
        diff: store.diff,
        policyDrops: store.policyDrops,
        bends: store.bends,
      },
      sceneEdges,
    ),
  );
  if (fitPending && nodes.length > 0) {
    fitPending = false;
    renderer.fit();
  }
  if (!markTimer && (store.newUntil.size > 0 || store.activeUntil.size > 0)) {
    markTimer = setInterval(() => {
      if (!store.expireMarks()) {
        clearInterval(markTimer);
        markTimer = undefined;
      }
    }, 500);
  }
}

// Live events arrive one WebSocket message at a time; the page catches up with all of them in one
// pass per animation frame, so that a burst of a hundred changed edges costs one scene, not a hundred.
// On a large map a new scene and its draw cost tens of milliseconds: changes that come from live
// events are then spaced so that this work takes at most about a quarter of the time; changes the
// user made (view, panel, trace) are shown on the next frame.
const pendingChanges = new Set<StoreChange>();
const LIVE_CHANGES: ReadonlySet<StoreChange> = new Set(['figures', 'marks', 'graph', 'status']);
let frameRequested = false;
let spacing: ReturnType<typeof setTimeout> | null = null;
let lastApplyEnd = 0;
let lastApplyMs = 0;
function applyChanges() {
  frameRequested = false;
  const started = performance.now();
  const changes = new Set(pendingChanges);
  pendingChanges.clear();
  if (changes.has('view')) syncControls(store.view);
  if (changes.has('namespaces') || changes.has('view')) renderNamespaceOptions();
  if (changes.has('graph') || changes.has('namespaces')) {
    const namespaces = new Set<string>();
    for (const n of store.nodes.values()) if (n.namespace) namespaces.add(n.namespace);
    renderLegend(byId('legend'), [...namespaces], store.diff !== null);
    keepMapClearOfLegend();
    renderCovered();
  }
  if (changes.has('panel') || changes.has('trace') || changes.has('policy'))
    renderPanel(panel, store.details, store.trace, store.policy, panelActions);
  renderStatus();
  redraw();
  lastApplyEnd = performance.now();
  lastApplyMs = lastApplyEnd - started;
}
/**
 * Fits the map beside or above the legend, whichever gives up less of the stage, so that the legend
 * never covers a node or its label when the map is fitted.
 */
function keepMapClearOfLegend() {
  const legend = byId('legend');
  const stage = legend.parentElement ?? document.body;
  const l = legend.getBoundingClientRect();
  const st = stage.getBoundingClientRect();
  if (l.width === 0 || st.width === 0 || st.height === 0) return renderer.setInsets({ left: 0, bottom: 0 });
  const left = l.right - st.left;
  const bottom = st.bottom - l.top;
  renderer.setInsets(left / st.width <= bottom / st.height ? { left, bottom: 0 } : { left: 0, bottom });
}

function requestApply() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(applyChanges);
}
store.subscribe((changes) => {
  for (const c of changes) pendingChanges.add(c);
  const liveOnly = [...pendingChanges].every((c) => LIVE_CHANGES.has(c));
  const wait = Math.min(1000, lastApplyEnd + 3 * (lastApplyMs + renderer.stats.lastDrawMs) - performance.now());
  if (liveOnly && wait > 0) {
    spacing ??= setTimeout(() => {
      spacing = null;
      requestApply();
    }, wait);
    return;
  }
  if (spacing !== null) {
    clearTimeout(spacing);
    spacing = null;
  }
  requestApply();
});

window.__hubbleGraphMap = {
  snapshot() {
    const s = renderer.getScene();
    return {
      nodes: s.nodes.map(({ id, label, kind, shape, fill, x, y, isNew, selected, match, onTrace, dimmed, diff }) => ({
        id,
        label,
        kind,
        shape,
        fill,
        x,
        y,
        isNew,
        selected,
        match,
        onTrace,
        dimmed,
        diff,
      })),
      edges: s.edges.map(
        ({ id, source, target, health, colour, dash, widthPx, dropMark, isNew, active, onTrace, shortest, dimmed, diff, bend }) => ({
          id,
          source,
          target,
          health,
          colour,
          dash,
          widthPx,
          dropMark,
          isNew,
          active,
          onTrace,
          shortest,
          dimmed,
          diff,
          bend,
        }),
      ),
      covered: store.covered ? { since: store.covered.since, until: store.covered.until } : null,
      compared: store.comparison
        ? {
            before: { since: store.comparison.before.since, until: store.comparison.before.until },
            after: { since: store.comparison.after.since, until: store.comparison.after.until },
          }
        : null,
      loading: store.loading,
      error: store.error,
      liveStatus: store.liveStatus,
      liveEvents: store.liveEvents,
      draws: renderer.stats.draws,
      recentDrawMs: [...renderer.stats.recentDrawMs],
      baseBuilds: renderer.stats.baseBuilds,
      overlayEdges: renderer.stats.overlayEdges,
      sceneDrawn: renderer.stats.sceneDrawn,
      url: window.location.search,
    };
  },
  screenOf: (id) => renderer.screenOf(id),
  setActiveMarkMs: (ms) => {
    store.activeMarkMs = ms;
  },
};

async function start() {
  fitPending = true;
  const view = parseViewState(window.location.search);
  syncControls(view);
  // A fresh start (first load or a new token) reads everything again.
  // The map first: the namespace list aggregates every call too, and on a large graph the two reads
  // would share Neo4j's cores and delay the first map.
  await controller.setView(view, true);
  await controller.loadNamespaces();
}

void start();
