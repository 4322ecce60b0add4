import type http from 'node:http';
import { ERROR_CODE } from '../api-errors';

/** A request body past HG_API_MAX_BODY_BYTES is still read (and thrown away) up to this many times that size, so that the client gets its 413; beyond, the connection is closed. */
const BODY_DRAIN_FACTOR = 64;

/** An HTTP answer other than GraphQL's: status, code and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The request body, at most `maxBytes`. A larger body is read to its end and thrown away, so that
 * the client, still sending, receives the 413 instead of a reset connection; only a body far beyond
 * the limit (BODY_DRAIN_FACTOR) has its connection closed.
 */
export function readBody(req: http.IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    let tooLarge = false;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (tooLarge) {
        if (size > maxBytes * BODY_DRAIN_FACTOR) req.destroy();
        return;
      }
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge)
        reject(new HttpError(413, ERROR_CODE.payloadTooLarge, `request body larger than ${maxBytes} bytes (HG_API_MAX_BODY_BYTES)`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}
