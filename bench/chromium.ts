import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium, which the README's test command installs when it is missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on a machine without GPU or network: the background-networking
 * flags keep it from calling home (it would retry against the closed network all the time).
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** A Chromium with a fresh profile of its own; close() removes the profile. */
export interface ChromiumHandle {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Starts Chromium headless; fails at once, naming the install command, when it is not installed. */
export async function launchChromium(viewport = { width: 1400, height: 900 }): Promise<ChromiumHandle> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the map page's browser tests and bench need it. Install it with: apt-get install chromium`,
    );
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hubble-graph-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
