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
});
