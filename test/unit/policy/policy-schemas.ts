import { isIP } from 'node:net';
import Ajv, { type ValidateFunction } from 'ajv';
import ciliumClusterwideSchema from '../../fixtures/schemas/ciliumclusterwidenetworkpolicy_v2.json';
import ciliumSchema from '../../fixtures/schemas/ciliumnetworkpolicy_v2.json';
import kubernetesSchema from '../../fixtures/schemas/networkpolicy_v1.json';

/**
 * Validators of policy manifests against their API shapes: Cilium's own CRD schemas
 * (test/fixtures/schemas/, copied from ../shared/schemas/cilium/) and a Kubernetes NetworkPolicy
 * schema written from the API reference.
 */

/** Go's RE2 writes one-letter Unicode classes without braces (`\PC`); JavaScript needs `\P{C}`. */
function toJsPattern(pattern: string): string {
  return pattern.replace(/\\([pP])([A-Z])/g, '\\$1{$2}');
}

const regExp = Object.assign((pattern: string, flags: string) => new RegExp(toJsPattern(pattern), flags), { code: 'new RegExp' });

function isCidr(value: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(value);
  if (m === null) return false;
  const family = isIP(m[1]!);
  return family !== 0 && Number(m[2]) <= (family === 4 ? 32 : 128);
}

function buildAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp } });
  // Kubernetes' OpenAPI formats: cidr (net.ParseCIDR), int32/int64 (range), idn-hostname, date-time.
  ajv.addFormat('cidr', isCidr);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('idn-hostname', /^[^\s/:]+$/);
  ajv.addFormat('date-time', (s: string) => !Number.isNaN(Date.parse(s)));
  return ajv;
}

let validators: Record<string, ValidateFunction> | undefined;

/** Schema errors of a manifest, by its kind; empty when it is valid. */
export function toSchemaErrors(manifest: Record<string, unknown>): string[] {
  if (validators === undefined) {
    const ajv = buildAjv();
    validators = {
      CiliumNetworkPolicy: ajv.compile(ciliumSchema),
      CiliumClusterwideNetworkPolicy: ajv.compile(ciliumClusterwideSchema),
      NetworkPolicy: ajv.compile(kubernetesSchema),
    };
  }
  const validate = validators[String(manifest.kind)];
  if (validate === undefined) return [`no schema for kind ${String(manifest.kind)}`];
  if (validate(manifest)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
