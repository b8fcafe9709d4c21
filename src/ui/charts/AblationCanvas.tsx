/**
 * The ablation view's chart, drawn on a canvas (ChartCanvas): per branch setting a group of bars,
 * one per compared job (± std over several seeds as an error bar) and the paper's figure in grey;
 * the settings' names wrap onto up to three lines under their band (wrapLabel, shortened with an
 * ellipsis where they still do not fit, measured so that neighbours never touch). What it drew goes
 * to `data-drawn`: every bar with its value and std, and every label's box.
 */
import { useCallback, useMemo } from 'react';
import type { MetricKey } from '../../core/eval/metrics.ts';
import { tickFormat } from '../format.ts';
import {
  ChartCanvas,
  measureContext,
  Pen,
  TICK,
  drawAxes,
  widest,
  type CanvasTip,
  type DrawnBase,
  type Plot,
} from './ChartCanvas.tsx';
import { fmtScaled, METRIC_LABELS } from './metricInfo.ts';
import { WRAPPED_TICK_HEIGHT, wrapLabel } from './wrapLabel.ts';

export interface AblationBar {
  /** Index into the categories. */
  category: number;
  /** Its slot in the category's group (a job, or the paper). */
  key: string;
  label: string;
  color: string;
  value: number | null;
  std: number | null;
  /** The paper's figure (drawn grey, dashed edge). */
  paper: boolean;
}

/** What the ablation canvas drew (its `data-drawn` attribute). */
export interface AblationDrawn extends DrawnBase {
  categories: string[];
  yTicks: number[];
  bars: { category: string; key: string; label: string; color: string; value: number; std: number | null }[];
}

const HEIGHT = 280;
const LINE = 11 * 1.15;
/** Space between categories, on each side, as a share of a category's band (recharts' "22%"). */
const CATEGORY_GAP = 0.22;
const BAR_GAP = 4;

/** A category's label in lines that each fit `maxWidth` px (measured), shortened if need be. */
function fitLabel(label: string, maxWidth: number): string[] {
  const ctx = measureContext();
  for (let chars = Math.max(3, Math.floor(maxWidth / (11 * 0.5))); ; chars--) {
    const lines = wrapLabel(label, chars);
    if (chars <= 3 || lines.every((l) => ctx.measureText(l).width <= maxWidth)) return lines;
  }
}

export function AblationCanvas(props: {
  categories: string[];
  /** The slots of each category's group, in order (one per job, then the paper's). */
  slots: string[];
  bars: AblationBar[];
  y: { domain: [number, number]; ticks: number[] };
  metric: MetricKey;
}) {
  const { categories, slots, bars, y, metric } = props;
  const yLabels = useMemo(() => {
    const f = tickFormat(y.ticks);
    return y.ticks.map((t) => f(t));
  }, [y]);
  const plotOf = useCallback(
    (width: number): Plot => ({
      l: Math.ceil(widest(yLabels)) + 12,
      t: 8,
      r: width - 12,
      b: HEIGHT - WRAPPED_TICK_HEIGHT - 4,
    }),
    [yLabels],
  );

  const draw = useCallback(
    (ctx: CanvasRenderingContext2D, width: number, active: number | null): AblationDrawn => {
      const plot = plotOf(width);
      const band = (plot.r - plot.l) / Math.max(1, categories.length);
      const center = (c: number) => plot.l + (c + 0.5) * band;
      const [y0, y1] = y.domain;
      const py = (v: number) => (y1 > y0 ? plot.b - ((v - y0) / (y1 - y0)) * (plot.b - plot.t) : (plot.t + plot.b) / 2);
      const pen = new Pen(ctx);
      // The hovered (or keyboard-chosen) setting: its band lightly shaded, under everything.
      if (active !== null && active < categories.length) {
        ctx.fillStyle = '#eef1f5';
        ctx.fillRect(plot.l + active * band, plot.t, band, plot.b - plot.t);
      }
      drawAxes(
        pen,
        plot,
        { ticks: y.ticks, labels: yLabels, py },
        { at: categories.map((_, c) => center(c)), grid: false },
      );
      ctx.fillStyle = TICK;
      // Each setting's name, wrapped to its band: one label (the lines' box) per setting.
      categories.forEach((name, c) => pen.lines(fitLabel(name, band - 8), center(c), plot.b + 12, LINE, 'x'));

      // Bars: the group fills the band less the gaps on each side; slots side by side, 4 px apart.
      const groupW = band * (1 - 2 * CATEGORY_GAP);
      const n = Math.max(1, slots.length);
      const barW = Math.max(1, (groupW - BAR_GAP * (n - 1)) / n);
      const zero = py(Math.min(Math.max(0, y0), y1));
      const drawnBars: AblationDrawn['bars'] = [];
      for (const b of bars) {
        const slot = slots.indexOf(b.key);
        if (slot < 0 || b.value === null || !Number.isFinite(b.value) || b.category >= categories.length) continue;
        const x = center(b.category) - groupW / 2 + slot * (barW + BAR_GAP);
        const top = Math.min(py(b.value), zero);
        const h = Math.abs(zero - py(b.value));
        ctx.beginPath();
        ctx.roundRect(x, top, barW, h, b.value >= 0 ? [3, 3, 0, 0] : [0, 0, 3, 3]);
        ctx.fillStyle = b.color;
        ctx.globalAlpha = b.paper ? 0.55 : 1;
        ctx.fill();
        ctx.globalAlpha = 1;
        if (b.paper) {
          ctx.strokeStyle = b.color;
          ctx.lineWidth = 1;
          ctx.setLineDash([3, 2]);
          ctx.stroke();
          ctx.setLineDash([]);
        }
        if (b.std !== null && Number.isFinite(b.std) && b.std > 0) {
          const xc = Math.round(x + barW / 2) + 0.5;
          const lo = py(b.value - b.std);
          const hi = py(b.value + b.std);
          ctx.strokeStyle = '#1d2733';
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(xc, lo);
          ctx.lineTo(xc, hi);
          ctx.moveTo(xc - 4, lo);
          ctx.lineTo(xc + 4, lo);
          ctx.moveTo(xc - 4, hi);
          ctx.lineTo(xc + 4, hi);
          ctx.stroke();
        }
        drawnBars.push({
          category: categories[b.category],
          key: b.key,
          label: b.label,
          color: b.color,
          value: b.value,
          std: b.std,
        });
      }
      return { width, height: HEIGHT, labels: pen.labels, categories, yTicks: y.ticks, bars: drawnBars };
    },
    [plotOf, categories, slots, bars, y, yLabels],
  );

  const indexAt = (x: number, width: number): number | null => {
    const plot = plotOf(width);
    if (!categories.length || x < plot.l || x > plot.r) return null;
    return Math.min(categories.length - 1, Math.floor(((x - plot.l) / (plot.r - plot.l)) * categories.length));
  };
  const tip = (c: number, width: number): CanvasTip => {
    const plot = plotOf(width);
    const items: CanvasTip['items'] = bars
      .filter((b) => b.category === c && b.value !== null)
      .map((b) => ({
        key: b.key,
        label: b.label,
        color: b.color,
        value: `${fmtScaled(metric, b.value!)}${b.std !== null ? ` ± ${fmtScaled(metric, b.std)}` : ''}`,
      }));
    const band = (plot.r - plot.l) / Math.max(1, categories.length);
    return { x: plot.l + (c + 0.5) * band + band * (0.5 - CATEGORY_GAP), title: categories[c], items };
  };

  const ariaLabel = useMemo(() => {
    const parts = categories.map((name, c) => {
      const here = bars.filter((b) => b.category === c && b.value !== null);
      return `${name}: ${
        here.length
          ? here
              .map(
                (b) =>
                  `${b.label} ${fmtScaled(metric, b.value!)}${b.std !== null ? ` ± ${fmtScaled(metric, b.std)}` : ''}`,
              )
              .join(', ')
          : 'not run'
      }`;
    });
    return `AUILC of ${METRIC_LABELS[metric]} per branch setting, as bars. ${parts.join('; ')}.`;
  }, [categories, bars, metric]);

  return (
    <ChartCanvas
      height={HEIGHT}
      ariaLabel={ariaLabel}
      count={categories.length}
      indexAt={indexAt}
      draw={draw}
      tip={tip}
      testId="ablation-canvas"
    />
  );
}
