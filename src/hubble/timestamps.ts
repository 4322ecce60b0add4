import { InputError } from '../errors';

export interface TimestampMsg {
  seconds?: string | number;
  nanos?: number;
}

let lastSeconds = NaN;
let lastBase = '';

/**
 * The last time formatTimestamp wrote, and its parts: the collector parses each decoded flow's time
 * again right after (timestampToNanos), and a regex and Date.parse per flow cost about 6% of its
 * stream reading (CPU profile, 2026-12-04).
 */
let lastText: string | undefined;
let lastTextSeconds = 0;
let lastTextNanos = 0;

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/**
 * google.protobuf.Timestamp -> RFC 3339 in UTC, with 0, 3, 6 or 9 fractional digits as Go's
 * protojson writes them (so that a decoded flow equals what `hubble observe -o jsonpb` prints).
 */
export function formatTimestamp(seconds: number, nanos: number): string {
  // Flows arrive in time order: most share the second of the previous one.
  if (seconds !== lastSeconds) {
    const d = new Date(seconds * 1000);
    const year = d.getUTCFullYear();
    if (!(year >= 0 && year <= 9999)) return formatExpandedTimestamp(d, seconds, nanos);
    lastBase =
      `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T` +
      `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
    lastSeconds = seconds;
  }
  const text = withFraction(lastBase, nanos);
  // Only whole seconds and nanos within a second: what parseTimestamp gives back for the text.
  if (Number.isInteger(seconds) && Number.isInteger(nanos) && nanos >= 0 && nanos < 1e9) {
    lastText = text;
    lastTextSeconds = seconds;
    lastTextNanos = nanos;
  }
  return text;
}

function withFraction(base: string, nanos: number): string {
  if (nanos === 0) return `${base}Z`;
  let frac = String(nanos).padStart(9, '0');
  if (nanos % 1_000_000 === 0) frac = frac.slice(0, 3);
  else if (nanos % 1000 === 0) frac = frac.slice(0, 6);
  return `${base}.${frac}Z`;
}

/**
 * A time outside years 0000-9999 (which RFC 3339 cannot write) in ECMAScript's expanded-year form
 * (`+275760-09-13T00:00:00Z`, `-000001-01-01T00:00:00Z`), so that the collector can still tell it
 * is out of range; beyond what a JS Date holds, a text that parses as no time at all.
 */
function formatExpandedTimestamp(d: Date, seconds: number, nanos: number): string {
  if (Number.isNaN(d.getTime())) return `invalid-time:${seconds}s`;
  const iso = d.toISOString();
  return withFraction(iso.slice(0, iso.lastIndexOf('.')), nanos);
}

// RFC 3339, plus ECMAScript's expanded years (+275760-..., -000001-...) that formatTimestamp writes
// for times outside 0000-9999, so that such a time survives a round trip and is refused by range.
const RFC3339 = /^((?:\d{4}|[+-]\d{6})-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 -> {seconds, nanos}; throws InputError on anything else. Keeps all 9 nanosecond digits. */
export function parseTimestamp(text: string): { seconds: number; nanos: number } {
  if (text === lastText) return { seconds: lastTextSeconds, nanos: lastTextNanos };
  const [, dateTime, fraction, zone] = RFC3339.exec(text) ?? [];
  const ms = dateTime !== undefined && zone !== undefined ? Date.parse(`${dateTime.replace(' ', 'T')}${zone.toUpperCase()}`) : NaN;
  if (Number.isNaN(ms)) throw new InputError(`expected an RFC 3339 time such as 2024-01-02T03:04:05.123456789Z, got "${text}"`);
  return { seconds: Math.floor(ms / 1000), nanos: fraction ? Number(fraction.padEnd(9, '0')) : 0 };
}

/** RFC 3339 -> nanoseconds since the epoch as a bigint (exact ordering of flow times). */
export function timestampToNanos(text: string): bigint {
  const { seconds, nanos } = parseTimestamp(text);
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}

/** Nanoseconds since the epoch -> RFC 3339 (protojson style). */
export function nanosToTimestamp(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  return formatTimestamp(Number(seconds), Number(ns - seconds * 1_000_000_000n));
}

/** RFC 3339 -> google.protobuf.Timestamp fields, undefined passes through. */
export function toTimestampMsg(text: string | undefined): TimestampMsg | undefined {
  return text === undefined ? undefined : parseTimestamp(text);
}
