import fs from 'node:fs';
import path from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { PROJECT_ROOT } from './config';

/** This build's version, from its package.json (`hubble-graph --version`, the build_info metric). */
export const VERSION: string = readVersion();

function readVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * `hubble_graph_build_info{component, version, nodejs} 1`, the Prometheus convention for telling
 * which build (and runtime) each scraped process runs.
 */
export function registerBuildInfo(registry: Registry, component: 'api' | 'collector'): void {
  new Gauge({
    name: 'hubble_graph_build_info',
    help: 'Always 1; the labels say which hubble-graph build and Node.js this process runs',
    labelNames: ['component', 'version', 'nodejs'],
    registers: [registry],
  }).set({ component, version: VERSION, nodejs: process.version }, 1);
}
