import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  engines: { node: string };
  scripts: Record<string, string>;
};
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('package.json', () => {
  it('has a main that exists once built (npm test builds before jest)', () => {
    expect(fs.existsSync(path.join(ROOT, pkg.main))).toBe(true);
  });

  it('locks only packages that accept the lowest Node it supports, so npm ci warns no EBADENGINE', () => {
    const lowest = semver.minVersion(pkg.engines.node)?.version ?? '';
    expect(lowest).toMatch(/^20\./);
    const refusing = Object.entries(lock.packages)
      .map(([where, info]) => ({ where, range: Array.isArray(info.engines) ? undefined : info.engines?.node }))
      .filter((p): p is { where: string; range: string } => p.range !== undefined && !semver.satisfies(lowest, p.range))
      .map((p) => `${p.where} wants node ${p.range}`);
    expect(refusing).toEqual([]);
  });

  it('runs the tests also on the Node LTS that the Docker image is built on', () => {
    expect(pkg.scripts.test).toMatch(/&& npm run test:lts$/);
    const lts = /npx -y node@(\d+)\.(\d+)\.\d+ /.exec(pkg.scripts['test:lts']!);
    expect(lts).not.toBeNull();
    const dockerfile = fs.readFileSync(path.join(ROOT, 'docker', 'Dockerfile'), 'utf8');
    const images = [...dockerfile.matchAll(/^FROM node:(\d+)\.(\d+)-/gm)].map((m) => `${m[1]}.${m[2]}`);
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toBe(`${lts?.[1]}.${lts?.[2]}`);
    expect(Number(lts?.[1]) % 2).toBe(0); // even majors become LTS
    expect(Number(lts?.[1])).toBeGreaterThanOrEqual(22);
  });
});
