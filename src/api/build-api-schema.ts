import fs from 'node:fs';
import path from 'node:path';
import { addResolversToSchema } from '@graphql-tools/schema';
import { GraphQLScalarType, type GraphQLSchema, Kind, type ValueNode, buildSchema } from 'graphql';
import { PROJECT_ROOT } from '../config';
import { invariant } from '../errors';
import { buildResolvers } from './resolvers/build-resolvers';

/** schema.graphql at the project root: the API contract, read at run time. */
export const SCHEMA_PATH = path.join(PROJECT_ROOT, 'schema.graphql');

function literalToJson(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literalToJson(f.value)]));
    case Kind.VARIABLE:
      return undefined;
  }
}

/**
 * Scalars. DateTime inputs stay strings here and are checked by the resolvers, so that a bad value
 * is reported as BAD_USER_INPUT naming the argument.
 */
const SCALARS: Record<string, Pick<GraphQLScalarType, 'serialize' | 'parseValue' | 'parseLiteral'>> = {
  DateTime: {
    serialize: (v) => (v instanceof Date ? v.toISOString() : String(v)),
    parseValue: (v) => v,
    parseLiteral: (node) => (node.kind === Kind.STRING ? node.value : literalToJson(node)),
  },
  Count: {
    serialize: (v) => {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new TypeError(`Count cannot represent ${String(v)}`);
      return n;
    },
    parseValue: (v) => v,
    parseLiteral: (node) => literalToJson(node),
  },
  JSON: {
    serialize: (v) => v,
    parseValue: (v) => v,
    parseLiteral: (node) => literalToJson(node),
  },
};

/**
 * Builds the executable schema: schema.graphql plus the resolvers (typed by the types generated from
 * it) and scalars. A resolver for a type or field the schema lacks, or a query field without a
 * resolver, stops the build.
 */
export function buildApiSchema(source: string = fs.readFileSync(SCHEMA_PATH, 'utf8')): GraphQLSchema {
  // In place: the fields keep graphql-js's default resolver where none is given (no wrapping).
  const schema = addResolversToSchema({
    schema: buildSchema(source),
    resolvers: buildResolvers(),
    updateResolversInPlace: true,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
  for (const [name, impl] of Object.entries(SCALARS)) {
    const scalar = schema.getType(name);
    invariant(scalar instanceof GraphQLScalarType, `schema.graphql lacks scalar ${name}`);
    scalar.serialize = impl.serialize;
    scalar.parseValue = impl.parseValue;
    scalar.parseLiteral = impl.parseLiteral;
  }
  for (const field of Object.values(schema.getQueryType()?.getFields() ?? {})) {
    invariant(field.resolve, `Query.${field.name} has no resolver`);
  }
  return schema;
}
