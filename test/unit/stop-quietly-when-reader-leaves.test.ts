import { EventEmitter } from 'node:events';
import { stopQuietlyWhenReaderLeaves } from '../../src/cli';

const errorWithCode = (code: string) => Object.assign(new Error(`write ${code}`), { code });

describe('stopQuietlyWhenReaderLeaves', () => {
  it('stops once when the reader goes away, however many writes fail after it', () => {
    const stream = new EventEmitter();
    let stops = 0;
    stopQuietlyWhenReaderLeaves(stream, () => stops++);
    stream.emit('error', errorWithCode('EPIPE'));
    stream.emit('error', errorWithCode('EPIPE'));
    stream.emit('error', errorWithCode('ERR_STREAM_DESTROYED'));
    expect(stops).toBe(1);
  });

  it('stops as well when the reader was a socket that reset the connection (a parent process that stopped reading)', () => {
    const stream = new EventEmitter();
    let stops = 0;
    stopQuietlyWhenReaderLeaves(stream, () => stops++);
    stream.emit('error', errorWithCode('ECONNRESET'));
    stream.emit('error', errorWithCode('EPIPE'));
    expect(stops).toBe(1);
  });

  it('lets other write errors through', () => {
    const stream = new EventEmitter();
    stopQuietlyWhenReaderLeaves(stream, () => undefined);
    expect(() => stream.emit('error', errorWithCode('ENOSPC'))).toThrow('write ENOSPC');
  });
});
