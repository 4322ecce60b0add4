import type { EdgeDetails, NodeDetails, Trace } from '../state/map-store';
import type { CallRow } from '../model/summarize-calls';
import { el, fmtCount, fmtMs, fmtPct, fmtRate } from './dom';

const counts = (kc: { key: string; count: number }[]) => kc.map((c) => `${c.key}: ${fmtCount(c.count)}`).join(', ');

function callTable(rows: CallRow[], peerTitle: string, direction: string): HTMLElement {
  const head = el('tr', {}, ...[peerTitle, 'port', 'verdict', 'req', 'req/s', 'errors', 'p50', 'p95', 'status codes', 'drop reasons'].map((h) => el('th', {}, h)));
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

/** Fills the side panel with a node's or an edge's details and the current trace's summary. */
export function renderPanel(panel: HTMLElement, details: NodeDetails | EdgeDetails | null, trace: Trace | null) {
  panel.replaceChildren();
  panel.hidden = details === null && trace === null;
  if (trace) panel.append(el('p', { class: 'trace', 'data-trace': trace.kind }, trace.summary));
  if (details?.kind === 'node') {
    panel.append(el('h2', { 'data-node': details.nodeId }, details.nodeId));
    panel.append(el('table', { class: 'facts' }, ...details.facts.map((f) => el('tr', { 'data-fact': f.key }, el('td', {}, f.key), el('td', {}, f.value)))));
    if (details.labels.length > 0) {
      panel.append(el('h3', {}, 'Labels'), el('div', { class: 'labels' }, ...details.labels.map((l) => el('span', { class: 'chip' }, `${l.key}=${l.value}`))));
    }
    if (details.note) panel.append(el('p', {}, details.note));
    panel.append(el('h3', {}, `Incoming (${details.incoming.length})`), callTable(details.incoming, 'caller', 'incoming'));
    panel.append(el('h3', {}, `Outgoing (${details.outgoing.length})`), callTable(details.outgoing, 'callee', 'outgoing'));
  } else if (details?.kind === 'edge') {
    const e = details.edge;
    panel.append(el('h2', { 'data-edge': e.id }, `${e.source} → ${e.target}`));
    const facts: [string, string][] = [
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
    if (details.calls.length > 0) panel.append(el('h3', {}, 'Calls'), callTable(details.calls, 'callee', 'edge'));
  }
}
