/**
 * Checks `check` every `everyMs` until it holds; fails naming `what` when `timeoutMs` passes first,
 * so a test that waited in vain says what it waited for rather than failing at a later assertion.
 */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
