import { parseAllDocuments } from 'yaml';
import { InputError } from '../errors';
import { KNOWN_ENTITIES, NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_LABEL, parseCidr } from './match-peer';
import {
  type Direction,
  type DnsRuleMatch,
  type HttpRuleMatch,
  type IcmpMatch,
  type L4Match,
  type L7Rules,
  type LabelExpression,
  type LabelOperator,
  type LabelSelector,
  type NormalizedRule,
  type ParsedPolicy,
  type ParsedPolicySet,
  type PeerMatcher,
  type PolicyKind,
  type PolicyRef,
  type PolicyWarning,
  type PortMatch,
  type PortRule,
  toPolicyName,
} from './policy-model';

/** A policy document that cannot be used; the message names the source, document and field. */
export class PolicyDocumentError extends InputError {}

export interface ParsePolicyOptions {
  /** Names the input in messages and rule references (a file name). Default `input`. */
  source?: string;
  /** Namespace of namespaced policies whose metadata has none (kubectl would use its context's). Default `default`. */
  defaultNamespace?: string;
}

const API_VERSION: Readonly<Record<PolicyKind, string>> = {
  CiliumNetworkPolicy: 'cilium.io/v2',
  CiliumClusterwideNetworkPolicy: 'cilium.io/v2',
  NetworkPolicy: 'networking.k8s.io/v1',
};

type Json = unknown;
type JsonObject = Record<string, Json>;

/** Where in the input a parse is, for messages and warnings. */
class Where {
  constructor(
    readonly label: string,
    private readonly warnings: PolicyWarning[],
  ) {}

  fail(path: string, message: string): never {
    throw new PolicyDocumentError(`${this.label}${path ? ` ${path}` : ''}: ${message}`);
  }

  warn(path: string, message: string): void {
    this.warnings.push({ where: `${this.label} ${path}`, message });
  }
}

function describe(value: Json): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: Json, path: string, w: Where): JsonObject {
  if (!isObject(value)) w.fail(path, `expected a mapping, got ${describe(value)}`);
  return value;
}

/** A list field; absent or null is an empty list. */
function asList(value: Json, path: string, w: Where): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) w.fail(path, `expected a list, got ${describe(value)}`);
  return value;
}

function asString(value: Json, path: string, w: Where): string {
  if (typeof value !== 'string') w.fail(path, `expected a string, got ${describe(value)}`);
  return value;
}

function optionalString(value: Json, path: string, w: Where): string | null {
  return value === undefined || value === null ? null : asString(value, path, w);
}

/**
 * Rejects fields the kind does not have (a typo such as `fromEndpoint` would otherwise silently
 * widen or narrow a rule) and warns about fields that exist but are not modelled.
 */
function checkFields(
  obj: JsonObject,
  path: string,
  w: Where,
  known: readonly string[],
  unmodelled: Readonly<Record<string, string>> = {},
): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    // Own keys only: a field named `constructor` is a typo to reject, not Object's prototype.
    const why = Object.hasOwn(unmodelled, key) ? unmodelled[key] : undefined;
    if (why !== undefined) {
      w.warn(`${path}.${key}`, why);
      continue;
    }
    const expected = [...known, ...Object.keys(unmodelled)].sort().join(', ');
    w.fail(`${path}.${key}`, `unknown field (expected one of ${expected})`);
  }
}

/** Cilium's source prefixes that mean Kubernetes labels (`k8s:app` and `any:app` select `app`). */
function normalizeKey(key: string): string {
  if (key.startsWith('k8s:')) return key.slice(4);
  if (key.startsWith('any:')) return key.slice(4);
  return key;
}

const OPERATORS: readonly LabelOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function parseSelector(value: Json, path: string, w: Where): LabelSelector {
  const obj = value === null || value === undefined ? {} : asObject(value, path, w);
  checkFields(obj, path, w, ['matchLabels', 'matchExpressions']);
  const matchLabels: Record<string, string> = {};
  if (obj.matchLabels !== undefined && obj.matchLabels !== null) {
    const labels = asObject(obj.matchLabels, `${path}.matchLabels`, w);
    for (const [key, v] of Object.entries(labels)) {
      // An empty value is written `''` or left empty (`reserved:host:`), which YAML reads as null.
      matchLabels[normalizeKey(key)] = v === null ? '' : asString(v, `${path}.matchLabels.${key}`, w);
    }
  }
  const matchExpressions: LabelExpression[] = asList(obj.matchExpressions, `${path}.matchExpressions`, w).map((raw, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const e = asObject(raw, at, w);
    checkFields(e, at, w, ['key', 'operator', 'values']);
    const key = asString(e.key, `${at}.key`, w);
    const operator = asString(e.operator, `${at}.operator`, w);
    if (!OPERATORS.includes(operator as LabelOperator))
      w.fail(`${at}.operator`, `expected one of ${OPERATORS.join(', ')}, got ${describe(operator)}`);
    const values = asList(e.values, `${at}.values`, w).map((v, j) => asString(v, `${at}.values[${j}]`, w));
    const op = operator as LabelOperator;
    if ((op === 'In' || op === 'NotIn') && values.length === 0) w.fail(`${at}.values`, `${op} needs at least one value`);
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
      w.fail(`${at}.values`, `${op} takes no values, got ${describe(values)}`);
    return { key: normalizeKey(key), operator: op, values };
  });
  return { matchLabels, matchExpressions };
}

function selectorKeys(s: LabelSelector): string[] {
  return [...Object.keys(s.matchLabels), ...s.matchExpressions.map((e) => e.key)];
}

/**
 * Cilium's scoping of a `fromEndpoints`/`toEndpoints` selector (pkg/k8s/apis/cilium.io/utils):
 * a selector on reserved labels is kept as written; one that names no namespace is limited to the
 * policy's namespace (CiliumNetworkPolicy, unless it selects namespaces by their labels) or to pods
 * of any namespace (CiliumClusterwideNetworkPolicy).
 */
function scopeCiliumPeer(selector: LabelSelector, namespace: string | null): LabelSelector {
  const keys = selectorKeys(selector);
  if (keys.some((k) => k.startsWith('reserved:'))) return selector;
  if (keys.includes(POD_NAMESPACE_LABEL)) return selector;
  if (namespace === null) {
    return { ...selector, matchExpressions: [...selector.matchExpressions, { key: POD_NAMESPACE_LABEL, operator: 'Exists', values: [] }] };
  }
  if (keys.some((k) => k.startsWith(NAMESPACE_LABELS_PREFIX))) return selector;
  return { ...selector, matchLabels: { ...selector.matchLabels, [POD_NAMESPACE_LABEL]: namespace } };
}

/** The subject selector of a namespaced policy: always limited to its namespace. */
function inNamespace(selector: LabelSelector, namespace: string | null): LabelSelector {
  return namespace === null ? selector : { ...selector, matchLabels: { ...selector.matchLabels, [POD_NAMESPACE_LABEL]: namespace } };
}

function parsePortNumber(value: Json, path: string, w: Where): { port: number | null; named: string | null } {
  const text = typeof value === 'number' ? String(value) : asString(value, path, w);
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n > 65535) w.fail(path, `expected a port from 0 to 65535, got ${describe(value)}`);
    // Cilium: port 0 means every port.
    return { port: n === 0 ? null : n, named: null };
  }
  if (!/^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/i.test(text)) w.fail(path, `expected a port number or a port name, got ${describe(value)}`);
  w.warn(path, `named port "${text}" cannot be resolved without the pod spec: it matches no observed port`);
  return { port: null, named: text };
}

function parseEndPort(value: Json, port: number | null, path: string, w: Where): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535)
    w.fail(path, `expected a port from 0 to 65535, got ${describe(value)}`);
  if (port === null) w.fail(path, 'endPort needs a numeric port');
  if (value < port) w.fail(path, `endPort ${value} is below port ${port}`);
  return value;
}

function parseCiliumPort(raw: Json, path: string, w: Where): PortMatch {
  const obj = asObject(raw, path, w);
  checkFields(obj, path, w, ['port', 'endPort', 'protocol']);
  if (obj.port === undefined) w.fail(`${path}.port`, 'missing (Cilium requires a port; "0" means every port)');
  const { port, named } = parsePortNumber(obj.port, `${path}.port`, w);
  const protocol =
    obj.protocol === undefined || obj.protocol === null || obj.protocol === '' ? 'ANY' : asString(obj.protocol, `${path}.protocol`, w);
  if (!['TCP', 'UDP', 'SCTP', 'ANY'].includes(protocol)) {
    w.fail(
      `${path}.protocol`,
      `expected one of TCP, UDP, SCTP, ANY, got ${describe(protocol)}${/icmp/i.test(protocol) ? ' (ICMP is allowed with `icmps`)' : ''}`,
    );
  }
  return {
    protocol: protocol as PortMatch['protocol'],
    port,
    endPort: parseEndPort(obj.endPort, port, `${path}.endPort`, w),
    namedPort: named,
  };
}

function anchored(source: string, path: string, w: Where): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    // V8 names the wrapped pattern; the reason after its last colon is what the user needs.
    const reason = (err as Error).message.split(': ').pop() ?? '';
    return w.fail(path, `not a valid regular expression ${describe(source)}: ${reason}`);
  }
}

function parseHttpRule(raw: Json, path: string, w: Where): HttpRuleMatch {
  const obj = asObject(raw, path, w);
  checkFields(obj, path, w, ['method', 'path', 'host', 'headers', 'headerMatches']);
  const method = optionalString(obj.method, `${path}.method`, w);
  const pathSource = optionalString(obj.path, `${path}.path`, w);
  const unobserved: string[] = [];
  if (obj.host !== undefined && obj.host !== null) unobserved.push('host');
  if (asList(obj.headers, `${path}.headers`, w).length > 0) unobserved.push('headers');
  if (asList(obj.headerMatches, `${path}.headerMatches`, w).length > 0) unobserved.push('headerMatches');
  if (unobserved.length > 0) w.warn(path, `${unobserved.join(', ')} not observed by the graph: assumed to match`);
  return {
    method: method ? anchored(method, `${path}.method`, w) : null,
    path: pathSource ? anchored(pathSource, `${path}.path`, w) : null,
    pathSource: pathSource || null,
    unobserved,
  };
}

const DNS_NAME = /^([-a-zA-Z0-9_]+[.]?)+$/;
const DNS_PATTERN = /^([-a-zA-Z0-9_*]+[.]?)+$/;

function parseFqdnSelector(raw: Json, path: string, w: Where): DnsRuleMatch {
  const obj = asObject(raw, path, w);
  checkFields(obj, path, w, ['matchName', 'matchPattern']);
  const matchName = optionalString(obj.matchName, `${path}.matchName`, w);
  const matchPattern = optionalString(obj.matchPattern, `${path}.matchPattern`, w);
  if ((matchName === null) === (matchPattern === null)) w.fail(path, 'expected exactly one of matchName, matchPattern');
  if (matchName !== null && !DNS_NAME.test(matchName)) w.fail(`${path}.matchName`, `not a DNS name: ${describe(matchName)}`);
  if (matchPattern !== null && !DNS_PATTERN.test(matchPattern))
    w.fail(`${path}.matchPattern`, `only letters, digits, "-", "_", "." and "*" are allowed, got ${describe(matchPattern)}`);
  return { matchName, matchPattern };
}

function parseL7(raw: Json, path: string, w: Where): L7Rules | null {
  if (raw === undefined || raw === null) return null;
  const obj = asObject(raw, path, w);
  checkFields(obj, path, w, ['http', 'dns', 'kafka', 'l7proto', 'l7']);
  const present = ['http', 'dns', 'kafka', 'l7proto'].filter((k) => obj[k] !== undefined && obj[k] !== null);
  if (present.length > 1) w.fail(path, `expected one kind of L7 rule, got ${present.join(' and ')}`);
  let unmodelled: string | null = null;
  if (present[0] === 'kafka' || present[0] === 'l7proto') {
    unmodelled = present[0];
    w.warn(`${path}.${present[0]}`, `${present[0]} rules are not modelled: assumed to allow every request on these ports`);
  }
  return {
    http:
      obj.http === undefined || obj.http === null
        ? null
        : asList(obj.http, `${path}.http`, w).map((r, i) => parseHttpRule(r, `${path}.http[${i}]`, w)),
    dns:
      obj.dns === undefined || obj.dns === null
        ? null
        : asList(obj.dns, `${path}.dns`, w).map((r, i) => parseFqdnSelector(r, `${path}.dns[${i}]`, w)),
    unmodelled,
  };
}

const TLS_FIELDS: Readonly<Record<string, string>> = {
  serverNames: 'server names (SNI) are not observed: assumed to match',
  terminatingTLS: 'TLS interception is not modelled: ignored',
  originatingTLS: 'TLS interception is not modelled: ignored',
  listener: 'Envoy listeners are not modelled: ignored',
};

function parsePortRule(raw: Json, path: string, w: Where, deny: boolean): PortRule {
  const obj = asObject(raw, path, w);
  checkFields(obj, path, w, deny ? ['ports'] : ['ports', 'rules'], deny ? {} : TLS_FIELDS);
  const ports = asList(obj.ports, `${path}.ports`, w).map((p, i) => parseCiliumPort(p, `${path}.ports[${i}]`, w));
  return { ports, l7: deny ? null : parseL7(obj.rules, `${path}.rules`, w) };
}

function parseIcmps(raw: Json, path: string, w: Where): IcmpMatch[] {
  const out: IcmpMatch[] = [];
  asList(raw, path, w).forEach((entry, i) => {
    const at = `${path}[${i}]`;
    const obj = asObject(entry, at, w);
    checkFields(obj, at, w, ['fields']);
    asList(obj.fields, `${at}.fields`, w).forEach((f, j) => {
      const fat = `${at}.fields[${j}]`;
      const field = asObject(f, fat, w);
      checkFields(field, fat, w, ['family', 'type']);
      const family = field.family === undefined || field.family === null ? 'IPv4' : asString(field.family, `${fat}.family`, w);
      if (family !== 'IPv4' && family !== 'IPv6') w.fail(`${fat}.family`, `expected IPv4 or IPv6, got ${describe(family)}`);
      const type = field.type;
      if (typeof type !== 'number' && typeof type !== 'string')
        w.fail(`${fat}.type`, `expected an ICMP type number or name, got ${describe(type)}`);
      out.push({ family, type });
    });
  });
  return out;
}

const PEER_FIELDS: Readonly<Record<Direction, { endpoints: string; entities: string; cidr: string; cidrSet: string }>> = {
  ingress: { endpoints: 'fromEndpoints', entities: 'fromEntities', cidr: 'fromCIDR', cidrSet: 'fromCIDRSet' },
  egress: { endpoints: 'toEndpoints', entities: 'toEntities', cidr: 'toCIDR', cidrSet: 'toCIDRSet' },
};

const NO_PEER = 'is not modelled: treated as selecting no observed endpoint';
const UNMODELLED_PEERS: Readonly<Record<Direction, Readonly<Record<string, string>>>> = {
  ingress: {
    fromGroups: `fromGroups ${NO_PEER}`,
    fromNodes: `fromNodes ${NO_PEER}`,
    fromRequires: 'fromRequires (deprecated) is not modelled: ignored',
    authentication: 'mutual authentication is not modelled: assumed to succeed',
  },
  egress: {
    toServices: `toServices ${NO_PEER}`,
    toGroups: `toGroups ${NO_PEER}`,
    toNodes: `toNodes ${NO_PEER}`,
    toRequires: 'toRequires (deprecated) is not modelled: ignored',
    authentication: 'mutual authentication is not modelled: assumed to succeed',
  },
};

function parseCidrText(value: Json, path: string, w: Where): string {
  const text = asString(value, path, w);
  if (parseCidr(text) === null) w.fail(path, `not a CIDR: ${describe(text)}`);
  return text;
}

interface RuleContext {
  readonly policy: PolicyRef;
  /** Namespace of a namespaced policy, null for a clusterwide one. */
  readonly namespace: string | null;
  readonly w: Where;
}

function parseCiliumRule(raw: Json, path: string, direction: Direction, action: 'allow' | 'deny', ctx: RuleContext): NormalizedRule {
  const w: Where = ctx.w;
  const obj = asObject(raw, path, w);
  const f = PEER_FIELDS[direction];
  const known = [f.endpoints, f.entities, f.cidr, f.cidrSet, 'toPorts', 'icmps'];
  if (direction === 'egress' && action === 'allow') known.push('toFQDNs');
  checkFields(obj, path, w, known, UNMODELLED_PEERS[direction]);
  const peers: PeerMatcher[] = [];
  let hasL3 = false;
  for (const [i, s] of asList(obj[f.endpoints], `${path}.${f.endpoints}`, w).entries()) {
    hasL3 = true;
    peers.push({ type: 'endpoints', selector: scopeCiliumPeer(parseSelector(s, `${path}.${f.endpoints}[${i}]`, w), ctx.namespace) });
  }
  const entities = asList(obj[f.entities], `${path}.${f.entities}`, w).map((e, i) => {
    const name = asString(e, `${path}.${f.entities}[${i}]`, w);
    if (!KNOWN_ENTITIES.includes(name))
      w.fail(`${path}.${f.entities}[${i}]`, `unknown entity ${describe(name)} (expected one of ${KNOWN_ENTITIES.join(', ')})`);
    return name;
  });
  if (entities.length > 0) {
    hasL3 = true;
    peers.push({ type: 'entities', entities });
  }
  for (const [i, c] of asList(obj[f.cidr], `${path}.${f.cidr}`, w).entries()) {
    hasL3 = true;
    peers.push({ type: 'cidr', cidr: parseCidrText(c, `${path}.${f.cidr}[${i}]`, w), except: [] });
  }
  for (const [i, c] of asList(obj[f.cidrSet], `${path}.${f.cidrSet}`, w).entries()) {
    hasL3 = true;
    const at = `${path}.${f.cidrSet}[${i}]`;
    const set = asObject(c, at, w);
    checkFields(set, at, w, ['cidr', 'except'], {
      cidrGroupRef: `CIDR groups ${NO_PEER}`,
      cidrGroupSelector: `CIDR groups ${NO_PEER}`,
    });
    if (set.cidr === undefined) {
      peers.push({ type: 'unmodelled', field: at });
      continue;
    }
    const except = asList(set.except, `${at}.except`, w).map((x, j) => parseCidrText(x, `${at}.except[${j}]`, w));
    peers.push({ type: 'cidr', cidr: parseCidrText(set.cidr, `${at}.cidr`, w), except });
  }
  for (const [i, s] of asList(obj.toFQDNs, `${path}.toFQDNs`, w).entries()) {
    hasL3 = true;
    const sel = parseFqdnSelector(s, `${path}.toFQDNs[${i}]`, w);
    peers.push({ type: 'fqdn', matchName: sel.matchName, matchPattern: sel.matchPattern });
  }
  for (const key of ['toServices', 'toGroups', 'toNodes', 'fromGroups', 'fromNodes']) {
    if (key in UNMODELLED_PEERS[direction] && asList(obj[key], `${path}.${key}`, w).length > 0) {
      hasL3 = true;
      peers.push({ type: 'unmodelled', field: `${path}.${key}` });
    }
  }
  const portRules = asList(obj.toPorts, `${path}.toPorts`, w).map((p, i) =>
    parsePortRule(p, `${path}.toPorts[${i}]`, w, action === 'deny'),
  );
  const icmps = parseIcmps(obj.icmps, `${path}.icmps`, w);
  const hasL4 = portRules.length > 0 || icmps.length > 0;
  const l4: L4Match = hasL4 ? { portRules, icmps } : 'any';
  // Cilium: a rule without peers but with ports selects every peer; a rule with neither (`{}`) selects none.
  return { ref: { policy: ctx.policy, direction, action, path }, peers: hasL3 ? peers : hasL4 ? 'any' : [], l4 };
}

function ruleList(spec: JsonObject, key: string, path: string, w: Where): Json[] | null {
  return spec[key] === undefined || spec[key] === null ? null : asList(spec[key], `${path}.${key}`, w);
}

function parseCiliumSpec(raw: Json, path: string, ctx: RuleContext): ParsedPolicy {
  const w: Where = ctx.w;
  const spec = asObject(raw, path, w);
  checkFields(spec, path, w, [
    'endpointSelector',
    'nodeSelector',
    'ingress',
    'ingressDeny',
    'egress',
    'egressDeny',
    'enableDefaultDeny',
    'labels',
    'description',
    'log',
  ]);
  const rules: NormalizedRule[] = [];
  const lists: Array<[string, Direction, 'allow' | 'deny']> = [
    ['ingress', 'ingress', 'allow'],
    ['ingressDeny', 'ingress', 'deny'],
    ['egress', 'egress', 'allow'],
    ['egressDeny', 'egress', 'deny'],
  ];
  const has = { ingress: false, egress: false };
  for (const [key, direction, action] of lists) {
    const list = ruleList(spec, key, path, w);
    if (list === null) continue;
    if (list.length > 0) has[direction] = true;
    list.forEach((r, i) => rules.push(parseCiliumRule(r, `${path}.${key}[${i}]`, direction, action, ctx)));
  }
  const dd =
    spec.enableDefaultDeny === undefined || spec.enableDefaultDeny === null
      ? {}
      : asObject(spec.enableDefaultDeny, `${path}.enableDefaultDeny`, w);
  checkFields(dd, `${path}.enableDefaultDeny`, w, ['ingress', 'egress']);
  const flag = (d: Direction): boolean => {
    const v = dd[d];
    if (v === undefined || v === null) return has[d];
    if (typeof v !== 'boolean') w.fail(`${path}.enableDefaultDeny.${d}`, `expected true or false, got ${describe(v)}`);
    return v;
  };
  let subject: LabelSelector | null = null;
  const hasEndpointSelector = spec.endpointSelector !== undefined && spec.endpointSelector !== null;
  const hasNodeSelector = spec.nodeSelector !== undefined && spec.nodeSelector !== null;
  if (hasEndpointSelector === hasNodeSelector) w.fail(path, 'expected exactly one of endpointSelector, nodeSelector');
  if (hasEndpointSelector) subject = inNamespace(parseSelector(spec.endpointSelector, `${path}.endpointSelector`, w), ctx.namespace);
  else w.warn(`${path}.nodeSelector`, 'host policies (nodeSelector) are not modelled: this policy is ignored');
  return { ref: ctx.policy, subject, defaultDeny: { ingress: flag('ingress'), egress: flag('egress') }, rules };
}

function parseKubernetesPeer(raw: Json, path: string, namespace: string, w: Where): PeerMatcher {
  const obj = asObject(raw, path, w);
  checkFields(obj, path, w, ['podSelector', 'namespaceSelector', 'ipBlock']);
  const hasPod = obj.podSelector !== undefined && obj.podSelector !== null;
  const hasNs = obj.namespaceSelector !== undefined && obj.namespaceSelector !== null;
  if (obj.ipBlock !== undefined && obj.ipBlock !== null) {
    if (hasPod || hasNs) w.fail(path, 'ipBlock cannot be combined with podSelector or namespaceSelector');
    const block = asObject(obj.ipBlock, `${path}.ipBlock`, w);
    checkFields(block, `${path}.ipBlock`, w, ['cidr', 'except']);
    const except = asList(block.except, `${path}.ipBlock.except`, w).map((x, i) => parseCidrText(x, `${path}.ipBlock.except[${i}]`, w));
    return { type: 'cidr', cidr: parseCidrText(block.cidr, `${path}.ipBlock.cidr`, w), except };
  }
  if (!hasPod && !hasNs) w.fail(path, 'expected podSelector, namespaceSelector or ipBlock');
  return {
    type: 'k8s',
    podSelector: hasPod ? parseSelector(obj.podSelector, `${path}.podSelector`, w) : null,
    namespaceSelector: hasNs ? parseSelector(obj.namespaceSelector, `${path}.namespaceSelector`, w) : null,
    namespace,
  };
}

function parseKubernetesPort(raw: Json, path: string, w: Where): PortMatch {
  const obj = asObject(raw, path, w);
  checkFields(obj, path, w, ['protocol', 'port', 'endPort']);
  const protocol = obj.protocol === undefined || obj.protocol === null ? 'TCP' : asString(obj.protocol, `${path}.protocol`, w);
  if (!['TCP', 'UDP', 'SCTP'].includes(protocol)) w.fail(`${path}.protocol`, `expected one of TCP, UDP, SCTP, got ${describe(protocol)}`);
  const { port, named } =
    obj.port === undefined || obj.port === null ? { port: null, named: null } : parsePortNumber(obj.port, `${path}.port`, w);
  return {
    protocol: protocol as PortMatch['protocol'],
    port,
    endPort: parseEndPort(obj.endPort, port, `${path}.endPort`, w),
    namedPort: named,
  };
}

function parseKubernetesSpec(raw: Json, path: string, ctx: RuleContext & { namespace: string }): ParsedPolicy {
  const w: Where = ctx.w;
  const namespace = ctx.namespace;
  const spec = asObject(raw, path, w);
  checkFields(spec, path, w, ['podSelector', 'policyTypes', 'ingress', 'egress']);
  if (spec.podSelector === undefined) w.fail(`${path}.podSelector`, 'missing (use {} to select every pod of the namespace)');
  const subject = inNamespace(parseSelector(spec.podSelector, `${path}.podSelector`, w), namespace);
  const hasEgress = spec.egress !== undefined && spec.egress !== null;
  // Kubernetes: without policyTypes a policy affects ingress, and egress when it has an egress section.
  const types =
    spec.policyTypes === undefined || spec.policyTypes === null
      ? ['Ingress', ...(hasEgress ? ['Egress'] : [])]
      : asList(spec.policyTypes, `${path}.policyTypes`, w).map((t, i) => {
          const type = asString(t, `${path}.policyTypes[${i}]`, w);
          if (type !== 'Ingress' && type !== 'Egress')
            w.fail(`${path}.policyTypes[${i}]`, `expected Ingress or Egress, got ${describe(type)}`);
          return type;
        });
  const rules: NormalizedRule[] = [];
  for (const direction of ['ingress', 'egress'] as const) {
    const peerKey = direction === 'ingress' ? 'from' : 'to';
    const list = ruleList(spec, direction, path, w) ?? [];
    const applies = types.includes(direction === 'ingress' ? 'Ingress' : 'Egress');
    if (!applies && list.length > 0)
      w.warn(
        `${path}.${direction}`,
        `policyTypes does not include ${direction === 'ingress' ? 'Ingress' : 'Egress'}: these rules have no effect`,
      );
    list.forEach((r, i) => {
      const at = `${path}.${direction}[${i}]`;
      const obj = asObject(r, at, w);
      checkFields(obj, at, w, [peerKey, 'ports']);
      const peerList = asList(obj[peerKey], `${at}.${peerKey}`, w).map((p, j) =>
        parseKubernetesPeer(p, `${at}.${peerKey}[${j}]`, namespace, w),
      );
      const ports = asList(obj.ports, `${at}.ports`, w).map((p, j) => parseKubernetesPort(p, `${at}.ports[${j}]`, w));
      if (!applies) return;
      // Kubernetes: no peers means every peer, no ports means every port (and every protocol).
      rules.push({
        ref: { policy: ctx.policy, direction, action: 'allow', path: at },
        peers: peerList.length === 0 ? 'any' : peerList,
        l4: ports.length === 0 ? 'any' : { portRules: [{ ports, l7: null }], icmps: [] },
      });
    });
  }
  return { ref: ctx.policy, subject, defaultDeny: { ingress: types.includes('Ingress'), egress: types.includes('Egress') }, rules };
}

function parseObject(
  raw: Json,
  source: string,
  document: number,
  within: string,
  options: Required<ParsePolicyOptions>,
  out: ParsedPolicy[],
  warnings: PolicyWarning[],
): void {
  const base = `${source} document ${document}${within ? ` ${within}` : ''}`;
  const w0: Where = new Where(base, warnings);
  const obj = asObject(raw, '', w0);
  const kind = obj.kind;
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(obj.items)) {
    obj.items.forEach((item, i) => parseObject(item, source, document, `${within ? `${within}.` : ''}items[${i}]`, options, out, warnings));
    return;
  }
  if (kind !== 'CiliumNetworkPolicy' && kind !== 'CiliumClusterwideNetworkPolicy' && kind !== 'NetworkPolicy') {
    w0.fail(
      'kind',
      `${describe(kind)} is not a network policy (expected CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or a List of them)`,
    );
  }
  if (obj.apiVersion !== API_VERSION[kind])
    w0.fail('apiVersion', `expected ${API_VERSION[kind]} for ${kind}, got ${describe(obj.apiVersion)}`);
  const metadata = asObject(obj.metadata, 'metadata', w0);
  const name = asString(metadata.name, 'metadata.name', w0);
  const namespace =
    kind === 'CiliumClusterwideNetworkPolicy'
      ? null
      : (optionalString(metadata.namespace, 'metadata.namespace', w0) ?? options.defaultNamespace);
  const ref: PolicyRef = { kind, namespace, name, source, document, within };
  const w = new Where(`${base} (${toPolicyName(ref)})`, warnings);
  checkFields(obj, '', w, ['apiVersion', 'kind', 'metadata', 'spec', 'specs', 'status']);
  if (kind === 'NetworkPolicy') {
    out.push(parseKubernetesSpec(obj.spec, 'spec', { policy: ref, namespace: namespace as string, w }));
    return;
  }
  const ctx: RuleContext = { policy: ref, namespace, w };
  const hasSpec = obj.spec !== undefined && obj.spec !== null;
  const specs = asList(obj.specs, 'specs', w);
  if (!hasSpec && specs.length === 0) w.fail('spec', 'missing (a Cilium policy needs spec or specs)');
  if (hasSpec) out.push(parseCiliumSpec(obj.spec, 'spec', ctx));
  specs.forEach((s, i) => out.push(parseCiliumSpec(s, `specs[${i}]`, ctx)));
}

/**
 * Parses YAML with one or more policy documents (`---`-separated): CiliumNetworkPolicy,
 * CiliumClusterwideNetworkPolicy (cilium.io/v2), NetworkPolicy (networking.k8s.io/v1) and Lists of
 * them (`kubectl get -o yaml`). Empty documents are skipped. Throws PolicyDocumentError naming the
 * document and field for bad YAML, an unknown kind or field, or a value of the wrong shape; returns
 * warnings for constructs that exist but are not modelled (docs/network-policy.md).
 */
export function parsePolicyDocuments(text: string, options: ParsePolicyOptions = {}): ParsedPolicySet {
  const opts: Required<ParsePolicyOptions> = { source: options.source ?? 'input', defaultNamespace: options.defaultNamespace ?? 'default' };
  const policies: ParsedPolicy[] = [];
  const warnings: PolicyWarning[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const document = i + 1;
    if (!('errors' in doc)) throw new PolicyDocumentError(`${opts.source} document ${document}: not YAML`);
    const [e] = doc.errors;
    if (e !== undefined) {
      const line = e.linePos?.[0];
      throw new PolicyDocumentError(
        `${opts.source} document ${document}: invalid YAML${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${e.message.split('\n')[0]}`,
      );
    }
    const value: Json = doc.toJS();
    if (value === null || value === undefined) return;
    parseObject(value, opts.source, document, '', opts, policies, warnings);
  });
  return { policies, warnings };
}
