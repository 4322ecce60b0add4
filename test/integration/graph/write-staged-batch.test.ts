import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendDeadLetters } from '../../../src/collector/dead-letter-file';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import { isRefusal, type Executor } from '../../../src/graph/executor';
import { readResumePoint } from '../../../src/graph/read-resume-point';
import { applyStagedParts, partsOf, stageBatch, writeStagedBatch } from '../../../src/graph/write-staged-batch';
import { silentLogger } from '../../../src/logger';
import { ROW_TIME, httpCallRow, podRow } from '../../helpers/ingest-rows';
import { resetGraph, testExecutor } from '../../helpers/neo4j';

const T0 = ROW_TIME;
const pod = podRow;
const call = httpCallRow;

/** 12 pods in a ring of 12 calls of 2 flows each, with a resume point. */
function ringBatch(): IngestBatch {
  const ids = Array.from({ length: 12 }, (_, i) => `ring/p${i}`);
  return {
    endpoints: ids.map(pod),
    calls: ids.map((id, i) => call(id, ids[(i + 1) % ids.length]!, 2)),
    maxFlowTimeMs: T0,
    resume: { watermarkMs: T0, overlapMs: 2000, committedKeys: new Int8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
  };
}

/**
 * A flush too large for one transaction (after a long Neo4j outage, one transaction of 100k rows
 * ran out of Neo4j's transaction memory): staged with its resume point in one transaction, then
 * applied in parts, each exactly once across retries and restarts.
 */
describe('writeStagedBatch (real Neo4j)', () => {
  let executor: Executor;
  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => resetGraph(executor));
  afterAll(async () => executor.close());

  const options = { collectorId: 'staged', runId: 'run-1', batchSeq: 1, rowsPerTransaction: 5, rowsPerStatement: 5 };
  const totals = () =>
    executor
      .read<{ pods: number; calls: number; flows: number; stages: number; total: number; lastBatch: number }>(
        `CALL { MATCH (p:Pod) RETURN count(p) AS pods } CALL { MATCH ()-[r:CALLS]->() RETURN count(r) AS calls, sum(r.flows) AS flows }
       CALL { MATCH (s:IngestStage) RETURN count(s) AS stages } MATCH (c:Collector {id: 'staged'})
       RETURN pods, calls, flows, stages, c.flowsIngestedTotal AS total, c.lastBatch AS lastBatch`,
      )
      .then((r) => r[0]);

  it('writes every part once, leaves no stage behind, and records the batch with its resume point', async () => {
    expect(partsOf(ringBatch(), 5).map((p) => [p.endpoints.length, p.calls.length])).toEqual([
      [5, 0],
      [5, 0],
      [2, 0],
      [0, 5],
      [0, 5],
      [0, 2],
    ]);
    const res = await writeStagedBatch(executor, ringBatch(), options);
    expect(res.applied).toBe(true);
    expect(await totals()).toEqual({ pods: 12, calls: 12, flows: 24, stages: 0, total: 24, lastBatch: 1 });
    expect(await readResumePoint(executor, 'staged')).toEqual(ringBatch().resume);
    // A retry with the same sequence (the commit's answer was lost) adds nothing.
    expect((await writeStagedBatch(executor, ringBatch(), options)).applied).toBe(false);
    expect(await totals()).toMatchObject({ flows: 24, total: 24 });
  });

  it('leaves the parts of a batch staged when the collector dies after staging, for the next start to apply once', async () => {
    expect(await stageBatch(executor, ringBatch(), options)).toBe(true);
    expect(await totals()).toEqual({ pods: 0, calls: 0, flows: 0, stages: 6, total: 0, lastBatch: 1 });
    // The resume point is committed with the staging: a restart resumes after these flows.
    expect((await readResumePoint(executor, 'staged'))?.watermarkMs).toBe(T0);
    expect(await applyStagedParts(executor, { collectorId: 'staged' }, options)).toBe(6);
    expect(await applyStagedParts(executor, { collectorId: 'staged' }, options)).toBe(0);
    expect(await totals()).toEqual({ pods: 12, calls: 12, flows: 24, stages: 0, total: 24, lastBatch: 1 });
  });

  // stats' lastFlowTime, lastCommitAt and ingest lag say when a batch's flows were in the graph:
  // stamped by its last part's transaction, not by the one that staged it.
  it("stamps the collector with the batch's last flow time and commit time when its last part is applied, not when it is staged", async () => {
    const stamps = () =>
      executor
        .read<{ flowMs: number | null; commitMs: number | null }>(
          `MATCH (c:Collector {id: 'staged'}) RETURN c.lastFlowTime.epochMillis AS flowMs, c.lastCommitAt.epochMillis AS commitMs`,
        )
        .then((r) => r[0]);
    expect(await stageBatch(executor, ringBatch(), options)).toBe(true);
    expect(await stamps()).toEqual({ flowMs: null, commitMs: null });
    const staged = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    expect(await applyStagedParts(executor, { collectorId: 'staged', runId: 'run-1', batchSeq: 1 }, options)).toBe(6);
    const applied = await stamps();
    expect(applied?.flowMs).toBe(T0);
    expect(applied?.commitMs).toBeGreaterThan(staged);

    // The next batch, staged in one part: stamped again, with its own latest flow.
    const next = { ...ringBatch(), maxFlowTimeMs: T0 + 60_000 };
    await writeStagedBatch(executor, next, { ...options, batchSeq: 2, rowsPerTransaction: 100 });
    const after = await stamps();
    expect(after?.flowMs).toBe(T0 + 60_000);
    expect(after?.commitMs).toBeGreaterThanOrEqual(applied!.commitMs!);
  });

  it('sends a refused row of a staged part to the dead-letter file and applies the rest of the part', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-staged-'));
    try {
      const batch = ringBatch();
      batch.endpoints.push(pod(`ring/${'x'.repeat(10_000)}`));
      const file = path.join(tmp, 'dl.jsonl');
      await writeStagedBatch(executor, batch, {
        ...options,
        refusals: { isRefusal, deadLetter: (rows) => appendDeadLetters(file, 'staged', rows, silentLogger()) },
      });
      expect(await totals()).toEqual({ pods: 12, calls: 12, flows: 24, stages: 0, total: 24, lastBatch: 1 });
      const letters = fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(letters.map((l) => [l.kind, l.reason.slice(0, 36)])).toEqual([['endpoint', 'Property value is too large to index']]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
