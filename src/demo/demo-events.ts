import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import type { Flow, FlowEndpoint, FlowWorkload, HubbleEvent } from '../flows/flow';
import { formatFlowTime } from '../flows/flow-time';
import { generateFlows } from '../generator/generate-flows';
import { parseFlowLine } from '../hubble/parse-flow-line';
import { derivedUuid } from '../hubble/replay-recording';

/** Where the recorded demo flows are: data/hubble of the repository, the npm package and the image (/app/data/hubble). */
export const DEMO_FLOW_DIRS = [path.join(PROJECT_ROOT, 'data', 'hubble')];

/** Time between two flows of a recorded capture as the demo plays it, in ms. */
const RECORDED_SPACING_MS = 10;

export interface DemoStreamOptions {
  /** Time of the first demo flow (epoch ms): now, for a live demo. */
  readonly startMs: number;
  /** Mean flows per second of the generated cluster (it follows a daily rhythm around this). Default 500. */
  readonly flowsPerSecond?: number;
  /** Length of the generated cluster's story (rollouts, deploy, incident), in ms. Default 6 minutes. */
  readonly storyPeriodMs?: number;
  /** The recorded captures are played once every this many ms of flow time. Default 60 s. */
  readonly recordedEveryMs?: number;
}

// Kubernetes' alphabet for generated names (no vowels, no look-alikes).
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const DEPLOYMENT_POD = new RegExp(`^(.+)-${SAFE}{6,10}-${SAFE}{5}$`);
const DAEMONSET_POD = new RegExp(`^(.+)-${SAFE}{5}$`);
const STATEFULSET_POD = /^(.+)-\d+$/;

/**
 * The owner a current Cilium would report for a pod of a capture made before Hubble flows carried
 * `workloads` (pure): read from the name its controller gave it. `reviews-v1-545db77b95-s6jb8` is
 * of the Deployment `reviews-v1` (ReplicaSet `reviews-v1-545db77b95`), `node-local-dns-88zrp` of a
 * DaemonSet, `postgres-0` of a StatefulSet; undefined for a name no controller makes.
 */
export function toWorkloadFromPodName(podName: string): FlowWorkload | undefined {
  const deployment = DEPLOYMENT_POD.exec(podName);
  if (deployment) return { name: deployment[1], kind: 'Deployment' };
  const statefulSet = STATEFULSET_POD.exec(podName);
  if (statefulSet) return { name: statefulSet[1], kind: 'StatefulSet' };
  const daemonSet = DAEMONSET_POD.exec(podName);
  if (daemonSet) return { name: daemonSet[1], kind: 'DaemonSet' };
  return undefined;
}

function withWorkload(endpoint: FlowEndpoint | undefined): FlowEndpoint | undefined {
  if (!endpoint?.pod_name || endpoint.workloads?.length) return endpoint;
  const workload = toWorkloadFromPodName(endpoint.pod_name);
  return workload ? { ...endpoint, workloads: [workload] } : endpoint;
}

/** The recorded captures' flows, in file order, with the workloads a current Cilium would add. */
export function readRecordedDemoFlows(): Flow[] {
  const dir = DEMO_FLOW_DIRS.find((d) => fs.existsSync(d));
  if (!dir) return [];
  const flows: Flow[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const parsed = parseFlowLine(line);
      if (parsed.ok && parsed.event?.kind === 'flow') {
        const flow = parsed.event.flow;
        flows.push({ ...flow, source: withWorkload(flow.source), destination: withWorkload(flow.destination) });
      }
    }
  }
  return flows;
}

/**
 * Pass after pass of the recorded flows: the first at `startMs` (so that they are in the graph at
 * once), the next ones at multiples of `everyMs`.
 */
function* recordedPasses(flows: readonly Flow[], startMs: number, everyMs: number): Generator<{ timeMs: number; event: HubbleEvent }> {
  if (flows.length === 0) return;
  const spanMs = flows.length * RECORDED_SPACING_MS;
  const first = Math.floor(startMs / everyMs);
  const play = function* (pass: number, fromMs: number, uuidSalt: string) {
    for (const [i, recorded] of flows.entries()) {
      const timeMs = fromMs + i * RECORDED_SPACING_MS;
      const flow: Flow = { ...recorded, time: formatFlowTime(timeMs), uuid: derivedUuid(i, pass, `${recorded.uuid ?? ''}${uuidSalt}`) };
      yield { timeMs, event: { kind: 'flow', flow, nodeName: flow.node_name } as HubbleEvent };
    }
  };
  // The start's own pass has uuids of its own; later passes are functions of their moment, so a demo
  // started again resends the same flows (same uuids) for the same moments, as Hubble would.
  yield* play(first, startMs, `|${startMs}`);
  for (let pass = first + 1; ; pass++) {
    if (pass * everyMs < startMs + spanMs) continue;
    yield* play(pass, pass * everyMs, '');
  }
}

/**
 * The `npm start` demo as it happens, without end, in order of flow time: the generated cluster of
 * the generator's `cluster` scenario (its traffic following a daily rhythm, rollouts, an incident
 * and a deploy every story period) and, once a minute, the recorded real captures (bookinfo,
 * kube-system, DNS, ICMP) with their pods' workloads. Flow times start at `startMs`, so served as
 * their time comes they track the wall clock.
 */
export function* buildDemoStream(options: DemoStreamOptions): Generator<HubbleEvent> {
  const generated = generateFlows({
    scenario: 'cluster',
    flows: Infinity,
    flowsPerSecond: options.flowsPerSecond ?? 500,
    storyPeriodMs: options.storyPeriodMs,
    startTimeMs: options.startMs,
    // A new sequence each start, so that a restarted demo is not the same traffic again.
    seed: options.startMs % 1_000_000,
  })[Symbol.iterator]();
  const recorded = recordedPasses(readRecordedDemoFlows(), options.startMs, options.recordedEveryMs ?? 60_000);
  let g = generated.next();
  let r = recorded.next();
  let gMs = g.done ? Infinity : Date.parse(g.value.time);
  for (;;) {
    if (!r.done && r.value.timeMs <= gMs) {
      yield r.value.event;
      r = recorded.next();
    } else if (!g.done) {
      yield { kind: 'flow', flow: g.value.flow, nodeName: g.value.node_name };
      g = generated.next();
      gMs = g.done ? Infinity : Date.parse(g.value.time);
    } else if (r.done) {
      return;
    }
  }
}
