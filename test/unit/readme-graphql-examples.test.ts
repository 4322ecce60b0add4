import fs from 'node:fs';
import path from 'node:path';
import { getOperationAST, parse, validate } from 'graphql';
import { buildApiSchema } from '../../src/api/build-api-schema';
import { checkOperation } from '../../src/api/check-operation';
import { loadConfig } from '../../src/config';

const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** Every GraphQL example a user copies from the README is valid against schema.graphql. */
describe('README GraphQL examples', () => {
  it('has examples', () => expect(examples.length).toBeGreaterThanOrEqual(5));

  it.each(examples.map((e) => [e.split('\n')[0]!.slice(0, 70), e]))('%s', (_, example) => {
    const errors = validate(buildApiSchema(), parse(example));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it.each(examples.map((e) => [e.split('\n')[0]!.slice(0, 70), e]))(
    '%s stays within the default root-field and cost limits',
    (_, example) => {
      const { api } = loadConfig({ env: {} });
      const document = parse(example);
      const refused = checkOperation(buildApiSchema(), document, getOperationAST(document)!, {}, 'http', api);
      expect(refused?.message).toBeUndefined();
    },
  );
});
