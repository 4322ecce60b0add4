import fs from 'node:fs';
import path from 'node:path';
import { parse, validate } from 'graphql';
import { buildApiSchema } from '../../src/api/build-api-schema';

const readme = fs.readFileSync(path.resolve(__dirname, '..', '..', 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);

/** Every GraphQL example a user copies from the README is valid against schema.graphql. */
describe('README GraphQL examples', () => {
  it('has examples', () => expect(examples.length).toBeGreaterThanOrEqual(5));

  it.each(examples.map((e) => [e.split('\n')[0].slice(0, 70), e]))('%s', (_, example) => {
    const errors = validate(buildApiSchema(), parse(example));
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});
