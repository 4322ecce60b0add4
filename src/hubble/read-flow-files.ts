import fs from 'node:fs';
import readline from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import type { HubbleEvent } from '../flows/flow';
import { type SkipReason, parseFlowLine } from './parse-flow-line';
import { sleep } from '../sleep';

/**
 * How much of a followed file's beginning is kept to notice that it was truncated and written again:
 * a flow line's first bytes hold its time (and the exporter's, its uuid), so new content differs there.
 */
const HEAD_BYTES = 256;

/** One item read from a flow file: an event, a skipped line with its reason, or a file that could not be read on. */
export interface FlowFileItem {
  event?: HubbleEvent;
  skip?: { reason: SkipReason; message: string };
  /**
   * The file could not be read (on): missing, a directory, a truncated or not-gzip `.gz`. Names the
   * file and the last line read; what came before it was yielded, and reading goes on with the next file.
   */
  failed?: string;
  /** The path as given (`-` for stdin). */
  file: string;
  /** 1-based line number within the file (restarts at 1 after a rotation in follow mode). */
  line: number;
}

/** Where reading stands, for a progress display. */
export interface ReadProgress {
  /** The file being read (as given). */
  file: string;
  /** 0-based index of that file in the list. */
  fileIndex: number;
  files: number;
  /** Lines read so far in all files, blank ones included. */
  linesRead: number;
  /** Bytes read from disk so far in all files (compressed bytes for .gz). */
  bytesRead: number;
  /** Total size of all files on disk when reading started; undefined when stdin is among them. */
  totalBytes?: number;
}

export interface ReadFlowFilesOptions {
  /**
   * Keep reading the last file as it grows, following it across rotation (rename and recreate,
   * detected by a new inode) and truncation, until `signal` aborts. Not for `.gz` or stdin
   * (stdin is read until it ends anyway). Default false.
   */
  follow?: boolean;
  /** Stops reading; the iteration ends without an error. */
  signal?: AbortSignal;
  /** In follow mode, how often the file is checked for new data, in ms. Default 200. */
  pollIntervalMs?: number;
  /** Standard input, for `-` (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

/** The stream of items, with the current progress. */
export interface FlowFileStream extends AsyncIterable<FlowFileItem> {
  progress(): ReadProgress;
}

/**
 * Reads flow files line by line: `hubble observe -o jsonpb` output, Hubble exporter files and bare
 * Flow lines (see parseFlowLine); `-` is stdin, `*.gz` is gunzipped. Malformed lines come out as
 * `skip` items and reading goes on; a file that cannot be read on comes out as a `failed` item and
 * reading goes on with the next. Blank lines and ignored event kinds yield nothing.
 */
export function readFlowFiles(paths: readonly string[], options: ReadFlowFilesOptions = {}): FlowFileStream {
  const progress: ReadProgress = { file: paths[0] ?? '', fileIndex: 0, files: paths.length, linesRead: 0, bytesRead: 0 };
  let total = 0;
  let known = true;
  for (const p of paths) {
    if (p === '-') known = false;
    else {
      try {
        total += fs.statSync(p).size;
      } catch {
        // Reported when the file is opened.
      }
    }
  }
  if (known) progress.totalBytes = total;

  async function* items(): AsyncGenerator<FlowFileItem> {
    for (const [i, file] of paths.entries()) {
      if (options.signal?.aborted) return;
      progress.file = file;
      progress.fileIndex = i;
      const tail = options.follow === true && i === paths.length - 1 && file !== '-' && !file.endsWith('.gz');
      const lines = tail
        ? tailLines(file, options.signal, options.pollIntervalMs ?? 200, (n) => (progress.bytesRead += n))
        : streamLines(file, options, (n) => (progress.bytesRead += n));
      let last = 0;
      try {
        for await (const { text, line } of lines) {
          last = line;
          progress.linesRead++;
          const parsed = parseFlowLine(text);
          if (!parsed.ok) yield { skip: { reason: parsed.reason, message: parsed.message }, file, line };
          else if (parsed.event) yield { event: parsed.event, file, line };
        }
      } catch (err) {
        yield { failed: `cannot read ${file}${last > 0 ? ` after line ${last}` : ''}: ${readProblem(err)}`, file, line: last };
      }
    }
  }

  return { [Symbol.asyncIterator]: () => items(), progress: () => ({ ...progress }) };
}

/**
 * What is wrong with each file that cannot be read (missing, a directory, not readable), one line per
 * file, so that a command can refuse all of them before it reads any (stdin, `-`, is not checked).
 */
export function unreadableFiles(paths: readonly string[]): string[] {
  const problems: string[] = [];
  for (const p of paths) {
    if (p === '-') continue;
    try {
      if (fs.statSync(p).isDirectory()) problems.push(`${p}: it is a directory`);
      else fs.accessSync(p, fs.constants.R_OK);
    } catch (err) {
      problems.push(`${p}: ${readProblem(err)}`);
    }
  }
  return problems;
}

/** What went wrong reading a file, in words: the errno's meaning, or what gunzip said. */
function readProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
      return 'permission denied';
    case 'Z_BUF_ERROR':
      return 'the gzip data ends early (a truncated .gz)';
    case 'Z_DATA_ERROR':
      return `not gzip data, or damaged (${e.message})`;
    default:
      return e.message ?? String(err);
  }
}

interface NumberedLine {
  text: string;
  line: number;
}

/** Lines of a whole file (or stdin), gunzipped when the name ends in .gz. */
async function* streamLines(file: string, options: ReadFlowFilesOptions, onBytes: (n: number) => void): AsyncGenerator<NumberedLine> {
  const raw: NodeJS.ReadableStream = file === '-' ? (options.stdin ?? process.stdin) : fs.createReadStream(file);
  raw.on('data', (chunk: Buffer | string) => onBytes(chunk.length));
  let input: NodeJS.ReadableStream = raw;
  // A .gz of no bytes at all is an empty file (as zcat -f reads it), not a truncated one.
  if (file.endsWith('.gz') && !(file !== '-' && fs.statSync(file).size === 0)) {
    const gunzip = zlib.createGunzip();
    raw.on('error', (err) => gunzip.destroy(err));
    input = raw.pipe(gunzip);
  }
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  const onAbort = () => rl.close();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      yield { text, line };
      if (options.signal?.aborted) return;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    rl.close();
    if (file !== '-') (raw as fs.ReadStream).destroy();
  }
}

/**
 * Lines of a growing file, like `tail -F` from the beginning: waits for more at the end, reopens the
 * path when it is replaced (new inode: the old file was rotated away, after reading what was left
 * in it) and starts over when the file was truncated: when it is shorter than what was read, or no
 * longer begins with the bytes it began with (truncated and written past that point between two
 * looks). A last line without newline is held back until its newline arrives. Ends when the signal
 * aborts.
 */
async function* tailLines(
  file: string,
  signal: AbortSignal | undefined,
  pollMs: number,
  onBytes: (n: number) => void,
): AsyncGenerator<NumberedLine> {
  const buf = Buffer.alloc(1 << 16);
  let fh: fs.promises.FileHandle | undefined;
  let ino: number;
  let pos = 0;
  let line = 0;
  let decoder = new StringDecoder('utf8');
  let pending = '';
  // The file's first bytes as read (up to HEAD_BYTES), and room to read them again.
  const head = Buffer.alloc(HEAD_BYTES);
  const headNow = Buffer.alloc(HEAD_BYTES);
  let headLength = 0;
  const startOver = () => {
    pos = 0;
    line = 0;
    pending = '';
    decoder = new StringDecoder('utf8');
    headLength = 0;
  };
  /** Whether the file still begins with the bytes read from its beginning. */
  const sameHead = async (): Promise<boolean> => {
    if (!fh || headLength === 0) return true;
    const { bytesRead } = await fh.read(headNow, 0, headLength, 0);
    return bytesRead === headLength && headNow.compare(head, 0, headLength, 0, headLength) === 0;
  };

  const open = async (): Promise<boolean> => {
    try {
      fh = await fs.promises.open(file, 'r');
      ino = (await fh.stat()).ino;
      startOver();
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  };

  try {
    // The first open must succeed: a missing file is an error the user should see.
    fh = await fs.promises.open(file, 'r');
    ino = (await fh.stat()).ino;
    while (!signal?.aborted) {
      if (fh) {
        // Truncated and written again past `pos` since the last look: what lies at `pos` now is
        // the middle of other lines.
        if (!(await sameHead())) {
          startOver();
          continue;
        }
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead > 0) {
          if (pos < HEAD_BYTES && pos === headLength) {
            const n = Math.min(bytesRead, HEAD_BYTES - pos);
            buf.copy(head, pos, 0, n);
            headLength += n;
          }
          pos += bytesRead;
          onBytes(bytesRead);
          const parts = (pending + decoder.write(buf.subarray(0, bytesRead))).split('\n');
          pending = parts.pop() ?? '';
          for (const p of parts) {
            line++;
            yield { text: p.endsWith('\r') ? p.slice(0, -1) : p, line };
          }
          continue;
        }
      }
      // At the end of what we have: rotated, truncated, or just nothing new yet?
      let st: fs.Stats | undefined;
      try {
        st = await fs.promises.stat(file);
      } catch {
        st = undefined; // renamed away and not yet recreated
      }
      if (st && st.ino !== ino) {
        // Rotated. The writer may have appended to the old file after our last read and before it
        // renamed it: read the old handle to its end again before leaving it.
        if (fh && (await fh.stat()).size > pos) continue;
        // What is left unterminated in the old file is a line.
        if (pending !== '') {
          line++;
          yield { text: pending, line };
        }
        await fh?.close();
        fh = undefined;
        if (await open()) continue;
      } else if (st && fh && st.size < pos) {
        startOver(); // truncated in place (copytruncate)
        continue;
      }
      await sleep(pollMs, signal);
    }
  } finally {
    await fh?.close();
  }
}
