import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/config';
import type { MachineInfo } from './machine-info';
import { type TableRow, formatTable } from './results-table';

/**
 * Prints the figures table and the machine line of a results file (default bench/results/latest.json)
 * as Markdown, for the README's Performance section. Usage: node dist-bench/bench/readme-section.js [file]
 */
function main(): void {
  const file = process.argv[2] ?? path.join(PROJECT_ROOT, 'bench', 'results', 'latest.json');
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    table: TableRow[];
    machine: MachineInfo;
    mode: string;
    startedAt: string;
    finishedAt?: string;
  };
  const m = r.machine;
  process.stdout.write(`${formatTable(r.table)}\n\n`);
  process.stdout.write(
    `Measured ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC (${r.mode} run) on ${m.cpus} cores (${m.cpuModel}), ` +
      `${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node}, Neo4j ${m.neo4j ?? '?'} (${m.java ?? 'java ?'}); ` +
      `load average ${m.loadAvgStart[0]} at the start, ${m.loadAvgEnd?.[0] ?? '?'} at the end.\n`,
  );
}

main();
