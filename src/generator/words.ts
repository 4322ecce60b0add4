/** Namespaces of the random scenario, in order of use (beyond them: `team-N`). */
export const NAMESPACES = [
  'shop',
  'payments',
  'catalog',
  'auth',
  'search',
  'ads',
  'billing',
  'orders',
  'inventory',
  'users',
  'media',
  'analytics',
];
/** Apps of the random scenario and the port their pods serve on. */
export const APPS: ReadonlyArray<[string, number]> = [
  ['web', 8080],
  ['api', 8080],
  ['frontend', 3000],
  ['checkout', 8080],
  ['cart', 7070],
  ['db', 5432],
  ['cache', 6379],
  ['queue', 5672],
  ['search', 9200],
  ['auth', 9000],
  ['recommend', 50051],
  ['email', 25],
  ['gateway', 80],
  ['ledger', 8443],
  ['pricing', 8080],
  ['stock', 9090],
  ['profile', 8081],
  ['kafka', 9092],
  ['notify', 8082],
  ['metrics', 9100],
];
/** External DNS names pods call (FQDN edges) and look up. */
export const FQDNS = [
  'api.github.com',
  's3.amazonaws.com',
  'api.stripe.com',
  'hooks.slack.com',
  'storage.googleapis.com',
  'login.microsoftonline.com',
  'registry-1.docker.io',
  'pypi.org',
  'sentry.io',
  'api.twilio.com',
];
/** Alphabet of ReplicaSet hashes in generated pod names. */
export const HEX = '0123456789abcdef';
/** Kubernetes' alphabet for generated name suffixes (no vowels, no look-alikes). */
export const ALNUM = 'bcdfghjklmnpqrstvwxz2456789';

/** HTTP methods requested of a path that names none, GET weighted thrice. */
export const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
/** HTTP paths requested when a workload names none. */
export const PATHS = ['/', '/api/v1/items', '/api/v1/orders', '/healthz', '/login', '/search?q=x'];

/** A path a server answers and the methods clients send it (each as likely; repeat one to weigh it). */
export interface HttpRoute {
  readonly path: string;
  readonly methods: readonly string[];
}

/**
 * Routes from `METHOD[,METHOD...] /path` (a workload's `paths` in the cluster story: `GET /healthz`,
 * `POST /checkout.v1.Checkout/PlaceOrder` for gRPC) or a bare `/path` (any of METHODS).
 */
export function toRoutes(paths: readonly string[]): HttpRoute[] {
  return paths.map((text) => {
    const space = text.indexOf(' ');
    return space < 0 ? { path: text, methods: METHODS } : { path: text.slice(space + 1), methods: text.slice(0, space).split(',') };
  });
}

/** PATHS as routes. */
export const ROUTES: readonly HttpRoute[] = toRoutes(PATHS);

/** FNV-1a of a string: names derived from it are the same in every run, so a restarted demo keeps them. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** `length` characters of Kubernetes' name alphabet (no vowels, no look-alikes), derived from `seed`. */
export function safeName(seed: string, length: number): string {
  let h = fnv1a(seed);
  let s = '';
  for (let i = 0; i < length; i++) {
    if (i % 6 === 5) h = fnv1a(`${seed}#${i}`);
    s += ALNUM[h % ALNUM.length];
    h = Math.floor(h / ALNUM.length);
  }
  return s;
}
