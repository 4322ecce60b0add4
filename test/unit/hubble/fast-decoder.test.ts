import {
  decodeGetFlowsResponse,
  decodeGetFlowsResponseJson,
  encodeGetFlowsResponse,
  encodeHubbleEvent,
  hubbleTypes,
} from '../../../src/hubble/hubble-codec';
import { formatTimestamp } from '../../../src/hubble/timestamps';
import { generateFlows } from '../../../src/generator/generate-flows';
import type { Flow } from '../../../src/flows/flow';

/** protobufjs' own decode + toObject, brought to the jsonpb shape: the reference the fast decoder must equal. */
function referenceDecode(bytes: Uint8Array): unknown {
  const { GetFlowsResponse } = hubbleTypes();
  const o = GetFlowsResponse.toObject(GetFlowsResponse.decode(bytes), { enums: String, longs: String });
  const asText = (t: unknown) => {
    const { seconds, nanos } = t as { seconds: string; nanos?: number };
    return formatTimestamp(Number(seconds), nanos ?? 0);
  };
  if (o.time !== undefined) o.time = asText(o.time);
  const f = o.flow as Record<string, unknown> | undefined;
  if (f === undefined) return o;
  if (f.time !== undefined) f.time = asText(f.time);
  const isReply = f.is_reply as { value?: boolean } | undefined;
  if (isReply !== undefined) f.is_reply = isReply.value ?? false;
  return o;
}

function flowWithLabel(label: string, podName = 'web-1'): Flow {
  return {
    time: '2026-01-01T00:00:00.000000001Z',
    verdict: 'FORWARDED',
    source: { namespace: 'shop', pod_name: podName, labels: [label, 'k8s:app=web'] },
  };
}

function decodedLabels(flow: Flow): string[] | undefined {
  const ev = decodeGetFlowsResponse(encodeGetFlowsResponse({ flow }));
  return ev?.kind === 'flow' ? ev.flow.source?.labels : undefined;
}

describe('fast decoder', () => {
  it('decodes a generated mixed stream (L4, HTTP, DNS) exactly as protobufjs decode + toObject does, flow after flow', () => {
    let n = 0;
    for (const mix of ['realistic', 'http', 'dns'] as const) {
      for (const r of generateFlows({ pods: 60, edges: 300, flows: 1000, seed: 5, mix })) {
        const bytes = encodeHubbleEvent({ kind: 'flow', flow: r.flow });
        // toStrictEqual: a key set to undefined on one side only is a difference too.
        expect(decodeGetFlowsResponseJson(bytes)).toStrictEqual(referenceDecode(bytes));
        n++;
      }
    }
    expect(n).toBe(3000);
  });

  it('returns the second of two labels that share length, first byte and last eight bytes (the string table slot), not the first', () => {
    expect(decodedLabels(flowWithLabel('k8s:tier=alpha-00000000'))).toEqual(['k8s:tier=alpha-00000000', 'k8s:app=web']);
    expect(decodedLabels(flowWithLabel('k8s:tier=omega-00000000'))).toEqual(['k8s:tier=omega-00000000', 'k8s:app=web']);
    expect(decodedLabels(flowWithLabel('k8s:tier=alpha-00000000'))).toEqual(['k8s:tier=alpha-00000000', 'k8s:app=web']);
  });

  it('decodes non-ASCII labels the same every time they repeat', () => {
    for (let i = 0; i < 3; i++) {
      expect(decodedLabels(flowWithLabel('k8s:owner=José'))).toEqual(['k8s:owner=José', 'k8s:app=web']);
      expect(decodedLabels(flowWithLabel('k8s:owner=Jos\u00e9'.normalize('NFD')))).toEqual(['k8s:owner=Jose\u0301', 'k8s:app=web']);
    }
  });

  it('gives a decoded flow strings it may keep while the next flows are decoded, and shares the endpoint of a pod between flows only frozen', () => {
    const a = decodeGetFlowsResponse(encodeGetFlowsResponse({ flow: flowWithLabel('k8s:app=api', 'api-1') }));
    const b = decodeGetFlowsResponse(encodeGetFlowsResponse({ flow: flowWithLabel('k8s:app=api', 'api-1') }));
    if (a?.kind !== 'flow' || b?.kind !== 'flow') throw new Error('expected two flows');
    // The endpoint's bytes repeat: b's came from the memo. Changing it in place would change every
    // flow of the pod, so it throws; replacing it in one flow changes that flow alone.
    expect(() => a.flow.source!.labels!.push('k8s:changed=yes')).toThrow(TypeError);
    expect(() => {
      a.flow.source!.pod_name = 'changed';
    }).toThrow(TypeError);
    a.flow.source = { ...a.flow.source, labels: ['k8s:changed=yes'] };
    expect(b.flow.source).toEqual({ namespace: 'shop', pod_name: 'api-1', labels: ['k8s:app=api', 'k8s:app=web'] });
    const c = decodeGetFlowsResponse(encodeGetFlowsResponse({ flow: flowWithLabel('k8s:app=api', 'api-1') }));
    expect(c?.kind === 'flow' ? c.flow.source : undefined).toEqual({
      namespace: 'shop',
      pod_name: 'api-1',
      labels: ['k8s:app=api', 'k8s:app=web'],
    });
    // The flows themselves are each their own.
    expect(a.flow).not.toBe(b.flow);
  });

  it('decodes endpoints that differ in one byte anywhere as themselves, however often they alternate (memoised endpoints)', () => {
    // Same length, same ID and identity (the start the memo's slot is chosen by), one character of
    // the pod name or a label apart: many share a slot, and each must still decode as itself.
    const endpointFlow = (pod: string, label: string): Flow => ({
      time: '2026-01-01T00:00:00.000000001Z',
      verdict: 'FORWARDED',
      source: { ID: 7, identity: 20_000, namespace: 'shop', pod_name: pod, labels: [label, 'k8s:io.kubernetes.pod.namespace=shop'] },
    });
    const variants: Flow[] = [];
    for (let i = 0; i < 12; i++) variants.push(endpointFlow(`web-${'a'.repeat(i)}b${'a'.repeat(11 - i)}`, 'k8s:app=web-frontend-tier'));
    for (let i = 0; i < 16; i++) variants.push(endpointFlow('web-aaaaaaaaaaaa', `k8s:app=${'x'.repeat(i)}y${'x'.repeat(15 - i)}`));
    for (let round = 0; round < 3; round++) {
      for (const flow of variants) {
        const bytes = encodeGetFlowsResponse({ flow });
        expect(decodeGetFlowsResponseJson(bytes)).toStrictEqual(referenceDecode(bytes));
        // A plain Uint8Array (not a Node Buffer) reads through the same memo.
        expect(decodeGetFlowsResponseJson(new Uint8Array(bytes))).toStrictEqual(referenceDecode(bytes));
      }
    }
  });

  it('writes 64-bit latencies above 2^53 and up to 2^64-1 with every digit, and small ones as before', () => {
    for (const latency of ['1', '4294967296', '9007199254740991', '9007199254740993', '9223372036854775808', '18446744073709551615']) {
      const flow: Flow = { verdict: 'FORWARDED', l7: { type: 'RESPONSE', latency_ns: latency } };
      const ev = decodeGetFlowsResponse(encodeGetFlowsResponse({ flow }));
      expect(ev?.kind === 'flow' ? ev.flow.l7?.latency_ns : undefined).toBe(latency);
    }
  });

  it('reads timestamps before 1970 and far ahead to the same text as the reference decode', () => {
    for (const time of ['1969-12-31T23:59:59.500Z', '2026-01-01T00:00:00.123456789Z', '9999-12-31T23:59:59Z']) {
      const bytes = encodeGetFlowsResponse({ flow: { time, verdict: 'FORWARDED' } });
      expect(decodeGetFlowsResponseJson(bytes)).toEqual(referenceDecode(bytes));
      expect(decodeGetFlowsResponseJson(bytes).flow?.time).toBe(time);
    }
  });
});
