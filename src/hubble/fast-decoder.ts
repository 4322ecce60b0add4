import protobuf from 'protobufjs';
import { formatTimestamp } from './timestamps';

/**
 * A protobuf decoder that writes the jsonpb shape directly (enum names, 64-bit integers as strings,
 * Timestamp as RFC 3339, BoolValue/Int32Value/UInt32Value as plain values, zero values left out),
 * built once per message type from the reflected .proto. It skips protobufjs' message instances
 * and `toObject` pass, which halved throughput (measured: 210k vs 420k+ GetFlowsResponse/s).
 * Unknown fields are skipped, as protobuf requires.
 */
export type FastDecoder = (reader: protobuf.Reader, length: number) => Record<string, unknown>;

type Kind =
  | 'string'
  | 'bytes'
  | 'bool'
  | 'double'
  | 'float'
  | 'int32'
  | 'uint32'
  | 'sint32'
  | 'fixed32'
  | 'sfixed32'
  | 'int64'
  | 'uint64'
  | 'sint64'
  | 'fixed64'
  | 'sfixed64'
  | 'enum'
  | 'message'
  | 'timestamp'
  | 'wrapper';

const WRAPPERS: Record<string, Kind> = {
  '.google.protobuf.BoolValue': 'bool',
  '.google.protobuf.Int32Value': 'int32',
  '.google.protobuf.UInt32Value': 'uint32',
  '.google.protobuf.Int64Value': 'int64',
  '.google.protobuf.UInt64Value': 'uint64',
  '.google.protobuf.StringValue': 'string',
  '.google.protobuf.DoubleValue': 'double',
  '.google.protobuf.FloatValue': 'float',
};

function readScalar(r: protobuf.Reader, kind: Kind): unknown {
  switch (kind) {
    case 'string':
      return r.string();
    case 'bool':
      return r.bool();
    case 'uint32':
      return r.uint32();
    case 'int32':
      return r.int32();
    case 'sint32':
      return r.sint32();
    case 'fixed32':
      return r.fixed32();
    case 'sfixed32':
      return r.sfixed32();
    case 'double':
      return r.double();
    case 'float':
      return r.float();
    case 'uint64':
      return longText(r.uint64());
    case 'int64':
      return longText(r.int64());
    case 'sint64':
      return longText(r.sint64());
    case 'fixed64':
      return longText(r.fixed64());
    case 'sfixed64':
      return longText(r.sfixed64());
    case 'bytes':
      return Buffer.from(r.bytes()).toString('base64');
    default:
      throw new Error(`not a scalar: ${kind}`);
  }
}

function readTimestamp(r: protobuf.Reader, length: number): string {
  const end = r.pos + length;
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        seconds = longNumber(r.int64());
        break;
      case 2:
        nanos = r.int32();
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return formatTimestamp(seconds, nanos);
}

function readWrapper(r: protobuf.Reader, length: number, kind: Kind): unknown {
  const end = r.pos + length;
  let value: unknown = kind === 'string' ? '' : kind === 'bool' ? false : kind.endsWith('64') ? '0' : 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) value = readScalar(r, kind);
    else r.skipType(tag & 7);
  }
  return value;
}

/** What protobufjs' 64-bit reads return: a Long when the `long` package is there, else a number. */
type Long64 = number | protobuf.Long;

/**
 * A 64-bit integer as the number `Number(v.toString())` gives, without the decimal round trip
 * (high * 2^32 + low is exact, then rounded once, as the parse of the decimal text is).
 */
function longNumber(v: Long64): number {
  if (typeof v === 'number') return v;
  return (v.unsigned ? v.high >>> 0 : v.high) * 4294967296 + (v.low >>> 0);
}

/**
 * A 64-bit integer's decimal text, as `v.toString()` writes it: below 2^53 through a number, which
 * is exact and skips Long's division loop; larger and negative values through Long itself.
 */
function longText(v: Long64): string {
  if (typeof v === 'number') return String(v);
  // high holds the top 32 bits (signed for int64): 0 <= high < 2^21 means 0 <= value < 2^53.
  if (v.high >= 0 && v.high < 0x200000) return String(v.high * 4294967296 + (v.low >>> 0));
  return v.toString();
}

/** Slots of a field's string table (direct-mapped: a collision only costs a decode). */
const INTERN_SLOTS = 4096;
/** Strings longer than this (bytes) are decoded each time: long texts rarely repeat. */
const INTERN_MAX_BYTES = 256;
/** Fields whose values never repeat (a flow's uuid): a table would only miss. */
const NOT_INTERNED = new Set(['uuid']);

/**
 * Reads a string field through its table of recent values: labels, pod names, namespaces, addresses
 * and node names repeat from flow to flow, and returning the string already held skips the UTF-8
 * decode and the allocation (about a third of the decoder's time went to strings and their GC).
 * A hit is exact: the candidate must equal the bytes, character for byte, and only strings of
 * ASCII bytes enter a table (for those, the UTF-8 decoding is the bytes themselves). Anything else
 * (empty, long, truncated, non-ASCII) takes protobufjs' own read, errors included.
 */
function readInterned(r: protobuf.Reader, table: Array<string | undefined>): string {
  const at = r.pos;
  const len = r.uint32();
  const start = r.pos;
  const end = start + len;
  if (len === 0 || len > INTERN_MAX_BYTES || end > r.len) {
    r.pos = at;
    return r.string();
  }
  const buf = r.buf;
  // The end of a value tells values apart best (labels and pod names share their prefixes).
  // (`?? 0`: the indices are inside the buffer, checked above; it only satisfies the index type.)
  let h = Math.imul(len, 0x9e3779b1) ^ (buf[start] ?? 0);
  for (let i = end - 1, stop = Math.max(start, end - 8); i >= stop; i--) h = Math.imul(h ^ (buf[i] ?? 0), 0x01000193);
  const slot = (h ^ (h >>> 15)) & (INTERN_SLOTS - 1);
  const held = table[slot];
  if (held !== undefined && held.length === len) {
    let i = len - 1;
    while (i >= 0 && buf[start + i] === held.charCodeAt(i)) i--;
    if (i < 0) {
      r.pos = end;
      return held;
    }
  }
  r.pos = at;
  const value = r.string();
  if (value.length === len) {
    let i = 0;
    while (i < len && (buf[start + i] ?? 0x80) < 0x80) i++;
    if (i === len) table[slot] = value;
  }
  return value;
}

/** Slots of a memoised message type's table (direct-mapped, like the string tables). */
const MEMO_SLOTS = 4096;
/** Messages longer than this (bytes) are decoded each time. */
const MEMO_MAX_BYTES = 1024;
/**
 * Message types whose encoded bytes repeat from flow to flow and are memoised whole: a pod's
 * `Endpoint` (id, identity, namespace, labels, pod name, workloads) is the same bytes in every flow
 * it takes part in, and decoding its dozen strings was most of a flow's string reads.
 */
const MEMOISED_TYPES = new Set(['.flow.Endpoint']);

/** A memoised message: its bytes and the decoded value, frozen, which every flow with these bytes shares. */
interface MemoEntry {
  bytes: Buffer;
  value: Record<string, unknown>;
}

/** Freezes decoded data (objects and arrays, deeply) so that it can be shared. */
function freezeDecoded<T extends object>(v: T): T {
  for (const x of Object.values(v)) if (typeof x === 'object' && x !== null) freezeDecoded(x);
  return Object.freeze(v);
}

/**
 * Reads a message of a memoised type through its table of recent messages: when its bytes equal
 * those of the message held in its slot (compared whole, natively), the decoded value held there is
 * returned instead of decoding again. Exact: equal bytes decode to equal values. The value is
 * shared by every flow with these bytes, so it is frozen (deeply): a consumer that wants to change
 * one flow's endpoint replaces it in that flow (as checkFlow does), and changing it in place throws
 * (strict mode). A copy for each flow, the first form, cost about a fifth of the decoder's time,
 * plus its garbage. Slots are chosen by the length, the first 8 bytes (an Endpoint's ID and
 * identity) and 16 bytes sampled across the rest.
 */
function readMemoised(
  r: protobuf.Reader,
  length: number,
  decode: FastDecoder,
  table: Array<MemoEntry | undefined>,
): Record<string, unknown> {
  const start = r.pos;
  const end = start + length;
  if (length === 0 || length > MEMO_MAX_BYTES || end > r.len) return decode(r, length);
  const buf = r.buf;
  let h = Math.imul(length, 0x9e3779b1);
  const head = Math.min(end, start + 8);
  for (let i = start; i < head; i++) h = Math.imul(h ^ (buf[i] ?? 0), 0x01000193);
  const step = (length >>> 4) + 1;
  for (let i = end - 1; i >= head; i -= step) h = Math.imul(h ^ (buf[i] ?? 0), 0x01000193);
  const slot = (h ^ (h >>> 15)) & (MEMO_SLOTS - 1);
  const held = table[slot];
  if (held !== undefined && held.bytes.length === length && held.bytes.compare(buf, start, end) === 0) {
    r.pos = end;
    return held.value;
  }
  const value = freezeDecoded(decode(r, length));
  // Memory of its own, not a slice of Node's shared 8 KB pool, which a long-lived entry would keep whole.
  const bytes = Buffer.allocUnsafeSlow(length);
  bytes.set(buf.subarray(start, end));
  table[slot] = { bytes, value };
  return value;
}

/** One table per memoised type, shared by its fields: a pod is the source of some flows and the destination of others. */
const memoTables = new Map<protobuf.Type, Array<MemoEntry | undefined>>();

function memoTableOf(type: protobuf.Type): Array<MemoEntry | undefined> {
  let table = memoTables.get(type);
  if (table === undefined) memoTables.set(type, (table = new Array<MemoEntry | undefined>(MEMO_SLOTS)));
  return table;
}

const cache = new Map<protobuf.Type, FastDecoder>();

const READ_EXPR: Record<string, string> = {
  string: 'r.string()',
  bool: 'r.bool()',
  uint32: 'r.uint32()',
  int32: 'r.int32()',
  sint32: 'r.sint32()',
  fixed32: 'r.fixed32()',
  sfixed32: 'r.sfixed32()',
  double: 'r.double()',
  float: 'r.float()',
  uint64: 'long(r.uint64())',
  int64: 'long(r.int64())',
  sint64: 'long(r.sint64())',
  fixed64: 'long(r.fixed64())',
  sfixed64: 'long(r.sfixed64())',
  bytes: 'b64(r.bytes())',
};

const ZERO_TEST: Record<string, string> = {
  string: "v !== ''",
  bool: 'v',
  bytes: "v !== ''",
};

/**
 * Builds (once per type) the decoder of a message type: JavaScript generated from the reflected
 * fields, one `case` per field number, as protobufjs does for its own decoders, so that V8 sees
 * monomorphic code without a per-field dispatch on the field kind.
 */
export function fastDecoder(type: protobuf.Type): FastDecoder {
  const cached = cache.get(type);
  if (cached) return cached;
  const subs: FastDecoder[] = [];
  const enums: Array<Record<number, string>> = [];
  const wrappers: Kind[] = [];
  const tables: Array<Array<string | undefined>> = [];
  const memos: Array<Array<MemoEntry | undefined>> = [];
  // Recursive types refer to their own decoder through this indirection.
  let impl: FastDecoder = () => ({});
  const decoder: FastDecoder = (r, length) => impl(r, length);
  cache.set(type, decoder);
  const cases: string[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const key = JSON.stringify(field.name);
    const rt = field.resolvedType;
    let read: string;
    let zero: string | undefined;
    let packable = false;
    const scalarRead = READ_EXPR[field.type];
    if (rt instanceof protobuf.Enum) {
      enums.push(rt.valuesById);
      const e = `enums[${enums.length - 1}]`;
      read = `(n = r.int32(), ${e}[n] === undefined ? n : ${e}[n])`;
      zero = 'n !== 0';
      packable = true;
    } else if (rt instanceof protobuf.Type) {
      const full = rt.fullName;
      if (full === '.google.protobuf.Timestamp') read = 'ts(r, r.uint32())';
      else if (WRAPPERS[full] !== undefined) {
        wrappers.push(WRAPPERS[full]);
        read = `wrap(r, r.uint32(), wrappers[${wrappers.length - 1}])`;
      } else if (MEMOISED_TYPES.has(full)) {
        subs.push(fastDecoder(rt));
        memos.push(memoTableOf(rt));
        read = `memo(r, r.uint32(), subs[${subs.length - 1}], memos[${memos.length - 1}])`;
      } else {
        subs.push(fastDecoder(rt));
        read = `subs[${subs.length - 1}](r, r.uint32())`;
      }
    } else if (field.type === 'string' && !NOT_INTERNED.has(field.name)) {
      tables.push(new Array<string | undefined>(INTERN_SLOTS));
      read = `str(r, tables[${tables.length - 1}])`;
      zero = ZERO_TEST.string;
    } else if (scalarRead !== undefined) {
      read = scalarRead;
      zero = ZERO_TEST[field.type] ?? (field.type.endsWith('64') ? "v !== '0'" : 'v !== 0');
      packable = field.type !== 'string' && field.type !== 'bytes';
    } else {
      throw new Error(`unsupported field type ${field.type} in ${type.fullName}.${field.name}`);
    }
    if (field.repeated) {
      const push = `(o[${key}] || (o[${key}] = [])).push(${read})`;
      cases.push(
        packable
          ? `case ${field.id}: if ((t & 7) === 2) { e2 = r.uint32() + r.pos; while (r.pos < e2) ${push}; } else ${push}; break;`
          : `case ${field.id}: ${push}; break;`,
      );
    } else if (zero) {
      cases.push(`case ${field.id}: v = ${read}; if (${zero}) o[${key}] = v; break;`);
    } else {
      cases.push(`case ${field.id}: o[${key}] = ${read}; break;`);
    }
  }
  const body = `
    return function decode(r, length) {
      var o = {}, end = r.pos + length, t, v, n, e2;
      while (r.pos < end) {
        t = r.uint32();
        switch (t >>> 3) {
          ${cases.join('\n          ')}
          default: r.skipType(t & 7);
        }
      }
      return o;
    };`;
  impl = new Function('subs', 'enums', 'wrappers', 'tables', 'memos', 'ts', 'wrap', 'b64', 'str', 'memo', 'long', body)(
    subs,
    enums,
    wrappers,
    tables,
    memos,
    readTimestamp,
    readWrapper,
    (b: Uint8Array) => Buffer.from(b).toString('base64'),
    readInterned,
    readMemoised,
    longText,
  ) as FastDecoder;
  return decoder;
}

/** Decodes a whole buffer as the given message type. */
export function fastDecode(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> {
  const r = protobuf.Reader.create(bytes);
  return fastDecoder(type)(r, bytes.length);
}
