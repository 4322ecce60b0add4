import { parse, type FieldNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { selectedFields } from '../../../src/api/selected-fields';

describe('selectedFields', () => {
  it('finds fields under a path through inline fragments and fragment spreads', () => {
    const doc = parse(`
      query { serviceMap { edges { id ...E ... on MapEdge { ports } } totals { flows } } }
      fragment E on MapEdge { verdicts }
    `);
    const op = doc.definitions[0] as OperationDefinitionNode;
    const fieldNodes = [op.selectionSet.selections[0] as FieldNode];
    const fragments = { E: doc.definitions[1] as FragmentDefinitionNode };
    expect([...selectedFields({ fieldNodes, fragments }, ['edges'])].sort()).toEqual(['id', 'ports', 'verdicts']);
    expect([...selectedFields({ fieldNodes, fragments }, ['totals'])]).toEqual(['flows']);
  });
});
