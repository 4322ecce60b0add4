import { DIFF_STYLE, HEALTH_STYLE, KIND_LABEL, REMOVED_DASH, SHAPE_BY_KIND, namespaceFills } from '../model/map-style';
import type { DiffKind, EdgeHealth } from '../model/map-style';
import type { EndpointKind } from '../model/api-types';
import { shapePath } from '../render/canvas-renderer';
import { el } from './dom';

function icon(draw: (ctx: CanvasRenderingContext2D) => void): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = 36;
  c.height = 18;
  const ctx = c.getContext('2d');
  if (ctx) draw(ctx);
  return c;
}

/** One legend row: an icon drawn by `draw`, and its label. */
function legendRow(attrs: Record<string, string>, draw: (ctx: CanvasRenderingContext2D) => void, label: string): HTMLElement {
  return el('div', { class: 'row', ...attrs }, icon(draw), label);
}

/** A sample of an edge's line across the icon. */
function strokeSample(ctx: CanvasRenderingContext2D, colour: string, dash: readonly number[]) {
  ctx.strokeStyle = colour;
  ctx.lineWidth = 3;
  ctx.setLineDash([...dash]);
  ctx.beginPath();
  ctx.moveTo(2, 9);
  ctx.lineTo(34, 9);
  ctx.stroke();
}

/** The legend: node shapes by kind, namespace fills, edge line styles by health, widths; in compare mode, the diff marks. */
export function renderLegend(container: HTMLElement, namespaces: string[], comparing: boolean) {
  container.replaceChildren();
  container.append(el('h4', {}, 'Nodes (shape = kind)'));
  for (const kind of Object.keys(SHAPE_BY_KIND) as EndpointKind[]) {
    container.append(
      el(
        'div',
        { class: 'row', 'data-legend-kind': kind },
        icon((ctx) => {
          ctx.beginPath();
          shapePath(ctx, SHAPE_BY_KIND[kind], 18, 9, 6);
          ctx.fillStyle = kind === 'POD' ? '#56B4E9' : '#BBBBBB';
          ctx.fill();
          ctx.strokeStyle = '#222';
          ctx.stroke();
        }),
        KIND_LABEL[kind],
      ),
    );
  }
  const fills = namespaceFills(namespaces);
  if (fills.size > 0) {
    container.append(el('h4', {}, 'Fill = namespace'));
    for (const [ns, fill] of [...fills].slice(0, 8)) {
      container.append(
        el(
          'div',
          { class: 'row' },
          icon((ctx) => ((ctx.fillStyle = fill), ctx.fillRect(10, 3, 16, 12))),
          ns,
        ),
      );
    }
    if (fills.size > 8) container.append(el('div', {}, `… ${fills.size - 8} more`));
  }
  container.append(el('h4', {}, 'Edges (caller → callee; width = requests, or flows)'));
  for (const health of Object.keys(HEALTH_STYLE) as EdgeHealth[]) {
    const s = HEALTH_STYLE[health];
    container.append(
      legendRow(
        { 'data-legend-health': health },
        (ctx) => {
          strokeSample(ctx, s.colour, s.dash);
          if (health === 'policy') {
            ctx.setLineDash([]);
            ctx.lineWidth = 3;
            ctx.beginPath();
            ctx.moveTo(18, 2);
            ctx.lineTo(18, 16);
            ctx.stroke();
          }
          if (health === 'dropped') {
            ctx.setLineDash([]);
            ctx.lineWidth = 2;
            ctx.beginPath();
            ctx.moveTo(14, 4);
            ctx.lineTo(22, 14);
            ctx.moveTo(22, 4);
            ctx.lineTo(14, 14);
            ctx.stroke();
          }
        },
        s.label,
      ),
    );
  }
  container.append(
    el(
      'div',
      { class: 'row' },
      icon((ctx) => ((ctx.fillStyle = '#F0E442'), ctx.fillRect(4, 3, 28, 12))),
      'new in the last seconds (live)',
    ),
  );
  if (!comparing) return;
  container.append(el('h4', {}, 'Compared with the earlier range'));
  for (const kind of Object.keys(DIFF_STYLE) as DiffKind[]) {
    const s = DIFF_STYLE[kind];
    container.append(
      legendRow(
        { 'data-legend-diff': kind },
        (ctx) => {
          if (kind === 'removed')
            strokeSample(
              ctx,
              s.colour,
              REMOVED_DASH.map((d) => d / 2),
            );
          ctx.setLineDash([]);
          ctx.beginPath();
          ctx.arc(18, 9, 7, 0, Math.PI * 2);
          ctx.fillStyle = s.colour;
          ctx.fill();
          ctx.fillStyle = kind === 'removed' ? '#fff' : '#000';
          ctx.font = 'bold 11px system-ui, sans-serif';
          ctx.textAlign = 'center';
          ctx.textBaseline = 'middle';
          ctx.fillText(s.icon, 18, 9.5);
        },
        s.label,
      ),
    );
  }
}
