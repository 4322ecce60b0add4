import type { FilterConfig } from '../../../src/config';
import type { Flow } from '../../../src/flows/flow';
import { buildFlowFilterMatcher, toFlowFilters } from '../../../src/hubble/flow-filters';

const noFilter: FilterConfig = { namespaces: [], pods: [], verdicts: [], excludeNamespaces: [], excludeReserved: [] };

const web: Flow = {
  uuid: 'u-1',
  verdict: 'FORWARDED',
  IP: { source: '10.0.1.5', destination: '10.96.0.10', ipVersion: 'IPv4' },
  l4: { TCP: { source_port: 40000, destination_port: 80, flags: { SYN: true } } },
  source: {
    identity: 1234,
    namespace: 'shop',
    pod_name: 'web-7d9f',
    labels: ['k8s:app=web', 'k8s:tier=front'],
    workloads: [{ name: 'web', kind: 'Deployment' }],
  },
  destination: { identity: 2, labels: ['reserved:world'] },
  destination_names: ['api.example.com.'],
  traffic_direction: 'EGRESS',
  is_reply: false,
  event_type: { type: 4, sub_type: 3 },
  node_name: 'kind/kind-worker',
  l7: { type: 'RESPONSE', http: { code: 503, method: 'GET', url: 'http://api.example.com/v1/items?x=1' } },
};
const health: Flow = {
  verdict: 'DROPPED',
  source: { labels: ['reserved:health'] },
  destination: { namespace: 'kube-system', pod_name: 'coredns-1' },
  l4: { UDP: { source_port: 5353, destination_port: 53 } },
  l7: { dns: { query: 'kube-dns.kube-system.svc.cluster.local.' } },
};

const match = (filters: Parameters<typeof buildFlowFilterMatcher>[0], flow: Flow) => buildFlowFilterMatcher(filters)({ flow });

describe('toFlowFilters', () => {
  it('sends no filter when nothing is configured', () => {
    expect(toFlowFilters(noFilter)).toEqual({ whitelist: [], blacklist: [] });
  });

  it('turns namespaces and pods into source_pod / destination_pod whitelist filters, with verdicts in each', () => {
    expect(
      toFlowFilters({ ...noFilter, namespaces: ['shop'], pods: ['kube-system/coredns', 'tiefighter'], verdicts: ['dropped'] }),
    ).toEqual({
      whitelist: [
        { source_pod: ['shop/', 'kube-system/coredns', 'default/tiefighter'], verdict: ['DROPPED'] },
        { destination_pod: ['shop/', 'kube-system/coredns', 'default/tiefighter'], verdict: ['DROPPED'] },
      ],
      blacklist: [],
    });
    expect(toFlowFilters({ ...noFilter, verdicts: ['FORWARDED'] }).whitelist).toEqual([{ verdict: ['FORWARDED'] }]);
  });

  it('excludes namespaces and reserved identities with blacklist filters on both ends', () => {
    expect(
      toFlowFilters({ ...noFilter, excludeNamespaces: ['kube-system'], excludeReserved: ['health', 'reserved:host'] }).blacklist,
    ).toEqual([
      { source_pod: ['kube-system/'] },
      { destination_pod: ['kube-system/'] },
      { source_label: ['reserved:health', 'reserved:host'] },
      { destination_label: ['reserved:health', 'reserved:host'] },
    ]);
  });

  it('builds filters that do what they say on flows', () => {
    const f = toFlowFilters({ ...noFilter, namespaces: ['shop'], excludeReserved: ['health'] });
    expect(match(f, web)).toBe(true);
    expect(match(f, health)).toBe(false);
    const g = toFlowFilters({ ...noFilter, excludeNamespaces: ['kube-system'] });
    expect(match(g, web)).toBe(true);
    expect(match(g, health)).toBe(false);
  });
});

describe('buildFlowFilterMatcher', () => {
  it('passes everything without filters', () => {
    expect(match({}, web)).toBe(true);
  });

  it('ORs whitelist filters, ANDs fields within one, and subtracts the blacklist', () => {
    expect(match({ whitelist: [{ verdict: ['DROPPED'] }, { source_pod: ['shop/web'] }] }, web)).toBe(true);
    expect(match({ whitelist: [{ verdict: ['DROPPED'], source_pod: ['shop/web'] }] }, web)).toBe(false);
    expect(match({ whitelist: [{ source_pod: ['shop/'] }], blacklist: [{ destination_label: ['reserved:world'] }] }, web)).toBe(false);
  });

  it.each([
    [{ uuid: ['u-1'] }, true],
    [{ uuid: ['u-2'] }, false],
    [{ source_ip: ['10.0.1.5'] }, true],
    [{ source_ip: ['10.0.0.0/16'] }, true],
    [{ destination_ip: ['10.0.0.0/16'] }, false],
    [{ source_pod: ['shop/'] }, true],
    [{ source_pod: ['web'] }, false], // a bare prefix means "no namespace", as in Hubble
    [{ destination_pod: ['shop/'] }, false],
    [{ source_label: ['app=web'] }, true],
    [{ source_label: ['k8s:app=web,tier in (front,back)'] }, true],
    [{ source_label: ['app!=web'] }, false],
    [{ source_label: ['!app'] }, false],
    [{ destination_label: ['reserved:world'] }, true],
    [{ destination_fqdn: ['*.example.com'] }, true],
    [{ source_workload: [{ kind: 'Deployment' }] }, true],
    [{ traffic_direction: ['INGRESS'] }, false],
    [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 3 }] }, true],
    [{ event_type: [{ type: 4, match_sub_type: true, sub_type: 0 }] }, false],
    // Type 0 (unset) is any type, as in Hubble.
    [{ event_type: [{}] }, true],
    [{ event_type: [{ type: 0, match_sub_type: true, sub_type: 3 }] }, true],
    [{ event_type: [{ type: 1 }] }, false],
    [{ http_status_code: ['5+'] }, true],
    [{ http_status_code: ['404'] }, false],
    [{ http_method: ['get'] }, true],
    [{ http_path: ['^/v1/'] }, true],
    [{ protocol: ['TCP'] }, true],
    [{ protocol: ['udp'] }, false],
    [{ destination_port: ['80'] }, true],
    [{ source_port: ['80'] }, false],
    [{ reply: [false] }, true],
    [{ reply: [true] }, false],
    [{ source_identity: [1234] }, true],
    [{ tcp_flags: [{ SYN: true }] }, true],
    [{ tcp_flags: [{ SYN: true, ACK: true }] }, false],
    [{ node_name: ['kind-worker'] }, true],
    [{ node_name: ['kind/'] }, true],
    [{ node_name: ['kind-w*'] }, true],
    [{ node_name: ['other'] }, false],
    [{ ip_version: ['IPv6'] }, false],
  ])('whitelist %j matches the web flow: %s', (filter, expected) => {
    expect(match({ whitelist: [filter] }, web)).toBe(expected);
  });

  it('does not match reply filters on flows whose direction is unknown', () => {
    expect(match({ whitelist: [{ reply: [false] }] }, health)).toBe(false);
    // Nor event type filters, even of any type, on flows without an event type.
    expect(match({ whitelist: [{ event_type: [{}] }] }, { ...health, event_type: undefined })).toBe(false);
    expect(match({ whitelist: [{ dns_query: ['kube.*local'] }] }, health)).toBe(true);
  });

  it('rejects invalid filters with the field and value named', () => {
    expect(() => buildFlowFilterMatcher({ whitelist: [{ source_ip: ['nope'] }] })).toThrow(
      /^whitelist\[0\]: invalid source_ip filter "nope"/,
    );
    expect(() => buildFlowFilterMatcher({ whitelist: [{ dns_query: ['('] }] })).toThrow(/dns_query/);
    expect(() => buildFlowFilterMatcher({ whitelist: [{ http_status_code: ['5xx'] }] })).toThrow(/http_status_code/);
  });

  it('refuses what Hubble refuses: a CIDR without a valid prefix, an unknown protocol, a status code outside 100-599', () => {
    // "10.0.0.0/" used to read as /0 and match every IPv4 flow; /33 and /x threw a bare RangeError.
    for (const cidr of ['10.0.0.0/', '10.0.0.0/33', '10.0.0.0/x', 'fd00::/129', '10.0.0.0/8/1'])
      expect(() => buildFlowFilterMatcher({ blacklist: [{}, { destination_ip: [cidr] }] })).toThrow(
        new RegExp(`^blacklist\\[1\\]: invalid destination_ip filter "${cidr.replace(/[./]/g, '\\$&')}"`),
      );
    expect(match({ whitelist: [{ source_ip: ['0.0.0.0/0'] }] }, web)).toBe(true);
    expect(() => buildFlowFilterMatcher({ whitelist: [{ protocol: ['bogus'] }] })).toThrow(
      /invalid protocol filter "bogus": expected one of tcp, udp/,
    );
    for (const code of ['999', '99', '6+', '600'])
      expect(() => buildFlowFilterMatcher({ whitelist: [{ http_status_code: [code] }] })).toThrow(/from 100 to 599/);
    expect(match({ whitelist: [{ http_status_code: ['50+'] }] }, web)).toBe(true);
  });
});
