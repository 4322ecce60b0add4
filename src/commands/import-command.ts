import { Command } from 'commander';
import { defaultCollectorId } from '../collector/default-collector-id';
import { startCollectorRuntime, stopIfThrows } from '../collector/start-collector-runtime';
import { startFlowPipeline } from '../collector/start-flow-pipeline';
import { openGraph } from '../graph/open-graph';
import { readResumePoint } from '../graph/read-resume-point';
import { InputError } from '../errors';
import { readFlowFiles, type ReadProgress, unreadableFiles } from '../hubble/read-flow-files';
import { commandContext, untilSignal, withSettings } from './command-context';
import { VERSION } from '../build-info';

function formatProgress(p: ReadProgress, flows: number, startedMs: number): string {
  const secs = Math.max((Date.now() - startedMs) / 1000, 0.001);
  const pct = p.totalBytes ? ` ${((100 * p.bytesRead) / p.totalBytes).toFixed(1)}%` : '';
  return `importing ${p.file} (${p.fileIndex + 1}/${p.files})${pct}: ${p.linesRead} lines, ${flows} flows, ${Math.round(flows / secs)} flows/s`;
}

/** `hubble-graph import FILE...`: jsonpb / exporter / bare-flow files into the graph. */
export function importCommand(): Command {
  return withSettings(
    new Command('import')
      .description(
        'import Hubble flows from files: `hubble observe -o jsonpb` output, Hubble exporter files, bare Flow lines; - for stdin; .gz too',
      )
      .argument('<files...>', 'files to read (- for standard input)')
      .option(
        '--follow',
        'keep reading the last file as it grows, across rotation, until SIGINT/SIGTERM; started again with the same collector id, counts only what the previous run did not commit',
      )
      .option('--no-progress', 'no progress line on a terminal'),
    // HG_RESUME_OVERLAP: how long a held bucket stays open for late flows (and, with --follow, the resume overlap).
    ['neo4j', 'local', 'collector', 'time', 'hubble.resumeOverlapMs'],
  ).action(async (files: string[], flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    // Every file is checked before anything is read or written: a typo in the last name must not
    // leave the files before it counted, to be counted again when the import is run once more.
    const unreadable = unreadableFiles(files);
    if (unreadable.length > 0) throw new InputError(`cannot import, nothing was read:\n  ${unreadable.join('\n  ')}`);
    const graph = await openGraph(config, log, { migrate: config.collector.migrate });
    const abort = new AbortController();
    void untilSignal().then((signal) => {
      log.info({ signal }, 'stopping: final flush');
      abort.abort();
    });
    const follow = flags.follow === true;
    const runtime = await startCollectorRuntime({
      config,
      log,
      executor: graph.executor,
      serveHealth: follow,
      signal: abort.signal,
      defaultId: follow ? defaultCollectorId('follow', files[files.length - 1] ?? '') : defaultCollectorId('import'),
    });
    // Another process took the id over (two followers of one file): stop reading; the summary says written: false.
    runtime.lost.addEventListener('abort', () => abort.abort(), { once: true });
    // Following, a restart with the same collector id reads the files from their start again and
    // counts only what the previous run did not commit (the resume point, as for `collect`); a plain
    // import counts what it reads.
    const { resumedFrom, collector } = await stopIfThrows(runtime, async () => {
      const resumedFrom = follow ? await readResumePoint(graph.executor, runtime.collectorId) : undefined;
      const collector = startFlowPipeline(runtime, {
        config,
        log,
        source: 'file',
        ...(follow ? { resume: { overlapMs: config.hubble.resumeOverlapMs, start: resumedFrom } } : {}),
      });
      return { resumedFrom, collector };
    });
    log.info(
      {
        collectorId: runtime.collectorId,
        runId: runtime.runId,
        source: 'file',
        version: VERSION,
        ...(resumedFrom ? { resumeFrom: { watermark: new Date(resumedFrom.watermarkMs).toISOString() } } : {}),
      },
      'collector started',
    );
    const stream = readFlowFiles(files, { follow, signal: abort.signal });
    const startedMs = Date.now();
    const tty = process.stderr.isTTY && flags.progress !== false;
    const progressTimer = setInterval(
      () => {
        const line = formatProgress(stream.progress(), collector.snapshot().flowsIngested, startedMs);
        if (tty) process.stderr.write(`\r${line}\x1b[K`);
        else log.info({ progress: stream.progress(), flowsIngested: collector.snapshot().flowsIngested }, 'import progress');
      },
      tty ? 500 : 10_000,
    );
    progressTimer.unref();
    // A file that breaks off (a truncated .gz) keeps what was read of it; the import goes on with the next.
    const failedFiles: string[] = [];
    try {
      let n = 0;
      for await (const item of stream) {
        if (item.event) collector.ingest(item.event, { file: item.file, line: item.line });
        else if (item.skip) collector.skip(item.skip.reason, { file: item.file, line: item.line, message: item.skip.message });
        else if (item.failed !== undefined) {
          failedFiles.push(item.failed);
          log.error(
            { file: item.file, line: item.line, err: item.failed },
            'file not read to its end; what was read of it is counted, the import goes on',
          );
        }
        if (++n % 256 === 0) collector.flusher.notify();
        if (abort.signal.aborted) break;
      }
    } finally {
      clearInterval(progressTimer);
      if (tty) process.stderr.write('\n');
      const flushed = await runtime.stop();
      await graph.close();
      const s = collector.snapshot();
      const p = stream.progress();
      process.stdout.write(
        `${JSON.stringify({
          collectorId: runtime.collectorId,
          linesRead: p.linesRead,
          flowsRead: s.flowsReceived,
          flowsIngested: s.flowsIngested,
          skipped: s.skippedByReason,
          fieldsDropped: s.fieldsDropped,
          deadLetterRows: runtime.deadLetterRows,
          hubbleLostEvents: s.lostEvents,
          unmanaged: s.unmanagedPods,
          written: flushed,
          ...(failedFiles.length > 0 ? { failedFiles } : {}),
        })}\n`,
      );
      if (s.unmanagedPods.length > 0) {
        log.warn(
          { unmanaged: s.unmanagedPods.slice(0, 20) },
          'some endpoints are not managed by Cilium (started before Cilium?): restart those pods so Cilium manages them',
        );
      }
      if (!flushed || failedFiles.length > 0) process.exitCode = 1;
    }
  });
}
