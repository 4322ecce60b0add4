import type http from 'node:http';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { ERROR_CODE } from '../api-errors';
import type { ApiCore } from '../create-api-core';

/** The WebSocket adapter, running on an HTTP server. */
export interface WsAdapter {
  /** Closes every socket (1001) and the WebSocket server itself. */
  dispose(): Promise<void>;
}

/**
 * GraphQL over WebSocket (graphql-ws, protocol graphql-transport-ws) on the core, on `server` at
 * `path`: the bearer token is checked once, at connection_init (`{authorization: "Bearer <token>"}`);
 * a socket whose token a tokens-file change revokes is closed (4403). Every operation goes through
 * the core's prepare (precheck, parse, validate, admit, a bounded context).
 */
export function useGraphqlWs(core: ApiCore, server: http.Server, path: string): WsAdapter {
  const wss = new WebSocketServer({ server, path });
  // The authorization each open socket was let in with, so that a tokens-file change can close the revoked ones.
  const socketAuth = new Map<WebSocket, unknown>();
  const stopListening = core.onTokensChange(() => {
    for (const [socket, auth] of socketAuth) {
      if (core.authenticate(auth) !== 'accepted') socket.close(CloseCode.Forbidden, 'Forbidden: token revoked');
    }
  });
  const wsServer = useServer<Record<string, unknown>>(
    {
      schema: core.schema,
      onConnect: (ctx) => {
        if (!core.authEnabled) return true;
        const auth = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
        const outcome = core.authenticate(auth);
        if (outcome === 'missing') {
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized: connection_init payload needs {authorization: "Bearer <token>"}');
          return false;
        }
        if (outcome === 'refused') return false;
        const socket = ctx.extra.socket;
        socketAuth.set(socket, auth);
        socket.once('close', () => socketAuth.delete(socket));
        return true;
      },
      onSubscribe: (_ctx, _id, payload) => {
        const prepared = core.prepare(payload, 'ws');
        return prepared.ok ? prepared.args : [...prepared.errors];
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return;
        return { ...result, errors: result.errors.map((e) => core.formatError(e.toJSON(), e, ERROR_CODE.internal)) };
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => core.formatError(e.toJSON(), e, ERROR_CODE.badUserInput)),
    },
    wss,
  );
  return {
    async dispose() {
      stopListening();
      await wsServer.dispose();
    },
  };
}
