import { useEffect, useMemo, useRef } from 'react';

/**
 * A matrix drawn on a <canvas> one cell per pixel and scaled by CSS (cheap: one putImageData).
 * Columns are time steps; `marks` flags columns in a strip under the map (dropped frames), `pad`
 * greys the columns from there on (padding). The values it drew are on the element (data-rows,
 * data-cols, data-min, data-max, data-sum) for tests and for readers of the accessible label.
 */
export interface HeatmapProps {
  values: ArrayLike<number>; // [rows, cols] row-major
  rows: number;
  cols: number;
  label: string;
  testId: string;
  /** 'diverging': blue–white–red around 0 up to ±range; 'sequential': white → dark up to range. */
  scale: 'diverging' | 'sequential';
  range?: number; // default: the largest |value|
  marks?: ArrayLike<number> | null; // [cols] 1 = marked (dropped)
  pad?: number; // columns ≥ pad are padding
  height?: number; // CSS px
  splitAt?: number; // a separator before this column (hub keys after the time steps)
}

export function stats(values: ArrayLike<number>): { min: number; max: number; sum: number } {
  let min = Infinity,
    max = -Infinity,
    sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, sum };
}

function color(v: number, range: number, scale: HeatmapProps['scale']): [number, number, number] {
  const x = range > 0 ? Math.max(-1, Math.min(1, v / range)) : 0;
  if (scale === 'sequential') {
    const t = Math.max(0, x);
    return [Math.round(255 - 230 * t), Math.round(255 - 190 * t), Math.round(255 - 90 * t)];
  }
  if (x >= 0) return [Math.round(255 - 40 * x), Math.round(255 - 200 * x), Math.round(255 - 200 * x)];
  return [Math.round(255 + 200 * x), Math.round(255 + 150 * x), Math.round(255 + 30 * x)];
}

export function Heatmap(p: HeatmapProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const markRef = useRef<HTMLCanvasElement>(null);
  const s = useMemo(() => stats(p.values), [p.values]);
  const range = p.range ?? Math.max(Math.abs(s.min), Math.abs(s.max));
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const img = ctx.createImageData(p.cols, p.rows);
    for (let r = 0; r < p.rows; r++)
      for (let k = 0; k < p.cols; k++) {
        const o = (r * p.cols + k) * 4;
        const padded = p.pad !== undefined && k >= p.pad;
        const [R, G, B] = padded ? [200, 200, 200] : color(p.values[r * p.cols + k], range, p.scale);
        img.data[o] = R;
        img.data[o + 1] = G;
        img.data[o + 2] = B;
        img.data[o + 3] = 255;
      }
    ctx.putImageData(img, 0, 0);
    const mc = markRef.current;
    const mctx = mc?.getContext('2d');
    if (mc && mctx && p.marks) {
      const mi = mctx.createImageData(p.cols, 1);
      for (let k = 0; k < p.cols; k++) {
        const on = p.marks[k] ? 1 : 0;
        const padded = p.pad !== undefined && k >= p.pad;
        mi.data.set(on ? [220, 38, 38, 255] : padded ? [200, 200, 200, 255] : [240, 240, 240, 255], k * 4);
      }
      mctx.putImageData(mi, 0, 0);
    }
  }, [p.values, p.rows, p.cols, p.marks, p.pad, p.scale, range]);
  const nMarked = p.marks ? Array.from(p.marks).filter((x) => x).length : 0;
  const aria = `${p.label}: ${p.rows} × ${p.cols}, values ${s.min.toFixed(3)} to ${s.max.toFixed(3)}${
    p.marks ? `, ${nMarked} dropped time step${nMarked === 1 ? '' : 's'} marked` : ''
  }`;
  const split = p.splitAt !== undefined ? `${(100 * p.splitAt) / p.cols}%` : null;
  return (
    <figure className="heatmap" data-testid={p.testId}>
      <div className="heatmap-box" style={{ height: p.height ?? 96 }}>
        <canvas
          ref={ref}
          width={p.cols}
          height={p.rows}
          role="img"
          aria-label={aria}
          data-rows={p.rows}
          data-cols={p.cols}
          data-min={s.min}
          data-max={s.max}
          data-sum={s.sum}
          data-marked={nMarked}
          className="heatmap-canvas"
        />
        {split ? <div className="heatmap-split" style={{ left: split }} aria-hidden="true" /> : null}
      </div>
      {p.marks ? <canvas ref={markRef} width={p.cols} height={1} className="heatmap-marks" aria-hidden="true" /> : null}
      <figcaption>{p.label}</figcaption>
    </figure>
  );
}
