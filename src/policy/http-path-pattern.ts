/**
 * HTTP paths as patterns: identifiers in a path (numbers, UUIDs, hashes, base64-like tokens) become
 * a wildcard segment, so that `/users/42/orders` and `/users/7/orders` are one pattern,
 * `/users/*\/orders`, which a policy can allow with one rule. `*` in a pattern always means "one
 * path segment"; a segment that itself contains `*` is collapsed too, so the mark is unambiguous.
 */

/** The wildcard of a pattern: exactly one non-empty path segment (or the stem before an extension). */
export const PATH_WILDCARD = '*';

const SCHEME_AND_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;
const NUMBER = /^[+-]?\d+(?:\.\d+)?$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const LONG_HEX = /^[0-9a-f]{16,}$/i;
// Short hashes (a git short sha has 7 characters) need a digit and a letter, else words made of
// a-f only ("facade", "decade") would be taken for ids.
const SHORT_HEX = /^(?=[^0-9]*[0-9])(?=[^a-f]*[a-f])[0-9a-f]{7,}$/i;
const TOKEN = /^[A-Za-z0-9_\-+=~.]{16,}$/;
const EXTENSION = /^(.+)(\.[A-Za-z][A-Za-z0-9]{0,4})$/;
const MIN_TOKEN_DIGIT_SHARE = 0.25;

/**
 * Whether a long token looks generated (base64, nanoid, ULID, JWT parts) rather than written: it
 * has a digit and a letter, and either mixes upper and lower case or is at least a quarter digits.
 * Slugs (`release-notes-2024-edition`) stay: one case and few digits.
 */
function isToken(segment: string): boolean {
  if (!TOKEN.test(segment)) return false;
  let digits = 0;
  let lower = false;
  let upper = false;
  for (const ch of segment) {
    if (ch >= '0' && ch <= '9') digits += 1;
    else if (ch >= 'a' && ch <= 'z') lower = true;
    else if (ch >= 'A' && ch <= 'Z') upper = true;
  }
  if (digits === 0 || (!lower && !upper)) return false;
  return (lower && upper) || digits / segment.length >= MIN_TOKEN_DIGIT_SHARE;
}

function isIdentifier(segment: string): boolean {
  return NUMBER.test(segment) || UUID.test(segment) || LONG_HEX.test(segment) || SHORT_HEX.test(segment) || isToken(segment);
}

/** One path segment as a pattern segment: an identifier (with or without a file extension) becomes `*`. */
function toSegmentPattern(segment: string): string {
  if (segment === '') return segment;
  if (segment.includes(PATH_WILDCARD)) return PATH_WILDCARD;
  // The extension first: `0a1b2c3d4e5f6a7b.png` is an id with a file type, not one long token.
  const [, stem, extension] = EXTENSION.exec(segment) ?? [];
  if (stem !== undefined && extension !== undefined && isIdentifier(stem)) return PATH_WILDCARD + extension;
  return isIdentifier(segment) ? PATH_WILDCARD : segment;
}

/**
 * The pattern of an observed HTTP URL or path: scheme, host, query string and fragment dropped,
 * identifier segments replaced by `*` (`http://pay:8443/v1/charges/3fa85f64-5717-4562-b3fc-2c963f66afa6?x=1`
 * -> `/v1/charges/*`; `/img/0a1b2c3d4e5f6a7b.png` -> `/img/*.png`). Empty paths become `/`.
 */
export function toHttpPathPattern(url: string): string {
  let path = url.trim().replace(SCHEME_AND_AUTHORITY, '');
  const cut = path.search(/[?#]/);
  if (cut >= 0) path = path.slice(0, cut);
  if (path === '') return '/';
  if (!path.startsWith('/')) path = `/${path}`;
  return path.split('/').map(toSegmentPattern).join('/');
}

const REGEX_SPECIAL = /[\\^$.|?+()[\]{}]/g;

/**
 * A pattern as the regular expression of Cilium's HTTP `path` field (Envoy matches it against the
 * whole path, RE2 syntax): literal characters escaped, `*` -> `[^/]+`.
 */
export function toHttpPathRegex(pattern: string): string {
  return pattern
    .split(PATH_WILDCARD)
    .map((part) => part.replace(REGEX_SPECIAL, '\\$&'))
    .join('[^/]+');
}

/**
 * Identifiers that stand in for a wildcard when a hand-written path regex is tested against an
 * observed pattern: the regex allows the pattern when it allows the pattern with each of these in
 * every wildcard (a number, a UUID, a sha1, a base64 token).
 */
export const PATH_WILDCARD_SAMPLES: readonly string[] = [
  '7',
  '1024',
  '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
  'dGhpc0lzQW5JZDEyMzQ1Ng',
];

/** Concrete paths that a pattern stands for (the pattern itself when it has no wildcard). */
export function toPathSamples(pattern: string): string[] {
  if (!pattern.includes(PATH_WILDCARD)) return [pattern];
  return PATH_WILDCARD_SAMPLES.map((sample) => pattern.split(PATH_WILDCARD).join(sample));
}
