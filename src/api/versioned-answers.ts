import { Kind, type FormattedExecutionResult, type OperationDefinitionNode } from 'graphql';
import { GraphVersionCache } from './graph-version-cache';
import { type GraphReader, readGraphVersion } from './read-graph';

/**
 * Root fields whose whole answer is a function of the graph's contents and the operation's
 * arguments when they are asked without a `range` (a relative range moves with the clock): the
 * all-time maps, which the resolvers also read through the maps' cache (map-resolvers.ts).
 */
const VERSIONED_ROOT_FIELDS: ReadonlySet<string> = new Set(['serviceMap', 'hubbleServiceMap', 'dag', '__typename']);

/** Whether `operation`'s answer depends on nothing but the graph's version, the document and its variables. */
export function isVersionedOperation(operation: OperationDefinitionNode): boolean {
  return (
    operation.operation === 'query' &&
    operation.selectionSet.selections.every(
      (s) => s.kind === Kind.FIELD && VERSIONED_ROOT_FIELDS.has(s.name.value) && !(s.arguments ?? []).some((a) => a.name.value === 'range'),
    )
  );
}

/** What `VersionedAnswers.find` tells a request: the kept answer, or how to keep the one it computes. */
export type FoundAnswer =
  { readonly answer: FormattedExecutionResult } | { readonly answer?: undefined; keep(answer: FormattedExecutionResult): void };

/**
 * Whole answers of versioned operations (isVersionedOperation), kept per document, operation name
 * and variables while the graph's version is unchanged. A map asked again by every browser that
 * shows it costs the version read and the answer's serialization, not the execution of its hundreds
 * of nodes and edges (5 ms of the API's CPU for one namespace's POD map of 500 edges). Answers with
 * errors are not kept. The version is read before the answer is computed: the answer holds at
 * least what that version counts, and a write after it moves the version and so misses (unless
 * the answer is younger than `maxAgeMs`).
 */
export class VersionedAnswers {
  private readonly cache: GraphVersionCache;
  /** The JSON of each kept answer, by its `data` (which every response built from it shares). */
  private readonly written = new WeakMap<object, string>();

  /** `maxAgeMs`: how long an answer may be given after the graph changed (GraphVersionCache). */
  constructor(
    maxEntries: number,
    private readonly onLookup: (hit: boolean) => void = () => undefined,
    maxAgeMs = 0,
  ) {
    this.cache = new GraphVersionCache(maxEntries, maxAgeMs);
  }

  /** Undefined for an operation that is not versioned (nothing read); otherwise the kept answer or the way to keep one. */
  async find(operation: OperationDefinitionNode, key: readonly unknown[], reader: GraphReader): Promise<FoundAnswer | undefined> {
    if (!isVersionedOperation(operation)) return undefined;
    const id = JSON.stringify(key);
    const version = await readGraphVersion(reader);
    const kept = this.cache.lookup<FormattedExecutionResult>(id, version);
    this.onLookup(kept !== undefined);
    if (kept !== undefined) return { answer: await kept };
    return {
      keep: (answer) => {
        if (answer.errors !== undefined && answer.errors.length > 0) return;
        this.cache.store(id, version, Promise.resolve(answer));
        if (isObject(answer.data) && answer.extensions === undefined) this.written.set(answer.data, toJson({ data: answer.data }));
      },
    };
  }

  /**
   * `result` as the JSON of a GraphQL response (Apollo's `stringifyResult`): a kept answer's is
   * written once and given again to every request it answers. One namespace's Hubble UI map, 800
   * services and 2,200 links, took about 2 ms of the API's CPU to write for each of them.
   */
  stringify(result: FormattedExecutionResult): string {
    const kept =
      isObject(result.data) && result.errors === undefined && result.extensions === undefined ? this.written.get(result.data) : undefined;
    return kept ?? toJson(result);
  }
}

/** A response as Apollo's default `stringifyResult` writes it. */
function toJson(result: FormattedExecutionResult): string {
  return `${JSON.stringify(result)}\n`;
}

function isObject(v: unknown): v is object {
  return typeof v === 'object' && v !== null;
}
