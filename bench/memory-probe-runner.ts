import path from 'node:path';
import { jsonLine, startNodeChild } from './child-process';

export interface MemoryProbeResult extends Record<string, unknown> {
  bytesPerEdge: number;
  bytesPerEdgeWithoutWindows: number;
  distinctEdges: number;
}

/** Runs bench/memory-probe.js in a process of its own with --expose-gc. */
export async function runMemoryProbe(o: {
  flows: number;
  edges: number;
  mix?: 'generated' | 'l4' | 'http' | 'dns';
}): Promise<MemoryProbeResult> {
  const { handle, value } = await startNodeChild(
    [
      '--expose-gc',
      '--max-old-space-size=6144',
      path.join(__dirname, 'memory-probe.js'),
      String(o.flows),
      String(o.edges),
      o.mix ?? 'generated',
    ],
    process.env,
    (line) => jsonLine<MemoryProbeResult>(line),
    300_000,
  );
  await handle.stop(5000);
  return value;
}

export interface WindowProbeResult extends Record<string, unknown> {
  entriesPerWindow: number;
  bytes: number;
  mib: number;
  bytesPerEntry: number;
}

/** Runs bench/window-probe.js (both pairing windows full) in a process of its own with --expose-gc. */
export async function runWindowProbe(entriesPerWindow: number): Promise<WindowProbeResult> {
  const { handle, value } = await startNodeChild(
    ['--expose-gc', path.join(__dirname, 'window-probe.js'), String(entriesPerWindow)],
    process.env,
    (line) => jsonLine<WindowProbeResult>(line),
    300_000,
  );
  await handle.stop(5000);
  return value;
}
