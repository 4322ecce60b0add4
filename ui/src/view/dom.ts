/** The element with this id, typed; a missing element is a bug in index.html. */
export function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el as T;
}

/** Creates an element with text and attributes (text is set as text, never parsed as HTML). */
export function el(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string | null)[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) if (c !== null) e.append(c);
  return e;
}

export const fmtCount = (n: number) => n.toLocaleString('en-US');
export const fmtPct = (r: number) => `${(r * 100).toFixed(r > 0 && r < 0.1 ? 1 : 0)}%`;
export const fmtMs = (ms: number | null) => (ms === null ? '–' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);
export const fmtRate = (r: number | null) => (r === null ? '–' : r >= 10 ? r.toFixed(0) : r.toFixed(2));
