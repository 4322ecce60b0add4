import os from 'node:os';
import { defaultCollectorId } from '../../../src/collector/default-collector-id';
import { SETTINGS } from '../../../src/config';

describe('defaultCollectorId', () => {
  it('names a following collector after the host, so that a restart on the host resumes where it left off', () => {
    expect(defaultCollectorId('collect')).toBe(os.hostname());
    expect(defaultCollectorId('prometheus')).toBe(`${os.hostname()}-prometheus`);
  });

  it('gives an import an id of its own, never the one of a collector running beside it', () => {
    expect(defaultCollectorId('import')).toBe(`${os.hostname()}-import-${process.pid}`);
    expect(defaultCollectorId('import')).not.toBe(defaultCollectorId('collect'));
  });

  it('names a follower after the host and the followed file, the same for the same file whatever the path given', () => {
    const id = defaultCollectorId('follow', '/var/run/cilium/hubble/events.log');
    expect(id).toMatch(new RegExp(`^${os.hostname()}-follow-events\\.log-[0-9a-f]{8}$`));
    expect(defaultCollectorId('follow', '/var/run/cilium/hubble/../hubble/events.log')).toBe(id);
    expect(defaultCollectorId('follow', '/var/log/other/events.log')).not.toBe(id);
    expect(id).not.toBe(defaultCollectorId('collect'));
  });

  it('is described as it is in the help of --collector-id', () => {
    const help = SETTINGS.find((s) => s.flag === 'collector-id')!.help;
    expect(help).toContain(
      'the hostname for collect, run and start; hostname-import-pid for import; hostname-follow-FILE-HASH for import --follow',
    );
  });
});
