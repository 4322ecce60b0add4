import type { Flow, FlowEndpoint } from '../src/flows/flow';
import { formatTimestamp } from '../src/hubble/timestamps';

/**
 * Flows of a TCP port scan as Hubble reports one that policy denies: one pod sends SYNs from one
 * source port (as port scanners do) to every port of one target pod after another, each SYN seen
 * twice, at the scanner's egress and at the target's ingress. The decode part's `scan` mix: the
 * aggregator must take it at the rate of ordinary traffic (a walk per flow that grows with the
 * ports seen would show here).
 */
export function portScanFlows(count: number): Flow[] {
  const endpoint = (namespace: string, podName: string, identity: number): FlowEndpoint => ({
    identity,
    namespace,
    pod_name: podName,
    labels: [`k8s:app=${podName.split('-')[0]}`, `k8s:io.kubernetes.pod.namespace=${namespace}`],
  });
  const scanner = endpoint('tools', 'scanner-5d8f7c-q2w3e', 41001);
  const flows: Flow[] = [];
  const startS = Date.UTC(2026, 0, 1) / 1000;
  for (let i = 0; i < count; i++) {
    const probe = i >> 1;
    const port = 1 + (probe % 65_535);
    const target = Math.floor(probe / 65_535);
    const atTarget = (i & 1) === 1;
    flows.push({
      time: formatTimestamp(startS + Math.floor(probe / 1000), (probe % 1000) * 1_000_000),
      verdict: 'DROPPED',
      drop_reason: 133,
      drop_reason_desc: 'POLICY_DENIED',
      IP: { source: '10.0.1.7', destination: `10.0.2.${1 + (target % 250)}`, ipVersion: 'IPv4' },
      l4: { TCP: { source_port: 50_000, destination_port: port, flags: { SYN: true } } },
      source: scanner,
      destination: endpoint('shop', `target-${target}-7c9d-a1b2c`, 42000 + target),
      Type: 'L3_L4',
      node_name: atTarget ? 'node-b' : 'node-a',
      traffic_direction: atTarget ? 'INGRESS' : 'EGRESS',
      is_reply: false,
    });
  }
  return flows;
}
