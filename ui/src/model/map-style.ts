import type { EndpointKind } from './api-types';

/**
 * The visual language of the map. Colours are the Okabe-Ito palette (distinguishable with the
 * common colour-vision deficiencies), and every colour has a second signal: node kinds have shapes,
 * edge health has a line style and drops a cross mark.
 */
export const PALETTE = {
  blue: '#0072B2',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  green: '#009E73',
  yellow: '#F0E442',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  grey: '#777777',
} as const;

/** Node shapes by kind. */
export type NodeShape = 'circle' | 'diamond' | 'hexagon' | 'square';

export const SHAPE_BY_KIND: Readonly<Record<EndpointKind, NodeShape>> = {
  POD: 'circle',
  RESERVED: 'diamond',
  FQDN: 'hexagon',
  IP: 'square',
};

export const KIND_LABEL: Readonly<Record<EndpointKind, string>> = {
  POD: 'pod / workload / namespace',
  RESERVED: 'reserved identity (world, host, ...)',
  FQDN: 'DNS name',
  IP: 'IP address',
};

/** Health of an edge, from its verdicts, drop reasons and error rate. */
export type EdgeHealth = 'ok' | 'degraded' | 'failing' | 'dropped' | 'policy';

/** Error rate from which an edge is `degraded`, and from which it is `failing`. */
export const DEGRADED_ERROR_RATE = 0.01;
export const FAILING_ERROR_RATE = 0.1;

/** Line dash pattern (in screen pixels; empty: solid) and colour per health. */
export const HEALTH_STYLE: Readonly<Record<EdgeHealth, { colour: string; dash: number[]; label: string }>> = {
  ok: { colour: PALETTE.blue, dash: [], label: 'healthy (error rate < 1%)' },
  degraded: { colour: PALETTE.orange, dash: [10, 4], label: 'errors 1-10%' },
  failing: { colour: PALETTE.vermillion, dash: [4, 3], label: 'failing (errors ≥ 10%)' },
  dropped: { colour: PALETTE.purple, dash: [1, 4], label: 'dropped, other reasons (✕ mark)' },
  policy: { colour: '#000000', dash: [8, 3, 2, 3], label: 'dropped by network policy (bar mark)' },
};

/**
 * Compare mode (mapDiff): a mark drawn at the middle of an edge and beside a node, and the edge's
 * line style for what is gone (removed edges keep nothing else to draw from, so they are ghosts).
 */
export type DiffKind = 'added' | 'removed' | 'changed';

export const DIFF_STYLE: Readonly<Record<DiffKind, { colour: string; icon: string; label: string }>> = {
  added: { colour: PALETTE.green, icon: '+', label: 'added since the earlier range' },
  removed: { colour: PALETTE.grey, icon: '−', label: 'gone since the earlier range (faint, long dashes)' },
  changed: { colour: PALETTE.orange, icon: 'Δ', label: 'changed: rate, errors or p95 moved' },
};

/** Line dash of a removed edge (screen pixels, scaled with width like the health dashes). */
export const REMOVED_DASH: readonly number[] = [12, 6];

/** Namespace fills, in order of first appearance (sorted names): colour-blind safe, then repeated. */
const NAMESPACE_FILLS = [PALETTE.skyBlue, PALETTE.orange, PALETTE.green, PALETTE.yellow, PALETTE.blue, PALETTE.purple, PALETTE.vermillion];

/** Fill of nodes without namespace (reserved identities, DNS names, IPs). */
export const EXTERNAL_FILL = '#BBBBBB';

/** Assigns each namespace a fill, stable for a given set of namespaces (sorted by name). */
export function namespaceFills(namespaces: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(namespaces)].sort();
  return new Map(sorted.map((ns, i) => [ns, NAMESPACE_FILLS[i % NAMESPACE_FILLS.length] ?? EXTERNAL_FILL]));
}

/** Edge width in pixels for a traffic volume (requests, or flows without L7): 1 to 8, logarithmic. */
export function edgeWidthPx(volume: number): number {
  return Math.min(8, 1 + Math.log10(1 + Math.max(0, volume)) * 1.4);
}

/** Node radius in pixels from the pods it stands for (1 to about 14). */
export function nodeRadiusPx(pods: number): number {
  return 8 + Math.min(6, Math.log2(1 + Math.max(0, pods)) * 1.5);
}
