import fs from 'node:fs';
import path from 'node:path';
import { generateFlows } from '../../../src/generator/generate-flows';
import { startReplayServer } from '../../../src/hubble/replay-server';
import { startCli } from '../../helpers/cli';
import { storedFlowTotal, toEvents, waitFor } from '../../helpers/ground-truth';
import { resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };

/** What `collect` logs about its Hubble connection: each fact once per connection. */
describe('collect log', () => {
  it('logs "connected to Hubble" and each Hubble node status once per connection', async () => {
    const executor = testExecutor();
    await resetGraph(executor);
    const generated = generateFlows({ pods: 6, edges: 8, flows: 200, seed: 5 });
    const replay = await startReplayServer({ events: toEvents(generated), listen: '127.0.0.1:0' });
    const collector = startCli(
      ['collect'],
      testEnv({
        LOG_LEVEL: 'info',
        HUBBLE_SERVER: `127.0.0.1:${replay.port}`,
        HG_COLLECTOR_LISTEN: '127.0.0.1:0',
        HG_FLUSH_INTERVAL: '200ms',
        HG_COLLECTOR_ID: 'log-once',
      }),
    );
    try {
      await waitFor(
        'the flows stored',
        () => storedFlowTotal(executor),
        (n) => n >= generated.truth().flows,
        60_000,
      );
    } finally {
      collector.child.kill('SIGTERM');
      await collector.exited;
      await replay.stop();
      await executor.close();
    }
    const lines = collector
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; version?: string });
    const messages = lines.map((l) => l.msg);
    // The start line says which build runs.
    expect(lines.find((l) => l.msg === 'collector started')).toMatchObject({ version: pkg.version, collectorId: 'log-once' });
    expect(messages.filter((m) => m === 'GetFlows')).toHaveLength(1); // one connection
    expect(messages.filter((m) => m === 'connected to Hubble')).toHaveLength(1);
    expect(messages.filter((m) => m === 'Hubble node status')).toHaveLength(1);
  });
});
