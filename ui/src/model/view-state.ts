import { MAP_LEVELS, type MapLevel } from './api-types';
import {
  type CompareChoice,
  type RangeChoice,
  formatCompareChoice,
  formatRangeChoice,
  parseCompareChoice,
  parseRangeChoice,
} from './time-range';

/** Client-side and query filters of the map. */
export interface MapFilters {
  /** Verdicts to keep (sent to the API); empty: all. */
  verdicts: string[];
  /** IP protocol to keep (sent to the API), e.g. `TCP`. */
  protocol: string | null;
  /** Destination port an edge must include (applied in the page: the map query has no port filter). */
  port: number | null;
  /** Hide reserved identities other than the world (host, remote-node, health, ...). */
  hideReserved: boolean;
  /** Hide world traffic: `reserved:world`, DNS names and bare IPs. */
  hideWorld: boolean;
  /** Keep only edges with dropped traffic. */
  onlyDropped: boolean;
}

/** What the selection is used for. `path` needs two selected endpoints; `blast` and `deps` one. */
export type SelectionMode = 'details' | 'path' | 'blast' | 'deps';

/** Everything a shared link restores. */
export interface ViewState {
  /** Namespaces shown; empty: the whole cluster. */
  namespaces: string[];
  level: MapLevel;
  range: RangeChoice;
  /** Compare mode: the earlier range set against `range` (mapDiff); null: off. */
  compare: CompareChoice | null;
  /** Selected map node ids (at most two). */
  selection: string[];
  /** Selected map edge id. */
  edge: string | null;
  mode: SelectionMode;
  search: string;
  filters: MapFilters;
  /** Most edges to ask the map for, heaviest first (the API caps it at HG_API_MAX_PAGE_SIZE). */
  topN: number;
}

/** Default of `topN`: the API's default page cap. */
export const DEFAULT_TOP_N = 1000;

export const DEFAULT_FILTERS: MapFilters = {
  verdicts: [],
  protocol: null,
  port: null,
  hideReserved: false,
  hideWorld: false,
  onlyDropped: false,
};

export const DEFAULT_VIEW: ViewState = {
  namespaces: [],
  level: 'WORKLOAD',
  range: { kind: 'live' },
  compare: null,
  selection: [],
  edge: null,
  mode: 'details',
  search: '',
  filters: DEFAULT_FILTERS,
  topN: DEFAULT_TOP_N,
};

const MODES: readonly SelectionMode[] = ['details', 'path', 'blast', 'deps'];

const list = (v: string | null): string[] =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
    : [];

/** Reads a view from a URL query string (`?ns=shop&level=POD&...`); unknown or malformed values fall back to the defaults. */
export function parseViewState(search: string): ViewState {
  const p = new URLSearchParams(search);
  const level = (p.get('level') ?? '').toUpperCase();
  const mode = p.get('mode') ?? '';
  const port = Number(p.get('port'));
  const selection = list(p.get('sel')).slice(0, 2);
  const top = Number(p.get('top'));
  return {
    namespaces: list(p.get('ns')),
    level: (MAP_LEVELS as readonly string[]).includes(level) ? (level as MapLevel) : DEFAULT_VIEW.level,
    range: parseRangeChoice(p.get('range')),
    compare: parseCompareChoice(p.get('vs')),
    selection,
    edge: p.get('edge') || null,
    mode: (MODES as readonly string[]).includes(mode) ? (mode as SelectionMode) : 'details',
    search: p.get('q') ?? '',
    filters: {
      verdicts: list(p.get('verdicts')).map((v) => v.toUpperCase()),
      protocol: p.get('protocol')?.toUpperCase() || null,
      port: p.has('port') && Number.isInteger(port) && port >= 0 && port <= 65535 ? port : null,
      hideReserved: p.get('hideReserved') === '1',
      hideWorld: p.get('hideWorld') === '1',
      onlyDropped: p.get('onlyDropped') === '1',
    },
    topN: Number.isInteger(top) && top > 0 ? top : DEFAULT_TOP_N,
  };
}

/** Writes a view as a URL query string (without `?`), leaving defaults out so that links stay short. */
export function formatViewState(v: ViewState): string {
  const p = new URLSearchParams();
  if (v.namespaces.length > 0) p.set('ns', v.namespaces.join(','));
  p.set('level', v.level);
  p.set('range', formatRangeChoice(v.range));
  if (v.compare) p.set('vs', formatCompareChoice(v.compare));
  if (v.selection.length > 0) p.set('sel', v.selection.join(','));
  if (v.edge) p.set('edge', v.edge);
  if (v.mode !== 'details') p.set('mode', v.mode);
  if (v.search) p.set('q', v.search);
  const f = v.filters;
  if (f.verdicts.length > 0) p.set('verdicts', f.verdicts.join(','));
  if (f.protocol) p.set('protocol', f.protocol);
  if (f.port !== null) p.set('port', String(f.port));
  if (f.hideReserved) p.set('hideReserved', '1');
  if (f.hideWorld) p.set('hideWorld', '1');
  if (f.onlyDropped) p.set('onlyDropped', '1');
  if (v.topN !== DEFAULT_TOP_N) p.set('top', String(v.topN));
  // Commas and slashes read better unescaped in a shared link, and URLSearchParams parses them back.
  return p.toString().replace(/%2C/g, ',').replace(/%2F/g, '/').replace(/%3A/g, ':');
}
