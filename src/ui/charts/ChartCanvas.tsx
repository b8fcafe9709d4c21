/**
 * The frame of a results chart drawn on a <canvas> (the AUILC and ablation views): it sizes the
 * canvas to its box (and redraws on resize), scales for the screen's pixel ratio, follows the mouse
 * and the arrow keys (the canvas is focusable) to a hovered position, shows the caller's tooltip
 * there, and writes what the caller's `draw` reports to the canvas's `data-drawn` attribute (JSON),
 * so tests read the chart as drawn. The views used recharts before; mounting those SVG charts when
 * a run's results arrived made one main-thread task of 70–190 ms, mid-job in ablations and sweeps
 * (docs/performance.md has the figures before and after).
 *
 * Same look and conventions as LineCanvas (the live training charts): the canvas has the class
 * `line-canvas-surface`, which the PNG export (exportPng.ts) copies, and every text drawn is
 * reported with its box (`labels`) for the layout checks in e2e.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { DrawnLabel } from './LineCanvas.tsx';

export const FONT = '11px -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
export const TICK = '#5b6776';
export const AXIS_LINE = '#b8c2cf';
export const GRID = '#e6ebf1';

/** One tooltip: a title and a line per item, beside x (CSS px in the canvas). */
export interface CanvasTip {
  x: number;
  title: string;
  items: { key: string; label: string; color: string; value: string }[];
}

/** What `draw` reports: at least every text drawn, with its box; the rest is the caller's. */
export interface DrawnBase {
  width: number;
  height: number;
  labels: DrawnLabel[];
}

/** Text drawing that records each label's box (CSS px relative to the canvas). */
export class Pen {
  readonly labels: DrawnLabel[] = [];
  constructor(readonly ctx: CanvasRenderingContext2D) {}
  text(s: string, x: number, y: number, axis: DrawnLabel['axis'], align: CanvasTextAlign, size = 11): void {
    const { ctx } = this;
    ctx.textAlign = align;
    ctx.textBaseline = 'middle';
    ctx.fillText(s, x, y);
    const w = ctx.measureText(s).width;
    const l = align === 'right' ? x - w : align === 'center' ? x - w / 2 : x;
    const h = size * 0.6;
    this.labels.push({ text: s, axis, l, t: y - h, r: l + w, b: y + h });
  }
  /**
   * Centred lines one under the other from y (the first line's middle), recorded as one label (its
   * lines joined by spaces, the box around them all), as a wrapped SVG text would be.
   */
  lines(lines: string[], x: number, y: number, lineHeight: number, axis: DrawnLabel['axis'], size = 11): void {
    if (!lines.length) return;
    const start = this.labels.length;
    lines.forEach((line, i) => this.text(line, x, y + i * lineHeight, axis, 'center', size));
    const parts = this.labels.splice(start);
    this.labels.push({
      text: lines.join(' '),
      axis,
      l: Math.min(...parts.map((p) => p.l)),
      t: parts[0].t,
      r: Math.max(...parts.map((p) => p.r)),
      b: parts[parts.length - 1].b,
    });
  }
}

let measurer: CanvasRenderingContext2D | null = null;
/** A 2D context for measuring text (never drawn). */
/**
 * The point a chart's keyboard focus moves to: arrows step, Home/End jump, Escape clears (null);
 * undefined for any other key (or no points), which the chart leaves to the browser.
 */
export function keyStep(key: string, active: number | null, count: number): number | null | undefined {
  if (!count) return undefined;
  const last = count - 1;
  if (key === 'ArrowRight') return Math.min(last, (active ?? -1) + 1);
  if (key === 'ArrowLeft') return Math.max(0, (active ?? last + 1) - 1);
  if (key === 'Home') return 0;
  if (key === 'End') return last;
  if (key === 'Escape') return null;
  return undefined;
}

export function measureContext(): CanvasRenderingContext2D {
  measurer ??= document.createElement('canvas').getContext('2d')!;
  measurer.font = FONT;
  return measurer;
}

export function ChartCanvas<D extends DrawnBase>(props: {
  height: number;
  /** What the chart is and what it shows, for screen readers. */
  ariaLabel: string;
  /** Positions the mouse and keys move through (0 = none). */
  count: number;
  /** The position nearest to x (CSS px in the canvas), or null. */
  indexAt: (x: number, width: number) => number | null;
  draw: (ctx: CanvasRenderingContext2D, width: number, active: number | null) => D;
  tip: (index: number, width: number) => CanvasTip | null;
  testId?: string;
}) {
  const { height, count, draw } = props;
  const wrap = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [active, setActive] = useState<number | null>(null);
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

  const shown = active !== null && active < count ? active : null;
  useEffect(() => {
    const el = canvas.current;
    if (!el || !width) return;
    const dpr = window.devicePixelRatio || 1;
    if (el.width !== Math.round(width * dpr) || el.height !== Math.round(height * dpr)) {
      el.width = Math.round(width * dpr);
      el.height = Math.round(height * dpr);
    }
    const ctx = el.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = FONT;
    ctx.setLineDash([]);
    ctx.globalAlpha = 1;
    const drawn = draw(ctx, width, shown);
    el.setAttribute('data-drawn', JSON.stringify(drawn));
  }, [draw, width, height, shown]);

  const onMove = (e: MouseEvent) => {
    const el = canvas.current;
    if (!el) return;
    const i = props.indexAt(e.clientX - el.getBoundingClientRect().left, width);
    if (i !== active) setActive(i);
    if (byKey) setByKey(false);
  };
  const onKey = (e: KeyboardEvent) => {
    const next = keyStep(e.key, active, count);
    if (next === undefined) return;
    e.preventDefault();
    setActive(next);
    setByKey(true);
  };
  const tip = shown !== null && width ? props.tip(shown, width) : null;
  const flip = tip ? tip.x > width / 2 : false;

  return (
    <div className="line-canvas" ref={wrap} style={{ height }}>
      <canvas
        ref={canvas}
        className="line-canvas-surface"
        role="img"
        tabIndex={0}
        data-testid={props.testId}
        aria-label={props.ariaLabel}
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
          style={{ left: flip ? tip.x - 12 : tip.x + 12, top: 12, transform: flip ? 'translateX(-100%)' : undefined }}
        >
          <div className="line-canvas-tip-title">{tip.title}</div>
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

/** Plot area inside a canvas of `width` × `height`. */
export interface Plot {
  l: number;
  t: number;
  r: number;
  b: number;
}

/**
 * Dashed grid lines at the y ticks (and at x positions when given), the axis lines with tick
 * marks, and the y tick labels (right-aligned left of the plot).
 */
export function drawAxes(
  pen: Pen,
  plot: Plot,
  y: { ticks: number[]; labels: string[]; py: (v: number) => number },
  x: { at: number[]; grid: boolean },
): void {
  const { ctx } = pen;
  ctx.lineWidth = 1;
  ctx.strokeStyle = GRID;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  for (const t of y.ticks) {
    const yy = Math.round(y.py(t)) + 0.5;
    ctx.moveTo(plot.l, yy);
    ctx.lineTo(plot.r, yy);
  }
  if (x.grid)
    for (const px of x.at) {
      const xx = Math.round(px) + 0.5;
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
  for (const t of y.ticks) {
    const yy = Math.round(y.py(t)) + 0.5;
    ctx.moveTo(plot.l - 5, yy);
    ctx.lineTo(plot.l, yy);
  }
  for (const px of x.at) {
    const xx = Math.round(px) + 0.5;
    ctx.moveTo(xx, plot.b);
    ctx.lineTo(xx, plot.b + 5);
  }
  ctx.stroke();
  ctx.fillStyle = TICK;
  y.ticks.forEach((t, i) => pen.text(y.labels[i] ?? '', plot.l - 7, y.py(t), 'y', 'right'));
}

/** Width of the widest of some labels in the chart font. */
export function widest(labels: string[]): number {
  const ctx = measureContext();
  let w = 0;
  for (const s of labels) w = Math.max(w, ctx.measureText(s).width);
  return w;
}
