import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** One series in the text exposition format: `name{labels} value`. */
export interface ExposedSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Hubble metric families and their types, for the `# HELP`/`# TYPE` lines. */
const FAMILIES: Readonly<Record<string, { type: string; help: string }>> = {
  hubble_flows_processed_total: { type: 'counter', help: 'Total number of flows processed' },
  hubble_http_requests_total: { type: 'counter', help: 'Count of HTTP requests' },
  hubble_http_responses_total: { type: 'counter', help: 'Count of HTTP responses' },
  hubble_http_request_duration_seconds: { type: 'histogram', help: 'Quantiles of HTTP request duration in seconds' },
  hubble_drop_total: { type: 'counter', help: 'Number of drops' },
  hubble_tcp_flags_total: { type: 'counter', help: 'TCP flag occurrences' },
  hubble_graph_test_generation: { type: 'gauge', help: 'Test only: bumped on every change, to wait for a scrape' },
};

function familyOf(name: string): string {
  return name.replace(/_(bucket|sum|count)$/, (m) => (FAMILIES[name] ? m : ''));
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** Renders series in Prometheus' text exposition format (version 0.0.4), grouped by family. */
export function toExposition(series: readonly ExposedSeries[]): string {
  const byFamily = new Map<string, ExposedSeries[]>();
  for (const s of series) {
    const family = familyOf(s.name);
    byFamily.set(family, [...(byFamily.get(family) ?? []), s]);
  }
  const lines: string[] = [];
  for (const [family, list] of byFamily) {
    const meta = FAMILIES[family];
    if (meta) lines.push(`# HELP ${family} ${meta.help}`, `# TYPE ${family} ${meta.type}`);
    for (const s of list) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escape(v)}"`);
      lines.push(`${s.name}${labels.length ? `{${labels.join(',')}}` : ''} ${s.value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** A stand-in for one Cilium agent's hubble-metrics endpoint (GET /metrics on 127.0.0.1). */
export interface FakeHubbleAgent {
  /** `127.0.0.1:port`: the target, and the `instance` label Prometheus gives its series. */
  readonly hostPort: string;
  /** The generation the next set() will expose (to wait for). */
  readonly generation: number;
  /** Replaces the exposed series (counters grow, or drop for a simulated agent restart). */
  set(series: readonly ExposedSeries[]): number;
  close(): Promise<void>;
}

export async function startFakeHubbleAgent(): Promise<FakeHubbleAgent> {
  let body = toExposition([]);
  let generation = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    hostPort: `127.0.0.1:${port}`,
    get generation() {
      return generation;
    },
    set(series) {
      generation += 1;
      body = toExposition([...series, { name: 'hubble_graph_test_generation', labels: {}, value: generation }]);
      return generation;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TestPrometheus {
  readonly url: string;
  /** Value of an instant query with one result (null for none). */
  queryValue(expr: string): Promise<number | null>;
  /** Waits until Prometheus has scraped `agent` at its current generation. */
  waitForScrape(agent: FakeHubbleAgent, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  readonly targets: readonly string[];
  /** Default 1000. */
  readonly scrapeIntervalMs?: number;
  /** Extra target labels, as the design notes' kubernetes-endpoints job attaches them. */
  readonly targetLabels?: Readonly<Record<string, string>>;
  /** Default 20000. */
  readonly startTimeoutMs?: number;
  /** The Prometheus executable (default `prometheus` on PATH). */
  readonly executable?: string;
}

/** The labels the design notes' `kubernetes-endpoints` job gives hubble-metrics series. */
export const DESIGN_NOTE_TARGET_LABELS = {
  app_kubernetes_io_managed_by: 'Helm',
  k8s_app: 'hubble',
  namespace: 'kube-system',
  service: 'hubble-metrics',
} as const;

/** How to get Prometheus on this kind of machine; `npm test` runs it by itself as root (scripts/ensure-test-tools.js). */
export const PROMETHEUS_INSTALL_HINT = 'apt-get install -y --no-install-recommends prometheus';

/**
 * Starts Debian's `prometheus` on 127.0.0.1 (a free port, a temporary data folder, a generated
 * config scraping `targets` every second under job `kubernetes-endpoints`) and waits until it is ready.
 * `stop()` ends it (SIGTERM, then SIGKILL) and removes the folder; call it in afterAll.
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<TestPrometheus> {
  const interval = options.scrapeIntervalMs ?? 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hg-prometheus-'));
  const port = await freePort();
  const config = [
    'global:',
    `  scrape_interval: ${interval}ms`,
    `  evaluation_interval: ${interval}ms`,
    'scrape_configs:',
    "  - job_name: 'kubernetes-endpoints'",
    `    scrape_interval: ${interval}ms`,
    `    scrape_timeout: ${Math.max(100, Math.floor(interval * 0.8))}ms`,
    '    static_configs:',
    `      - targets: [${options.targets.map((t) => `'${t}'`).join(', ')}]`,
    '        labels:',
    ...Object.entries(options.targetLabels ?? DESIGN_NOTE_TARGET_LABELS).map(([k, v]) => `          ${k}: '${v}'`),
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const executable = options.executable ?? 'prometheus';
  const child: ChildProcess = spawn(
    executable,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  // A process that could not be spawned (ENOENT: not installed) emits `error` and never `exit`:
  // both end it, so that stop() and the readiness loop never wait for an exit that cannot come.
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
  });
  let running = true;
  void exited.then(() => (running = false));
  const url = `http://127.0.0.1:${port}`;
  // Should jest exit without running afterAll, do not leave Prometheus behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    for (;;) {
      if (spawnError) {
        throw new Error(
          `could not start ${executable} (${spawnError.message}); install it: ${PROMETHEUS_INSTALL_HINT} (npm test does this by itself when run as root)`,
        );
      }
      if (!running) throw new Error(`prometheus exited at start:\n${stderr}`);
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within ${options.startTimeoutMs ?? 20_000} ms:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const queryValue = async (expr: string): Promise<number | null> => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
    const result = body.data?.result ?? [];
    return result.length === 0 ? null : Number(result[0]!.value[1]);
  };

  return {
    url,
    queryValue,
    async waitForScrape(agent, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      const expr = `hubble_graph_test_generation{instance="${agent.hostPort}"}`;
      while ((await queryValue(expr)) !== agent.generation) {
        if (Date.now() > deadline)
          throw new Error(`Prometheus did not scrape ${agent.hostPort} generation ${agent.generation} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
  };
}
