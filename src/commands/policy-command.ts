import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { InputError } from '../errors';
import { openGraph } from '../graph/open-graph';
import { readObservedTraffic } from '../api/read-graph';
import { resolveRange } from '../model/time-buckets';
import type { ObservedEdge } from '../policy/observed-traffic';
import { type TimeWindow, windowOf } from '../graph/cypher/api-fragments';
import { buildPolicyCheck } from '../policy/build-policy-check';
import { type DraftKind, type DraftScope, buildPolicyDrafts } from '../policy/build-policy-drafts';
import { parsePolicyDocuments } from '../policy/parse-policy-documents';
import type { ParsedPolicy, PolicyWarning } from '../policy/policy-model';
import { toImpactSummary } from '../policy/to-impact-summary';
import { toPolicyYaml } from '../policy/to-policy-yaml';
import { toPolicyCheck } from '../api/to-policy-graphql';
import { type CommandContext, commandContext, withSettings } from './command-context';

/** Exit code of `policy check` when applying the policies would drop or refuse observed traffic (1 is an error). */
export const POLICY_CHECK_DENIED_EXIT = 2;

const FORMATS: Readonly<Record<string, readonly DraftKind[]>> = {
  cilium: ['CiliumNetworkPolicy'],
  kubernetes: ['NetworkPolicy'],
  both: ['CiliumNetworkPolicy', 'NetworkPolicy'],
};

const VERDICT = /^[A-Z][A-Z0-9_]{0,31}$/;

function parseVerdicts(raw: unknown): string[] {
  const verdicts = String(raw ?? 'FORWARDED')
    .split(',')
    .map((v) => v.trim().toUpperCase())
    .filter(Boolean);
  const bad = verdicts.find((v) => !VERDICT.test(v));
  if (verdicts.length === 0 || bad !== undefined)
    throw new InputError(`--verdicts expects Hubble verdicts such as FORWARDED,AUDIT, got "${String(raw)}"`);
  return verdicts;
}

/**
 * The window of `--since`/`--until` (undefined without `--since`), read from the buckets the
 * collector writes (HG_BUCKETS); a bad value is an InputError naming the flag.
 */
function rangeOf(ctx: CommandContext, flags: Record<string, unknown>): TimeWindow | undefined {
  if (typeof flags.since !== 'string') {
    if (typeof flags.until === 'string') throw new InputError(`--until "${flags.until}" needs --since`);
    return undefined;
  }
  const covered = resolveRange(ctx.config.time.buckets, flags.since, typeof flags.until === 'string' ? flags.until : undefined, Date.now());
  if ('field' in covered) throw new InputError(`${covered.field === 'range' ? '--since' : `--${covered.field}`}: ${covered.message}`);
  return windowOf(covered);
}

/** Reads the observed edges of `verdicts` (within `range` when given) from the configured Neo4j (never migrating: read-only). */
async function withObservedEdges<T>(
  ctx: CommandContext,
  verdicts: readonly string[],
  range: TimeWindow | undefined,
  use: (edges: ObservedEdge[]) => T,
): Promise<T> {
  const graph = await openGraph(ctx.config, ctx.log);
  try {
    return use(await readObservedTraffic(graph.executor, { verdicts, range }));
  } finally {
    await graph.close();
  }
}

const SINCE_HELP =
  'only traffic observed since this flow time: ISO-8601 with offset, or relative such as -7d, -24h (read from the time buckets, HG_BUCKETS)';
const UNTIL_HELP = 'only traffic observed before this flow time (default now; needs --since)';

function exportCommand(): Command {
  return withSettings(
    new Command('export')
      .description('print least-privilege network policy drafts (YAML, one document per policy) that allow exactly the observed traffic')
      .option('--namespace <name>', 'draft the workloads of this namespace (default: every namespace)')
      .option('--workload <name>', 'draft this workload only (its stable name, e.g. the Deployment; needs --namespace)')
      .addOption(new Option('--format <format>', 'which kind of policy').choices(Object.keys(FORMATS)).default('both'))
      .option('--verdicts <list>', 'verdicts of the traffic to allow, comma-separated', 'FORWARDED')
      .option('--since <time>', SINCE_HELP)
      .option('--until <time>', UNTIL_HELP),
    // HG_BUCKETS: the bucket sizes that --since/--until are read from.
    ['neo4j', 'local', 'time.buckets'],
  ).action(async (flags: Record<string, unknown>) => {
    const ctx = commandContext(flags);
    const scope: DraftScope = {};
    if (typeof flags.namespace === 'string') scope.namespace = flags.namespace;
    if (typeof flags.workload === 'string') {
      if (scope.namespace === undefined)
        throw new InputError(`--workload "${flags.workload}" needs --namespace: a workload name is unique within its namespace only`);
      scope.workload = flags.workload;
    }
    const verdicts = parseVerdicts(flags.verdicts);
    const kinds = FORMATS[String(flags.format)];
    const drafts = await withObservedEdges(ctx, verdicts, rangeOf(ctx, flags), (edges) =>
      buildPolicyDrafts(edges, { scope, verdicts, kinds }),
    );
    for (const w of drafts.warnings) process.stderr.write(`warning: ${w}\n`);
    if (drafts.policies.length === 0) {
      const where = scope.workload
        ? `workload ${scope.namespace}/${scope.workload}`
        : scope.namespace
          ? `namespace ${scope.namespace}`
          : 'the graph';
      process.stderr.write(`hubble-graph: no ${verdicts.join('/')} traffic of a pod workload in ${where}: nothing to draft\n`);
      return;
    }
    process.stdout.write(toPolicyYaml(drafts.policies));
  });
}

function checkCommand(): Command {
  return withSettings(
    new Command('check')
      .description(
        `tell which observed calls the policies in FILE... would allow and which they would deny, with counts and last seen; exits ${POLICY_CHECK_DENIED_EXIT} when some observed traffic would be dropped or refused`,
      )
      .argument('<file...>', 'YAML files of CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, NetworkPolicy or Lists of them')
      .option('--verdicts <list>', 'verdicts of the observed traffic to check, comma-separated', 'FORWARDED')
      .option('--json', 'print the whole result (summary, groups, every edge decision) as JSON')
      .option('--default-namespace <name>', 'namespace of namespaced policies whose metadata names none', 'default')
      .option('--since <time>', SINCE_HELP)
      .option('--until <time>', UNTIL_HELP),
    // HG_BUCKETS: the bucket sizes that --since/--until are read from.
    ['neo4j', 'local', 'time.buckets'],
  ).action(async (files: string[], flags: Record<string, unknown>) => {
    const ctx = commandContext(flags);
    const verdicts = parseVerdicts(flags.verdicts);
    const policies: ParsedPolicy[] = [];
    const warnings: PolicyWarning[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new InputError(`cannot read policy file ${file}: ${(err as Error).message}`, { cause: err });
      }
      const set = parsePolicyDocuments(text, { source: file, defaultNamespace: String(flags.defaultNamespace) });
      policies.push(...set.policies);
      warnings.push(...set.warnings);
    }
    const range = rangeOf(ctx, flags);
    const result = await withObservedEdges(ctx, verdicts, range, (edges) => buildPolicyCheck({ policies, warnings }, edges, { verdicts }));
    const summary = toImpactSummary(result, range);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(toPolicyCheck(result, result.decisions.length, range), null, 2)}\n`);
    } else {
      for (const w of result.warnings) process.stderr.write(`warning: ${w.where}: ${w.message}\n`);
      for (const line of summary.lines) process.stdout.write(`${line}\n`);
      process.stdout.write(
        `${summary.checked} observed edges checked (${verdicts.join(', ')}): ${summary.allowed} allowed, ${summary.denied} denied, ${summary.partial} partly refused` +
          `${summary.skipped > 0 ? `, ${summary.skipped} of other verdicts not checked` : ''}\n`,
      );
    }
    if (summary.denied + summary.partial > 0) process.exitCode = POLICY_CHECK_DENIED_EXIT;
  });
}

/** `hubble-graph policy export|check`: network policy from the observed graph (docs/network-policy.md). */
export function policyCommand(): Command {
  return new Command('policy')
    .description('draft least-privilege network policies from the observed traffic, or check policies against it')
    .addCommand(exportCommand().exitOverride())
    .addCommand(checkCommand().exitOverride());
}
