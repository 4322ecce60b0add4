import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import {
  decodeGetFlowsRequest,
  decodeGetFlowsResponse,
  decodeGetFlowsResponseJson,
  decodeServerStatus,
  encodeGetFlowsRequest,
  encodeGetFlowsResponse,
  encodeServerStatus,
  hubbleTypes,
} from '../../../src/hubble/hubble-codec';
import { formatTimestamp, nanosToTimestamp, parseTimestamp, timestampToNanos } from '../../../src/hubble/timestamps';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble');
const fixtureFiles = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));

function fixtureLines(file: string): string[] {
  return fs
    .readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

describe('hubble codec', () => {
  it.each(fixtureFiles)('round-trips every line of %s: JSON -> protobuf -> JSON is unchanged', (file) => {
    const lines = fixtureLines(file);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const json = JSON.parse(line);
      expect(decodeGetFlowsResponseJson(encodeGetFlowsResponse(json))).toEqual(json);
    }
  });

  it('decodes a GetFlowsResponse into a flow event with the node name', () => {
    const json = JSON.parse(fixtureLines('basic-sample-5-http-flows.json')[1]!);
    const event = decodeGetFlowsResponse(encodeGetFlowsResponse(json));
    expect(event).toEqual({ kind: 'flow', flow: json.flow, nodeName: json.node_name });
  });

  it('keeps is_reply: false apart from an absent is_reply (google.protobuf.BoolValue)', () => {
    const withFalse = decodeGetFlowsResponse(encodeGetFlowsResponse({ flow: { verdict: 'FORWARDED', is_reply: false } }));
    const without = decodeGetFlowsResponse(encodeGetFlowsResponse({ flow: { verdict: 'FORWARDED' } }));
    expect(withFalse).toEqual({ kind: 'flow', flow: { verdict: 'FORWARDED', is_reply: false } });
    expect(without).toEqual({ kind: 'flow', flow: { verdict: 'FORWARDED' } });
  });

  it('decodes node_status and lost_events responses', () => {
    const ns = decodeGetFlowsResponse(
      encodeGetFlowsResponse({
        node_status: { state_change: 'NODE_UNAVAILABLE', node_names: ['a', 'b'], message: 'gone' },
        time: '2024-05-06T07:08:09Z',
        node_name: 'relay',
      }),
    );
    expect(ns).toEqual({
      kind: 'node_status',
      status: { state_change: 'NODE_UNAVAILABLE', node_names: ['a', 'b'], message: 'gone' },
      time: '2024-05-06T07:08:09Z',
      nodeName: 'relay',
    });
    const lost = decodeGetFlowsResponse(
      encodeGetFlowsResponse({ lost_events: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '12345678901', cpu: 3 }, node_name: 'n1' }),
    );
    expect(lost).toEqual({
      kind: 'lost_events',
      lost: { source: 'HUBBLE_RING_BUFFER', num_events_lost: '12345678901', cpu: 3 },
      nodeName: 'n1',
    });
  });

  it('skips fields it does not know (newer Cilium) and still decodes the rest', () => {
    // A Flow with an extra field 21001 (length-delimited) and 150000 (varint) that our protos lack.
    const known = encodeGetFlowsResponse({ flow: { verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', node_name: 'n' } });
    const { Flow } = hubbleTypes();
    const w = protobuf.Writer.create();
    w.uint32((21001 << 3) | 2).string('unknown policy');
    w.uint32((150000 << 3) | 0).uint32(7);
    const flowBytes = Buffer.concat([
      Buffer.from(Flow.encode(Flow.fromObject({ verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED', node_name: 'n' })).finish()),
      Buffer.from(w.finish()),
    ]);
    const resp = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(flowBytes)
      .finish();
    expect(decodeGetFlowsResponse(resp)).toEqual(decodeGetFlowsResponse(known));
  });

  it('writes enum numbers it does not know as numbers', () => {
    const { Flow } = hubbleTypes();
    const flowBytes = Flow.encode(Flow.fromObject({ verdict: 99 })).finish();
    const resp = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(flowBytes)
      .finish();
    expect(decodeGetFlowsResponse(resp)).toEqual({ kind: 'flow', flow: { verdict: 99 } });
  });

  it('round-trips GetFlowsRequest with filters and times', () => {
    const req = {
      number: '20',
      follow: true,
      since: '2024-01-02T03:04:05.123456789Z',
      whitelist: [
        { source_pod: ['default/'], verdict: ['FORWARDED', 'DROPPED'], reply: [false], event_type: [{ type: 4, match_sub_type: true }] },
      ],
      blacklist: [{ source_label: ['reserved:health'] }],
    };
    expect(decodeGetFlowsRequest(encodeGetFlowsRequest(req))).toEqual(req);
  });

  it('round-trips ServerStatusResponse with its UInt32Value fields', () => {
    const status = {
      num_flows: '838',
      max_flows: '838',
      seen_flows: '900',
      uptime_ns: '5',
      num_connected_nodes: 2,
      num_unavailable_nodes: 0,
      version: 'x',
      flows_rate: 1.5,
    };
    expect(decodeServerStatus(encodeServerStatus(status))).toEqual(status);
  });
});

describe('timestamps', () => {
  it('formats 0, 3, 6 or 9 fractional digits as protojson does', () => {
    expect(formatTimestamp(1_700_000_000, 0)).toBe('2023-11-14T22:13:20Z');
    expect(formatTimestamp(1_700_000_000, 120_000_000)).toBe('2023-11-14T22:13:20.120Z');
    expect(formatTimestamp(1_700_000_000, 120_300_000)).toBe('2023-11-14T22:13:20.120300Z');
    expect(formatTimestamp(1_700_000_000, 120_300_001)).toBe('2023-11-14T22:13:20.120300001Z');
  });

  it('parses RFC 3339 with offsets and keeps nanoseconds exactly', () => {
    expect(parseTimestamp('2023-11-15T00:13:20.000000001+02:00')).toEqual({ seconds: 1_700_000_000, nanos: 1 });
    expect(timestampToNanos('2021-06-16T16:52:13.142581500Z')).toBe(1623862333142581500n);
    expect(nanosToTimestamp(1623862333142581500n)).toBe('2021-06-16T16:52:13.142581500Z');
    expect(() => parseTimestamp('yesterday')).toThrow(/RFC 3339/);
  });

  it('writes years outside 0000-9999 with expanded years that parse back, so that they can be refused by range', () => {
    const far = Date.UTC(275760, 8, 13) / 1000;
    expect(formatTimestamp(far, 0)).toBe('+275760-09-13T00:00:00Z');
    expect(parseTimestamp('+275760-09-13T00:00:00Z')).toEqual({ seconds: far, nanos: 0 });
    const early = Date.UTC(-1, 0, 1) / 1000;
    expect(formatTimestamp(early, 5_000_000)).toBe('-000001-01-01T00:00:00.005Z');
    expect(parseTimestamp('-000001-01-01T00:00:00.005Z')).toEqual({ seconds: early, nanos: 5_000_000 });
    // Beyond what a date can hold: a text that is no time at all.
    expect(formatTimestamp(1e15, 0)).toBe('invalid-time:1000000000000000s');
  });

  it('parses a time it has just formatted as it parses the same text later, and still refuses what is no time', () => {
    const times: Array<[number, number]> = [
      [1_700_000_000, 0],
      [1_700_000_000, 120_000_000],
      [1_700_000_001, 999_999_999],
      [-315_619_200, 1],
      [0, 500],
    ];
    for (const [seconds, nanos] of times) {
      const text = formatTimestamp(seconds, nanos);
      const right = parseTimestamp(text);
      formatTimestamp(1_600_000_000, 7);
      expect(right).toEqual({ seconds, nanos });
      expect(parseTimestamp(text)).toEqual(right);
      expect(timestampToNanos(formatTimestamp(seconds, nanos))).toBe(BigInt(seconds) * 1_000_000_000n + BigInt(nanos));
    }
    formatTimestamp(1_700_000_000, 0);
    expect(() => parseTimestamp('')).toThrow(/RFC 3339/);
    expect(() => parseTimestamp('2023-11-14T22:13:20')).toThrow(/RFC 3339/);
    expect(parseTimestamp('2023-11-14T22:13:20.5+01:00')).toEqual({ seconds: 1_700_000_000 - 3600, nanos: 500_000_000 });
  });
});
