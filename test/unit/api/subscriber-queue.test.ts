import { SubscriberQueue } from '../../../src/api/subscriber-queue';

describe('SubscriberQueue', () => {
  it('hands events to a waiting reader and buffers the rest in order', async () => {
    const q = new SubscriberQueue<number>(() => undefined);
    const first = q.next();
    q.push(1);
    q.push(2);
    q.push(3);
    expect(await first).toEqual({ value: 1, done: false });
    expect(await q.next()).toEqual({ value: 2, done: false });
    expect(await q.next()).toEqual({ value: 3, done: false });
  });

  it('drops the oldest events of a slow reader and counts them', async () => {
    const q = new SubscriberQueue<number>(() => undefined, 2);
    for (let i = 1; i <= 5; i += 1) q.push(i);
    expect(q.dropped).toBe(3);
    expect(await q.next()).toEqual({ value: 4, done: false });
  });

  it('ends a pending read and tells its owner once when returned', async () => {
    const onClose = jest.fn();
    const q = new SubscriberQueue<number>(onClose);
    const pending = q.next();
    await q.return();
    await q.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(onClose).toHaveBeenCalledTimes(1);
    q.push(1);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});
