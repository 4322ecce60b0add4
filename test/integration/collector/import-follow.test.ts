import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateFlows, type GeneratedFlows } from '../../../src/generator/generate-flows';
import type { Executor } from '../../../src/graph/executor';
import { startCli } from '../../helpers/cli';
import { readCallCounts, storedFlowTotal, truthCallCounts, waitFor } from '../../helpers/ground-truth';
import { resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';

/**
 * `hubble-graph import --follow` on a Hubble exporter file that the exporter rotates (rename and
 * start anew, lumberjack's way) and that logrotate truncates (copytruncate), in its own process
 * against the test Neo4j: every flow counts once, and SIGTERM ends it after a final flush.
 */
describe('import --follow: a growing exporter file -> Neo4j', () => {
  let executor: Executor;
  let generated: GeneratedFlows;
  let lines: string[];
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    executor = testExecutor();
    generated = generateFlows({ pods: 30, edges: 100, flows: 4000, seed: 23 });
    lines = [...generated].map((item) => JSON.stringify(item));
  });
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-import-follow-'));
    await resetGraph(executor);
  });
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterAll(async () => executor.close());

  const text = (from: number, to: number) => `${lines.slice(from, to).join('\n')}\n`;
  const stored = (n: number, what: string) =>
    waitFor(
      what,
      () => storedFlowTotal(executor),
      (v) => v >= n,
      60_000,
    );
  /** `hubble-graph import --follow ARGS` in its own process, killed after the test if still running. */
  const follow = (args: readonly string[], env: NodeJS.ProcessEnv) => {
    const run = startCli(['import', '--follow', ...args], env);
    children.push(run.child);
    return run;
  };
  /** Stops a follower with SIGTERM, expects exit 0, and returns its summary line. */
  const stopAndSummarize = async (run: ReturnType<typeof startCli>): Promise<Record<string, unknown>> => {
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const line = run
      .output()
      .split('\n')
      .find((l) => l.startsWith('{"collectorId"'));
    return JSON.parse(line ?? '{}') as Record<string, unknown>;
  };
  const expectExactGraph = async () => {
    expect(await storedFlowTotal(executor)).toBe(generated.truth().flows);
    expect(await readCallCounts(executor)).toEqual(truthCallCounts(generated.truth()));
  };

  it('stores every flow once across an append just before rotation, the new file and a copytruncate, then stops on SIGTERM', async () => {
    const file = path.join(dir, 'hubble-events.log');
    // The part written after the truncation is longer than the file was: its size alone does not show the truncation.
    const cut = [0, 800, 1600, 2200, lines.length];
    fs.writeFileSync(file, text(cut[0]!, cut[1]!));
    const run = follow(
      [file],
      testEnv({ HG_COLLECTOR_LISTEN: '127.0.0.1:0', HG_FLUSH_INTERVAL: '200ms', HG_COLLECTOR_ID: 'import-follow' }),
    );
    await stored(cut[1]!, 'the first part stored');

    // The exporter writes its last lines, renames the file away and starts a new one, all at once.
    fs.appendFileSync(file, text(cut[1]!, cut[2]!));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, text(cut[2]!, cut[3]!));
    await stored(cut[3]!, 'the rotated and the new part stored');

    // logrotate's copytruncate, then the writer goes on at the start of the same file.
    fs.copyFileSync(file, `${file}.2`);
    fs.truncateSync(file, 0);
    fs.writeFileSync(file, text(cut[3]!, cut[4]!));
    await stored(lines.length, 'every flow stored');

    expect(await stopAndSummarize(run)).toMatchObject({ flowsIngested: lines.length, written: true });
    await expectExactGraph();
  });

  it('started again on the same file after a SIGKILL, counts only what the first run did not commit, also what was rotated away meanwhile', async () => {
    const file = path.join(dir, 'hubble-events.log');
    const cut = [0, 1500, 2500, 3000, 3500, lines.length];
    // No HG_COLLECTOR_ID: a follower of the same file on the same host gets the same id by default.
    const env = testEnv({ HG_COLLECTOR_LISTEN: '127.0.0.1:0', HG_FLUSH_INTERVAL: '200ms' });
    fs.writeFileSync(file, text(cut[0]!, cut[1]!));
    const first = follow([file], env);
    await stored(cut[1]!, 'the first part stored');
    fs.appendFileSync(file, text(cut[1]!, cut[2]!));
    await stored(cut[2]!, 'the second part stored');
    // Lines the first run may or may not have committed when it is killed.
    fs.appendFileSync(file, text(cut[2]!, cut[3]!));
    first.child.kill('SIGKILL');
    await first.exited;
    // While no one follows: more lines, a rotation, a new file.
    fs.appendFileSync(file, text(cut[3]!, cut[4]!));
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, text(cut[4]!, cut[5]!));

    // Started again with the rotated file first: it reads both from their start.
    const second = follow([`${file}.1`, file], env);
    await stored(lines.length, 'every flow stored');
    const summary = (await stopAndSummarize(second)) as { collectorId: string; skipped: Record<string, number> };
    expect(summary.collectorId).toContain('-follow-hubble-events.log-');
    // What the first run committed was read again and not counted.
    expect(summary.skipped.already_committed).toBeGreaterThanOrEqual(cut[2]!);
    await expectExactGraph();
  });
});
