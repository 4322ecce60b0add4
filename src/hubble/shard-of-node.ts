/**
 * Which collector of a sharded set reads a Hubble node. Pure: every collector computes the same
 * answer for the same node name without talking to the others, so that each node is read by exactly
 * one collector whatever order the collectors learn of the nodes in.
 *
 * Rendezvous (highest random weight) hashing: the node goes to the shard whose hash of
 * (shard, node name) is the highest. Adding an N+1th shard moves only the nodes the new shard wins
 * (about 1/(N+1) of them), all to it; removing one moves only its own nodes.
 */
export function shardOfNode(nodeName: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1)
    throw new RangeError(`shardCount must be a whole number >= 1, got ${String(shardCount)}`);
  let best = 0;
  let bestWeight = -1;
  for (let shard = 0; shard < shardCount; shard++) {
    const weight = weightOf(shard, nodeName);
    if (weight > bestWeight) {
      best = shard;
      bestWeight = weight;
    }
  }
  return best;
}

/** The names among `nodeNames` that shard `shardIndex` of `shardCount` reads, sorted, without repeats. */
export function nodesOfShard(nodeNames: Iterable<string>, shardCount: number, shardIndex: number): string[] {
  const mine = new Set<string>();
  for (const name of nodeNames) if (name !== '' && shardOfNode(name, shardCount) === shardIndex) mine.add(name);
  return [...mine].sort();
}

/**
 * The shard index a StatefulSet pod name carries: its trailing ordinal (`hubble-graph-collector-2`
 * -> 2); undefined when the name does not end in `-<digits>`.
 */
export function ordinalOfHostname(hostname: string): number | undefined {
  const m = /-(\d{1,9})$/.exec(hostname.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * A 32-bit weight of (shard, name): FNV-1a over the shard number and the name's UTF-16 units, then
 * a murmur3-style finalizer so that names differing in their last character spread over all shards.
 */
function weightOf(shard: number, name: string): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ (shard & 0xff), 0x01000193);
  h = Math.imul(h ^ ((shard >>> 8) & 0xff), 0x01000193);
  h = Math.imul(h ^ 0x2f, 0x01000193);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
