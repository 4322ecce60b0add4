import { ResumeGate } from '../../../src/collector/resume-gate';
import { ResumeTracker } from '../../../src/collector/resume-tracker';

/** A resume point from a tracker that took in flows k0..k9 at times 1000..1009 (ms), overlap 3 ms. */
function committed() {
  const tracker = new ResumeTracker(3);
  for (let i = 0; i < 10; i++) tracker.note(`k${i}`, 1000 + i);
  return tracker.snapshot()!;
}

describe('ResumeTracker', () => {
  it('keeps the keys of the flows dated within the overlap of the latest one', () => {
    const point = committed();
    expect(point.watermarkMs).toBe(1009);
    expect(point.overlapMs).toBe(3);
    expect(point.committedKeys.byteLength).toBe(4 * 8); // 1006..1009
  });

  it("carries the previous run's keys until the watermark has moved past them by the overlap", () => {
    const tracker = new ResumeTracker(3, committed());
    tracker.note('n1', 1010);
    expect(tracker.snapshot()!.committedKeys.byteLength).toBe((1 + 4) * 8);
    tracker.note('n2', 1013);
    expect(tracker.snapshot()!.committedKeys.byteLength).toBe(2 * 8);
  });
});

describe('ResumeGate', () => {
  it('tells committed flows from new ones by time, and by key within the overlap', () => {
    const gate = new ResumeGate(committed());
    expect(gate.classify('k0', 1000)).toBe('committed'); // before the overlap
    expect(gate.classify('k7', 1007)).toBe('committed');
    expect(gate.classify('other', 1007)).toBe('new');
    expect(gate.classify('k9', 1010)).toBe('new'); // after the watermark
  });

  it('opens once every committed key of the overlap has come again', () => {
    const gate = new ResumeGate(committed());
    for (const i of [9, 6, 8]) gate.classify(`k${i}`, 1000 + i);
    expect(gate.open).toBe(false);
    expect(gate.missing).toBe(1);
    gate.classify('k7', 1007);
    expect(gate.open).toBe(true);
    expect(gate.classify('k7', 1007)).toBe('committed'); // sent once more: still committed
  });

  it('opens when a flow dated more than the overlap after the watermark arrives', () => {
    const gate = new ResumeGate(committed());
    gate.classify('late', 1012);
    expect(gate.open).toBe(false);
    gate.classify('later', 1013);
    expect(gate.open).toBe(true);
  });
});
