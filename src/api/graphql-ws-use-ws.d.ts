// graphql-ws publishes `graphql-ws/use/ws` through package.json "exports", which TypeScript's
// "node" module resolution (this project's) does not read; point the types at the same file.
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
