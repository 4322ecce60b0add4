import { Command } from 'commander';
import { buildProgram } from '../../../src/cli';
import { withSettings } from '../../../src/commands/command-context';

/** The long flags a command offers, by its path of names (`policy export`). */
function flagsOf(...names: string[]): string[] {
  let cmd: Command | undefined = buildProgram();
  for (const name of names) cmd = cmd?.commands.find((c) => c.name() === name);
  if (cmd === undefined) throw new Error(`no command ${names.join(' ')}`);
  return cmd.options.filter((o) => !o.hidden).map((o) => o.long ?? '');
}

describe('the flags each command offers are the settings it reads', () => {
  it('import offers --resume-overlap (how long a held bucket waits for late flows)', () => {
    expect(flagsOf('import')).toEqual(expect.arrayContaining(['--resume-overlap', '--buckets', '--migrate']));
    expect(flagsOf('import')).not.toContain('--hubble-server');
  });

  it('policy export and check offer --buckets (the sizes --since/--until read)', () => {
    expect(flagsOf('policy', 'export')).toContain('--buckets');
    expect(flagsOf('policy', 'check')).toContain('--buckets');
  });

  it('start offers the filters and reconnect settings its collector reads, and none it ignores', () => {
    const flags = flagsOf('start');
    expect(flags).toEqual(
      expect.arrayContaining(['--namespace', '--exclude-namespace', '--resume-overlap', '--reconnect-max', '--listen', '--migrate']),
    );
    for (const ignored of ['--source', '--rate', '--loop', '--retime', '--hubble-server', '--hubble-tls', '--shard-count', '--shard-index'])
      expect(flags).not.toContain(ignored);
  });

  it('run and collect offer every collector, Hubble and filter setting', () => {
    for (const name of ['run', 'collect'])
      expect(flagsOf(name)).toEqual(expect.arrayContaining(['--source', '--hubble-server', '--shard-count', '--namespace', '--migrate']));
  });

  it('a setting key that does not exist is refused when the command is built', () => {
    expect(() => withSettings(new Command('x'), ['hubble.noSuchSetting' as 'hubble'])).toThrow(
      /x: no setting has the key hubble\.noSuchSetting/,
    );
    expect(() => withSettings(new Command('x'), ['collector'], ['collector.sorce'])).toThrow(/collector\.sorce/);
  });
});
