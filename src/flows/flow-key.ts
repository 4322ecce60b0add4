import type { Flow } from './flow';

/**
 * What identifies a flow when a source sends it again (a reconnect, a restarted collector): its
 * `uuid`, which Hubble sets on every flow, else its whole content with the node that observed it.
 */
export function flowKey(flow: Flow, nodeName?: string): string {
  return flow.uuid ?? `${nodeName ?? ''}|${JSON.stringify(flow)}`;
}

/** Bytes of one key hash in `ResumePoint.committedKeys`. */
export const KEY_HASH_BYTES = 8;

let hashHigh = 0;
let hashLow = 0;

/**
 * Two independent 32-bit lanes (FNV-1a and a multiply-xorshift) over the UTF-16 units of `key`:
 * 64 bits, so that among the ~10^5 keys of one overlap a false match has odds of about 10^-9.
 * Not cryptographic: keys come from the flow source, which is trusted with the counts anyway.
 */
function hashKey(key: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  hashHigh = a >>> 0;
  hashLow = b >>> 0;
}

/** Puts the 8-byte hash of `key` into `out` (high word, low word). */
export function hashKeyInto(key: string, out: Uint32Array): void {
  hashKey(key);
  out[0] = hashHigh;
  out[1] = hashLow;
}

/** The 8-byte hash of `key` as one number-like value for Set lookups. */
export function keyHash(key: string): bigint {
  hashKey(key);
  return (BigInt(hashHigh) << 32n) | BigInt(hashLow);
}

/** The hashes of a ResumePoint's `committedKeys` (big-endian words), read back. */
export function readKeyHashes(bytes: Int8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: bigint[] = [];
  for (let off = 0; off + KEY_HASH_BYTES <= bytes.byteLength; off += KEY_HASH_BYTES) {
    out.push((BigInt(view.getUint32(off)) << 32n) | BigInt(view.getUint32(off + 4)));
  }
  return out;
}
