import path from 'node:path';
import { PROMETHEUS_INSTALL_HINT, startPrometheus } from '../../helpers/prometheus';

/** The test helper that starts a real Prometheus: a missing executable is an error, never a hang. */
describe('startPrometheus', () => {
  it('fails at once naming the install command when the prometheus executable is missing', async () => {
    const missing = path.join(__dirname, 'no-such-dir', 'prometheus');
    await expect(startPrometheus({ targets: ['127.0.0.1:1'], executable: missing, startTimeoutMs: 60_000 })).rejects.toThrow(
      expect.objectContaining({ message: expect.stringMatching(/ENOENT/) }),
    );
    await expect(startPrometheus({ targets: ['127.0.0.1:1'], executable: missing })).rejects.toThrow(PROMETHEUS_INSTALL_HINT);
    // The jest timeout below (far under the 60 s start timeout) is what catches a stop() that waits for an exit.
  }, 15_000);
});
