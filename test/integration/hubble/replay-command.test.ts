import path from 'node:path';
import { fetchServerStatus } from '../../../src/hubble/observer-client';
import { REPLAY_VERSION } from '../../../src/hubble/replay-server';
import { startCli } from '../../helpers/cli';

const FIXTURE = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble', 'basic-sample-400-udp-flows.json');

describe('hubble-graph replay', () => {
  it('serves the files, logs where, and stops cleanly on SIGTERM', async () => {
    const run = startCli(['replay', FIXTURE, '--listen', '127.0.0.1:0', '--rate', '1000'], { ...process.env, LOG_LEVEL: 'info' });
    try {
      const started = Date.now();
      let address: string | undefined;
      while (!address) {
        const m = /"address":"(127\.0\.0\.1:\d+)"[^\n]*replay server listening/.exec(run.output());
        if (m) address = m[1];
        else if (Date.now() - started > 20_000) throw new Error(`replay did not start:\n${run.output()}`);
        else await new Promise((r) => setTimeout(r, 50));
      }
      const status = await fetchServerStatus({ server: address, tls: false });
      expect(status).toMatchObject({ num_flows: '400', version: REPLAY_VERSION, flows_rate: 1000 });
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('replay server stopped');
  });
});
