import { type OperationDefinitionNode, getOperationAST, parse } from 'graphql';
import type { GraphReader } from '../../../src/api/read-graph';
import { VersionedAnswers, isVersionedOperation } from '../../../src/api/versioned-answers';

const operationOf = (query: string): OperationDefinitionNode => getOperationAST(parse(query))!;

describe('isVersionedOperation: answers that depend on the graph version, the document and its variables alone', () => {
  it.each([
    ['the all-time maps', '{ serviceMap(filter: {level: POD}) { level } }'],
    [
      'the Hubble UI and gluenet shapes',
      'query Q($ns: String!) { hubbleServiceMap(namespace: $ns) { services { id } } dag(namespace: $ns) { dag_nodes { id } } }',
    ],
    ['an aliased map with __typename', '{ m: serviceMap { level } __typename }'],
  ])('keeps %s', (_name, query) => {
    expect(isVersionedOperation(operationOf(query))).toBe(true);
  });

  it.each([
    ['a map with a range (relative ranges move with the clock)', '{ serviceMap(range: {since: "-15m"}) { level } }'],
    ['a map with a range in a variable', 'query Q($r: TimeRange) { serviceMap(range: $r) { level } }'],
    ['a map asked beside another root field', '{ serviceMap { level } stats { calls } }'],
    ['root fields through a fragment', 'query { ...M } fragment M on Query { serviceMap { level } }'],
    ['a subscription', 'subscription { callAdded { key } }'],
  ])('does not keep %s', (_name, query) => {
    expect(isVersionedOperation(operationOf(query))).toBe(false);
  });
});

/** A reader that answers the graph-version read with `version.seq` (the only read VersionedAnswers makes). */
function versionReader(version: { seq: number }): GraphReader & { reads: number } {
  const reader = {
    reads: 0,
    async read<T>(): Promise<T[]> {
      reader.reads++;
      return [{ seq: version.seq, at: '2026-12-05T00:00:00Z' } as T];
    },
    async readTx<T>(): Promise<T> {
      throw new Error('VersionedAnswers reads the version only');
    },
  };
  return reader;
}

describe('VersionedAnswers', () => {
  const MAP = operationOf('{ serviceMap { level } }');

  it('gives the kept answer for the same key at the same version, and asks again once the version moves', async () => {
    const version = { seq: 7 };
    const reader = versionReader(version);
    const looked: boolean[] = [];
    const answers = new VersionedAnswers(8, (hit) => looked.push(hit));
    const first = await answers.find(MAP, ['h', null, {}], reader);
    expect(first?.answer).toBeUndefined();
    if (first && first.answer === undefined) first.keep({ data: { serviceMap: { level: 'POD' } } });
    expect((await answers.find(MAP, ['h', null, {}], reader))?.answer).toEqual({ data: { serviceMap: { level: 'POD' } } });
    // Other variables are another answer.
    expect((await answers.find(MAP, ['h', null, { ns: 'a' }], reader))?.answer).toBeUndefined();
    version.seq = 8;
    expect((await answers.find(MAP, ['h', null, {}], reader))?.answer).toBeUndefined();
    expect(looked).toEqual([false, true, false, false]);
    expect(reader.reads).toBe(4);
  });

  it('does not keep an answer with errors, and reads nothing for an operation it does not keep', async () => {
    const reader = versionReader({ seq: 1 });
    const answers = new VersionedAnswers(8);
    const first = await answers.find(MAP, ['h', null, {}], reader);
    if (first && first.answer === undefined) first.keep({ errors: [{ message: 'filter.topN must be at least 1' }] });
    expect((await answers.find(MAP, ['h', null, {}], reader))?.answer).toBeUndefined();
    const ranged = operationOf('{ serviceMap(range: {since: "-1h"}) { level } }');
    const readsBefore = reader.reads;
    expect(await answers.find(ranged, ['r', null, {}], reader)).toBeUndefined();
    expect(reader.reads).toBe(readsBefore);
  });

  it("writes a kept answer's JSON once and gives that text to every request it answers, as Apollo would write it", async () => {
    const reader = versionReader({ seq: 3 });
    const answers = new VersionedAnswers(8);
    const first = await answers.find(MAP, ['h', null, {}], reader);
    const answer = { data: { serviceMap: { level: 'POD', edges: [{ flows: 3 }] } } };
    if (first && first.answer === undefined) first.keep(answer);
    // Apollo writes a response from a copy of the answer's top level (its fields reordered).
    const response = (a: typeof answer) => ({ errors: undefined, data: a.data, extensions: undefined });
    expect(answers.stringify(response(answer))).toBe(`${JSON.stringify(answer)}\n`);
    const hit = (await answers.find(MAP, ['h', null, {}], reader))?.answer as typeof answer;
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      expect(answers.stringify(response(hit))).toBe(`${JSON.stringify(answer)}\n`);
      expect(stringify).toHaveBeenCalledTimes(1); // the expectation's own
    } finally {
      stringify.mockRestore();
    }
  });

  it('writes every answer it does not keep anew, whatever its data', async () => {
    const answers = new VersionedAnswers(8);
    const data = { stats: { calls: 1 } };
    expect(answers.stringify({ data })).toBe('{"data":{"stats":{"calls":1}}}\n');
    data.stats.calls = 2;
    expect(answers.stringify({ data })).toBe('{"data":{"stats":{"calls":2}}}\n');
    expect(answers.stringify({ errors: [{ message: 'no endpoint with id "x"' }] })).toBe(
      '{"errors":[{"message":"no endpoint with id \\"x\\""}]}\n',
    );
  });
});
