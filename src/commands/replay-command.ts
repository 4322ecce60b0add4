import { Command } from 'commander';
import { startReplayServer } from '../hubble/replay-server';
import { commandContext, untilSignal, withSettings } from './command-context';

/**
 * `hubble-graph replay FILE... [--listen 127.0.0.1:4245] [--rate N] [--loop] [--retime]`: serves
 * recorded flows as a Hubble server (observer.Observer over gRPC, plain text) until SIGINT/SIGTERM,
 * for `collect`, the `hubble` CLI or any other Hubble client.
 */
export function replayCommand(): Command {
  return withSettings(
    new Command('replay')
      .description('serve recorded Hubble flows over gRPC as a Hubble server (observer.Observer: GetFlows, ServerStatus, GetNodes)')
      .argument(
        '<files...>',
        'flow files: `hubble observe -o jsonpb` output, Hubble exporter files or bare Flow lines; - for stdin; .gz too',
      ),
    ['replay'],
  ).action(async (files: string[], flags: Record<string, unknown>) => {
    const { config, log } = commandContext(flags);
    const { listen, rate, loop, retime } = config.replay;
    const server = await startReplayServer({ files, listen, rate, loop, retime, log });
    // The JSON log above says the same; this line is for people at a terminal.
    if (process.stderr.isTTY)
      process.stderr.write(
        `hubble-graph replay: serving ${server.size} events on ${server.address}` +
          `${rate > 0 ? ` at ${rate} flows/s` : ''}${loop ? ', looping' : ''}${retime ? ', retimed to now' : ''}` +
          ` — try: hubble observe --server ${server.address} --last 20\n`,
      );
    const signal = await untilSignal();
    log.info({ signal }, 'stopping the replay server');
    await server.stop();
  });
}
