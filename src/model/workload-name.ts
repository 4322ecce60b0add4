/**
 * The stable workload name of a pod: a ReplicaSet's name loses its pod-template hash
 * (`web-6d9984c876` -> `web`), so that pods of successive rollouts of a Deployment share it; a pod
 * without owner is its own workload.
 *
 * The graph stores the owner as the collector saw it (`workload`, `workloadKind`), and the API
 * computes the name both here (answers, subscriptions, the Hubble UI and gluenet shapes) and in Cypher
 * (`workloadNameExpr` in src/graph/cypher/api-fragments.ts: grouping and filtering inside a query).
 * Both are built from the constants below; test/integration/graph/workload-name.test.ts runs the
 * same cases through both.
 */

/** The owner kind whose names carry a pod-template hash. */
export const HASHED_OWNER_KIND = 'ReplicaSet';

/**
 * The pod-template hash that ends a ReplicaSet's name after a `-` (a regular expression that means
 * the same in JavaScript and in Cypher's `=~`, which is Java's syntax).
 */
export const TEMPLATE_HASH_PATTERN = '[a-z0-9]{5,10}';

const HASHED_NAME = new RegExp(`^.+-${TEMPLATE_HASH_PATTERN}$`);

/** What the rule reads of a pod. */
export interface WorkloadOwner {
  readonly workload: string | null | undefined;
  readonly workloadKind: string | null | undefined;
  readonly name: string;
}

/** The stable workload name of a pod (see the module's comment). */
export function toWorkloadName(pod: WorkloadOwner): string {
  const w = pod.workload;
  if (w === null || w === undefined || w === '') return pod.name;
  if (pod.workloadKind === HASHED_OWNER_KIND && HASHED_NAME.test(w)) return w.slice(0, w.lastIndexOf('-'));
  return w;
}
