import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import type { HubbleEvent } from '../flows/flow';
import { generateFlows } from '../flows/generate-flows';
import { parseFlowLine } from '../hubble/parse-flow-line';

/** Where the recorded demo flows are: the repository's fixtures, or /app/demo/hubble in the image. */
export const DEMO_FLOW_DIRS = [path.join(PROJECT_ROOT, 'test', 'fixtures', 'hubble'), path.join(PROJECT_ROOT, 'demo', 'hubble')];

export interface DemoEventsOptions {
  /** Time of the first demo flow (epoch ms). */
  readonly startMs: number;
  /** Generated pods, edges and flows beside the recorded ones. */
  readonly pods?: number;
  readonly edges?: number;
  readonly flows?: number;
}

function readRecorded(): HubbleEvent[] {
  const dir = DEMO_FLOW_DIRS.find((d) => fs.existsSync(d));
  if (!dir) return [];
  const events: HubbleEvent[] = [];
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      const parsed = parseFlowLine(line);
      if (parsed.ok && parsed.event?.kind === 'flow') events.push(parsed.event);
    }
  }
  return events;
}

/**
 * The demo recording of `npm start`: the real captured flows (bookinfo, DNS, ICMP; their times
 * moved to one after another, 10 ms apart, from `startMs`), then generated flows of a larger
 * cluster. One continuous timeline, so that the replay server can loop and retime it.
 */
export function buildDemoEvents(options: DemoEventsOptions): HubbleEvent[] {
  const recorded = readRecorded().map((event, i): HubbleEvent => {
    if (event.kind !== 'flow') return event;
    return { ...event, flow: { ...event.flow, time: new Date(options.startMs + i * 10).toISOString() } };
  });
  const generated = generateFlows({
    pods: options.pods ?? 60,
    edges: options.edges ?? 200,
    flows: options.flows ?? 20_000,
    seed: 1,
    startTimeMs: options.startMs + recorded.length * 10 + 1000,
  });
  const events: HubbleEvent[] = [...recorded];
  for (const r of generated) events.push({ kind: 'flow', flow: r.flow, nodeName: r.node_name });
  return events;
}
