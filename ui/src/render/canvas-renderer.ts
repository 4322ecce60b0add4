import { DIFF_STYLE, PALETTE } from '../model/map-style';
import { curvePoints, distanceToSegment, pointOnCurve } from '../model/route-edges';
import type { Point } from '../model/layered-layout';
import type { Scene, SceneEdge, SceneNode } from '../model/to-scene';

/** What is under the pointer. */
export type Hit = { kind: 'node'; node: SceneNode } | { kind: 'edge'; edge: SceneEdge } | { kind: 'none' };

export interface RendererEvents {
  onClick: (hit: Hit, e: { shiftKey: boolean }) => void;
  onHover: (hit: Hit, screen: { x: number; y: number }) => void;
}

/** Draw statistics, for the test hook and the bench. */
export interface DrawStats {
  draws: number;
  lastDrawMs: number;
  /** The last 120 draw durations, ms. */
  recentDrawMs: number[];
}

const INTERACTION_SETTLE_MS = 150;
/** Longest wait between a change and its draw, ms. */
const MAX_DRAW_SPACING_MS = 1000;
/** Above this many edges, arrows and dashes are left out while the user pans or zooms. */
const CHEAP_EDGES_WHILE_MOVING = 2000;

/**
 * Draws a scene on a 2D canvas and turns pointer input into pan, zoom, clicks and hovers. It keeps
 * no domain state: what to draw comes from `setScene`. A canvas of our own rather than a graph
 * library's renderer: at 2,000 nodes and 10,000 edges, Cytoscape.js needed several seconds to
 * build its elements and sigma.js's WebGL runs on the CPU in a GPU-less headless Chromium (see the
 * README's map section for the measurements).
 */
export class CanvasRenderer {
  private readonly ctx: CanvasRenderingContext2D;
  private scene: Scene = { nodes: [], edges: [] };
  private nodeById = new Map<string, SceneNode>();
  private cam = { x: 0, y: 0, k: 1 };
  private frame = 0;
  private delayed: ReturnType<typeof setTimeout> | null = null;
  private lastDrawEnd = 0;
  /** What the last fit() framed, until the user pans or zooms. */
  private fitted: { ids?: readonly string[] } | null = null;
  /** Room along the stage's edges that overlays (the legend) cover, CSS px; fitting keeps nodes out of it. */
  private insets = { left: 0, bottom: 0 };
  private movingUntil = 0;
  private dpr = Math.min(2, window.devicePixelRatio || 1);
  private width = 0;
  private height = 0;
  readonly stats: DrawStats = { draws: 0, lastDrawMs: 0, recentDrawMs: [] };
  private readonly disposers: (() => void)[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly events: RendererEvents,
  ) {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser has no 2D canvas');
    this.ctx = ctx;
    this.resize();
    const ro = new ResizeObserver(() => {
      this.resize();
      // The side panel opening or closing changes the stage's width: keep the map framed as it
      // was fitted, unless the user has panned or zoomed since.
      if (this.fitted !== null) this.fit(this.fitted.ids);
      this.requestDraw();
    });
    ro.observe(canvas.parentElement ?? canvas);
    this.disposers.push(() => ro.disconnect());
    this.attachPointer();
  }

  /** Replaces what is drawn (positions included); drawn on the next animation frame. */
  setScene(scene: Scene) {
    this.scene = scene;
    this.nodeById = new Map(scene.nodes.map((n) => [n.id, n]));
    this.requestDraw();
  }

  getScene(): Scene {
    return this.scene;
  }

  /** Sets the room overlays cover (see `insets`); the map is fitted again if it was fitted. */
  setInsets(insets: { left: number; bottom: number }) {
    if (insets.left === this.insets.left && insets.bottom === this.insets.bottom) return;
    this.insets = { ...insets };
    if (this.fitted !== null) this.fit(this.fitted.ids);
  }

  /** Zooms and pans so that every node (or the given ones) is in view, clear of the overlays. */
  fit(ids?: readonly string[]) {
    this.fitted = { ids };
    const nodes = ids ? ids.map((id) => this.nodeById.get(id)).filter((n): n is SceneNode => n !== undefined) : this.scene.nodes;
    if (nodes.length === 0) return;
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const n of nodes) {
      x0 = Math.min(x0, n.x - n.radius);
      y0 = Math.min(y0, n.y - n.radius);
      x1 = Math.max(x1, n.x + n.radius + 60);
      y1 = Math.max(y1, n.y + n.radius + 24);
    }
    const pad = 40;
    const width = Math.max(1, this.width - this.insets.left);
    const height = Math.max(1, this.height - this.insets.bottom);
    const k = Math.min(2, (width - 2 * pad) / Math.max(1, x1 - x0), (height - 2 * pad) / Math.max(1, y1 - y0));
    // Centre the map in the free part of the stage: right of a left inset, above a bottom one.
    this.cam = { k, x: (x0 + x1) / 2 - (this.insets.left + width / 2) / k, y: (y0 + y1) / 2 - height / 2 / k };
    this.requestDraw();
  }

  /** Camera in world coordinates (top-left) and zoom, for tests. */
  camera() {
    return { ...this.cam };
  }

  /** Screen position (CSS pixels, relative to the canvas) of a node, or null. */
  screenOf(id: string): { x: number; y: number } | null {
    const n = this.nodeById.get(id);
    return n ? { x: (n.x - this.cam.x) * this.cam.k, y: (n.y - this.cam.y) * this.cam.k } : null;
  }

  /**
   * Draws on the next animation frame. When a full draw is slow (a large map on a slow machine),
   * draws not caused by the user (live updates, marks expiring) are spaced so that drawing takes
   * at most about a quarter of the time and input stays responsive; pan and zoom draw at once.
   */
  requestDraw() {
    if (this.frame !== 0 || this.delayed !== null) return;
    const interacting = performance.now() < this.movingUntil;
    const wait = interacting ? 0 : Math.min(MAX_DRAW_SPACING_MS, this.lastDrawEnd + this.stats.lastDrawMs * 3 - performance.now());
    const schedule = () => {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.draw();
      });
    };
    if (wait <= 0) schedule();
    else
      this.delayed = setTimeout(() => {
        this.delayed = null;
        schedule();
      }, wait);
  }

  dispose() {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    if (this.delayed !== null) clearTimeout(this.delayed);
    for (const d of this.disposers) d();
  }

  private resize() {
    const box = (this.canvas.parentElement ?? this.canvas).getBoundingClientRect();
    this.width = Math.max(1, Math.floor(box.width));
    this.height = Math.max(1, Math.floor(box.height));
    this.canvas.width = this.width * this.dpr;
    this.canvas.height = this.height * this.dpr;
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
  }

  private attachPointer() {
    const c = this.canvas;
    let drag: { x: number; y: number; camX: number; camY: number; moved: boolean } | null = null;
    const local = (e: MouseEvent) => {
      const r = c.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    const on = <K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void, opts?: AddEventListenerOptions) => {
      c.addEventListener(type, fn as EventListener, opts);
      this.disposers.push(() => c.removeEventListener(type, fn as EventListener));
    };
    on('pointerdown', (e) => {
      const p = local(e);
      drag = { x: p.x, y: p.y, camX: this.cam.x, camY: this.cam.y, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    on('pointermove', (e) => {
      const p = local(e);
      if (drag) {
        if (Math.abs(p.x - drag.x) + Math.abs(p.y - drag.y) > 3) drag.moved = true;
        if (drag.moved) {
          this.cam.x = drag.camX - (p.x - drag.x) / this.cam.k;
          this.cam.y = drag.camY - (p.y - drag.y) / this.cam.k;
          this.moving();
        }
        return;
      }
      this.events.onHover(this.hitTest(p.x, p.y), p);
    });
    on('pointerup', (e) => {
      const p = local(e);
      const wasDrag = drag?.moved ?? false;
      drag = null;
      if (!wasDrag) this.events.onClick(this.hitTest(p.x, p.y), { shiftKey: e.shiftKey });
    });
    on('pointerleave', () => this.events.onHover({ kind: 'none' }, { x: 0, y: 0 }));
    on(
      'wheel',
      (e) => {
        e.preventDefault();
        const p = local(e);
        const factor = Math.exp(-e.deltaY * 0.0015);
        const k = Math.min(8, Math.max(0.02, this.cam.k * factor));
        const wx = this.cam.x + p.x / this.cam.k;
        const wy = this.cam.y + p.y / this.cam.k;
        this.cam = { k, x: wx - p.x / k, y: wy - p.y / k };
        this.moving();
      },
      { passive: false },
    );
  }

  private moving() {
    this.fitted = null;
    this.movingUntil = performance.now() + INTERACTION_SETTLE_MS;
    if (this.delayed !== null) {
      clearTimeout(this.delayed);
      this.delayed = null;
    }
    this.requestDraw();
    setTimeout(() => this.requestDraw(), INTERACTION_SETTLE_MS + 10);
  }

  /** The node (first) or edge under a canvas position (CSS pixels). */
  hitTest(sx: number, sy: number): Hit {
    const wx = this.cam.x + sx / this.cam.k;
    const wy = this.cam.y + sy / this.cam.k;
    const slack = 3 / this.cam.k;
    for (let i = this.scene.nodes.length - 1; i >= 0; i -= 1) {
      const n = this.scene.nodes[i];
      if (n === undefined) continue;
      const r = n.radius + slack;
      if ((n.x - wx) ** 2 + (n.y - wy) ** 2 <= r * r) return { kind: 'node', node: n };
    }
    let best: SceneEdge | null = null;
    let bestD = Infinity;
    for (const e of this.scene.edges) {
      const s = this.nodeById.get(e.source);
      const t = this.nodeById.get(e.target);
      if (!s || !t) continue;
      const p = { x: wx, y: wy };
      const points = e.bend ? curvePoints(s, e.bend, t) : [s, t];
      let d = Infinity;
      let a: Point | undefined;
      for (const b of points) {
        if (a !== undefined) d = Math.min(d, distanceToSegment(p, a, b));
        a = b;
      }
      const limit = Math.max(5, e.widthPx / 2 + 2) / this.cam.k;
      if (d <= limit && d < bestD) {
        best = e;
        bestD = d;
      }
    }
    return best ? { kind: 'edge', edge: best } : { kind: 'none' };
  }

  private draw() {
    const started = performance.now();
    const { ctx, cam } = this;
    const cheap = started < this.movingUntil && this.scene.edges.length > CHEAP_EDGES_WHILE_MOVING;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, this.width, this.height);
    ctx.setTransform(this.dpr * cam.k, 0, 0, this.dpr * cam.k, -cam.x * cam.k * this.dpr, -cam.y * cam.k * this.dpr);
    const view = { x0: cam.x, y0: cam.y, x1: cam.x + this.width / cam.k, y1: cam.y + this.height / cam.k };
    this.drawEdges(cheap, view);
    this.drawNodes(view);
    const ms = performance.now() - started;
    this.lastDrawEnd = performance.now();
    this.stats.draws += 1;
    this.stats.lastDrawMs = ms;
    this.stats.recentDrawMs.push(ms);
    if (this.stats.recentDrawMs.length > 120) this.stats.recentDrawMs.shift();
  }

  private drawEdges(cheap: boolean, view: { x0: number; y0: number; x1: number; y1: number }) {
    const { ctx } = this;
    const k = this.cam.k;
    const visible: [SceneEdge, SceneNode, SceneNode][] = [];
    for (const e of this.scene.edges) {
      const s = this.nodeById.get(e.source);
      const t = this.nodeById.get(e.target);
      if (!s || !t) continue;
      if (Math.max(s.x, t.x) < view.x0 || Math.min(s.x, t.x) > view.x1 || Math.max(s.y, t.y) < view.y0 || Math.min(s.y, t.y) > view.y1)
        continue;
      visible.push([e, s, t]);
    }
    // Halos first (new, active, selected, trace), under the lines.
    for (const [e, s, t] of visible) {
      const halo = e.isNew
        ? PALETTE.yellow
        : e.selected
          ? '#000000'
          : e.shortest
            ? '#000000'
            : e.onTrace
              ? '#444444'
              : e.active
                ? '#F6EFA0'
                : null;
      if (!halo || cheap) continue;
      ctx.globalAlpha = 1;
      ctx.setLineDash([]);
      ctx.strokeStyle = halo;
      ctx.lineWidth = (e.widthPx + (e.isNew ? 10 : e.shortest ? 7 : 5)) / k;
      ctx.beginPath();
      edgePath(ctx, e, s, t);
      ctx.stroke();
    }
    // Lines batched by style: one path per colour, dash, width and fading.
    const groups = new Map<string, { e: SceneEdge; segs: [SceneEdge, SceneNode, SceneNode][] }>();
    for (const [e, s, t] of visible) {
      const key = `${e.colour}|${cheap ? '' : e.dash.join(',')}|${e.widthPx.toFixed(1)}|${e.dimmed ? 1 : e.diff === 'removed' ? 2 : 0}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { e, segs: [] }));
      g.segs.push([e, s, t]);
    }
    ctx.lineCap = 'butt';
    for (const { e, segs } of groups.values()) {
      ctx.globalAlpha = e.dimmed ? 0.12 : e.diff === 'removed' ? 0.55 : 0.85;
      ctx.strokeStyle = e.colour;
      ctx.lineWidth = e.widthPx / k;
      ctx.setLineDash(cheap ? [] : e.dash.map((d) => (d * Math.max(1, e.widthPx / 2)) / k));
      ctx.beginPath();
      for (const [edge, s, t] of segs) edgePath(ctx, edge, s, t);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    if (cheap) return;
    // Arrowheads at the callee's border and cross marks on dropped traffic.
    for (const [e, s, t] of visible) {
      ctx.globalAlpha = e.dimmed ? 0.12 : 0.95;
      // A curve arrives along the line from its control point.
      const from = e.bend ?? s;
      const dx = t.x - from.x;
      const dy = t.y - from.y;
      const len = Math.hypot(dx, dy);
      if (len < 1) continue;
      const ux = dx / len;
      const uy = dy / len;
      const size = (6 + e.widthPx) / k;
      const tipX = t.x - ux * (t.radius + 2 / k);
      const tipY = t.y - uy * (t.radius + 2 / k);
      ctx.fillStyle = e.colour;
      ctx.beginPath();
      ctx.moveTo(tipX, tipY);
      ctx.lineTo(tipX - ux * size - uy * size * 0.5, tipY - uy * size + ux * size * 0.5);
      ctx.lineTo(tipX - ux * size + uy * size * 0.5, tipY - uy * size - ux * size * 0.5);
      ctx.closePath();
      ctx.fill();
      const { x: mx, y: my } = e.bend ? pointOnCurve(s, e.bend, t, 0.5) : { x: (s.x + t.x) / 2, y: (s.y + t.y) / 2 };
      if (e.dropMark === 'cross') {
        const m = 5 / k;
        ctx.strokeStyle = e.colour;
        ctx.lineWidth = 2.5 / k;
        ctx.beginPath();
        ctx.moveTo(mx - m, my - m);
        ctx.lineTo(mx + m, my + m);
        ctx.moveTo(mx + m, my - m);
        ctx.lineTo(mx - m, my + m);
        ctx.stroke();
      } else if (e.dropMark === 'bar') {
        // A bar across the line, like a wall: the policy stops the traffic here.
        const m = (7 + e.widthPx / 2) / k;
        ctx.strokeStyle = e.colour;
        ctx.lineWidth = 3.5 / k;
        ctx.beginPath();
        ctx.moveTo(mx - uy * m, my + ux * m);
        ctx.lineTo(mx + uy * m, my - ux * m);
        ctx.stroke();
      }
      if (e.diff) drawDiffBadge(ctx, e.diff, mx + uy * (10 / k), my - ux * (10 / k), k);
    }
    ctx.globalAlpha = 1;
  }

  private drawNodes(view: { x0: number; y0: number; x1: number; y1: number }) {
    const { ctx } = this;
    const k = this.cam.k;
    const labels = k >= 0.5 || this.scene.nodes.length <= 60;
    const inView = (n: SceneNode) =>
      n.x + n.radius >= view.x0 && n.x - n.radius <= view.x1 && n.y + n.radius >= view.y0 && n.y - n.radius <= view.y1 + 30 / k;
    for (const n of this.scene.nodes) {
      if (!inView(n)) continue;
      ctx.globalAlpha = n.dimmed ? 0.18 : 1;
      if (n.isNew || n.selected || n.match || n.onTrace) {
        ctx.beginPath();
        shapePath(ctx, n.shape, n.x, n.y, n.radius + (n.isNew ? 8 : 5) / k);
        ctx.fillStyle = n.isNew ? PALETTE.yellow : n.selected ? '#000000' : n.match ? PALETTE.green : '#444444';
        ctx.fill();
      }
      ctx.beginPath();
      shapePath(ctx, n.shape, n.x, n.y, n.radius);
      ctx.fillStyle = n.fill;
      ctx.fill();
      ctx.lineWidth = 1.5 / k;
      ctx.strokeStyle = '#222222';
      if (n.diff === 'removed') ctx.setLineDash([4 / k, 3 / k]);
      ctx.stroke();
      ctx.setLineDash([]);
      if (n.diff) drawDiffBadge(ctx, n.diff, n.x + n.radius, n.y - n.radius, k);
    }
    if (!labels) return;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const n of this.scene.nodes) {
      if (!inView(n)) continue;
      ctx.globalAlpha = n.dimmed ? 0.3 : 1;
      ctx.fillStyle = '#111111';
      ctx.font = `${(n.selected || n.match ? 'bold ' : '') + 12 / k}px system-ui, sans-serif`;
      const text = n.distance !== null && n.distance > 0 ? `${n.label} (${n.distance})` : n.label;
      ctx.fillText(text, n.x, n.y + n.radius + 3 / k);
      if (n.sublabel) {
        ctx.fillStyle = '#555555';
        ctx.font = `${10 / k}px system-ui, sans-serif`;
        ctx.fillText(n.sublabel, n.x, n.y + n.radius + 17 / k);
      }
    }
    ctx.globalAlpha = 1;
  }
}

/** A round badge with the diff's sign (+, −, Δ): the compare mark that does not rely on colour. */
function drawDiffBadge(ctx: CanvasRenderingContext2D, kind: keyof typeof DIFF_STYLE, x: number, y: number, k: number) {
  const style = DIFF_STYLE[kind];
  const r = 7 / k;
  const alpha = ctx.globalAlpha;
  ctx.globalAlpha = Math.max(alpha, 0.9);
  ctx.beginPath();
  ctx.arc(x, y, r, 0, Math.PI * 2);
  ctx.fillStyle = style.colour;
  ctx.fill();
  ctx.lineWidth = 1 / k;
  ctx.strokeStyle = '#222222';
  ctx.stroke();
  ctx.fillStyle = kind === 'removed' ? '#ffffff' : '#000000';
  ctx.font = `bold ${11 / k}px system-ui, sans-serif`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(style.icon, x, y + 0.5 / k);
  ctx.globalAlpha = alpha;
}

/** Adds an edge's line to the current path: straight, or curved through its bend. */
function edgePath(ctx: CanvasRenderingContext2D, e: SceneEdge, s: SceneNode, t: SceneNode) {
  ctx.moveTo(s.x, s.y);
  if (e.bend) ctx.quadraticCurveTo(e.bend.x, e.bend.y, t.x, t.y);
  else ctx.lineTo(t.x, t.y);
}

/** Adds the outline of a node shape to the current path. */
export function shapePath(ctx: CanvasRenderingContext2D, shape: SceneNode['shape'], x: number, y: number, r: number) {
  switch (shape) {
    case 'circle':
      ctx.moveTo(x + r, y);
      ctx.arc(x, y, r, 0, Math.PI * 2);
      return;
    case 'square':
      ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7);
      return;
    case 'diamond':
      ctx.moveTo(x, y - r * 1.15);
      ctx.lineTo(x + r * 1.15, y);
      ctx.lineTo(x, y + r * 1.15);
      ctx.lineTo(x - r * 1.15, y);
      ctx.closePath();
      return;
    case 'hexagon':
      for (let i = 0; i < 6; i += 1) {
        const a = (Math.PI / 3) * i;
        if (i === 0) ctx.moveTo(x + r * Math.cos(a), y + r * Math.sin(a));
        else ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a));
      }
      ctx.closePath();
      return;
  }
}
