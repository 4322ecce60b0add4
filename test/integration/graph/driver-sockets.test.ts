import net from 'node:net';
import { createDriver } from '../../../src/graph/driver';
import { testConfig } from '../../helpers/neo4j';

describe('the Neo4j driver (real Neo4j)', () => {
  it("opens its Bolt sockets with Nagle's algorithm off, so that a statement with a few KB of parameters is not held for the server's delayed ACK", async () => {
    const cfg = testConfig();
    const uri = new URL(cfg.neo4j.uri as string);
    const noDelay = new Map<net.Socket, boolean>();
    const setNoDelay = jest.spyOn(net.Socket.prototype, 'setNoDelay').mockImplementation(function (this: net.Socket, on?: boolean) {
      noDelay.set(this, on !== false);
      return this;
    });
    const driver = createDriver(uri.href, cfg.neo4j);
    try {
      const session = driver.session({ database: cfg.neo4j.database });
      const ids = Array.from({ length: 300 }, (_, i) => `team-${i}/app-${i}-5f7c9d8b8f-x${i}`);
      const result = await session.run('RETURN size($ids) AS n', { ids });
      expect(result.records[0]?.get('n')).toBe(300);
      await session.close();
      const bolt = [...noDelay].filter(([socket]) => socket.remotePort === Number(uri.port));
      expect(bolt.length).toBeGreaterThan(0);
      expect(bolt.every(([, on]) => on)).toBe(true);
    } finally {
      setNoDelay.mockRestore();
      await driver.close();
    }
  });

  it('sends a statement with a megabyte of parameters in Bolt chunks of up to 64 KB, not in hundreds of 1,400-byte writes', async () => {
    const cfg = testConfig();
    const uri = new URL(cfg.neo4j.uri as string);
    const driver = createDriver(uri.href, cfg.neo4j);
    try {
      const session = driver.session({ database: cfg.neo4j.database });
      await session.run('RETURN 1'); // the connection is open before the writes are counted
      const write = jest.spyOn(net.Socket.prototype, 'write'); // calls through
      const rows = Array.from({ length: 5_000 }, (_, i) => ({
        key: `team-${i % 50}/app-${i}-5f7c9d8b8f-x${i}|team-1/db-0|5432|TCP|FORWARDED`,
        flows: i,
      }));
      let writes: number[];
      try {
        const result = await session.run('UNWIND $rows AS row RETURN count(row) AS n, sum(row.flows) AS flows', { rows });
        expect(result.records[0]?.get('n')).toBe(5_000);
        expect(result.records[0]?.get('flows')).toBe((4_999 * 5_000) / 2);
        writes = write.mock.calls
          .map(([chunk], i) => ({ chunk, socket: write.mock.contexts[i] as net.Socket }))
          .filter(({ chunk, socket }) => socket.remotePort === Number(uri.port) && Buffer.isBuffer(chunk))
          .map(({ chunk }) => (chunk as Buffer).length);
      } finally {
        write.mockRestore();
      }
      await session.close();
      const bytes = writes.reduce((a, b) => a + b, 0);
      expect(bytes).toBeGreaterThan(400_000);
      // 1,400-byte chunks took about bytes / 1,400 writes (300 and more here).
      expect(writes.length).toBeLessThanOrEqual(Math.ceil(bytes / 60_000) + 2);
      expect(Math.max(...writes)).toBeGreaterThan(60_000);
    } finally {
      await driver.close();
    }
  });
});
