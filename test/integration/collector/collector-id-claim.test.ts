import { runHubbleSource } from '../../../src/collector/run-hubble-source';
import { startCollectorRuntime, type CollectorRuntime } from '../../../src/collector/start-collector-runtime';
import { spawn } from 'node:child_process';
import os from 'node:os';
import {
  type CollectorClaim,
  CollectorTakenOverError,
  releaseCollectorClaim,
  renewCollectorClaim,
  tryClaimCollector,
} from '../../../src/graph/collector-claim';
import { Executor } from '../../../src/graph/executor';
import { READ_RESUME_POINT } from '../../../src/graph/cypher/collector-queries';
import { readResumePoint } from '../../../src/graph/read-resume-point';
import { writeIngestBatch } from '../../../src/graph/write-ingest-batch';
import { claimStagedPart, stageBatch, writeStagedBatch } from '../../../src/graph/write-staged-batch';
import { silentLogger } from '../../../src/logger';
import type { IngestBatch } from '../../../src/model/ingest-rows';
import { processSpace } from '../../../src/collector/holder-process';
import { ROW_TIME, httpCallRow, podRow } from '../../helpers/ingest-rows';
import { resetGraph, testConfig, testExecutor } from '../../helpers/neo4j';
import { freePort } from '../../helpers/prometheus';
import { waitUntil } from '../../helpers/wait-until';

/** Four pods in a ring of four calls of 3 flows each, with a resume point at `watermarkMs`. */
function ring(watermarkMs: number): IngestBatch {
  const ids = ['claim/a', 'claim/b', 'claim/c', 'claim/d'];
  return {
    endpoints: ids.map(podRow),
    calls: ids.map((id, i) => httpCallRow(id, ids[(i + 1) % ids.length] as string, 3)),
    maxFlowTimeMs: ROW_TIME,
    resume: { watermarkMs, overlapMs: 1000, committedKeys: new Int8Array(8) },
  };
}

/** A claim of a process on another host, which this host cannot see. */
const elsewhere = (collectorId: string, runId: string, leaseMs: number): CollectorClaim => ({
  collectorId,
  runId,
  leaseMs,
  host: 'another-host',
  pid: 4242,
  space: null,
  slot: null,
});

const storedFlows = async (executor: Executor) =>
  (await executor.read<{ flows: number }>('MATCH ()-[r:CALLS]->() RETURN coalesce(sum(r.flows), 0) AS flows'))[0]?.flows;

/**
 * Two processes started with one collector id (two replicas of one shard, a restart beside the old
 * process) must never both count the same flows: one holds the id, the other waits, and a process
 * whose id was taken over commits nothing more.
 */
describe('collector id: one run holds it at a time', () => {
  let executor: Executor;
  const runtimes: CollectorRuntime[] = [];

  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => resetGraph(executor));
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop(1000);
  });
  afterAll(async () => executor.close());

  it('is refused to a second run while the holder renews it, and taken over once the holder has not renewed it for the lease', async () => {
    const id = 'claim-lease';
    expect(await tryClaimCollector(executor, elsewhere(id, 'a', 1500))).toMatchObject({ held: true, previousHolder: null });
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 600));
      expect(await renewCollectorClaim(executor, { collectorId: id, runId: 'a' })).toEqual({});
      const refused = await tryClaimCollector(executor, elsewhere(id, 'b', 1500));
      expect(refused.held).toBe(false);
      expect(refused.previousHolder).toBe('a');
      expect(refused.renewedAgoMs).toBeLessThan(1500);
    }
    // `a` stops renewing (it crashed): after the lease `b` takes the id, and `a` learns that it lost it.
    await new Promise((r) => setTimeout(r, 1700));
    const taken = await tryClaimCollector(executor, elsewhere(id, 'b', 1500));
    expect(taken).toMatchObject({ held: true, previousHolder: 'a' });
    expect(taken.renewedAgoMs).toBeGreaterThanOrEqual(1500);
    expect(await renewCollectorClaim(executor, { collectorId: id, runId: 'a' })).toEqual({ takenBy: 'b' });
  });

  it("is judged by the holder's own lease, not by a claimant's shorter one", async () => {
    const id = 'claim-own-lease';
    await tryClaimCollector(executor, elsewhere(id, 'a', 60_000));
    await new Promise((r) => setTimeout(r, 700));
    expect(await tryClaimCollector(executor, elsewhere(id, 'b', 500))).toMatchObject({ held: false, previousHolder: 'a' });
  });

  it('is free at once after the holder gives it up on a clean stop', async () => {
    const id = 'claim-release';
    await tryClaimCollector(executor, elsewhere(id, 'a', 60_000));
    expect((await tryClaimCollector(executor, elsewhere(id, 'b', 60_000))).held).toBe(false);
    // Only the holder can give it up.
    await releaseCollectorClaim(executor, { collectorId: id, runId: 'b' });
    expect((await tryClaimCollector(executor, elsewhere(id, 'b', 60_000))).held).toBe(false);
    await releaseCollectorClaim(executor, { collectorId: id, runId: 'a' });
    expect(await tryClaimCollector(executor, elsewhere(id, 'b', 60_000))).toMatchObject({ held: true, previousHolder: null });
  });

  it('rolls back a batch, in one transaction or staged, of a run whose id another run holds: nothing of it is stored', async () => {
    const id = 'claim-fence';
    await tryClaimCollector(executor, elsewhere(id, 'a', 60_000));
    await writeIngestBatch(executor, ring(ROW_TIME), { collectorId: id, runId: 'a', batchSeq: 1 });
    expect(await storedFlows(executor)).toBe(12);
    // `b` takes the id over (HG_COLLECTOR_LEASE=0) and reads again from `a`'s resume point.
    await tryClaimCollector(executor, elsewhere(id, 'b', 0));
    await expect(writeIngestBatch(executor, ring(ROW_TIME + 5000), { collectorId: id, runId: 'a', batchSeq: 2 })).rejects.toBeInstanceOf(
      CollectorTakenOverError,
    );
    await expect(
      writeStagedBatch(executor, ring(ROW_TIME + 5000), {
        collectorId: id,
        runId: 'a',
        batchSeq: 2,
        rowsPerStatement: 2,
        rowsPerTransaction: 2,
      }),
    ).rejects.toThrow(/collector id "claim-fence" is now held by run b/);
    expect(await storedFlows(executor)).toBe(12);
    expect((await readResumePoint(executor, id))?.watermarkMs).toBe(ROW_TIME);
    expect(await executor.read('MATCH (s:IngestStage) RETURN s')).toHaveLength(0);
    // The holder writes on.
    await writeIngestBatch(executor, ring(ROW_TIME + 5000), { collectorId: id, runId: 'b', batchSeq: 1, holdsId: true });
    expect(await storedFlows(executor)).toBe(24);
    // Once `b` has stopped and given the id up, a run that held it before still writes nothing.
    await releaseCollectorClaim(executor, { collectorId: id, runId: 'b' });
    await expect(
      writeIngestBatch(executor, ring(ROW_TIME + 9000), { collectorId: id, runId: 'a', batchSeq: 2, holdsId: true }),
    ).rejects.toThrow(/is now held by run nobody/);
    expect(await storedFlows(executor)).toBe(24);
  });

  it('gives a staged part to only one of two transactions that take it at once (a stalled holder and its successor)', async () => {
    const id = 'claim-staged';
    // Staged only, as by a process that stopped after staging: the parts are left to apply.
    await stageBatch(executor, ring(ROW_TIME), { collectorId: id, runId: 'a', batchSeq: 1, rowsPerStatement: 2, rowsPerTransaction: 2 });
    const [part] = await executor.read<{ runId: string; batchSeq: number; part: number }>(
      'MATCH (s:IngestStage {collectorId: $id}) RETURN s.runId AS runId, s.batchSeq AS batchSeq, s.part AS part ORDER BY s.part LIMIT 1',
      { id },
    );
    expect(part).toBeDefined();
    const key = { collectorId: id, ...(part as { runId: string; batchSeq: number; part: number }) };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // The first takes the part and holds its transaction open; the second asks for it meanwhile.
    const first = executor.writeTx(async (tx) => {
      const claimed = await claimStagedPart(tx, key);
      await gate;
      return claimed;
    });
    await new Promise((r) => setTimeout(r, 500));
    const second = executor.writeTx((tx) => claimStagedPart(tx, key));
    await new Promise((r) => setTimeout(r, 500));
    release();
    expect((await first)?.rows).toEqual(expect.any(String));
    expect(await second).toBeUndefined();
  });

  it('makes a second collector with the same id wait (not ready, metric 0) until the first stops, and then start', async () => {
    const config = testConfig({ HG_COLLECTOR_ID: 'claim-runtime', HG_COLLECTOR_LEASE: '60s' });
    const first = await startCollectorRuntime({ config, log: silentLogger(), executor, serveHealth: false });
    runtimes.push(first);
    expect(await first.metrics.registry.getSingleMetricAsString('hubble_graph_collector_id_held')).toMatch(/ 1$/m);
    // Waiting, the second already serves /readyz and /metrics, which say why it is not ready.
    const port = await freePort();
    let second: CollectorRuntime | undefined;
    const starting = startCollectorRuntime({
      config: testConfig({ HG_COLLECTOR_ID: 'claim-runtime', HG_COLLECTOR_LEASE: '60s', HG_COLLECTOR_LISTEN: `127.0.0.1:${port}` }),
      log: silentLogger(),
      executor,
    }).then((r) => (second = r));
    const readyz = async () => fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    await waitUntil('the waiting collector to serve /readyz', async () => (await readyz()) !== undefined);
    await new Promise((r) => setTimeout(r, 1000));
    expect(second).toBeUndefined();
    const answer = await readyz();
    expect(answer?.status).toBe(503);
    expect(await answer?.text()).toContain(`is held by run ${first.runId}`);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^hubble_graph_collector_id_held 0$/m);
    // A clean stop gives the id up: the second starts without waiting for the lease.
    const stoppedAt = Date.now();
    expect(await first.stop()).toBe(true);
    runtimes.splice(0);
    await starting;
    runtimes.push(second as CollectorRuntime);
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(second?.lost.aborted).toBe(false);
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^hubble_graph_collector_id_held 1$/m);
  }, 30_000);

  it('does not wait for a holder on this host whose process has ended (SIGKILL, OOM kill), but does for one that lives', async () => {
    const config = testConfig({ HG_COLLECTOR_ID: 'claim-host', HG_COLLECTOR_LEASE: '60s' });
    const ended = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => ended.on('close', r));
    const here = { collectorId: 'claim-host', leaseMs: 60_000, host: os.hostname(), space: processSpace(), slot: null };
    // In another pid namespace (a container that shares the host name) the same pid says nothing: waited for.
    await tryClaimCollector(executor, { ...here, runId: 'elsewhere', pid: ended.pid as number, space: 'pid:[1]|another-boot' });
    const stopWaiting = new AbortController();
    const waitingForOther = startCollectorRuntime({
      config,
      log: silentLogger(),
      executor,
      serveHealth: false,
      signal: stopWaiting.signal,
    });
    await new Promise((r) => setTimeout(r, 1500));
    stopWaiting.abort();
    await expect(waitingForOther).rejects.toThrow(/is held by run elsewhere/);
    await releaseCollectorClaim(executor, { collectorId: 'claim-host', runId: 'elsewhere' });
    // Here, in this process's pid namespace: a holder whose pid no process has is not waited for.
    await tryClaimCollector(executor, { ...here, runId: 'crashed', pid: ended.pid as number });
    const started = Date.now();
    const runtime = await startCollectorRuntime({ config, log: silentLogger(), executor, serveHealth: false });
    runtimes.push(runtime);
    expect(Date.now() - started).toBeLessThan(10_000);
    const [node] = await executor.read<{ holder: string; pid: number }>(
      "MATCH (c:Collector {id: 'claim-host'}) RETURN c.holder AS holder, c.holderPid AS pid",
    );
    expect(node).toEqual({ holder: runtime.runId, pid: process.pid });
    await runtime.stop();
    runtimes.splice(0);
    // This test's parent process lives: its hold is waited for, until SIGTERM stops the wait.
    await tryClaimCollector(executor, { ...here, runId: 'alive', pid: process.ppid });
    const stop = new AbortController();
    const waiting = startCollectorRuntime({ config, log: silentLogger(), executor, serveHealth: false, signal: stop.signal });
    const outcome = await Promise.race([waiting.then(() => 'started'), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
    expect(outcome).toBe('waiting');
    stop.abort();
    await expect(waiting).rejects.toThrow(/stopped before it could start: collector id "claim-host" is held by run alive/);
  }, 30_000);

  it('does not wait for a holder in its own slot but another pid namespace (its container before a restart), but does without a shared slot', async () => {
    const slot = 'pod-uid-5e1f/collector';
    // The container before its restart: another pid namespace, its pid meaningless here, a live lease.
    const before = { collectorId: 'claim-slot', leaseMs: 60_000, host: os.hostname(), pid: 1, space: 'pid:[4026532999]|this-boot' };
    await tryClaimCollector(executor, { ...before, runId: 'before-restart', slot });
    // Without the slot (HG_COLLECTOR_SLOT unset), or in another slot (another pod), the holder is waited for.
    for (const env of [{}, { HG_COLLECTOR_SLOT: 'pod-uid-77aa/collector' }] as Record<string, string>[]) {
      const stop = new AbortController();
      const waiting = startCollectorRuntime({
        config: testConfig({ HG_COLLECTOR_ID: 'claim-slot', HG_COLLECTOR_LEASE: '60s', ...env }),
        log: silentLogger(),
        executor,
        serveHealth: false,
        signal: stop.signal,
      });
      const outcome = await Promise.race([waiting.then(() => 'started'), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
      expect(outcome).toBe('waiting');
      stop.abort();
      await expect(waiting).rejects.toThrow(/is held by run before-restart/);
    }
    // The same slot: the restarted container takes the id at once and stores its own slot.
    const started = Date.now();
    const runtime = await startCollectorRuntime({
      config: testConfig({ HG_COLLECTOR_ID: 'claim-slot', HG_COLLECTOR_LEASE: '60s', HG_COLLECTOR_SLOT: slot }),
      log: silentLogger(),
      executor,
      serveHealth: false,
    });
    runtimes.push(runtime);
    expect(Date.now() - started).toBeLessThan(10_000);
    const [node] = await executor.read<{ holder: string; slot: string; space: string }>(
      "MATCH (c:Collector {id: 'claim-slot'}) RETURN c.holder AS holder, c.holderSlot AS slot, c.holderSpace AS space",
    );
    expect(node).toEqual({ holder: runtime.runId, slot, space: processSpace() });
    // A second process in the same container (same slot, same pid namespace) is judged by the
    // holder's pid, which lives: it waits.
    const stop = new AbortController();
    const sibling = startCollectorRuntime({
      config: testConfig({ HG_COLLECTOR_ID: 'claim-slot', HG_COLLECTOR_LEASE: '60s', HG_COLLECTOR_SLOT: slot }),
      log: silentLogger(),
      executor,
      serveHealth: false,
      signal: stop.signal,
    });
    const outcome = await Promise.race([sibling.then(() => 'started'), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
    expect(outcome).toBe('waiting');
    stop.abort();
    await expect(sibling).rejects.toThrow(/stopped before it could start/);
    expect(runtime.lost.aborted).toBe(false);
  }, 30_000);

  it('gives the id up when the source fails to start after the runtime did (its resume point cannot be read)', async () => {
    /** Neo4j fails the read of the resume point, after the runtime has claimed the id. */
    class FailingResumeRead extends Executor {
      override async readPrimary<R>(query: string, params?: Record<string, unknown>): Promise<R[]> {
        if (query === READ_RESUME_POINT) throw new Error('the resume point could not be read');
        return super.readPrimary<R>(query, params);
      }
    }
    const failing = testExecutor(FailingResumeRead);
    try {
      const config = testConfig({ HG_COLLECTOR_ID: 'claim-broken', HG_COLLECTOR_LEASE: '60s', HUBBLE_SERVER: '127.0.0.1:9' });
      const signal = new AbortController().signal;
      await expect(runHubbleSource({ config, log: silentLogger(), executor: failing, signal, serveHealth: false })).rejects.toThrow(
        /resume point could not be read/,
      );
    } finally {
      await failing.close();
    }
    const [node] = await executor.read<{ holder: string | null }>("MATCH (c:Collector {id: 'claim-broken'}) RETURN c.holder AS holder");
    expect(node).toEqual({ holder: null });
  });

  it('tells a holder that lost its id, which then stops without writing', async () => {
    const collectorId = 'claim-lost';
    const first = await startCollectorRuntime({
      config: testConfig({ HG_COLLECTOR_ID: collectorId, HG_COLLECTOR_LEASE: '600ms' }),
      log: silentLogger(),
      executor,
      serveHealth: false,
    });
    runtimes.push(first);
    const second = await startCollectorRuntime({
      config: testConfig({ HG_COLLECTOR_ID: collectorId, HG_COLLECTOR_LEASE: '0s' }),
      log: silentLogger(),
      executor,
      serveHealth: false,
    });
    runtimes.push(second);
    // The first learns it at its next renewal (a third of its lease).
    await waitUntil('the first collector to learn that it lost its id', () => first.lost.aborted, 5000);
    expect(first.lost.reason).toBeInstanceOf(CollectorTakenOverError);
    expect(await first.metrics.registry.getSingleMetricAsString('hubble_graph_collector_id_held')).toMatch(/ 0$/m);
    expect(await first.stop(1000)).toBe(false);
    runtimes.splice(0, 1);
    expect(second.lost.aborted).toBe(false);
  }, 30_000);
});
