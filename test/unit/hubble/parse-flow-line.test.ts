import fs from 'node:fs';
import path from 'node:path';
import { parseFlowLine } from '../../../src/hubble/parse-flow-line';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble');
const firstLine = (file: string) => fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n')[0]!;

describe('parseFlowLine', () => {
  it('reads a GetFlowsResponse line of `hubble observe -o jsonpb`', () => {
    const line = firstLine('basic-sample-10-flows.json');
    const json = JSON.parse(line);
    expect(parseFlowLine(line)).toEqual({ ok: true, event: { kind: 'flow', flow: json.flow, nodeName: json.node_name } });
  });

  it('reads every fixture line as a flow', () => {
    for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) {
      for (const line of fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').filter(Boolean)) {
        const parsed = parseFlowLine(line);
        expect(parsed.ok && parsed.event?.kind).toBe('flow');
      }
    }
  });

  it('reads a Hubble exporter ExportEvent line', () => {
    const line = JSON.stringify({
      flow: { time: '2024-01-01T00:00:00Z', verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' },
      node_name: 'kind-worker',
      time: '2024-01-01T00:00:00Z',
    });
    expect(parseFlowLine(line)).toEqual({
      ok: true,
      event: {
        kind: 'flow',
        flow: { time: '2024-01-01T00:00:00Z', verdict: 'DROPPED', drop_reason_desc: 'POLICY_DENIED' },
        nodeName: 'kind-worker',
      },
    });
  });

  it('reads a bare Flow line (legacy -o json) and takes the node name from the flow', () => {
    const flow = JSON.parse(firstLine('basic-sample-5-dns-flows.json')).flow;
    expect(parseFlowLine(JSON.stringify(flow))).toEqual({ ok: true, event: { kind: 'flow', flow, nodeName: flow.node_name } });
  });

  it('normalizes lowerCamelCase field names of protojson without UseProtoNames', () => {
    const line = JSON.stringify({
      flow: {
        verdict: 'FORWARDED',
        isReply: true,
        trafficDirection: 'INGRESS',
        source: { podName: 'a', namespace: 'x' },
        IP: { ipVersion: 'IPv4' },
        l4: { TCP: { sourcePort: 1, destinationPort: 80 } },
        eventType: { type: 4, subType: 3 },
      },
      nodeName: 'n1',
    });
    expect(parseFlowLine(line)).toEqual({
      ok: true,
      event: {
        kind: 'flow',
        nodeName: 'n1',
        flow: {
          verdict: 'FORWARDED',
          is_reply: true,
          traffic_direction: 'INGRESS',
          source: { pod_name: 'a', namespace: 'x' },
          IP: { ipVersion: 'IPv4' },
          l4: { TCP: { source_port: 1, destination_port: 80 } },
          event_type: { type: 4, sub_type: 3 },
        },
      },
    });
  });

  it('turns enum numbers, {seconds, nanos} times and BoolValue objects into the Flow shape', () => {
    const line = JSON.stringify({
      time: { seconds: 1700000000, nanos: 5000000 },
      verdict: 2,
      Type: 1,
      traffic_direction: 2,
      is_reply: { value: true },
      l7: { type: 2, latency_ns: 42 },
    });
    expect(parseFlowLine(line)).toEqual({
      ok: true,
      event: {
        kind: 'flow',
        flow: {
          time: '2023-11-14T22:13:20.005Z',
          verdict: 'DROPPED',
          Type: 'L3_L4',
          traffic_direction: 'EGRESS',
          is_reply: true,
          l7: { type: 'RESPONSE', latency_ns: '42' },
        },
      },
    });
  });

  it('unwraps the oneofs of Go encoding/json output (l4.Protocol, l7.Record)', () => {
    const line = JSON.stringify({
      verdict: 1,
      l4: { Protocol: { TCP: { source_port: 1, destination_port: 80 } } },
      l7: { type: 1, Record: { Http: { method: 'GET' } } },
    });
    expect(parseFlowLine(line)).toEqual({
      ok: true,
      event: {
        kind: 'flow',
        flow: {
          verdict: 'FORWARDED',
          l4: { TCP: { source_port: 1, destination_port: 80 } },
          l7: { type: 'REQUEST', http: { method: 'GET' } },
        },
      },
    });
  });

  it('reads node_status and lost_events lines', () => {
    expect(parseFlowLine('{"node_status":{"state_change":"NODE_CONNECTED","node_names":["a"]},"time":"2024-01-01T00:00:00Z"}')).toEqual({
      ok: true,
      event: { kind: 'node_status', status: { state_change: 'NODE_CONNECTED', node_names: ['a'] }, time: '2024-01-01T00:00:00Z' },
    });
    expect(
      parseFlowLine('{"lostEvents":{"source":"PERF_EVENT_RING_BUFFER","numEventsLost":"7","cpu":{"value":2}},"nodeName":"n"}'),
    ).toEqual({
      ok: true,
      event: { kind: 'lost_events', lost: { source: 'PERF_EVENT_RING_BUFFER', num_events_lost: '7', cpu: 2 }, nodeName: 'n' },
    });
  });

  it('yields no event for blank lines and for agent or debug events', () => {
    expect(parseFlowLine('   ')).toEqual({ ok: true, event: null });
    expect(parseFlowLine('{"agent_event":{"type":"AGENT_STARTED"},"node_name":"n"}')).toEqual({ ok: true, event: null });
    expect(parseFlowLine('{"debugEvent":{"type":"DBG_GENERIC"}}')).toEqual({ ok: true, event: null });
  });

  it('says why a line is skipped', () => {
    expect(parseFlowLine('{"flow": {')).toMatchObject({ ok: false, reason: 'malformed_json' });
    expect(parseFlowLine('[1,2]')).toMatchObject({ ok: false, reason: 'not_a_flow', message: expect.stringContaining('array') });
    expect(parseFlowLine('42')).toMatchObject({ ok: false, reason: 'not_a_flow' });
    expect(parseFlowLine('{"hello":"world"}')).toMatchObject({
      ok: false,
      reason: 'not_a_flow',
      message: expect.stringContaining('hello'),
    });
    expect(parseFlowLine('{"flow":"nope"}')).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(parseFlowLine('{"flow":{"time":12}}')).toMatchObject({
      ok: false,
      reason: 'invalid_field',
      message: expect.stringContaining('flow.time'),
    });
    expect(parseFlowLine('{"flow":{"is_reply":"yes"}}')).toMatchObject({
      ok: false,
      reason: 'invalid_field',
      message: expect.stringContaining('is_reply'),
    });
  });
});
