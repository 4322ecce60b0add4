import * as grpc from '@grpc/grpc-js';
import type { HubbleEvent } from '../src/flows/flow';
import { loadConfig } from '../src/config';
import { openGraph } from '../src/graph/open-graph';
import { decodeGetFlowsResponse, encodeGetFlowsRequest } from '../src/hubble/hubble-codec';
import { ObserverBytesClient } from '../src/hubble/observer-service';
import { startCollectorRuntime } from '../src/collector/start-collector-runtime';
import { startFlowPipeline } from '../src/collector/start-flow-pipeline';
import { createLogger } from '../src/logger';

/**
 * A collector process for the end-to-end benchmark while `hubble-graph collect` (and its gRPC client)
 * had not landed: the same collector runtime and flow pipeline (aggregator, flusher, writer, /metrics), fed by a
 * plain GetFlows(follow) stream decoded with the project's codec. Configured by the environment;
 * prints `{"metrics": url}` once streaming; final flush on SIGTERM.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'bench-collector');
  const graph = await openGraph(config, log, { startLocal: false, migrate: false });
  const runtime = await startCollectorRuntime({ config, log, executor: graph.executor, serveHealth: true });
  const pipeline = startFlowPipeline(runtime, { config, log, source: 'hubble' });
  const client = new ObserverBytesClient(config.hubble.server, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
  });
  const getFlows = client.GetFlows as (req: Buffer) => grpc.ClientReadableStream<Buffer>;
  const call = getFlows.call(client, Buffer.from(encodeGetFlowsRequest({ follow: true })));
  const abort = new AbortController();
  async function* events(): AsyncGenerator<HubbleEvent> {
    for await (const chunk of call as AsyncIterable<Buffer>) {
      const ev = decodeGetFlowsResponse(chunk);
      if (ev !== null) yield ev;
    }
  }
  process.stdout.write(`${JSON.stringify({ metrics: runtime.health?.url, pid: process.pid })}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    call.cancel();
    const flushed = await runtime.stop(60_000);
    client.close();
    await graph.close();
    process.exit(flushed ? 0 : 2);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  try {
    await pipeline.consume(events(), abort.signal);
  } catch (err) {
    if (!stopping) log.warn({ err: (err as Error).message }, 'GetFlows stream ended');
  }
}

main().catch((err) => {
  process.stderr.write(`bench collector child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
