/**
 * An answer read as an untyped JSON tree: the tests walk GraphQL answers and hand-poisoned flows of many shapes and assert
 * on them, where typing each shape would only repeat the query or the poison. The one `any` of the tests.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type JsonTree = any;
