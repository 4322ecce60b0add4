import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';

/** What the figures were measured on. */
export interface MachineInfo {
  cpuModel: string;
  cpus: number;
  totalMemoryGiB: number;
  os: string;
  node: string;
  neo4j?: string;
  java?: string;
  /** 1-minute load average at the start and end of the run. */
  loadAvgStart: number[];
  loadAvgEnd?: number[];
  gitCommit?: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let java: string | undefined;
  let gitCommit: string | undefined;
  const javaRes = spawnSync(process.env.HG_JAVA ?? 'java', ['-version'], { encoding: 'utf8' });
  if (!javaRes.error) java = `${javaRes.stderr}${javaRes.stdout}`.split('\n')[0];
  try {
    gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    gitCommit = undefined;
  }
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    java,
    loadAvgStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    gitCommit,
  };
}
