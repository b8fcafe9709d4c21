/**
 * The AUILC view's chart, drawn on a canvas (ChartCanvas): one curve per series over the test
 * missing rates, the area between each curve and 0 lightly shaded (that area is its AUILC) when the
 * y axis starts at 0, and over several seeds a ± std band with dashed edges. What it drew goes to
 * `data-drawn`: per series its points, band and whether its area was shaded, and every label's box.
 */
import { useCallback, useMemo } from 'react';
import type { MetricKey } from '../../core/eval/metrics.ts';
import { formatRate } from '../../core/eval/tables.ts';
import type { CurveSeries } from '../derive.ts';
import { tickFormat } from '../format.ts';
import { ChartCanvas, Pen, TICK, drawAxes, widest, type CanvasTip, type DrawnBase, type Plot } from './ChartCanvas.tsx';
import { fmtScaled, METRIC_LABELS } from './metricInfo.ts';

export interface AuilcPoint {
  mean: number | null;
  band: [number, number] | null;
}

/** What the AUILC canvas drew (its `data-drawn` attribute). */
export interface AuilcDrawn extends DrawnBase {
  xTicks: number[];
  yTicks: number[];
  series: {
    key: string;
    label: string;
    color: string;
    dash: number[];
    /** [rate, mean] of every point drawn. */
    points: [number, number][];
    /** [rate, mean − std, mean + std] of the ± std band, empty when there is none. */
    band: [number, number, number][];
    /** The area between the curve and 0 is shaded. */
    area: boolean;
  }[];
}

const X_TICKS = [0, 0.2, 0.4, 0.6, 0.8, 1];
const HEIGHT = 300;
const X_TITLE = 'test missing rate';

/** x of a missing rate (the axis runs 0…1). */
const pxOf = (plot: Plot) => (rate: number) => plot.l + rate * (plot.r - plot.l);

export function AuilcCanvas(props: {
  series: CurveSeries[];
  rates: number[];
  /** Per series, per rate (as `rates`). */
  data: AuilcPoint[][];
  y: { domain: [number, number]; ticks: number[] };
  metric: MetricKey;
  fromZero: boolean;
}) {
  const { series, rates, data, y, metric, fromZero } = props;
  const yLabels = useMemo(() => {
    const f = tickFormat(y.ticks);
    return y.ticks.map((t) => f(t));
  }, [y]);
  const plotOf = useCallback(
    (width: number): Plot => ({
      l: Math.ceil(widest(yLabels)) + 12,
      t: 8,
      r: width - 14,
      b: HEIGHT - 38,
    }),
    [yLabels],
  );

  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, width: number, active: number | null): AuilcDrawn => {
      const plot = plotOf(width);
      const px = pxOf(plot);
      const [y0, y1] = y.domain;
      const py = (v: number) => (y1 > y0 ? plot.b - ((v - y0) / (y1 - y0)) * (plot.b - plot.t) : (plot.t + plot.b) / 2);
      const pen = new Pen(ctx);
      drawAxes(pen, plot, { ticks: y.ticks, labels: yLabels, py }, { at: X_TICKS.map(px), grid: true });
      for (const t of X_TICKS) pen.text(formatRate(t), px(t), plot.b + 13, 'x', 'center');
      ctx.fillStyle = TICK;
      pen.text(X_TITLE, (plot.l + plot.r) / 2, plot.b + 29, 'title', 'center');

      ctx.save();
      ctx.beginPath();
      ctx.rect(plot.l, plot.t - 4, plot.r - plot.l + 4, plot.b - plot.t + 8);
      ctx.clip();
      // Each series' finite points, its band, in the order of the rates (missing ones skipped and
      // bridged, as the SVG chart's connectNulls did).
      const curves = series.map((s, i) => {
        const points: [number, number][] = [];
        const band: [number, number, number][] = [];
        rates.forEach((rate, j) => {
          const p = data[i]?.[j];
          if (!p || p.mean === null || !Number.isFinite(p.mean)) return;
          points.push([rate, p.mean]);
          if (p.band && p.band.every(Number.isFinite)) band.push([rate, p.band[0], p.band[1]]);
        });
        return { s, points, band };
      });
      // 1. The AUILC areas: the signed area between the curve and 0.
      if (fromZero) {
        const zero = py(Math.min(Math.max(0, y0), y1));
        ctx.globalAlpha = Math.max(0.03, 0.08 / Math.max(1, series.length));
        for (const { s, points } of curves) {
          if (points.length < 2) continue;
          ctx.fillStyle = s.color;
          ctx.beginPath();
          ctx.moveTo(px(points[0][0]), zero);
          for (const [r, v] of points) ctx.lineTo(px(r), py(v));
          ctx.lineTo(px(points[points.length - 1][0]), zero);
          ctx.closePath();
          ctx.fill();
        }
        ctx.globalAlpha = 1;
      }
      // 2. The ± std bands, with dashed edges (telling them apart from the edgeless AUILC areas).
      for (const { s, band } of curves) {
        if (band.length < 1) continue;
        ctx.beginPath();
        band.forEach(([r, , hi], k) => (k ? ctx.lineTo(px(r), py(hi)) : ctx.moveTo(px(r), py(hi))));
        for (let k = band.length - 1; k >= 0; k--) ctx.lineTo(px(band[k][0]), py(band[k][1]));
        ctx.closePath();
        ctx.fillStyle = s.color;
        ctx.globalAlpha = 0.2;
        ctx.fill();
        ctx.globalAlpha = 0.8;
        ctx.strokeStyle = s.color;
        ctx.lineWidth = 1;
        ctx.setLineDash([3, 3]);
        for (const edge of [1, 2] as const) {
          ctx.beginPath();
          band.forEach((b, k) => (k ? ctx.lineTo(px(b[0]), py(b[edge])) : ctx.moveTo(px(b[0]), py(b[edge]))));
          ctx.stroke();
        }
        ctx.setLineDash([]);
        ctx.globalAlpha = 1;
      }
      // 3. The curves, with a dot at every point.
      for (const { s, points } of curves) {
        ctx.strokeStyle = s.color;
        ctx.fillStyle = s.color;
        ctx.lineWidth = 2;
        ctx.lineJoin = 'round';
        ctx.setLineDash(s.live ? [5, 3] : []);
        ctx.beginPath();
        points.forEach(([r, v], k) => (k ? ctx.lineTo(px(r), py(v)) : ctx.moveTo(px(r), py(v))));
        ctx.stroke();
        ctx.setLineDash([]);
        for (const [r, v] of points) {
          ctx.beginPath();
          ctx.arc(px(r), py(v), 2.5, 0, 2 * Math.PI);
          ctx.fill();
        }
      }
      // The hovered (or keyboard-chosen) rate: a cursor line and a ring on each curve's point.
      if (active !== null && active < rates.length) {
        const xx = px(rates[active]);
        ctx.strokeStyle = '#ccd3dc';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(xx, plot.t);
        ctx.lineTo(xx, plot.b);
        ctx.stroke();
        series.forEach((s, i) => {
          const v = data[i]?.[active]?.mean;
          if (v === null || v === undefined || !Number.isFinite(v)) return;
          ctx.beginPath();
          ctx.arc(xx, py(v), 4, 0, 2 * Math.PI);
          ctx.fillStyle = s.color;
          ctx.fill();
          ctx.strokeStyle = '#fff';
          ctx.lineWidth = 2;
          ctx.stroke();
        });
      }
      ctx.restore();
      return {
        width,
        height: HEIGHT,
        labels: pen.labels,
        xTicks: X_TICKS,
        yTicks: y.ticks,
        series: curves.map(({ s, points, band }) => ({
          key: s.key,
          label: s.label,
          color: s.color,
          dash: s.live ? [5, 3] : [],
          points,
          band,
          area: fromZero && points.length >= 2,
        })),
      };
    },
    [plotOf, series, rates, data, y, yLabels, fromZero],
  );

  const indexAt = (x: number, width: number): number | null => {
    if (!rates.length) return null;
    const plot = plotOf(width);
    const rate = (x - plot.l) / Math.max(1, plot.r - plot.l);
    let best = 0;
    for (let j = 1; j < rates.length; j++) if (Math.abs(rates[j] - rate) < Math.abs(rates[best] - rate)) best = j;
    return best;
  };
  const tip = (j: number, width: number): CanvasTip => {
    const items: CanvasTip['items'] = [];
    series.forEach((s, i) => {
      const p = data[i]?.[j];
      if (!p || p.mean === null) return;
      items.push({ key: s.key, label: s.label, color: s.color, value: fmtScaled(metric, p.mean) });
      if (p.band)
        items.push({
          key: `${s.key}:band`,
          label: `${s.label}: ± std`,
          color: s.color,
          value: `${fmtScaled(metric, p.band[0])} – ${fmtScaled(metric, p.band[1])}`,
        });
    });
    return { x: pxOf(plotOf(width))(rates[j]), title: `missing rate ${formatRate(rates[j])}`, items };
  };

  const ariaLabel = useMemo(
    () => describe(series, rates, data, metric, fromZero),
    [series, rates, data, metric, fromZero],
  );
  return (
    <ChartCanvas
      height={HEIGHT}
      ariaLabel={ariaLabel}
      count={rates.length}
      indexAt={indexAt}
      draw={draw}
      tip={tip}
      testId="auilc-canvas"
    />
  );
}

/** The chart in words, for screen readers: each curve's value at every rate tested. */
function describe(
  series: CurveSeries[],
  rates: number[],
  data: AuilcPoint[][],
  metric: MetricKey,
  fromZero: boolean,
): string {
  const head = `${METRIC_LABELS[metric]} against the test missing rate, one curve per setting${fromZero ? '; the shaded area under each curve is its AUILC' : ''}.`;
  const parts = series.map((s, i) => {
    const at = rates.flatMap((rate, j) => {
      const p = data[i]?.[j];
      if (!p || p.mean === null) return [];
      const std = p.band ? ` ± ${fmtScaled(metric, (p.band[1] - p.band[0]) / 2)}` : '';
      return [`${fmtScaled(metric, p.mean)}${std} at ${formatRate(rate)}`];
    });
    return `${s.label}${s.live ? ' (so far)' : ''}: ${at.length ? at.join(', ') : 'no values'}`;
  });
  return `${head} ${parts.join('; ')}.`;
}
