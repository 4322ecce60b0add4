import path from 'node:path';
import type { BenchGraph } from './bench-graph';
import { type BenchChild, jsonLine, startNodeChild } from './child-process';

/** The GraphQL API the query and subscription benchmarks talk to. */
export interface ApiHandle {
  readonly url: string;
  readonly wsUrl: string;
  readonly mode: string;
  readonly child: BenchChild;
  close(): Promise<void>;
}

/**
 * Starts the API (src/api/start-api-server.ts) as a child process on a free port against the
 * benchmark Neo4j; undefined when this build has no API server.
 */
export async function startBenchApi(
  graph: BenchGraph,
  log: (msg: string) => void,
  extraEnv: Record<string, string> = {},
  /** Write a CPU profile of the API process (node --cpu-prof) to this directory when it stops. */
  cpuProfileDir?: string,
): Promise<ApiHandle | undefined> {
  const script = path.join(__dirname, 'api-child.js');
  const prof = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  try {
    const { handle, value } = await startNodeChild(
      [...prof, script],
      // NODE_ENV as bin/hubble-graph.js sets it for `serve`.
      {
        NODE_ENV: 'production',
        ...graph.childEnv,
        HG_API_PORT: '0',
        HG_API_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        HG_API_EXPLORER: 'false',
        HG_MIGRATE: 'false',
        ...extraEnv,
      },
      (line) => jsonLine<{ url: string; wsUrl: string }>(line),
    );
    log(`GraphQL API child pid ${handle.pid} at ${value.url}`);
    return { url: value.url, wsUrl: value.wsUrl, mode: 'child process', child: handle, close: () => handle.stop() };
  } catch (err) {
    log(`GraphQL API could not start: ${(err as Error).message.slice(0, 2000)}`);
    return undefined;
  }
}
