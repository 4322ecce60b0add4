import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'ensure-test-tools.js');

/** Runs the first step of `npm test` with a PATH that holds only the given tools. */
function runWithTools(tools: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-tools-'));
  for (const tool of tools) {
    const found = (process.env.PATH ?? '')
      .split(path.delimiter)
      .map((d) => path.join(d, tool))
      .find((f) => fs.existsSync(f));
    if (found) fs.symlinkSync(found, path.join(bin, tool));
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT], {
      env: { PATH: bin, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      fs.rmSync(bin, { recursive: true, force: true });
      resolve({ code, stderr });
    });
  });
}

/** `npm test` on a machine that lacks something: a message naming the install command, never a hang. */
describe('scripts/ensure-test-tools.js', () => {
  it('stops naming the apt-get command when prometheus and chromium are missing and installing is off', async () => {
    const res = await runWithTools(['java', 'mvn', 'apt-get'], { HG_TEST_INSTALL_TOOLS: '0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('prometheus: needed by');
    expect(res.stderr).toContain('chromium: needed by');
    expect(res.stderr).toContain('apt-get install -y --no-install-recommends prometheus chromium');
  }, 20_000);

  it('names what to install when java and maven are missing', async () => {
    const res = await runWithTools(['prometheus'], { HG_TEST_INSTALL_TOOLS: '0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('apt-get install openjdk-17-jre-headless');
  }, 20_000);

  it('passes on this machine, where everything is installed', async () => {
    const res = await runWithTools(['java', 'mvn', 'prometheus', 'chromium', 'apt-get']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  }, 60_000);
});
