import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startApiServer } from '../src/api/start-api-server';

/**
 * The GraphQL API as a process of its own for the benchmarks (the HTTP clients that measure it must
 * not share its event loop). Configured by the environment like `hubble-graph serve`; prints one
 * JSON line `{"url", "wsUrl"}` on stdout when listening; stops on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel, 'bench-api');
  const api = await startApiServer(config, log);
  process.stdout.write(`${JSON.stringify({ url: api.url, wsUrl: api.wsUrl, pid: process.pid })}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    api.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`bench api child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
