import fs from 'node:fs';
import path from 'node:path';
import { checkFlow, hasBadChar } from '../../../src/flows/check-flow';
import type { JsonTree } from '../../helpers/json-tree';
import type { Flow } from '../../../src/flows/flow';
import { generateFlows } from '../../../src/generator/generate-flows';
import { parseFlowLine } from '../../../src/hubble/parse-flow-line';
import { decodeGetFlowsResponse, encodeGetFlowsResponse } from '../../../src/hubble/hubble-codec';
import { pod, tcp } from './flow-builders';

/** A plain, valid HTTP request flow to poison one field at a time. */
function httpFlow(): Flow {
  return {
    time: '2026-01-01T00:00:00.000Z',
    uuid: 'e5a0b4c2-0000-4000-8000-000000000001',
    verdict: 'FORWARDED',
    IP: { source: '10.0.0.1', destination: '10.0.0.2', ipVersion: 'IPv4' },
    l4: { TCP: { source_port: 40000, destination_port: 8080 } },
    source: pod('shop', 'web-1'),
    destination: pod('shop', 'api-1'),
    Type: 'L7',
    node_name: 'node-1',
    traffic_direction: 'EGRESS',
    l7: {
      type: 'REQUEST',
      http: { method: 'GET', url: 'http://api/', protocol: 'HTTP/1.1', headers: [{ key: 'X-Request-Id', value: 'r1' }] },
    },
  };
}

/** Applies `poison` to a fresh flow (as JSON would carry it: any type anywhere) and checks it. */
function check(poison: (f: Record<string, JsonTree>) => void) {
  const flow = httpFlow() as unknown as Record<string, JsonTree>;
  poison(flow);
  const dropped: Array<[string, unknown]> = [];
  const refused = checkFlow(flow as Flow, (field, value) => dropped.push([field, value]));
  return { flow, refused, dropped };
}

describe('checkFlow', () => {
  it('leaves every generated flow and every recorded capture untouched', () => {
    for (const { flow } of generateFlows({ pods: 30, edges: 120, flows: 1000, seed: 3 })) {
      const copy = JSON.parse(JSON.stringify(flow));
      const dropped: string[] = [];
      expect(checkFlow(flow, (f) => dropped.push(f))).toBeUndefined();
      expect(dropped).toEqual([]);
      expect(flow).toEqual(copy);
    }
    const dir = path.resolve(__dirname, '../../../data/hubble');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        const parsed = parseFlowLine(line);
        if (!parsed.ok || parsed.event?.kind !== 'flow') continue;
        const dropped: string[] = [];
        expect(checkFlow(parsed.event.flow, (f) => dropped.push(f))).toBeUndefined();
        expect(dropped).toEqual([]);
      }
    }
  });

  it('refuses a 10,000-character pod name, naming the field and its length', () => {
    const { refused } = check((f) => (f.source.pod_name = 'p'.repeat(10_000)));
    expect(refused?.field).toBe('source.pod_name');
    expect(refused?.message).toMatch(/"source.pod_name" must be a name of at most 253 characters.*\(10000 characters\)/);
  });

  it('refuses an object where the pod name belongs', () => {
    expect(check((f) => (f.destination.pod_name = {})).refused?.message).toBe(
      '"destination.pod_name" must be a name of at most 253 characters without control characters, got {}',
    );
  });

  it('refuses an object where the verdict belongs, and keeps an unknown verdict number as its name', () => {
    expect(check((f) => (f.verdict = { x: 1 })).refused?.message).toBe('"verdict" must be a verdict name such as FORWARDED, got {"x":1}');
    const { flow, refused } = check((f) => (f.verdict = 12));
    expect(refused).toBeUndefined();
    expect(flow.verdict).toBe('12');
  });

  it('refuses a namespace with a slash, which would make two pods one', () => {
    expect(check((f) => (f.source.namespace = 'a/b')).refused?.field).toBe('source.namespace');
  });

  it('refuses control characters and NUL in ids and names', () => {
    expect(check((f) => (f.source.pod_name = 'web\u0000-1')).refused?.field).toBe('source.pod_name');
    expect(check((f) => (f.IP.destination = '10.0.0.2\n')).refused?.field).toBe('IP.destination');
  });

  it('refuses ports, ICMP types and identities out of range', () => {
    expect(check((f) => (f.l4.TCP.destination_port = 70000)).refused?.message).toBe(
      '"l4.TCP.destination_port" must be a port from 0 to 65535, got 70000',
    );
    expect(check((f) => (f.l4.TCP.source_port = '80')).refused?.field).toBe('l4.TCP.source_port');
    expect(check((f) => (f.l4 = { ICMPv4: { type: 300 } })).refused?.field).toBe('l4.ICMPv4.type');
    expect(check((f) => (f.source.identity = -1)).refused?.field).toBe('source.identity');
    expect(check((f) => (f.l4.TCP.flags = { SYN: 'yes' })).refused?.field).toBe('l4.TCP.flags.SYN');
  });

  it('drops a reserved: label with a control character (it would become an endpoint id), and keeps other labels as given', () => {
    const { flow, dropped } = check((f) => (f.source.labels = ['reserved:ho\u0000st', 'k8s:note=tab\there']));
    expect(flow.source.labels).toEqual(['k8s:note=tab\there']);
    expect(dropped.map(([field]) => field)).toEqual(['source.labels']);
  });

  it('refuses labels that are not a list, and drops the single labels that are not strings', () => {
    expect(check((f) => (f.source.labels = 'k8s:app=web')).refused?.field).toBe('source.labels');
    const { flow, refused, dropped } = check((f) => (f.source.labels = ['k8s:app=web', 5, { a: 1 }, 'x'.repeat(2000), 'k8s:tier=front']));
    expect(refused).toBeUndefined();
    expect(flow.source.labels).toEqual(['k8s:app=web', 'k8s:tier=front']);
    expect(dropped.map(([field]) => field)).toEqual(['source.labels', 'source.labels', 'source.labels']);
  });

  it('drops `http.protocol: 5` and counts the flow without it', () => {
    const { flow, refused, dropped } = check((f) => (f.l7.http.protocol = 5));
    expect(refused).toBeUndefined();
    expect(flow.l7.http.protocol).toBeUndefined();
    expect(dropped).toEqual([['l7.http.protocol', 5]]);
  });

  it('drops `dns.query: 12345` and a NUL inside an HTTP method', () => {
    const dns = check((f) => (f.l7 = { type: 'REQUEST', dns: { query: 12345, qtypes: ['A'] } }));
    expect(dns.refused).toBeUndefined();
    expect(dns.flow.l7.dns).toEqual({ qtypes: ['A'] });
    expect(dns.dropped).toEqual([['l7.dns.query', 12345]]);
    const method = check((f) => (f.l7.http.method = 'G\u0000ET'));
    expect(method.flow.l7.http.method).toBeUndefined();
    expect(method.dropped.map(([field]) => field)).toEqual(['l7.http.method']);
  });

  it('drops an HTTP URL that is not a string, holds a control character or is longer than 2048 characters, and keeps the request', () => {
    for (const url of [42, '/users/\u0007', `/${'a'.repeat(2048)}`]) {
      const { flow, refused, dropped } = check((f) => (f.l7.http.url = url));
      expect(refused).toBeUndefined();
      expect(flow.l7.http.url).toBeUndefined();
      expect(flow.l7.http.method).toBeDefined();
      expect(dropped).toEqual([['l7.http.url', url]]);
    }
  });

  it('drops detail fields of the wrong type: node, direction, reply flags, drop reason, status code, headers', () => {
    const { flow, refused, dropped } = check((f) => {
      f.node_name = { n: 1 };
      f.traffic_direction = 'SIDEWAYS';
      f.is_reply = 'no';
      f.drop_reason_desc = 'bad reason';
      f.l7.http.code = 1e6;
      f.l7.http.headers = [
        { key: 'X-Request-Id', value: 7 },
        { key: 'a', value: 'b' },
      ];
      f.l7.latency_ns = -5;
      f.source.workloads = 'web';
    });
    expect(refused).toBeUndefined();
    expect(dropped.map(([field]) => field).sort()).toEqual(
      [
        'drop_reason_desc',
        'is_reply',
        'l7.http.code',
        'l7.http.headers',
        'l7.latency_ns',
        'node_name',
        'source.workloads',
        'traffic_direction',
      ].sort(),
    );
    expect(flow.l7.http.headers).toEqual([{ key: 'a', value: 'b' }]);
    expect(flow.node_name).toBeUndefined();
  });

  it('cleans each flow of a pod whose decoded endpoint is shared (frozen), and reports the drop once per flow', () => {
    const bad: Flow = {
      time: '2026-01-01T00:00:00Z',
      verdict: 'FORWARDED',
      source: {
        namespace: 'shop',
        pod_name: 'web-1',
        cluster_name: 'bad\u0000cluster',
        labels: ['reserved:ho\u0000st', 'k8s:app=web'],
        workloads: [{ name: 'web', kind: 'Deployment' }],
      },
    };
    const bytes = encodeGetFlowsResponse({ flow: bad });
    const decoded = [0, 1, 2].map(() => {
      const ev = decodeGetFlowsResponse(bytes);
      if (ev?.kind !== 'flow') throw new Error('expected a flow');
      return ev.flow;
    });
    // The decoder shares one frozen endpoint among the flows of the same bytes.
    expect(decoded[1]!.source).toBe(decoded[2]!.source);
    expect(Object.isFrozen(decoded[1]!.source)).toBe(true);
    for (const flow of decoded) {
      const dropped: string[] = [];
      expect(checkFlow(flow, (field) => dropped.push(field))).toBeUndefined();
      expect(dropped.sort()).toEqual(['source.cluster_name', 'source.labels']);
      expect(flow.source).toEqual({
        namespace: 'shop',
        pod_name: 'web-1',
        labels: ['k8s:app=web'],
        workloads: [{ name: 'web', kind: 'Deployment' }],
      });
    }
  });

  it('refuses a time that is not a string and a flow that is not an object', () => {
    expect(check((f) => (f.time = 12345)).refused?.field).toBe('time');
    expect(checkFlow([] as unknown as Flow)?.field).toBe('flow');
  });

  it('accepts an ordinary TCP flow built by the test helpers', () => {
    expect(checkFlow(tcp({ src: pod('a', 'x-1'), dst: pod('b', 'y-1'), sport: 40000, dport: 80 }))).toBeUndefined();
  });

  it('tells control characters and lone surrogates from ordinary text', () => {
    expect(hasBadChar('api-7d9f8c6b5-aaaaa')).toBe(false);
    expect(hasBadChar('naïve-日本-😀')).toBe(false);
    expect(hasBadChar('a\u0007b')).toBe(true);
    expect(hasBadChar('a\u007fb')).toBe(true);
    expect(hasBadChar('a\ud800b')).toBe(true);
    expect(hasBadChar('a\udc00')).toBe(true);
  });
});
