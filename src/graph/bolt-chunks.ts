import { createRequire } from 'node:module';

/**
 * Bytes of the buffer neo4j-driver fills before it hands a piece of a Bolt message to the socket:
 * each piece is one Bolt chunk (a 2-byte size, then at most 65,535 bytes). 65,536 makes each chunk
 * as large as Bolt allows (the buffer holds the chunk's header too).
 */
const BOLT_CHUNK_BUFFER_BYTES = 65_536;

/** The part of neo4j-driver's chunk writer that useLargeBoltChunks relies on. */
interface ChunkerModule {
  Chunker: new (channel: unknown, bufferSize?: number) => { _bufferSize?: unknown };
}

let applied: boolean | undefined;

/**
 * Makes neo4j-driver write Bolt messages in chunks of up to 64 KB instead of its fixed 1,400 bytes,
 * for the connections it opens from then on; returns whether that is in effect.
 *
 * Why: the collector's statements carry megabytes of parameters (5,000 call rows are about 3 MB).
 * In 1,400-byte chunks that is thousands of socket writes, and Neo4j assembles the message from
 * thousands of pieces before it reads a value (its Netty frame decoder and composite buffers). In
 * 64 KB chunks such a statement costs Neo4j a quarter of the CPU it did, and one flush of 10k dirty
 * edges 11-16% less of Neo4j's CPU and 9-14% less of the writer's in three runs of four
 * (docs/performance-history.md, "Bolt chunks of 64 KB"). Bolt lets a client choose its
 * chunk sizes, up to 65,535 bytes; the driver offers no option for it (neo4j-driver 6.3), so its
 * chunk writer is given a larger default here. When the driver's internals are not what this
 * expects (another version), nothing is changed and the driver works as it ships.
 */
export function useLargeBoltChunks(): boolean {
  if (applied !== undefined) return applied;
  applied = false;
  let mod: ChunkerModule;
  try {
    const fromDriver = createRequire(require.resolve('neo4j-driver'));
    mod = fromDriver('neo4j-driver-bolt-connection/lib/channel/chunking.js') as ChunkerModule;
  } catch {
    return applied;
  }
  const Shipped = mod.Chunker;
  if (typeof Shipped !== 'function' || typeof new Shipped(null)._bufferSize !== 'number') return applied;
  mod.Chunker = class LargeChunker extends Shipped {
    constructor(channel: unknown, bufferSize?: number) {
      super(channel, bufferSize ?? BOLT_CHUNK_BUFFER_BYTES);
    }
  };
  applied = true;
  return applied;
}
