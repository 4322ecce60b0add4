import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Executor } from '../../../src/graph/executor';
import { runCli } from '../../helpers/cli';
import { storedFlowTotal } from '../../helpers/ground-truth';
import { resetGraph, testEnv, testExecutor } from '../../helpers/neo4j';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble');
const TCP = path.join(FIXTURES, 'basic-sample-400-tcp-flows.json');
const DNS = path.join(FIXTURES, 'basic-sample-5-dns-flows.json');

/** `hubble-graph import` with files it cannot read: nothing counted twice when it is run again, nothing read lost. */
describe('import of files that cannot be read (real Neo4j)', () => {
  let executor: Executor;
  let tmp: string;
  beforeAll(() => {
    executor = testExecutor();
  });
  beforeEach(async () => {
    await resetGraph(executor);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-broken-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterAll(async () => executor.close());

  it('refuses the whole import before reading any file when one is missing or a directory, naming each', async () => {
    const missing = path.join(tmp, 'flows-typo.json');
    const res = await runCli(['import', DNS, missing, tmp], testEnv());
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`cannot import, nothing was read:\n  ${missing}: no such file\n  ${tmp}: it is a directory`);
    // DNS, named first and readable, was not counted: running the import again with the name fixed counts it once.
    expect(await storedFlowTotal(executor)).toBe(0);
  });

  it('keeps what it read of a truncated .gz, names it and the line it broke off after, reads the next file and exits 1', async () => {
    const whole = zlib.gzipSync(fs.readFileSync(TCP));
    const cut = path.join(tmp, 'cut.json.gz');
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const res = await runCli(['import', cut, DNS], testEnv());
    expect(res.code).toBe(1);
    const summary = JSON.parse(res.stdout.trim().split('\n').pop()!) as { flowsIngested: number; linesRead: number; failedFiles: string[] };
    expect(summary.failedFiles).toEqual([
      expect.stringMatching(new RegExp(`^cannot read ${cut} after line \\d+: the gzip data ends early`)),
    ]);
    const readOfCut = Number(/after line (\d+)/.exec(summary.failedFiles[0]!)![1]);
    expect(readOfCut).toBeGreaterThan(0);
    expect(summary.linesRead).toBe(readOfCut + 5);
    // Every flow read (those of the cut file before the break, all of the DNS file) is in the graph, once.
    expect(await storedFlowTotal(executor)).toBe(summary.flowsIngested);
    expect(summary.flowsIngested).toBe(readOfCut + 5);
    expect(res.stderr).toMatch(/"file":"[^"]*cut\.json\.gz".*file not read to its end/);
  });

  it('names the file and line of a flow it skips for what it holds', async () => {
    const file = path.join(tmp, 'no-time.json');
    const [first] = fs.readFileSync(DNS, 'utf8').split('\n');
    const flow = JSON.parse(first!) as { flow: Record<string, unknown>; time?: string };
    delete flow.flow.time;
    delete flow.time;
    fs.writeFileSync(file, `${first}\n${JSON.stringify(flow)}\n`);
    const res = await runCli(['import', file], testEnv());
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(new RegExp(`"reason":"no_time".*"file":"${file}","line":2`));
  });
});
