/**
 * Kubernetes label selectors (`app=web,tier!=db`, `env in (a,b)`, `env notin (x)`, `key`, `!key`),
 * parsed into requirements that Cypher receives as a parameter list: the selector text never
 * reaches query text.
 */
export type LabelOperator = 'in' | 'notin' | 'exists' | 'notexists';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOperator;
  /** Empty for `exists`/`notexists`. */
  readonly values: readonly string[];
}

/** A selector that cannot be parsed; `message` says where and what was expected. */
export class LabelSelectorError extends Error {}

// Kubernetes label keys: optional DNS-subdomain prefix and a name of [A-Za-z0-9._-]; values the same
// characters (possibly empty). Cilium adds keys such as `io.cilium.k8s.policy.cluster`.
const KEY = /^(?:[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;
const VALUE = /^(?:[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;
const MAX_SELECTOR_LENGTH = 4096;

function checkKey(key: string, at: string): string {
  if (!KEY.test(key)) throw new LabelSelectorError(`${at}: "${key}" is not a valid label key`);
  return key;
}

function checkValue(value: string, at: string): string {
  if (!VALUE.test(value)) throw new LabelSelectorError(`${at}: "${value}" is not a valid label value`);
  return value;
}

/** Splits on commas that are not inside parentheses. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (depth < 0) throw new LabelSelectorError('unbalanced ")"');
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new LabelSelectorError('unbalanced "("');
  parts.push(current);
  return parts.map((p) => p.trim());
}

/**
 * Parses a label selector. An empty selector matches everything (no requirements). Throws
 * LabelSelectorError naming the offending requirement.
 */
export function parseLabelSelector(text: string): LabelRequirement[] {
  if (text.length > MAX_SELECTOR_LENGTH) throw new LabelSelectorError(`longer than ${MAX_SELECTOR_LENGTH} characters`);
  if (text.trim() === '') return [];
  return splitRequirements(text).map((part, i) => {
    const at = `requirement ${i + 1} ("${part}")`;
    if (part === '') throw new LabelSelectorError(`requirement ${i + 1} is empty`);
    const [, absent] = /^!\s*(\S+)$/.exec(part) ?? [];
    if (absent !== undefined) return { key: checkKey(absent, at), op: 'notexists', values: [] };
    const [, key, eq, value] = /^([^\s=!]+)\s*(==|=|!=)\s*(\S*)$/.exec(part) ?? [];
    if (key !== undefined && value !== undefined) {
      const checked = checkValue(value, at);
      return { key: checkKey(key, at), op: eq === '!=' ? 'notin' : 'in', values: [checked] };
    }
    const [, setKey, setOp, list] = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part) ?? [];
    if (setKey !== undefined && list !== undefined && (setOp === 'in' || setOp === 'notin')) {
      const values = list.split(',').map((v) => checkValue(v.trim(), at));
      if (list.trim() === '') throw new LabelSelectorError(`${at}: "${setOp}" needs at least one value`);
      return { key: checkKey(setKey, at), op: setOp, values };
    }
    if (/^\S+$/.test(part)) return { key: checkKey(part, at), op: 'exists', values: [] };
    throw new LabelSelectorError(`${at}: expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key`);
  });
}

/** Whether labels (`key=value` strings) satisfy every requirement; the same semantics as the Cypher predicate. */
export function matchesLabelSelector(labels: readonly string[], requirements: readonly LabelRequirement[]): boolean {
  const byKey = new Map<string, string>();
  for (const l of labels) {
    const eq = l.indexOf('=');
    if (eq > 0) byKey.set(l.slice(0, eq), l.slice(eq + 1));
    else byKey.set(l, '');
  }
  return requirements.every((r) => {
    const has = byKey.has(r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(byKey.get(r.key) as string);
      case 'notin':
        return !has || !r.values.includes(byKey.get(r.key) as string);
    }
  });
}
