import { backoffDelayMs } from '../../../src/hubble/observer-client';

describe('backoffDelayMs', () => {
  it('doubles from the minimum up to the maximum', () => {
    const top = () => 1; // jitter at its top: the full delay
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelayMs(n, 250, 2000, top))).toEqual([250, 500, 1000, 2000, 2000, 2000]);
  });

  it('jitters between half and the full delay', () => {
    expect(backoffDelayMs(3, 250, 30_000, () => 0)).toBe(500);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelayMs(4, 250, 30_000);
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });
});
