import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { type FlowFileItem, readFlowFiles, unreadableFiles } from '../../../src/hubble/read-flow-files';
import { waitUntil } from '../../helpers/wait-until';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'data', 'hubble');
const HTTP = path.join(FIXTURES, 'basic-sample-5-http-flows.json');
const DNS = path.join(FIXTURES, 'basic-sample-5-dns-flows.json');

function flowLines(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

async function collect(it: AsyncIterable<FlowFileItem>): Promise<FlowFileItem[]> {
  const out: FlowFileItem[] = [];
  for await (const item of it) out.push(item);
  return out;
}

describe('readFlowFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-read-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads several files in order with file names, line numbers and progress', async () => {
    const stream = readFlowFiles([HTTP, DNS]);
    const items = await collect(stream);
    expect(items).toHaveLength(10);
    expect(items.map((i) => i.event?.kind === 'flow' && i.event.flow)).toEqual(
      [...flowLines(HTTP), ...flowLines(DNS)].map((l) => JSON.parse(l).flow),
    );
    expect(items[5]).toMatchObject({ file: DNS, line: 1 });
    const total = fs.statSync(HTTP).size + fs.statSync(DNS).size;
    expect(stream.progress()).toMatchObject({ linesRead: 10, bytesRead: total, totalBytes: total, fileIndex: 1, files: 2 });
  });

  it('reads .gz files and reports malformed lines as skips with their line number', async () => {
    const text = `${flowLines(HTTP)[0]}\nnot json\n\n{"x":1}\n${flowLines(HTTP)[1]}\n`;
    const gz = path.join(dir, 'flows.json.gz');
    fs.writeFileSync(gz, zlib.gzipSync(text));
    const items = await collect(readFlowFiles([gz]));
    expect(items.map((i) => (i.event ? `flow@${i.line}` : `${i.skip?.reason}@${i.line}`))).toEqual([
      'flow@1',
      'malformed_json@2',
      'not_a_flow@4',
      'flow@5',
    ]);
  });

  it('reads stdin for -', async () => {
    const stdin = new PassThrough();
    stdin.end(flowLines(DNS).join('\n'));
    const items = await collect(readFlowFiles(['-'], { stdin }));
    expect(items).toHaveLength(5);
    expect(items[0]!.file).toBe('-');
  });

  it('says which file could not be read on, and after which line, and goes on with the next file', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => flowLines(HTTP)[i % 5]).join('\n');
    const whole = zlib.gzipSync(lines);
    const truncated = path.join(dir, 'cut.json.gz');
    fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const notGzip = path.join(dir, 'plain.json.gz');
    fs.writeFileSync(notGzip, `${flowLines(HTTP)[0]}\n`);
    const emptyGz = path.join(dir, 'empty.json.gz');
    fs.writeFileSync(emptyGz, '');
    const missing = path.join(dir, 'nope.json');
    const items = await collect(readFlowFiles([truncated, notGzip, missing, dir, emptyGz, DNS]));
    const failed = items.filter((i) => i.failed !== undefined);
    expect(failed.map((i) => i.failed)).toEqual([
      expect.stringMatching(new RegExp(`^cannot read ${truncated} after line \\d+: the gzip data ends early \\(a truncated \\.gz\\)$`)),
      `cannot read ${notGzip}: not gzip data, or damaged (incorrect header check)`,
      `cannot read ${missing}: no such file`,
      `cannot read ${dir}: it is a directory`,
    ]);
    // What came before the break is kept, and the files after it are read: the empty .gz is empty.
    const cutAt = failed[0]!.line;
    expect(cutAt).toBeGreaterThan(0);
    expect(items.filter((i) => i.file === truncated && i.event)).toHaveLength(cutAt);
    expect(items.filter((i) => i.file === DNS && i.event)).toHaveLength(5);
    expect(items.filter((i) => i.file === emptyGz)).toEqual([]);
  });

  it('names every file it cannot read before reading any (unreadableFiles)', () => {
    expect(unreadableFiles([HTTP, '-', path.join(dir, 'nope.json'), dir])).toEqual([
      `${path.join(dir, 'nope.json')}: no such file`,
      `${dir}: it is a directory`,
    ]);
  });

  it('follows a growing exporter file across rotation and truncation until aborted', async () => {
    const file = path.join(dir, 'hubble-events.log');
    const lines = [...flowLines(HTTP), ...flowLines(DNS)];
    fs.writeFileSync(file, `${lines[0]}\n${lines[1]}\n`);
    const ac = new AbortController();
    const seen: FlowFileItem[] = [];
    const done = (async () => {
      for await (const item of readFlowFiles([file], { follow: true, signal: ac.signal, pollIntervalMs: 20 })) seen.push(item);
    })();
    try {
      await followSteps();
    } finally {
      // A failed step must not leave the reader polling: it would keep jest from exiting.
      ac.abort();
      await done;
    }
    expect(seen.map((i) => (i.event?.kind === 'flow' ? i.event.flow : undefined))).toEqual(
      lines.slice(0, 7).map((l) => JSON.parse(l).flow),
    );
    expect(seen.every((i) => i.skip === undefined)).toBe(true);

    async function followSteps(): Promise<void> {
      await waitUntil('seen.length === 2', () => seen.length === 2);
      // A line written in two parts is read once, whole.
      fs.appendFileSync(file, lines[2]!.slice(0, 50));
      await new Promise((r) => setTimeout(r, 100));
      fs.appendFileSync(file, `${lines[2]!.slice(50)}\n`);
      await waitUntil('seen.length === 3', () => seen.length === 3);
      // Rotation: the exporter renames the file and starts a new one.
      fs.appendFileSync(file, `${lines[3]}\n`);
      fs.renameSync(file, `${file}.1`);
      fs.writeFileSync(file, `${lines[4]}\n${lines[5]}\n`);
      await waitUntil('seen.length === 6', () => seen.length === 6);
      // Truncation in place (copytruncate), then new lines.
      fs.truncateSync(file, 0);
      await new Promise((r) => setTimeout(r, 100));
      fs.writeFileSync(file, `${lines[6]}\n`);
      await waitUntil('seen.length === 7', () => seen.length === 7);
    }
  });

  it('starts over when the file is truncated and written past where it had been read before the reader looks', async () => {
    // copytruncate, then the writer goes on: by the next poll the file may be longer than the
    // offset reached in the old content, so its size alone does not show the truncation.
    const file = path.join(dir, 'hubble-events.log');
    const lines = [...flowLines(HTTP), ...flowLines(DNS)];
    fs.writeFileSync(file, `${lines[0]}\n`);
    const ac = new AbortController();
    const seen: FlowFileItem[] = [];
    const done = (async () => {
      for await (const item of readFlowFiles([file], { follow: true, signal: ac.signal, pollIntervalMs: 300 })) seen.push(item);
    })();
    try {
      await waitUntil('seen.length === 1', () => seen.length === 1);
      fs.truncateSync(file, 0);
      fs.writeFileSync(file, `${lines[5]}\n${lines[6]}\n${lines[7]}\n`);
      expect(fs.statSync(file).size).toBeGreaterThan(lines[0]!.length + 1);
      await waitUntil('seen.length >= 4', () => seen.length >= 4);
      await new Promise((r) => setTimeout(r, 400));
    } finally {
      ac.abort();
      await done;
    }
    expect(seen.map((i) => (i.event?.kind === 'flow' ? i.event.flow : i.skip?.reason))).toEqual(
      [lines[0], lines[5], lines[6], lines[7]].map((l) => JSON.parse(l!).flow),
    );
    expect(seen.slice(1).map((i) => i.line)).toEqual([1, 2, 3]);
  });

  it('keeps the lines written just before a rotation, however the rotation falls between polls', async () => {
    // The exporter may append its last lines, rename the file and start a new one at any moment,
    // also between the reader's last read of the old file and its look at the path.
    const file = path.join(dir, 'hubble-events.log');
    const lines = flowLines(HTTP);
    const rounds = 150;
    fs.writeFileSync(file, `${lines[0]}\n`);
    const ac = new AbortController();
    let flows = 0;
    const done = (async () => {
      for await (const item of readFlowFiles([file], { follow: true, signal: ac.signal, pollIntervalMs: 1 })) {
        if (item.event?.kind === 'flow') flows++;
      }
    })();
    try {
      for (let r = 0; r < rounds; r++) {
        await waitUntil('flows === 1 + 2 * r', () => flows === 1 + 2 * r);
        fs.appendFileSync(file, `${lines[1]}\n`);
        fs.renameSync(file, `${file}.1`);
        fs.writeFileSync(file, `${lines[2]}\n`);
      }
      await waitUntil('flows === 1 + 2 * rounds', () => flows === 1 + 2 * rounds);
    } finally {
      ac.abort();
      await done;
    }
    expect(flows).toBe(1 + 2 * rounds);
  });
});
