import * as grpc from '@grpc/grpc-js';

/**
 * The observer.Observer methods as grpc-js service definitions whose messages are raw bytes: the
 * codec (hubble-codec.ts) turns bytes into objects on our side, so that the server can send bytes it
 * encoded once and the client decodes straight into the Flow shape.
 */
const toBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const identity = (b: Buffer): Buffer => b;

function method(name: string, responseStream: boolean): grpc.MethodDefinition<Uint8Array, Uint8Array> {
  return {
    path: `/observer.Observer/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: toBuffer,
    requestDeserialize: identity,
    responseSerialize: toBuffer,
    responseDeserialize: identity,
  };
}

export const OBSERVER_SERVICE = {
  GetFlows: method('GetFlows', true),
  ServerStatus: method('ServerStatus', false),
  GetNodes: method('GetNodes', false),
} satisfies grpc.ServiceDefinition;

/** A grpc-js client class for observer.Observer with byte-level messages. */
export const ObserverBytesClient = grpc.makeGenericClientConstructor(OBSERVER_SERVICE, 'Observer');
