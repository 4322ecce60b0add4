import type { CoveredRange } from './time-range';

/** `ActivityPoint` of the API, with the fields the sparkline reads. */
export interface ApiActivityPoint {
  time: string;
  flows: number;
  requests: number;
  errors: number;
}

/** `ActivitySeries` of the API. */
export interface ApiActivitySeries {
  range: CoveredRange;
  stepSeconds: number;
  points: ApiActivityPoint[];
}

/** A sparkline ready to draw as SVG: a polyline of counts and one of errors, on a fixed box. */
export interface Sparkline {
  /** What the line counts: requests when the edge has L7 requests in the range, else flows. */
  measure: 'requests' | 'flows';
  values: number[];
  errors: number[];
  max: number;
  total: number;
  /** SVG `points` of the polyline of `values` and of `errors` (same scale), in a widthPx × heightPx box. */
  line: string;
  errorLine: string;
}

/** The sparkline of a series (pure): y grows downwards as in SVG, the highest count touches the top. */
export function toSparkline(series: ApiActivitySeries, widthPx: number, heightPx: number): Sparkline {
  const measure = series.points.some((p) => p.requests > 0) ? 'requests' : 'flows';
  const values = series.points.map((p) => (measure === 'requests' ? p.requests : p.flows));
  const errors = series.points.map((p) => p.errors);
  const max = Math.max(0, ...values, ...errors);
  const n = values.length;
  const x = (i: number) => (n <= 1 ? widthPx / 2 : (i / (n - 1)) * widthPx);
  const y = (v: number) => (max === 0 ? heightPx : heightPx - (v / max) * heightPx);
  const points = (vs: number[]) => vs.map((v, i) => `${round(x(i))},${round(y(v))}`).join(' ');
  return { measure, values, errors, max, total: values.reduce((s, v) => s + v, 0), line: points(values), errorLine: points(errors) };
}

const round = (v: number) => Math.round(v * 10) / 10;
