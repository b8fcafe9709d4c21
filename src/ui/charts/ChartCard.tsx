import { useRef, useState, type ReactNode } from 'react';
import { ErrorBoundary } from '../ErrorBoundary.tsx';
import { errorText } from '../format.ts';
import { exportChartPng, type LegendItem } from './exportPng.ts';

/** A chart panel with its own legend and an "Export PNG" button. */
export function ChartCard(props: {
  id: string;
  title: string;
  subtitle?: ReactNode;
  pngSubtitle?: string;
  controls?: ReactNode;
  legend?: LegendItem[];
  children: ReactNode;
  aside?: ReactNode;
  testId?: string;
  empty?: ReactNode; // shown instead of the chart when set
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [err, setErr] = useState<string | null>(null);
  const onExport = async () => {
    setErr(null);
    try {
      if (ref.current) await exportChartPng(ref.current, props.title, props.legend ?? [], props.pngSubtitle);
    } catch (e) {
      setErr(errorText(e));
    }
  };
  return (
    <section className="panel chart-card" data-testid={props.testId} aria-label={props.title}>
      <header className="panel-head">
        <div>
          <h2 className="panel-title">{props.title}</h2>
          {props.subtitle ? <p className="panel-subtitle">{props.subtitle}</p> : null}
        </div>
        <div className="panel-actions">
          {props.controls}
          <button
            type="button"
            className="btn btn-small"
            data-testid={`export-png-${props.id}`}
            disabled={!!props.empty}
            onClick={onExport}
            title="Save this chart as a PNG image"
          >
            Export PNG
          </button>
        </div>
      </header>
      {err ? (
        <div className="inline-error" role="alert">
          {err}
        </div>
      ) : null}
      <ErrorBoundary where={props.title}>
        <div className={props.aside ? 'chart-with-aside' : undefined}>
          <div className="chart-area" ref={ref}>
            {props.empty ? <div className="chart-empty">{props.empty}</div> : props.children}
            {!props.empty && props.legend?.length ? <Legend items={props.legend} /> : null}
          </div>
          {props.aside ? <div className="chart-aside">{props.aside}</div> : null}
        </div>
      </ErrorBoundary>
    </section>
  );
}

export function Legend({ items }: { items: LegendItem[] }) {
  return (
    <ul className="legend">
      {items.map((it) => (
        <li key={it.label}>
          <span
            className={`legend-swatch${it.dashed ? ' legend-dashed' : ''}${it.band ? ' legend-band' : ''}`}
            style={it.band ? { background: it.color } : { borderColor: it.color }}
            aria-hidden="true"
          />
          {it.label}
        </li>
      ))}
    </ul>
  );
}

/**
 * Smallest and largest of some numbers by a loop (never `Math.min(...values)`, which overflows the
 * stack on a long list); null for an empty list.
 */
export function extent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}
