import net from 'node:net';

/**
 * Counts the writes of this process to sockets connected to `port` while `work` runs: the Bolt
 * requests the driver flushes to Neo4j (each request is one write).
 */
export async function socketWritesDuring(port: number, work: () => Promise<unknown>): Promise<number> {
  const write = net.Socket.prototype.write;
  let writes = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<typeof write>) {
    if (this.remotePort === port) writes++;
    return write.apply(this, args);
  } as typeof write;
  try {
    await work();
  } finally {
    net.Socket.prototype.write = write;
  }
  return writes;
}
