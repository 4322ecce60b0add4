import fs from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../../bench/chromium';
import { PROJECT_ROOT } from '../../src/config';

/** Where browser tests save their screenshots (git-ignored). */
export const SCREENSHOT_DIR = path.join(PROJECT_ROOT, 'test-output', 'screenshots');

export interface TestBrowser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Debian's Chromium with a fresh profile (see bench/chromium.ts: fails at once, naming `apt-get install chromium`, when missing). */
export async function launchBrowser(): Promise<TestBrowser> {
  const chromium = await launchChromium();
  return { context: chromium.context, newPage: () => chromium.context.newPage(), close: () => chromium.close() };
}

/** Saves a screenshot of the page as test output; returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
