import { badUserInput } from './api-errors';
import { LabelSelectorError, type LabelRequirement, parseLabelSelector } from './label-selector';

/**
 * Checks of client arguments. Each returns the clean value or throws BAD_USER_INPUT naming the
 * argument; what passes is handed to Cypher as parameters only.
 */

const MAX_STRING = 1024;

/**
 * Defaults of arguments the schema leaves open, shared by the resolvers and the cost estimate
 * (estimate-operation-cost.ts), which must read the same numbers.
 */
export const ARG_DEFAULTS = {
  /** `first` of pages and endpoint lists. */
  first: 100,
  /** `serviceMap(filter: {topN})`. */
  topN: 500,
  shortestPathMaxHops: 6,
  pathsMaxHops: 4,
  pathsLimit: 10,
  /** `dependencies(depth)`. */
  depth: 3,
  /** Most points of one `activity` series (range / step). */
  maxSeriesPoints: 1440,
} as const;

export function checkInt(value: number | null | undefined, arg: string, min: number, max: number, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw badUserInput(arg, `must be a whole number from ${min} to ${max}, got ${v}`);
  return v;
}

/** `first`: 0 to the configured page cap. */
export function checkFirst(value: number | null | undefined, arg: string, cap: number, fallback: number = ARG_DEFAULTS.first): number {
  const v = value ?? Math.min(fallback, cap);
  if (!Number.isInteger(v) || v < 0) throw badUserInput(arg, `must be a whole number of at least 0, got ${v}`);
  if (v > cap) throw badUserInput(arg, `is ${v}, above the maximum page size ${cap} (HG_API_MAX_PAGE_SIZE)`);
  return v;
}

/** A hop bound: 1 to the configured cap. */
export function checkHops(value: number | null | undefined, arg: string, cap: number, fallback: number): number {
  const v = value ?? Math.min(fallback, cap);
  if (!Number.isInteger(v) || v < 1) throw badUserInput(arg, `must be a whole number of at least 1, got ${v}`);
  if (v > cap) throw badUserInput(arg, `is ${v}, above the cap ${cap} (HG_API_MAX_HOPS)`);
  return v;
}

export function checkString(value: string | null | undefined, arg: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.length === 0) throw badUserInput(arg, 'must not be empty');
  if (value.length > MAX_STRING) throw badUserInput(arg, `longer than ${MAX_STRING} characters`);
  return value;
}

export function checkId(value: string, arg: string): string {
  return checkString(value, arg) as string;
}

// Kubernetes namespace names are DNS labels.
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function checkNamespace(value: string, arg: string): string {
  if (!NAMESPACE.test(value)) throw badUserInput(arg, `"${truncate(value)}" is not a Kubernetes namespace name`);
  return value;
}

export function checkNamespaces(values: readonly string[] | null | undefined, arg: string): string[] | undefined {
  if (values === null || values === undefined) return undefined;
  if (values.length > 1000) throw badUserInput(arg, 'at most 1000 namespaces');
  return values.map((v, i) => checkNamespace(v, `${arg}[${i}]`));
}

const WORD = /^[A-Za-z0-9_./-]{1,64}$/;

/** Verdicts, drop reasons, protocols: short words. */
export function checkWords(values: readonly string[] | null | undefined, arg: string, upper = true): string[] | undefined {
  if (values === null || values === undefined) return undefined;
  if (values.length > 100) throw badUserInput(arg, 'at most 100 values');
  return values.map((v, i) => {
    if (!WORD.test(v)) throw badUserInput(`${arg}[${i}]`, `"${truncate(v)}" is not a valid value`);
    return upper ? v.toUpperCase() : v;
  });
}

export function checkWord(value: string | null | undefined, arg: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (!WORD.test(value)) throw badUserInput(arg, `"${truncate(value)}" is not a valid value`);
  return value;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** An ISO-8601 instant with an offset, returned normalized to UTC. */
export function checkInstant(value: string | null | undefined, arg: string): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (!ISO_INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    throw badUserInput(arg, `"${truncate(value)}" is not an ISO-8601 date-time with offset, e.g. 2026-01-31T12:00:00Z`);
  }
  return new Date(Date.parse(value)).toISOString();
}

export function checkSelector(value: string | null | undefined, arg: string): LabelRequirement[] | undefined {
  if (value === null || value === undefined) return undefined;
  try {
    return parseLabelSelector(value);
  } catch (err) {
    if (err instanceof LabelSelectorError) throw badUserInput(arg, `malformed label selector: ${err.message}`);
    throw err;
  }
}

/** Opaque cursors: the offset of the item in the ordered result. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, arg: string): number {
  if (cursor === null || cursor === undefined) return 0;
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw badUserInput(arg, 'not a cursor returned by this API');
  return Number(m[1]) + 1;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
