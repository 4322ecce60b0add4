import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { SETTINGS } from '../../../src/config';

/**
 * kubectl cannot run here; these checks read every manifest under deploy/ and hold it to what a
 * cluster (and our CLI) relies on: pinned images, probes, non-root containers, ports that agree
 * with each other and with the network policies, flags that exist in src/config.ts.
 */
const root = path.resolve(__dirname, '..', '..', '..');
const deployDir = path.join(root, 'deploy');

// Minimal shapes of the Kubernetes objects the checks read.
interface Port {
  name?: string;
  containerPort?: number;
  port?: number | string;
  targetPort?: number | string;
  protocol?: string;
}
interface Probe {
  httpGet?: { path: string; port: number | string };
  tcpSocket?: { port: number | string };
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[];
  ports?: Port[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; fsGroup?: number };
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string } }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}
interface PortRule {
  ports: { port: string; protocol?: string }[];
}
interface PolicyRule {
  fromEndpoints?: { matchLabels: Record<string, string> }[];
  toEndpoints?: { matchLabels: Record<string, string> }[];
  fromEntities?: string[];
  toPorts?: PortRule[];
}

function listYaml(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listYaml(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

const files = listYaml(deployDir);
const rel = (p: string) => path.relative(deployDir, p);
/** Every Kubernetes object (not kustomizations, Helm values or Prometheus configs), by file. */
const objects: { file: string; obj: K8sObject }[] = files.flatMap((file) =>
  parseAllDocuments(fs.readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as K8sObject)
    .filter((o) => o && typeof o === 'object' && typeof o.kind === 'string' && typeof o.apiVersion === 'string' && o.kind !== 'Kustomization')
    .map((obj) => ({ file: rel(file), obj })),
);
const workloads = objects.filter(({ obj }) => obj.kind === 'Deployment' || obj.kind === 'StatefulSet');
const fullWorkloads = workloads.filter(({ obj }) => obj.spec?.selector); // not strategic-merge patches
const services = objects.filter(({ obj }) => obj.kind === 'Service');
const policies = objects.filter(({ obj }) => obj.kind === 'CiliumNetworkPolicy');

function find(kind: string, name: string): K8sObject {
  const hit = objects.find(({ obj }) => obj.kind === kind && obj.metadata.name === name && obj.spec?.selector !== undefined);
  if (!hit) throw new Error(`no ${kind} ${name} under deploy/`);
  return hit.obj;
}
const podSpec = (o: K8sObject): PodSpec => o.spec.template.spec as PodSpec;
const container = (o: K8sObject, name?: string): Container => {
  const c = podSpec(o).containers.find((x) => name === undefined || x.name === name) ?? podSpec(o).containers[0];
  return c!;
};
const envOf = (c: Container, name: string): string | undefined => c.env?.find((e) => e.name === name)?.value;
/** `--flag value` pairs of a container's args. */
function flagsOf(c: Container): Map<string, string> {
  const out = new Map<string, string>();
  const args = c.args ?? [];
  for (let i = 0; i < args.length; i++) {
    if (args[i]!.startsWith('--')) out.set(args[i]!.slice(2), args[i + 1]!);
  }
  return out;
}
function portNumber(c: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}
/** Ports (number/protocol) that a policy's ingress or egress rules open, optionally towards pods with these labels. */
function policyPorts(rules: PolicyRule[] | undefined, peer?: Record<string, string>): string[] {
  return (rules ?? [])
    .filter((r) => {
      if (!peer) return true;
      const sel = [...(r.toEndpoints ?? []), ...(r.fromEndpoints ?? [])];
      return sel.some((s) => Object.entries(s.matchLabels).every(([k, v]) => peer[k.replace(/^k8s:/, '')] === v));
    })
    .flatMap((r) => (r.toPorts ?? []).flatMap((tp) => tp.ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`)));
}
function policiesSelecting(labels: Record<string, string>): K8sObject[] {
  return policies
    .map(({ obj }) => obj)
    .filter((p) => Object.entries(p.spec.endpointSelector.matchLabels as Record<string, string>).every(([k, v]) => labels[k] === v));
}
const podLabels = (o: K8sObject, namespace = 'hubble-graph'): Record<string, string> => ({
  ...(o.spec.template.metadata.labels as Record<string, string>),
  'io.kubernetes.pod.namespace': namespace,
});

const flagNames = new Set(SETTINGS.map((s) => s.flag));
const envNames = new Set(SETTINGS.map((s) => s.env));
/** Hubble Relay's Service maps port 80 (443 with TLS) to this container port (Cilium chart: hubble.relay.listenPort). */
const RELAY_CONTAINER_PORT = 4245;

describe('deploy/', () => {
  it('finds the manifests', () => {
    expect(fullWorkloads.map(({ obj }) => obj.metadata.name).sort()).toEqual(['api', 'collector', 'collector-prometheus', 'collector-shard', 'neo4j']);
  });

  it('lists every manifest in a kustomization, and every listed file exists', () => {
    const listed = new Set<string>();
    for (const file of files.filter((f) => path.basename(f) === 'kustomization.yaml')) {
      const k = parse(fs.readFileSync(file, 'utf8')) as { resources?: string[]; patches?: { path?: string }[] };
      // Inline patches (a `patch:` text) name no file.
      for (const r of [...(k.resources ?? []), ...(k.patches ?? []).flatMap((p) => (p.path === undefined ? [] : [p.path]))]) {
        const target = path.resolve(path.dirname(file), r);
        expect(fs.existsSync(target)).toBe(true);
        listed.add(target);
      }
    }
    const manifests = new Set(objects.map(({ file }) => path.join(deployDir, file)));
    for (const m of manifests) expect([rel(m), listed.has(m)]).toEqual([rel(m), true]);
  });

  it('pins every image (a tag other than latest, or a digest)', () => {
    for (const { file, obj } of workloads) {
      for (const c of podSpec(obj).containers.filter((x) => x.image !== undefined)) {
        expect([file, c.image]).toEqual([file, expect.stringMatching(/^[^:@]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/)]);
        expect(c.image).not.toMatch(/:latest$/);
      }
    }
    expect(container(find('StatefulSet', 'neo4j')).image).toMatch(/^neo4j:5\.26\.\d+-community$/);
  });

  it('gives every container readiness and liveness probes on ports it declares, and resources', () => {
    for (const { file, obj } of fullWorkloads) {
      for (const c of podSpec(obj).containers) {
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          expect([file, c.name, probe !== undefined]).toEqual([file, c.name, true]);
          const port = probe!.httpGet?.port ?? probe!.tcpSocket?.port;
          expect(port).toBeDefined();
          expect(portNumber(c, port!)).toBeDefined();
        }
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
    for (const name of ['collector', 'api']) {
      const w = find('Deployment', name);
      expect(container(w).readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container(w).livenessProbe?.httpGet?.path).toBe('/healthz');
    }
  });

  it('runs every container as non-root, without privilege escalation, with all capabilities dropped', () => {
    for (const { file, obj } of fullWorkloads) {
      const pod = podSpec(obj);
      expect([file, pod.securityContext?.runAsNonRoot]).toEqual([file, true]);
      // Numeric: the app image's user is named (`node`), which the kubelet cannot check against runAsNonRoot.
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect([file, c.securityContext?.allowPrivilegeEscalation]).toEqual([file, false]);
        expect(c.securityContext?.capabilities?.drop).toEqual(['ALL']);
        // Neo4j's entrypoint writes its configuration into the image; every other container is read-only.
        if (!c.image?.startsWith('neo4j:')) expect([file, c.securityContext?.readOnlyRootFilesystem]).toEqual([file, true]);
      }
    }
  });

  it('keeps Neo4j in a StatefulSet with a volume claim, and its password in a Secret everyone reads', () => {
    const neo4j = find('StatefulSet', 'neo4j');
    const claim = neo4j.spec.volumeClaimTemplates[0].metadata.name as string;
    expect(container(neo4j).volumeMounts).toEqual(expect.arrayContaining([{ name: claim, mountPath: '/data' }]));
    const secret = objects.find(({ obj }) => obj.kind === 'Secret')!.obj;
    // stringData as shipped, or data as `kubectl create secret ... -o yaml` writes it.
    expect(Object.keys(secret.stringData ?? secret.data ?? {})).toEqual(['NEO4J_PASSWORD']);
    for (const { obj } of fullWorkloads) {
      const ref = container(obj).env?.find((e) => e.name === 'NEO4J_PASSWORD')?.valueFrom?.secretKeyRef;
      expect([obj.metadata.name, ref]).toEqual([obj.metadata.name, { name: secret.metadata.name, key: 'NEO4J_PASSWORD' }]);
    }
  });

  it('uses only flags and environment variables that src/config.ts defines', () => {
    const known = (name: string) => envNames.has(name) || name.startsWith('NEO4J_server_') || name === 'NEO4J_AUTH';
    for (const { file, obj } of workloads) {
      for (const c of podSpec(obj).containers.filter((x) => !x.image?.startsWith('neo4j:'))) {
        for (const flag of flagsOf(c).keys()) expect([file, flag, flagNames.has(flag)]).toEqual([file, flag, true]);
        for (const e of c.env ?? []) expect([file, e.name, known(e.name)]).toEqual([file, e.name, true]);
      }
    }
  });

  it('points the collector at Hubble Relay on port 80, and on 443 with TLS and the client certificate mounted', () => {
    const collector = container(find('Deployment', 'collector'));
    expect(collector.args?.[0]).toBe('collect');
    expect(flagsOf(collector).get('hubble-server')).toBe('hubble-relay.kube-system.svc:80');
    expect(flagsOf(collector).get('collector-id')).toBeTruthy();

    const patch = objects.find(({ file }) => file === path.join('overlays', 'relay-tls', 'collector-tls.yaml'))!.obj;
    const tls = patch.spec.template.spec as PodSpec;
    const c = tls.containers[0]!;
    const flags = flagsOf(c);
    expect(flags.get('hubble-server')).toBe('hubble-relay.kube-system.svc:443');
    expect(envOf(c, 'HUBBLE_TLS')).toBe('true');
    const mount = c.volumeMounts!.find((m) => m.name === 'hubble-relay-tls')!;
    for (const f of ['hubble-tls-ca-file', 'hubble-tls-client-cert-file', 'hubble-tls-client-key-file']) {
      expect(flags.get(f)?.startsWith(`${mount.mountPath}/`)).toBe(true);
    }
    expect(tls.volumes?.find((v) => v.name === 'hubble-relay-tls')?.secret?.secretName).toBeTruthy();
  });

  it('runs sharded collectors as a StatefulSet in place of the collector: one shard per replica, each from its pod ordinal, named by its pod', () => {
    const shards = find('StatefulSet', 'collector-shard');
    const c = container(shards);
    expect(c.args?.[0]).toBe('collect');
    expect(flagsOf(c).get('hubble-server')).toBe('hubble-relay.kube-system.svc:80');
    // The collector id defaults to the hostname: the pod's stable name, so each shard resumes its own work.
    expect(flagsOf(c).has('collector-id')).toBe(false);
    expect(envOf(c, 'HG_SHARD_COUNT')).toBe(String(shards.spec.replicas));
    expect(envOf(c, 'HG_SHARD_INDEX')).toBe('ordinal');
    expect(shards.spec.podManagementPolicy).toBe('Parallel');
    // The metrics Service and the collector's network policies select the shards too.
    expect(podLabels(shards)['app.kubernetes.io/name']).toBe('collector');
    const headless = services.find(({ obj }) => obj.metadata.name === shards.spec.serviceName)!.obj;
    expect(headless.spec.clusterIP).toBe('None');
    const k = parse(fs.readFileSync(path.join(deployDir, 'overlays', 'sharded', 'kustomization.yaml'), 'utf8')) as { patches: { target: { kind: string; name: string }; patch: string }[] };
    expect(k.patches.map((p) => [p.target.kind, p.target.name, p.patch.includes('$patch: delete')])).toEqual([['Deployment', 'collector', true]]);
  });

  it("gives every collector its pod's UID as its slot, so that a restarted container does not wait for its crashed self", () => {
    for (const [kind, name] of [['Deployment', 'collector'], ['Deployment', 'collector-prometheus'], ['StatefulSet', 'collector-shard']] as const) {
      const slot = container(find(kind, name)).env?.find((e) => e.name === 'HG_COLLECTOR_SLOT');
      expect([name, slot?.valueFrom?.fieldRef?.fieldPath]).toEqual([name, 'metadata.uid']);
    }
  });

  it('listens where the probes, Services and Prometheus look: collector :9465, API :4000 on all interfaces', () => {
    for (const name of ['collector', 'collector-prometheus']) {
      const c = container(find('Deployment', name));
      expect(envOf(c, 'HG_COLLECTOR_LISTEN')).toBe('0.0.0.0:9465');
      expect(portNumber(c, 'metrics')).toBe(9465);
    }
    const api = container(find('Deployment', 'api'));
    expect(envOf(api, 'HG_API_HOST')).toBe('0.0.0.0');
    expect(portNumber(api, 'http')).toBe(Number(envOf(api, 'HG_API_PORT') ?? '4000'));
    expect(find('Deployment', 'api').spec.replicas).toBe(2);
    for (const name of ['collector', 'collector-prometheus', 'api']) {
      expect(envOf(container(find('Deployment', name)), 'NEO4J_URI')).toBe('bolt://neo4j.hubble-graph.svc:7687');
    }
  });

  it("matches every Service's targetPort to a container port of the pods it selects", () => {
    for (const { file, obj } of services) {
      const selector = obj.spec.selector as Record<string, string>;
      const targets = fullWorkloads.filter(({ obj: w }) => Object.entries(selector).every(([k, v]) => w.spec.template.metadata.labels[k] === v));
      // One workload, or (the collector) the Deployment and, in the sharded overlay, the StatefulSet that replaces it.
      expect([file, obj.metadata.name, targets.length > 0 && targets.length <= (selector['app.kubernetes.io/name'] === 'collector' ? 2 : 1)]).toEqual([file, obj.metadata.name, true]);
      for (const target of targets) {
        const c = container(target.obj);
        for (const p of obj.spec.ports as Port[]) {
          expect([obj.metadata.name, p.targetPort, portNumber(c, p.targetPort ?? p.port!)]).toEqual([obj.metadata.name, p.targetPort, expect.any(Number)]);
        }
        if (obj.metadata.annotations?.['prometheus.io/scrape'] === 'true') {
          expect(portNumber(c, 'metrics')).toBe(Number(obj.metadata.annotations['prometheus.io/port']));
        }
      }
    }
  });

  it('lets through exactly the traffic the manifests use', () => {
    const neo4jLabels = podLabels(find('StatefulSet', 'neo4j'));
    const relay = { 'io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'hubble-relay' };
    const dns = { 'io.kubernetes.pod.namespace': 'kube-system', 'k8s-app': 'kube-dns' };
    const prometheus = { 'io.kubernetes.pod.namespace': 'cilium-monitoring', app: 'prometheus' };

    for (const name of ['collector', 'collector-prometheus']) {
      const w = find('Deployment', name);
      const ps = policiesSelecting(podLabels(w));
      const egress = (peer: Record<string, string>) => ps.flatMap((p) => policyPorts(p.spec.egress, peer));
      const ingress = (peer?: Record<string, string>) => ps.flatMap((p) => policyPorts(p.spec.ingress, peer));
      expect(egress(neo4jLabels)).toContain('7687/TCP');
      expect(egress(dns)).toEqual(expect.arrayContaining(['53/UDP', '53/TCP']));
      expect(ingress(prometheus)).toContain(`${portNumber(container(w), 'metrics')}/TCP`);
      // What the neo4j side lets in from this collector.
      const neo4jIn = policiesSelecting(neo4jLabels).flatMap((p) => policyPorts(p.spec.ingress, podLabels(w)));
      expect(neo4jIn).toContain('7687/TCP');
    }
    const collector = find('Deployment', 'collector');
    const relayPorts = policiesSelecting(podLabels(collector)).flatMap((p) => policyPorts(p.spec.egress, relay));
    expect(relayPorts).toEqual([`${RELAY_CONTAINER_PORT}/TCP`]);

    const promCollector = find('Deployment', 'collector-prometheus');
    const promUrl = new URL(flagsOf(container(promCollector)).get('prometheus-url')!);
    expect(promUrl.hostname).toBe('prometheus.cilium-monitoring.svc');
    const promPorts = policiesSelecting(podLabels(promCollector)).flatMap((p) => policyPorts(p.spec.egress, prometheus));
    expect(promPorts).toEqual([`${promUrl.port}/TCP`]);

    const api = find('Deployment', 'api');
    const apiPolicies = policiesSelecting(podLabels(api));
    expect(apiPolicies.flatMap((p) => policyPorts(p.spec.egress, neo4jLabels))).toEqual(['7687/TCP']);
    expect(apiPolicies.flatMap((p) => policyPorts(p.spec.ingress))).toEqual([`${portNumber(container(api), 'http')}/TCP`]);
    expect(policiesSelecting(neo4jLabels).flatMap((p) => policyPorts(p.spec.ingress, podLabels(api)))).toEqual(['7687/TCP']);
  });

  it('sets the Cilium Helm values of the design notes', () => {
    const values = parse(fs.readFileSync(path.join(deployDir, 'cilium', 'values-hubble-metrics.yaml'), 'utf8')) as {
      hubble: { relay: { enabled: boolean }; ui: { enabled: boolean }; metrics: { enabled: string[] } };
    };
    expect(values.hubble.relay.enabled).toBe(true);
    expect(values.hubble.ui.enabled).toBe(true);
    for (const handler of ['flow', 'http', 'tcp']) {
      const entry = values.hubble.metrics.enabled.find((e) => e.split(':')[0] === handler);
      expect(entry?.split(':')[1]!.split(';').sort()).toEqual(['destinationContext=pod', 'sourceContext=pod']);
    }
  });

  it('names only files that exist in the README', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const mentioned = [...new Set(readme.match(/deploy\/[\w./-]*[\w/]/g) ?? [])];
    expect(mentioned.length).toBeGreaterThan(5);
    for (const m of mentioned) expect([m, fs.existsSync(path.join(root, m))]).toEqual([m, true]);
  });

  it('keeps the slim Prometheus scrape job that finds annotated Services', () => {
    const prom = parse(fs.readFileSync(path.join(deployDir, 'prometheus', 'prometheus.yaml'), 'utf8')) as {
      scrape_configs: { job_name: string; kubernetes_sd_configs: { role: string }[]; relabel_configs: { action?: string; source_labels?: string[] }[] }[];
    };
    const job = prom.scrape_configs.find((j) => j.job_name === 'kubernetes-endpoints')!;
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'endpoints' }]);
    expect(job.relabel_configs[0]).toMatchObject({ action: 'keep', source_labels: ['__meta_kubernetes_service_annotation_prometheus_io_scrape'] });
  });
});
