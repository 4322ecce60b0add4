import fs from 'node:fs';
import path from 'node:path';
import { createApiMetrics } from '../../src/api/api-metrics';
import { createCollectorMetrics } from '../../src/collector/collector-metrics';

const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

describe('build info in /metrics', () => {
  it("says which build and Node.js the collector and the API run, as hubble_graph_build_info's labels", async () => {
    const collector = await createCollectorMetrics().registry.metrics();
    const api = await createApiMetrics(() => ({})).registry.metrics();
    expect(collector).toContain(`hubble_graph_build_info{component="collector",version="${pkg.version}",nodejs="${process.version}"} 1`);
    expect(api).toContain(`hubble_graph_build_info{component="api",version="${pkg.version}",nodejs="${process.version}"} 1`);
  });
});
