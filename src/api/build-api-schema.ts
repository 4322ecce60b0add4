import fs from 'node:fs';
import path from 'node:path';
import {
  GraphQLInterfaceType,
  GraphQLObjectType,
  GraphQLScalarType,
  type GraphQLSchema,
  Kind,
  type ValueNode,
  buildSchema,
} from 'graphql';
import { PROJECT_ROOT } from '../config';
import { invariant } from '../errors';
import { buildResolvers } from './resolvers';

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

/** Builds the executable schema: schema.graphql plus the resolvers and scalars, checked against each other. */
export function buildApiSchema(source: string = fs.readFileSync(SCHEMA_PATH, 'utf8')): GraphQLSchema {
  const schema = buildSchema(source);
  const resolvers = buildResolvers();
  for (const [typeName, fields] of Object.entries(resolvers)) {
    const type = schema.getType(typeName);
    invariant(type instanceof GraphQLObjectType, `resolvers for unknown object type ${typeName}`);
    const defs = type.getFields();
    for (const [fieldName, resolver] of Object.entries(fields)) {
      const field = defs[fieldName];
      invariant(field, `resolver for unknown field ${typeName}.${fieldName}`);
      if (typeof resolver === 'function') field.resolve = resolver as never;
      else {
        field.subscribe = resolver.subscribe as never;
        field.resolve = resolver.resolve as never;
      }
    }
  }
  const endpoint = schema.getType('Endpoint');
  invariant(endpoint instanceof GraphQLInterfaceType, 'schema.graphql lacks interface Endpoint');
  endpoint.resolveType = (value: { __typename?: string }) => value.__typename;
  for (const [name, impl] of Object.entries(SCALARS)) {
    const scalar = schema.getType(name);
    invariant(scalar instanceof GraphQLScalarType, `schema.graphql lacks scalar ${name}`);
    scalar.serialize = impl.serialize;
    scalar.parseValue = impl.parseValue;
    scalar.parseLiteral = impl.parseLiteral;
  }
  for (const field of Object.values((schema.getQueryType() as GraphQLObjectType).getFields())) {
    invariant(field.resolve, `Query.${field.name} has no resolver`);
  }
  return schema;
}
