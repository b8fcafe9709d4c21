/**
 * A line chart drawn on a <canvas>: the live training charts use it instead of recharts' SVG, whose
 * commits (a few thousand SVG nodes re-laid out every refresh) made main-thread tasks of 50–150 ms
 * while a job trained. Drawing the same curves on a canvas takes about a millisecond.
 *
 * What it keeps from the SVG charts: axes with the caller's ticks and labels (niceAxis/tickFormat),
 * a labelled vertical reference line, dashed and dotted series, gaps at nulls (or not), a tooltip
 * on hover and on the arrow keys (the chart is focusable), and a text description for screen
 * readers. What it draws is written to the canvas's `data-drawn` attribute (JSON: the series with
 * the values they were drawn from, the reference lines, every text label with its box), so tests
 * and tools read the chart as drawn, not its inputs.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { niceStep } from '../format.ts';
import { keyStep } from './ChartCanvas.tsx';

export interface CanvasSeries {
  key: string;
  label: string;
  color: string;
  width?: number;
  dash?: number[];
  /** 'filled': a dot at every point (r 2.5); 'hollow': white-filled rings (r 3); none otherwise. */
  dots?: 'filled' | 'hollow' | false;
  /** Draw across missing values (true) or break the line there (false). */
  connectNulls?: boolean;
}

export interface CanvasAxis {
  domain: [number, number];
  ticks: number[];
  tickFormatter: (v: number) => string;
}

export type CanvasRow = Record<string, number | null | undefined>;

/** One text drawn on the canvas, with its box in CSS pixels relative to the canvas. */
export interface DrawnLabel {
  text: string;
  axis: 'x' | 'y' | 'title' | 'ref';
  l: number;
  t: number;
  r: number;
  b: number;
}

/** What the canvas shows, as written to its `data-drawn` attribute. */
export interface Drawn {
  width: number;
  height: number;
  series: { key: string; label: string; color: string; dash: number[]; points: [number, number][] }[];
  refs: { x: number; label: string; px: number }[];
  labels: DrawnLabel[];
}

const FONT = '11px -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const TICK = '#5b6776';
const AXIS_LINE = '#b8c2cf';
const GRID = '#e6ebf1';
const MARGIN = { top: 8, right: 12, bottom: 22 };

export function LineCanvas(props: {
  rows: CanvasRow[];
  xKey: string;
  /** 'step' or 'epoch': names the x value in the tooltip and the description. */
  xName: string;
  /** The x axis starts at the data's smallest x, or at this value. */
  xMin?: number;
  series: CanvasSeries[];
  y: CanvasAxis;
  yTitle?: { text: string; color: string };
  refs?: { x: number; label: string }[];
  height: number;
  /** A value as the tooltip and the description show it. */
  format: (v: number, s: CanvasSeries) => string;
  /** What the chart is, for screen readers (a summary of the values follows). */
  label: string;
}) {
  const { rows, xKey, series, y, height, format } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [active, setActive] = useState<number | null>(null); // index into rows
  // Chosen with the keys: the tooltip is then a status region (read out); under the mouse it is not.
  const [byKey, setByKey] = useState(false);

  useLayoutEffect(() => {
    const el = wrap.current;
    if (!el) return;
    setWidth(Math.floor(el.clientWidth));
    const ro = new ResizeObserver(() => setWidth(Math.floor(el.clientWidth)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const xs = useMemo(() => rows.map((r) => r[xKey] ?? NaN), [rows, xKey]);
  const layout = useMemo(() => {
    if (!width) return null;
    const ctx = measureContext();
    ctx.font = FONT;
    const yLabels = y.ticks.map((t) => y.tickFormatter(t));
    const yLabelW = Math.max(0, ...yLabels.map((s) => ctx.measureText(s).width));
    const left = Math.ceil(yLabelW) + 10 + (props.yTitle ? 16 : 0);
    const plot = { l: left, t: MARGIN.top, r: width - MARGIN.right, b: height - MARGIN.bottom };
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of xs)
      if (Number.isFinite(x)) {
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    if (props.xMin !== undefined) lo = Math.min(props.xMin, Number.isFinite(hi) ? hi : props.xMin);
    if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
    const xTicks = integerTicks(lo, hi, plot.r - plot.l, (t) => ctx.measureText(t).width);
    return { plot, xDomain: [lo, hi] as [number, number], xTicks, yLabels };
  }, [width, height, xs, y, props.yTitle, props.xMin]);

  // Draw after every change; the canvas keeps no React children, so this is the whole commit.
  useEffect(() => {
    const el = canvas.current;
    if (!el || !layout) return;
    const drawn = draw(el, layout, {
      width,
      height,
      rows,
      xs,
      series,
      y,
      yTitle: props.yTitle,
      refs: props.refs ?? [],
      active,
    });
    el.setAttribute('data-drawn', JSON.stringify(drawn));
  }, [layout, width, height, rows, xs, series, y, props.yTitle, props.refs, active]);

  const toIndex = (clientX: number): number | null => {
    const el = canvas.current;
    if (!el || !layout || rows.length === 0) return null;
    const px = clientX - el.getBoundingClientRect().left;
    const { plot, xDomain } = layout;
    const x = xDomain[0] + ((px - plot.l) / Math.max(1, plot.r - plot.l)) * (xDomain[1] - xDomain[0]);
    let best: number | null = null;
    for (let i = 0; i < xs.length; i++)
      if (Number.isFinite(xs[i]) && (best === null || Math.abs(xs[i] - x) < Math.abs(xs[best] - x))) best = i;
    return best;
  };
  const onMove = (e: MouseEvent) => {
    const i = toIndex(e.clientX);
    if (i !== active) setActive(i);
    if (byKey) setByKey(false);
  };
  const onKey = (e: KeyboardEvent) => {
    const next = keyStep(e.key, active, rows.length);
    if (next === undefined) return;
    e.preventDefault();
    setActive(next);
    setByKey(true);
  };
  const shown = active !== null && active < rows.length ? active : null;
  const tip = shown !== null && layout ? tooltipAt(rows[shown], xs[shown], layout, props, width) : null;

  return (
    <div className="line-canvas" ref={wrap} style={{ height }}>
      <canvas
        ref={canvas}
        className="line-canvas-surface"
        role="img"
        tabIndex={0}
        aria-label={`${props.label}. ${describe(rows, xs, props.xName, series, format)}`}
        style={{ width: width || '100%', height }}
        onMouseMove={onMove}
        onMouseLeave={() => setActive(null)}
        onKeyDown={onKey}
        onBlur={() => setActive(null)}
      />
      {tip ? (
        <div
          className="line-canvas-tip"
          role={byKey ? 'status' : undefined}
          aria-hidden={byKey ? undefined : true}
          style={{ left: tip.left, top: MARGIN.top + 4, transform: tip.flip ? 'translateX(-100%)' : undefined }}
        >
          <div className="line-canvas-tip-title">
            {props.xName} {tip.x}
          </div>
          {tip.items.map((it) => (
            <div key={it.key} style={{ color: it.color }}>
              {it.label}: {it.value}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

let measurer: CanvasRenderingContext2D | null = null;
function measureContext(): CanvasRenderingContext2D {
  measurer ??= document.createElement('canvas').getContext('2d')!;
  return measurer;
}

/**
 * Integer x ticks at a nice step (1, 2, 5, 10…), as many as fit: the step grows until neighbouring
 * labels (as wide as `measure` says the largest is, plus a gap) no longer touch.
 */
export function integerTicks(lo: number, hi: number, plotWidth: number, measure: (s: string) => number): number[] {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const labelW = measure(String(Math.round(hi))) + 14;
  for (let n = Math.max(1, Math.min(8, Math.floor(plotWidth / Math.max(40, labelW)))); ; n--) {
    const step = Math.max(1, Math.ceil(niceStep(span, n)));
    const ticks: number[] = [];
    for (let k = Math.ceil(lo / step); k * step <= hi; k++) ticks.push(k * step);
    if (n <= 1 || ticks.length <= 1 || (plotWidth * step) / span >= labelW) return ticks.length ? ticks : [lo];
  }
}

interface Layout {
  plot: { l: number; t: number; r: number; b: number };
  xDomain: [number, number];
  xTicks: number[];
  yLabels: string[];
}

function draw(
  el: HTMLCanvasElement,
  layout: Layout,
  o: {
    width: number;
    height: number;
    rows: CanvasRow[];
    xs: number[];
    series: CanvasSeries[];
    y: CanvasAxis;
    yTitle?: { text: string; color: string };
    refs: { x: number; label: string }[];
    active: number | null;
  },
): Drawn {
  const dpr = window.devicePixelRatio || 1;
  const W = o.width;
  const H = o.height;
  if (el.width !== Math.round(W * dpr) || el.height !== Math.round(H * dpr)) {
    el.width = Math.round(W * dpr);
    el.height = Math.round(H * dpr);
  }
  const ctx = el.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  ctx.font = FONT;
  const { plot, xDomain, xTicks, yLabels } = layout;
  const xSpan = xDomain[1] - xDomain[0];
  const px = (x: number) =>
    xSpan > 0 ? plot.l + ((x - xDomain[0]) / xSpan) * (plot.r - plot.l) : (plot.l + plot.r) / 2;
  const [y0, y1] = o.y.domain;
  const py = (v: number) => (y1 > y0 ? plot.b - ((v - y0) / (y1 - y0)) * (plot.b - plot.t) : (plot.t + plot.b) / 2);
  const labels: DrawnLabel[] = [];
  const text = (s: string, x: number, yy: number, axis: DrawnLabel['axis'], align: CanvasTextAlign) => {
    ctx.textAlign = align;
    ctx.fillText(s, x, yy);
    const w = ctx.measureText(s).width;
    const l = align === 'right' ? x - w : align === 'center' ? x - w / 2 : x;
    labels.push({ text: s, axis, l, t: yy - 6.5, r: l + w, b: yy + 6.5 });
  };

  // Grid (dashed), axes, ticks.
  ctx.lineWidth = 1;
  ctx.strokeStyle = GRID;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  for (const t of o.y.ticks) {
    const yy = Math.round(py(t)) + 0.5;
    ctx.moveTo(plot.l, yy);
    ctx.lineTo(plot.r, yy);
  }
  for (const t of xTicks) {
    const xx = Math.round(px(t)) + 0.5;
    ctx.moveTo(xx, plot.t);
    ctx.lineTo(xx, plot.b);
  }
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.strokeStyle = AXIS_LINE;
  ctx.beginPath();
  ctx.moveTo(plot.l + 0.5, plot.t);
  ctx.lineTo(plot.l + 0.5, plot.b + 0.5);
  ctx.lineTo(plot.r, plot.b + 0.5);
  for (const t of o.y.ticks) {
    const yy = Math.round(py(t)) + 0.5;
    ctx.moveTo(plot.l - 5, yy);
    ctx.lineTo(plot.l, yy);
  }
  for (const t of xTicks) {
    const xx = Math.round(px(t)) + 0.5;
    ctx.moveTo(xx, plot.b);
    ctx.lineTo(xx, plot.b + 5);
  }
  ctx.stroke();
  ctx.fillStyle = TICK;
  ctx.textBaseline = 'middle';
  o.y.ticks.forEach((t, i) => text(yLabels[i] ?? '', plot.l - 7, py(t), 'y', 'right'));
  for (const t of xTicks) text(String(t), px(t), plot.b + 13, 'x', 'center');
  if (o.yTitle) {
    // Rotated, centred on the plot's height, left of the tick labels.
    const w = ctx.measureText(o.yTitle.text).width;
    const cx = 8;
    const cy = (plot.t + plot.b) / 2;
    ctx.save();
    ctx.translate(cx, cy);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillStyle = o.yTitle.color;
    ctx.fillText(o.yTitle.text, 0, 0);
    ctx.restore();
    labels.push({ text: o.yTitle.text, axis: 'title', l: cx - 6.5, t: cy - w / 2, r: cx + 6.5, b: cy + w / 2 });
  }

  // Reference lines with their labels (inside, top left).
  const refs: Drawn['refs'] = [];
  for (const ref of o.refs) {
    if (!(ref.x >= xDomain[0] && ref.x <= xDomain[1])) continue;
    const xx = px(ref.x);
    ctx.strokeStyle = '#9aa5b1';
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(xx, plot.t);
    ctx.lineTo(xx, plot.b);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = TICK;
    ctx.font = FONT.replace('11px', '10px');
    text(ref.label, xx + 4, plot.t + 9, 'ref', 'left');
    ctx.font = FONT;
    refs.push({ x: ref.x, label: ref.label, px: xx });
  }

  // The series, clipped to the plot.
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.l, plot.t - 4, plot.r - plot.l + 4, plot.b - plot.t + 8);
  ctx.clip();
  const drawnSeries: Drawn['series'] = [];
  for (const s of o.series) {
    const points: [number, number][] = [];
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width ?? 2;
    ctx.setLineDash(s.dash ?? []);
    ctx.lineJoin = 'round';
    ctx.beginPath();
    let pen = false;
    o.rows.forEach((r, i) => {
      const v = r[s.key];
      const x = o.xs[i];
      if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(x)) {
        if (!s.connectNulls) pen = false;
        return;
      }
      points.push([x, v]);
      if (pen) ctx.lineTo(px(x), py(v));
      else ctx.moveTo(px(x), py(v));
      pen = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    if (s.dots) {
      for (const [x, v] of points) {
        ctx.beginPath();
        ctx.arc(px(x), py(v), s.dots === 'hollow' ? 3 : 2.5, 0, 2 * Math.PI);
        ctx.fillStyle = s.dots === 'hollow' ? '#fff' : s.color;
        ctx.fill();
        if (s.dots === 'hollow') {
          ctx.lineWidth = 1;
          ctx.stroke();
        }
      }
    }
    drawnSeries.push({ key: s.key, label: s.label, color: s.color, dash: s.dash ?? [], points });
  }
  // The hovered (or keyboard-chosen) step: a cursor line and a ring on each series' point.
  if (o.active !== null && o.active < o.rows.length && Number.isFinite(o.xs[o.active])) {
    const xx = px(o.xs[o.active]);
    ctx.strokeStyle = '#ccd3dc';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(xx, plot.t);
    ctx.lineTo(xx, plot.b);
    ctx.stroke();
    for (const s of o.series) {
      const v = o.rows[o.active][s.key];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      ctx.beginPath();
      ctx.arc(xx, py(v), 4, 0, 2 * Math.PI);
      ctx.fillStyle = s.color;
      ctx.fill();
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 2;
      ctx.stroke();
    }
  }
  ctx.restore();
  return { width: W, height: H, series: drawnSeries, refs, labels };
}

function tooltipAt(
  row: CanvasRow,
  x: number,
  layout: Layout,
  props: { series: CanvasSeries[]; format: (v: number, s: CanvasSeries) => string },
  width: number,
): { left: number; flip: boolean; x: number; items: { key: string; label: string; color: string; value: string }[] } {
  const { plot, xDomain } = layout;
  const span = xDomain[1] - xDomain[0];
  const xx = span > 0 ? plot.l + ((x - xDomain[0]) / span) * (plot.r - plot.l) : (plot.l + plot.r) / 2;
  const items = props.series.flatMap((s) => {
    const v = row[s.key];
    return typeof v === 'number' && Number.isFinite(v)
      ? [{ key: s.key, label: s.label, color: s.color, value: props.format(v, s) }]
      : [];
  });
  // Right of the cursor in the left half, left of it in the right half.
  const flip = xx > width / 2;
  return { left: flip ? xx - 12 : xx + 12, flip, x, items };
}

/** A sentence per series (first, last, lowest and highest value), for screen readers. */
function describe(
  rows: CanvasRow[],
  xs: number[],
  xName: string,
  series: CanvasSeries[],
  format: (v: number, s: CanvasSeries) => string,
): string {
  const finite = xs.filter(Number.isFinite);
  if (!finite.length) return 'No data yet.';
  const parts = [`${xName}s ${finite[0]} to ${finite[finite.length - 1]}`];
  for (const s of series) {
    let first: number | null = null;
    let last: number | null = null;
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of rows) {
      const v = r[s.key];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      first ??= v;
      last = v;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (first === null || last === null) parts.push(`${s.label}: no values`);
    else
      parts.push(
        `${s.label}: ${format(first, s)} at first, ${format(last, s)} at last (lowest ${format(lo, s)}, highest ${format(hi, s)})`,
      );
  }
  return `${parts.join('; ')}.`;
}
