import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { Command } from 'commander';
import { parseDurationMs } from '../config';
import { InputError, isReaderGone } from '../errors';
import { EDGE_SHAPES, generateFlows } from '../generator/generate-flows';

/** Lines are written in chunks of this many, which keeps writes few and memory flat. */
const LINES_PER_WRITE = 2000;

function parseCount(name: string, min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min) throw new InputError(`--${name} expects an integer >= ${min}, got "${value}"`);
    return n;
  };
}

/** Writes with backpressure; false once the reader has gone (as with `| head`: isReaderGone). */
async function write(out: Writable, chunk: string): Promise<boolean> {
  if (out.destroyed) return false;
  try {
    if (!out.write(chunk)) await once(out, 'drain');
    return true;
  } catch (err) {
    if (isReaderGone(err)) return false;
    throw err;
  }
}

/**
 * `hubble-graph generate --pods N --edges M --flows K [--seed S] [--out FILE|-] [--truth FILE]`:
 * deterministic, realistic flows as `hubble observe -o jsonpb` lines, and the graph they must make.
 */
export function generateCommand(): Command {
  return new Command('generate')
    .description(
      'write realistic Hubble flows (one GetFlowsResponse JSON per line, as `hubble observe -o jsonpb`) and the graph they must produce',
    )
    .option(
      '--scenario <name>',
      'random: --pods pods and --edges random edges; cluster: the demo cluster of the README, its traffic changing over time',
      'random',
    )
    .option(
      '--pods <n>',
      'pods in the generated cluster (at least 2; two are CoreDNS in kube-system); random scenario',
      parseCount('pods', 2),
    )
    .option(
      '--edges <n>',
      'distinct CALLS edges wanted (fewer when the pods or flows cannot hold them); random scenario',
      parseCount('edges', 1),
    )
    .option(
      '--edge-shape <shape>',
      'random scenario: pods (default): pod-to-pod edges between random pods, about one per workload pair; workloads: along dependencies between workloads, several calls per workload pair as in a service graph',
    )
    .requiredOption('--flows <n>', 'flows to write, exactly', parseCount('flows', 0))
    .option(
      '--flows-per-second <n>',
      'mean flows per second of flow time (default: about 48,000); the cluster scenario follows a daily rhythm around it',
      parseCount('flows-per-second', 1),
    )
    .option(
      '--story-period <duration>',
      'cluster scenario: one rollout of every Deployment, one deploy and one incident per this long (default 6m)',
    )
    .option('--bucket <duration>', 'also write the truth per edge and per bucket of flow time of this length (e.g. 1m), as "buckets"')
    .option('--seed <n>', 'seed: the same seed and sizes give the same output, byte for byte', parseCount('seed', 0), 1)
    .option('--start-time <rfc3339>', 'time of the first flow (default 2026-01-01T00:00:00Z)')
    .option('--out <file>', 'where the flows go; - for standard output; a name ending in .gz is compressed', '-')
    .option('--truth <file>', 'also write the ground truth as JSON: {flows, endpoints, calls} with every count')
    .addHelpText(
      'after',
      `
The mix: pods of several namespaces owned by Deployments, StatefulSets and DaemonSets; TCP opens and
replies seen at both ends; HTTP/1.1 and HTTP/2 through the client's and the server's proxies with
X-Request-Id, latency, some 503s and retries; DNS to kube-system/coredns (UDP 53) with some NXDOMAIN;
policy drops; traffic to world and to FQDNs; kubelet health checks from reserved:host; ICMP to
reserved:health. The truth is computed from the generator's own choices, not by aggregating.

Examples:
  npx hubble-graph generate --pods 50 --edges 200 --flows 100000 --out flows.json --truth truth.json
  npx hubble-graph generate --pods 10 --edges 20 --flows 1000 | npx hubble-graph import -
  npx hubble-graph generate --scenario cluster --flows 100000 --flows-per-second 30 --bucket 1m --truth truth.json > flows.json`,
    )
    .action(
      async (flags: {
        scenario: string;
        pods?: number;
        edges?: number;
        edgeShape?: string;
        flows: number;
        flowsPerSecond?: number;
        storyPeriod?: string;
        bucket?: string;
        seed: number;
        startTime?: string;
        out: string;
        truth?: string;
      }) => {
        const duration = (name: string, text: string | undefined) => {
          if (text === undefined) return undefined;
          const ms = parseDurationMs(text);
          if (ms === undefined || ms <= 0) throw new InputError(`--${name} expects a duration such as 1m, got "${text}"`);
          return ms;
        };
        let startTimeMs: number | undefined;
        if (flags.startTime !== undefined) {
          startTimeMs = Date.parse(flags.startTime);
          if (Number.isNaN(startTimeMs)) throw new InputError(`--start-time expects an RFC 3339 time, got "${flags.startTime}"`);
        }
        let generated;
        try {
          if (flags.scenario !== 'random' && flags.scenario !== 'cluster')
            throw new InputError(`--scenario expects random or cluster, got "${flags.scenario}"`);
          if (flags.scenario === 'random' && (flags.pods === undefined || flags.edges === undefined))
            throw new InputError('the random scenario needs --pods and --edges');
          const edgeShape = EDGE_SHAPES.find((shape) => shape === flags.edgeShape);
          if (flags.edgeShape !== undefined && edgeShape === undefined)
            throw new InputError(`--edge-shape expects ${EDGE_SHAPES.join(' or ')}, got "${flags.edgeShape}"`);
          generated = generateFlows({
            scenario: flags.scenario,
            pods: flags.pods,
            edges: flags.edges,
            ...(edgeShape === undefined ? {} : { edgeShape }),
            flows: flags.flows,
            seed: flags.seed,
            startTimeMs,
            flowsPerSecond: flags.flowsPerSecond,
            storyPeriodMs: duration('story-period', flags.storyPeriod),
            bucketMs: duration('bucket', flags.bucket),
          });
        } catch (err) {
          throw new InputError((err as Error).message);
        }
        const toStdout = flags.out === '-';
        const file = toStdout ? undefined : createWriteStream(flags.out);
        let out: Writable = file ?? process.stdout;
        const gzip = file !== undefined && flags.out.endsWith('.gz') ? createGzip() : undefined;
        if (gzip && file) {
          gzip.pipe(file);
          out = gzip;
        }
        // A reader that stops early (`| head`) ends the output quietly.
        let readerGone = false;
        out.on('error', (err: NodeJS.ErrnoException) => {
          if (!isReaderGone(err)) throw err;
          readerGone = true;
        });
        let lines: string[] = [];
        for (const item of generated) {
          lines.push(JSON.stringify(item));
          if (lines.length === LINES_PER_WRITE) {
            const written = await write(out, `${lines.join('\n')}\n`);
            lines = [];
            if (!written || readerGone) break;
          }
        }
        if (lines.length > 0 && !readerGone) await write(out, `${lines.join('\n')}\n`);
        if (file) {
          const closed = once(file, 'close');
          (gzip ?? file).end();
          await closed;
        }
        const truth = generated.truth();
        if (flags.truth !== undefined) await writeFile(flags.truth, `${JSON.stringify(truth, null, 1)}\n`);
        if (!toStdout || flags.truth !== undefined) {
          process.stderr.write(`generated ${truth.flows} flows, ${truth.calls.length} edges, ${truth.endpoints.length} endpoints\n`);
        }
      },
    );
}
