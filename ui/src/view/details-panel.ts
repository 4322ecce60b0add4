import type { EdgeDetails, NodeDetails, PolicyDraftView, Trace } from '../state/map-store';
import { DIFF_STYLE } from '../model/map-style';
import type { ApiActivitySeries } from '../model/sparkline';
import { toSparkline } from '../model/sparkline';
import type { CallRow } from '../model/summarize-calls';
import { describeCoveredRange } from '../model/time-range';
import { el, fmtCount, fmtMs, fmtPct, fmtRate } from './dom';

/** What the panel offers besides showing: opening, switching, copying and closing the policy draft. */
export interface PanelActions {
  openPolicy: (format: 'CILIUM' | 'KUBERNETES') => void;
  closePolicy: () => void;
  copy: (text: string) => Promise<void>;
}

const SPARK_W = 420;
const SPARK_H = 48;
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** The activity sparkline of an edge: counts as a solid line, errors dashed, both on one scale; the values are in data attributes for tests and tools. */
function sparkline(series: ApiActivitySeries): HTMLElement {
  const s = toSparkline(series, SPARK_W, SPARK_H);
  const box = svg('svg', {
    class: 'sparkline',
    viewBox: `-2 -2 ${SPARK_W + 4} ${SPARK_H + 4}`,
    width: SPARK_W,
    height: SPARK_H,
    role: 'img',
    'aria-label': `${s.measure} per ${series.stepSeconds} s step, highest ${s.max}`,
    'data-measure': s.measure,
    'data-values': s.values.join(','),
    'data-errors': s.errors.join(','),
    'data-step-seconds': series.stepSeconds,
    'data-start': series.points[0]?.time ?? '',
  });
  box.append(svg('line', { x1: 0, y1: SPARK_H, x2: SPARK_W, y2: SPARK_H, stroke: '#bbb', 'stroke-width': 1 }));
  box.append(svg('polyline', { points: s.line, fill: 'none', stroke: '#0072B2', 'stroke-width': 1.5 }));
  if (s.errors.some((v) => v > 0))
    box.append(svg('polyline', { points: s.errorLine, fill: 'none', stroke: '#D55E00', 'stroke-width': 1.5, 'stroke-dasharray': '4 2' }));
  const wrap = el('div', { class: 'activity', 'data-since': series.range.since, 'data-until': series.range.until });
  wrap.append(
    el('div', { class: 'range' }, describeCoveredRange(series.range)),
    box,
    el(
      'div',
      { class: 'spark-legend' },
      `${s.measure} per ${fmtStep(series.stepSeconds)} (solid, highest ${fmtCount(s.max)}, ${fmtCount(s.total)} in all)${s.errors.some((v) => v > 0) ? '; errors dashed' : ''}`,
    ),
  );
  return wrap;
}

const fmtStep = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;

/** The policy draft section: YAML with a copy button, the format, warnings. */
function policySection(policy: PolicyDraftView, actions: PanelActions): HTMLElement {
  const target = policy.scope.workload ? `${policy.scope.namespace}/${policy.scope.workload}` : `namespace ${policy.scope.namespace}`;
  const section = el('section', { class: 'policy', 'data-policy-scope': target, 'data-policy-format': policy.format });
  const format = el(
    'select',
    { class: 'policy-format', 'aria-label': 'policy format' },
    el('option', { value: 'CILIUM' }, 'CiliumNetworkPolicy'),
    el('option', { value: 'KUBERNETES' }, 'Kubernetes NetworkPolicy'),
  ) as HTMLSelectElement;
  format.value = policy.format;
  format.addEventListener('change', () => actions.openPolicy(format.value === 'KUBERNETES' ? 'KUBERNETES' : 'CILIUM'));
  const copy = el('button', { class: 'policy-copy', type: 'button', disabled: '' }, 'Copy YAML') as HTMLButtonElement;
  const copied = el('span', { class: 'policy-copied', role: 'status' });
  const close = el('button', { class: 'policy-close', type: 'button', title: 'Close the draft' }, '✕');
  close.addEventListener('click', () => actions.closePolicy());
  section.append(el('h3', {}, `Network policy draft for ${target}`), el('div', { class: 'policy-bar' }, format, copy, copied, close));
  if (policy.error) section.append(el('p', { class: 'error' }, policy.error));
  else if (policy.yaml === null) section.append(el('p', {}, 'drafting…'));
  else {
    const yaml = policy.yaml;
    copy.disabled = false;
    copy.addEventListener('click', () => {
      actions.copy(yaml).then(
        () => ((copied.textContent = 'copied'), copied.setAttribute('data-copied', 'true')),
        (err: unknown) => (copied.textContent = `copy failed: ${err instanceof Error ? err.message : String(err)}`),
      );
    });
    for (const w of policy.warnings) section.append(el('p', { class: 'warning' }, w));
    section.append(el('pre', { class: 'policy-yaml' }, yaml));
  }
  return section;
}

const counts = (kc: { key: string; count: number }[]) => kc.map((c) => `${c.key}: ${fmtCount(c.count)}`).join(', ');

function callTable(rows: CallRow[], peerTitle: string, direction: string): HTMLElement {
  const head = el(
    'tr',
    {},
    ...[peerTitle, 'port', 'verdict', 'req', 'req/s', 'errors', 'p50', 'p95', 'status codes', 'drop reasons'].map((h) => el('th', {}, h)),
  );
  const body = rows.map((r) =>
    el(
      'tr',
      {
        'data-direction': direction,
        'data-peer': r.peer,
        'data-port': r.port,
        'data-verdict': r.verdict,
        'data-requests': r.requests,
        'data-flows': r.flows,
        'data-error-rate': r.errorRate,
      },
      el('td', {}, r.peer),
      el('td', {}, `${r.port}/${r.protocol}`),
      el('td', {}, r.verdict),
      el('td', { title: `${fmtCount(r.flows)} flows` }, fmtCount(r.requests)),
      el('td', { title: 'mean requests per second between first and last seen' }, fmtRate(r.ratePerSec)),
      el('td', {}, fmtPct(r.errorRate)),
      el('td', {}, fmtMs(r.p50Ms)),
      el('td', {}, fmtMs(r.p95Ms)),
      el('td', { class: 'status-codes' }, counts(r.statusCounts)),
      el('td', { class: 'drop-reasons' }, counts(r.dropReasons)),
    ),
  );
  return el('table', { 'data-calls': direction }, el('thead', {}, head), el('tbody', {}, ...body));
}

/** Fills the side panel with a node's or an edge's details, the current trace's summary and the open policy draft. */
export function renderPanel(
  panel: HTMLElement,
  details: NodeDetails | EdgeDetails | null,
  trace: Trace | null,
  policy: PolicyDraftView | null,
  actions: PanelActions,
) {
  panel.replaceChildren();
  panel.hidden = details === null && trace === null;
  if (trace) panel.append(el('p', { class: 'trace', 'data-trace': trace.kind }, trace.summary));
  if (details?.kind === 'node') {
    panel.append(el('h2', { 'data-node': details.nodeId }, details.nodeId));
    panel.append(
      el(
        'table',
        { class: 'facts' },
        ...details.facts.map((f) => el('tr', { 'data-fact': f.key }, el('td', {}, f.key), el('td', {}, f.value))),
      ),
    );
    if (details.labels.length > 0) {
      panel.append(
        el('h3', {}, 'Labels'),
        el('div', { class: 'labels' }, ...details.labels.map((l) => el('span', { class: 'chip' }, `${l.key}=${l.value}`))),
      );
    }
    if (details.note) panel.append(el('p', {}, details.note));
    if (details.policyScope) {
      if (policy) panel.append(policySection(policy, actions));
      else {
        const open = el(
          'button',
          { class: 'policy-open', type: 'button', title: 'Least-privilege policy drafted from the observed calls (networkPolicies)' },
          'Network policy draft',
        );
        open.addEventListener('click', () => actions.openPolicy('CILIUM'));
        panel.append(open);
      }
    }
    panel.append(el('h3', {}, `Incoming (${details.incoming.length})`), callTable(details.incoming, 'caller', 'incoming'));
    panel.append(el('h3', {}, `Outgoing (${details.outgoing.length})`), callTable(details.outgoing, 'callee', 'outgoing'));
  } else if (details?.kind === 'edge') {
    const e = details.edge;
    panel.append(el('h2', { 'data-edge': e.id }, `${e.source} → ${e.target}`));
    const facts: [string, string][] = [
      ...(details.diff ? [['compared', DIFF_STYLE[details.diff].label] as [string, string]] : []),
      ...(details.change
        ? [
            ['changed', details.change.reasons.join(', ')] as [string, string],
            ['requests before', fmtCount(details.change.before.requests)] as [string, string],
            ['errors before', `${fmtCount(details.change.before.errors)} (${fmtPct(details.change.before.errorRate)})`] as [string, string],
            ['p95 before', fmtMs(details.change.before.latencyP95Ms)] as [string, string],
          ]
        : []),
      ['flows', fmtCount(e.flows)],
      ['requests', fmtCount(e.requests)],
      ['errors', `${fmtCount(e.errors)} (${fmtPct(e.errorRate)})`],
      ['p95 (highest of its calls)', fmtMs(e.latencyP95Ms)],
      ['verdicts', e.verdicts.join(', ')],
      ['ports', e.ports.join(', ')],
      ['protocols', e.protocols.join(', ')],
      ['calls', String(e.calls)],
      ['last seen', e.lastSeen ?? '–'],
    ];
    panel.append(el('table', { class: 'facts' }, ...facts.map(([k, v]) => el('tr', { 'data-fact': k }, el('td', {}, k), el('td', {}, v)))));
    panel.append(el('h3', {}, 'Activity'));
    if (details.activity) panel.append(sparkline(details.activity));
    if (details.activityNote) panel.append(el('p', { class: 'activity-note' }, details.activityNote));
    if (details.calls.length > 0) panel.append(el('h3', {}, 'Calls'), callTable(details.calls, 'callee', 'edge'));
  }
}
