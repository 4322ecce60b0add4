/**
 * Network policies as the impact check evaluates them: CiliumNetworkPolicy,
 * CiliumClusterwideNetworkPolicy and Kubernetes NetworkPolicy, each parsed into one normalized form
 * (src/policy/parse-policy-documents.ts) whose semantics docs/network-policy.md states.
 */

export type PolicyKind = 'CiliumNetworkPolicy' | 'CiliumClusterwideNetworkPolicy' | 'NetworkPolicy';

export type Direction = 'ingress' | 'egress';

export type LabelOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelExpression {
  /** Normalized key: Cilium's `k8s:` and `any:` source prefixes removed, other sources kept (`reserved:host`). */
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

/** A Kubernetes label selector with normalized keys; empty matches everything. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelExpression[];
}

/** Where a policy came from: the file, the document in it (1-based) and the item of a List. */
export interface PolicyRef {
  readonly kind: PolicyKind;
  /** Null for CiliumClusterwideNetworkPolicy. */
  readonly namespace: string | null;
  readonly name: string;
  /** File name or other label given to the parser. */
  readonly source: string;
  /** 1-based YAML document number in the source. */
  readonly document: number;
  /** `items[3]` for an item of a List, else ''. */
  readonly within: string;
}

/** One rule of a policy, named so that a person finds it in the YAML. */
export interface RuleRef {
  readonly policy: PolicyRef;
  readonly direction: Direction;
  readonly action: 'allow' | 'deny';
  /** Path of the rule in its document (or List item): `spec.ingress[2]`, `spec.egressDeny[0]`, `specs[1].egress[0]`. */
  readonly path: string;
}

/** Which peers a rule selects. */
export type PeerMatcher =
  /** Cilium `fromEndpoints`/`toEndpoints` (namespace already injected where Cilium injects it). */
  | { readonly type: 'endpoints'; readonly selector: LabelSelector }
  /** Cilium `fromEntities`/`toEntities`. */
  | { readonly type: 'entities'; readonly entities: readonly string[] }
  /** Cilium `fromCIDR`/`fromCIDRSet`/`toCIDR`/`toCIDRSet`, Kubernetes `ipBlock`. */
  | { readonly type: 'cidr'; readonly cidr: string; readonly except: readonly string[] }
  /** Cilium `toFQDNs`. */
  | { readonly type: 'fqdn'; readonly matchName: string | null; readonly matchPattern: string | null }
  /** Kubernetes `from`/`to` peer with podSelector and/or namespaceSelector. */
  | {
      readonly type: 'k8s';
      readonly podSelector: LabelSelector | null;
      readonly namespaceSelector: LabelSelector | null;
      /** The policy's namespace (a podSelector alone selects pods there). */
      readonly namespace: string;
    }
  /** A peer construct that is not modelled (`toServices`, `toGroups`, `toNodes`, ...): selects no observed endpoint. */
  | { readonly type: 'unmodelled'; readonly field: string };

export interface PortMatch {
  /** `ANY` matches TCP, UDP and SCTP. */
  readonly protocol: 'TCP' | 'UDP' | 'SCTP' | 'ANY';
  /** First port; null for every port. */
  readonly port: number | null;
  /** Last port of a range (`endPort`); null for a single port. */
  readonly endPort: number | null;
  /** A named port (`http`): cannot be resolved without the pod spec, matches no observed port. */
  readonly namedPort: string | null;
}

export interface HttpRuleMatch {
  /** Anchored regular expressions (Envoy matches the whole value); null for any. */
  readonly method: RegExp | null;
  readonly path: RegExp | null;
  /** The regex text as written (`path` field), to compare with generated patterns exactly. */
  readonly pathSource: string | null;
  /** Conditions on what the graph does not observe (`host`, `headers`, `headerMatches`): assumed to hold. */
  readonly unobserved: readonly string[];
}

export interface DnsRuleMatch {
  readonly matchName: string | null;
  readonly matchPattern: string | null;
}

/** The L7 part of a port rule. */
export interface L7Rules {
  readonly http: readonly HttpRuleMatch[] | null;
  readonly dns: readonly DnsRuleMatch[] | null;
  /** Kafka or a generic `l7proto` rule: not evaluated, assumed to allow. */
  readonly unmodelled: string | null;
}

/** One `toPorts` entry: ports (empty = every port of every protocol) and optional L7 rules. */
export interface PortRule {
  readonly ports: readonly PortMatch[];
  readonly l7: L7Rules | null;
}

export interface IcmpMatch {
  readonly family: 'IPv4' | 'IPv6';
  /** ICMP type number or Cilium's name for it (`EchoRequest`). */
  readonly type: number | string;
}

/**
 * Layer 4 of a rule: `any` (every port and protocol, ICMP included), or the listed port rules and
 * ICMP types (either may be empty: Cilium allows ICMP only through `icmps` once `toPorts` is set).
 */
export type L4Match = 'any' | { readonly portRules: readonly PortRule[]; readonly icmps: readonly IcmpMatch[] };

export interface NormalizedRule {
  readonly ref: RuleRef;
  /** `any` for every peer; an empty list selects nothing (Cilium's empty rule `{}`). */
  readonly peers: 'any' | readonly PeerMatcher[];
  readonly l4: L4Match;
}

/** One policy (one spec of a Cilium policy with `specs`), normalized. */
export interface ParsedPolicy {
  readonly ref: PolicyRef;
  /**
   * The pods the policy applies to: a selector over pod labels with the namespace already added
   * for namespaced kinds. Null for what the check cannot apply (a Cilium `nodeSelector` host policy).
   */
  readonly subject: LabelSelector | null;
  /** Whether the policy puts its subjects into default deny, per direction. */
  readonly defaultDeny: { readonly ingress: boolean; readonly egress: boolean };
  readonly rules: readonly NormalizedRule[];
}

/** Something in the input the check does not model; it says how it was treated. */
export interface PolicyWarning {
  /** `policies.yaml document 2 (CiliumNetworkPolicy shop/web) spec.egress[0].toServices`. */
  readonly where: string;
  readonly message: string;
}

export interface ParsedPolicySet {
  readonly policies: readonly ParsedPolicy[];
  readonly warnings: readonly PolicyWarning[];
}

/** `CiliumNetworkPolicy shop/web` or `CiliumClusterwideNetworkPolicy web`. */
export function toPolicyName(ref: Pick<PolicyRef, 'kind' | 'namespace' | 'name'>): string {
  return ref.namespace === null ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** Where a rule is: `CiliumNetworkPolicy shop/web spec.ingress[0] (policies.yaml document 2)`. */
export function toRuleName(rule: RuleRef): string {
  const within = rule.policy.within ? ` ${rule.policy.within}` : '';
  return `${toPolicyName(rule.policy)} ${rule.path} (${rule.policy.source} document ${rule.policy.document}${within})`;
}
