import type { ApiMapNode } from './api-types';

/**
 * Map nodes whose name, id or namespace contains the query (case-insensitive), best first: exact
 * name, then name prefix, then name substring, then id or namespace substring; ties by id.
 */
export function searchNodes(nodes: Iterable<ApiMapNode>, query: string): ApiMapNode[] {
  const q = query.trim().toLowerCase();
  if (q === '') return [];
  const scored: { node: ApiMapNode; score: number }[] = [];
  for (const node of nodes) {
    const name = node.name.toLowerCase();
    let score = -1;
    if (name === q) score = 0;
    else if (name.startsWith(q)) score = 1;
    else if (name.includes(q)) score = 2;
    else if (node.id.toLowerCase().includes(q) || (node.namespace ?? '').toLowerCase().includes(q)) score = 3;
    if (score >= 0) scored.push({ node, score });
  }
  scored.sort((a, b) => a.score - b.score || a.node.id.localeCompare(b.node.id));
  return scored.map((s) => s.node);
}
