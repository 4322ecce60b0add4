import { NodeResume } from '../../../src/hubble/node-resume';

const S = 1_000_000_000n;
const OVERLAP = 2n * S;
const HORIZON = 120n * S;
/** A flow's key as the stream makes it (node and time are enough here). */
const key = (node: string, t: bigint) => `${node}@${t}`;

/** Yields flows of `node` at each of `seconds`. */
function feed(r: NodeResume, node: string, seconds: number[]): void {
  for (const s of seconds) r.yielded(node, key(node, BigInt(s) * S), BigInt(s) * S);
}

/** Which of the offered flows (node, second) a stream asked again would yield. */
function kept(plan: ReturnType<NodeResume['plan']>, offered: Array<[string, number]>): Array<[string, number]> {
  return offered.filter(([node, s]) => {
    const ns = BigInt(s) * S;
    return (plan.sinceNs === undefined || ns >= plan.sinceNs) && !plan.repeated(node, key(node, ns), ns);
  });
}

describe('NodeResume: where a stream asked again starts, node by node', () => {
  it('asks nothing before the first flow', () => {
    expect(new NodeResume(OVERLAP, HORIZON).plan().sinceNs).toBeUndefined();
  });

  it('resumes from the last flow less the overlap, and drops what was yielded', () => {
    const r = new NodeResume(OVERLAP, HORIZON);
    feed(r, 'a', [100, 101, 102]);
    feed(r, 'b', [100, 102]);
    const plan = r.plan();
    expect(plan.sinceNs).toBe(100n * S);
    expect(
      kept(plan, [
        ['a', 100],
        ['a', 101],
        ['a', 102],
        ['a', 103],
        ['b', 101],
        ['b', 102],
        ['b', 104],
      ]),
    ).toEqual([
      ['a', 103],
      ['b', 101], // not yielded before (it came late): kept
      ['b', 104],
    ]);
  });

  it('reaches back for a node that fell behind the others, so that its flows are not lost', () => {
    const r = new NodeResume(OVERLAP, HORIZON);
    feed(r, 'fast', [100, 150, 200]);
    feed(r, 'slow', [100, 120]);
    const plan = r.plan();
    // A single point (the newest, 200 s) would have asked from 198 s and lost slow's 121-197 s.
    expect(plan.sinceNs).toBe(118n * S);
    expect(
      kept(plan, [
        ['slow', 121],
        ['slow', 150],
        ['fast', 150],
        ['fast', 199],
        ['fast', 201],
      ]),
    ).toEqual([
      ['slow', 121],
      ['slow', 150],
      ['fast', 199],
      ['fast', 201],
    ]);
  });

  it('keeps a new node wanted from when it was first listed until it has come, across a second restart', () => {
    const r = new NodeResume(OVERLAP, HORIZON);
    feed(r, 'old', [100, 200]);
    r.listedNew('n1', 150n * S);
    // The first catch-up yields n1's flows up to 170 s, then a second node joins and the stream is asked again.
    feed(r, 'n1', [150, 160, 170]);
    r.listedNew('n2', 190n * S);
    const plan = r.plan(['old', 'n1', 'n2']);
    expect(plan.sinceNs).toBe(168n * S);
    // n1's 171-199 s had not come yet: they come now (they used to be dropped as a known node's).
    expect(
      kept(plan, [
        ['n1', 165],
        ['n1', 171],
        ['n1', 195],
        ['n2', 185],
        ['n2', 191],
        ['old', 180],
        ['old', 201],
      ]),
    ).toEqual([
      ['n1', 171],
      ['n1', 195],
      ['n2', 185],
      ['n2', 191],
      ['old', 201],
    ]);
  });

  it('takes a node that dropped out of one node list back from its own point, repeating nothing', () => {
    const r = new NodeResume(OVERLAP, HORIZON);
    feed(r, 'a', [100, 110]);
    feed(r, 'b', [100, 110]);
    // b is missing from an answer: the stream goes on with a alone.
    feed(r, 'a', [120, 130, 140]);
    expect(r.plan(['a']).sinceNs).toBe(138n * S);
    // b is listed again; it was known, so listing it as new changes nothing.
    r.listedNew('b', 140n * S);
    const plan = r.plan(['a', 'b']);
    expect(plan.sinceNs).toBe(108n * S);
    // b's 107 s lies before its own point less the overlap (yielded); its 109 s is within the overlap and was not.
    expect(
      kept(plan, [
        ['b', 107],
        ['b', 109],
        ['b', 110],
        ['b', 111],
        ['b', 135],
        ['a', 135],
        ['a', 141],
      ]),
    ).toEqual([
      ['b', 109],
      ['b', 111],
      ['b', 135],
      ['a', 141],
    ]);
  });

  it('does not reach back further than the horizon for a node silent for long', () => {
    const r = new NodeResume(OVERLAP, HORIZON);
    feed(r, 'idle', [100]);
    feed(r, 'busy', [100, 400]);
    expect(r.plan().sinceNs).toBe(398n * S);
    expect(r.plan(['idle', 'busy']).sinceNs).toBe(398n * S);
    // Forgotten: when it speaks again, all it sends is new.
    expect(r.knows('idle')).toBe(false);
    expect(kept(r.plan(['idle', 'busy']), [['idle', 399]])).toEqual([['idle', 399]]);
  });
});
