import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const root = path.resolve(__dirname, '..', '..');

/** Docker cannot run here; these checks cover what a user relies on in the files themselves. */
describe('docker/', () => {
  const compose = parse(fs.readFileSync(path.join(root, 'docker', 'compose.yaml'), 'utf8')) as {
    services: Record<
      string,
      { image?: string; healthcheck?: unknown; environment?: Record<string, string>; volumes?: string[]; command?: string[] }
    >;
    volumes: Record<string, unknown>;
  };

  it('runs the official Neo4j 5 image with a data volume, the collector and the API', () => {
    expect(compose.services.neo4j!.image).toMatch(/^neo4j:5\.\d+\.\d+/);
    expect(compose.services.neo4j!.volumes).toEqual(expect.arrayContaining([expect.stringMatching(/^neo4j-data:\/data$/)]));
    expect(Object.keys(compose.volumes)).toContain('neo4j-data');
    expect(compose.services.collector!.command).toEqual(['collect']);
    expect(compose.services.api!.command).toEqual(['serve']);
  });

  it('gives every service a health check and points the app at the neo4j service', () => {
    for (const name of ['neo4j', 'collector', 'api']) expect(compose.services[name]!.healthcheck).toBeDefined();
    expect(compose.services.collector!.environment?.NEO4J_URI).toBe('bolt://neo4j:7687');
    expect(compose.services.api!.environment?.NEO4J_URI).toBe('bolt://neo4j:7687');
  });

  it('builds the app in stages and runs it as a non-root user', () => {
    const dockerfile = fs.readFileSync(path.join(root, 'docker', 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/COPY --from=build/);
  });
});
