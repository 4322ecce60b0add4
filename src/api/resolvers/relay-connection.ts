import type { PageInfo } from '../generated/graphql-types';
import { encodeCursor } from '../validate-args';

/** A Relay-style connection (`PodConnection`, `CallConnection`). */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  totalCount: number;
  pageInfo: PageInfo;
}

/** Pure: one page of `items`, which start at offset `skip` of `total` ordered items, as a connection. */
export function toConnection<T>(items: T[], skip: number, total: number): Connection<T> {
  const edges = items.map((node, i) => ({ cursor: encodeCursor(skip + i), node }));
  return {
    edges,
    nodes: items,
    totalCount: total,
    pageInfo: {
      hasNextPage: skip + items.length < total,
      hasPreviousPage: skip > 0,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
