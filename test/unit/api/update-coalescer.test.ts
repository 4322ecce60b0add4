import { UpdateCoalescer } from '../../../src/api/update-coalescer';

describe('UpdateCoalescer', () => {
  it('emits the first change of an edge at once and holds later ones until the interval passed', () => {
    const c = new UpdateCoalescer<string>(1000);
    expect(c.offer('e1', 'v1', 0)).toEqual(['v1']);
    expect(c.offer('e1', 'v2', 100)).toEqual([]);
    expect(c.offer('e1', 'v3', 200)).toEqual([]);
    expect(c.offer('e2', 'w1', 300)).toEqual(['w1']);
    expect(c.due(900)).toEqual([]);
    expect(c.due(1000)).toEqual(['v3']);
    expect(c.due(1500)).toEqual([]);
    expect(c.offer('e1', 'v4', 1600)).toEqual([]);
    expect(c.due(2000)).toEqual(['v4']);
  });

  it('forgets quiet edges so that memory stays bounded', () => {
    const c = new UpdateCoalescer<number>(100);
    for (let i = 0; i < 1000; i += 1) c.offer(`e${i}`, i, 0);
    c.due(1000);
    expect(c.heldCount).toBe(0);
    expect(c.offer('e1', 1, 1000)).toEqual([1]);
  });

  it('emits everything when the interval is 0', () => {
    const c = new UpdateCoalescer<number>(0);
    expect(c.offer('e', 1, 0)).toEqual([1]);
    expect(c.offer('e', 2, 0)).toEqual([2]);
  });
});
