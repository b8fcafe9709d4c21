import { memo, useLayoutEffect, useRef, useState } from 'react';
import type { SyntheticKnobs } from '../../core/config/config.ts';
import { useAppStore } from '../bindings.ts';
import { NumberField, Select, Slider } from '../controls.tsx';
import { fmtInt, niceAxis, tickFormat } from '../format.ts';
import { useStoreValue } from '../hooks.ts';
import { LockedFieldset, Panel } from '../Panel.tsx';
import { FileLoader, FileSummaryView } from './FileLoader.tsx';

const SOURCES = [
  { value: 'synthetic:tiny', label: 'synthetic: tiny' },
  { value: 'synthetic:small', label: 'synthetic: small' },
  { value: 'synthetic:mosi-shape', label: 'synthetic: MOSI-shaped' },
] as const;

const SOURCE_HINT: Record<string, string> = {
  'synthetic:tiny': 'fast; unequal lengths exercise the time maps',
  'synthetic:small': 'the default teaching set',
  'synthetic:mosi-shape': 'MOSI’s sizes and 768-d text: slow in a browser',
};

const KNOBS: { key: keyof SyntheticKnobs; label: string; max: number; hint: string }[] = [
  {
    key: 'textSignal',
    label: 'Text signal',
    max: 3,
    hint: 'How visible the sentence polarity is in the text features.',
  },
  { key: 'audioSignal', label: 'Audio signal', max: 3, hint: 'Strength of the audio cue bursts.' },
  { key: 'visionSignal', label: 'Vision signal', max: 3, hint: 'Strength of the vision cue bursts.' },
  { key: 'noise', label: 'Feature noise', max: 3, hint: 'Scales the noise on every feature (not the annotators’).' },
  {
    key: 'interaction',
    label: 'Interaction',
    max: 4,
    hint: 'Share of samples whose polarity needs vision and text together (1 = 20 %).',
  },
  {
    key: 'shared',
    label: 'Shared content',
    max: 3,
    hint: 'A slow trajectory every modality shows at the same moments: what the reconstruction branch can rebuild from the others (0 = none).',
  },
];

const CLASSES = ['−3', '−2', '−1', '0', '+1', '+2', '+3'];

export function DataPanel() {
  const data = useStoreValue((s) => s.config.data);
  const setConfig = useAppStore((s) => s.setConfig);
  const dataset = useAppStore((s) => s.dataset);
  const fileLoad = useAppStore((s) => s.fileLoad);
  const selectLoadedFile = useAppStore((s) => s.selectLoadedFile);
  const isFile = data.source.startsWith('file:');
  // The loaded file stays selectable after switching to a synthetic set (it is kept in the worker).
  const fileSource = fileLoad.summary ? `file:${fileLoad.summary.file}` : null;
  const fileOptions = [fileSource, isFile && data.source !== fileSource ? data.source : null]
    .filter((v): v is string => v !== null)
    .map((v) => ({ value: v, label: `file: ${v.slice('file:'.length)}` }));
  const sources = [...SOURCES, ...fileOptions];
  const activeFile = isFile && fileLoad.summary && data.source === fileSource ? fileLoad.summary : null;

  return (
    <Panel
      title="Data"
      subtitle={
        isFile
          ? 'Your feature file, read in this tab.'
          : 'A procedurally generated, MOSI-shaped dataset whose lessons you can dial in.'
      }
      testId="panel-data"
    >
      <LockedFieldset>
        <div className="grid-2">
          <Select
            label="Dataset"
            value={data.source}
            options={sources}
            testId="data-source"
            hint={
              SOURCE_HINT[data.source] ??
              (activeFile ? 'loaded in this tab' : 'not loaded in this tab: load it again below')
            }
            onChange={(v) => (v === fileSource ? selectLoadedFile() : setConfig((c) => void (c.data.source = v)))}
          />
          {isFile ? null : (
            <NumberField
              label="Data seed"
              value={data.seed}
              integer
              min={0}
              max={2 ** 31 - 1}
              testId="data-seed"
              onCommit={(v) => setConfig((c) => void (c.data.seed = v))}
            />
          )}
        </div>

        {isFile ? null : (
          <>
            <h3 className="subhead">
              Teaching knobs <span className="subhead-note">1 = the preset’s default strength</span>
            </h3>
            <div className="grid-2">
              {KNOBS.map((k) => (
                <Slider
                  key={k.key}
                  label={k.label}
                  value={data.knobs[k.key]}
                  min={0}
                  max={k.max}
                  step={0.05}
                  hint={k.hint}
                  testId={`knob-${k.key}`}
                  onCommit={(v) => setConfig((c) => void (c.data.knobs[k.key] = v))}
                />
              ))}
            </div>
          </>
        )}
      </LockedFieldset>

      {activeFile ? <FileSummaryView s={activeFile} /> : null}

      <h3 className="subhead">
        Shape <span className="subhead-note">fixed by the dataset</span>
      </h3>
      <table className="mini-table" data-testid="dataset-shape">
        <thead>
          <tr>
            <th />
            <th>Text</th>
            <th>Audio</th>
            <th>Vision</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th>Feature size D</th>
            {[0, 1, 2].map((i) => (
              <td key={i}>{dataset ? dataset.dims[i] : '—'}</td>
            ))}
          </tr>
          <tr>
            <th>Length L</th>
            {[0, 1, 2].map((i) => (
              <td key={i}>{dataset ? dataset.lens[i] : '—'}</td>
            ))}
          </tr>
        </tbody>
      </table>
      <p className="muted small" data-testid="dataset-sizes">
        Splits:{' '}
        {dataset
          ? `${fmtInt(dataset.sizes.train)} train · ${fmtInt(dataset.sizes.valid)} valid · ${fmtInt(dataset.sizes.test)} test`
          : 'waiting for the worker…'}
      </p>

      <div
        className="chart-mini"
        data-testid="label-histogram"
        role="figure"
        aria-label="Label histogram (train split)"
      >
        <div className="chart-mini-title">Labels, train split (rounded to −3…3)</div>
        <LabelHistogram counts={dataset?.labelHistogram} />
      </div>

      <FileLoader />
    </Panel>
  );
}

/**
 * The train split's label histogram, drawn as a small SVG by hand (not recharts: the Quick demo
 * changes the dataset as its job starts, and a recharts commit there made a main-thread task of
 * 50–90 ms). Each bar names its count (a tooltip and, for screen readers, the figure's label).
 */
const LabelHistogram = memo(function LabelHistogram({ counts }: { counts: number[] | undefined }) {
  const [width, setWidth] = useState(0);
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // The measured container is always rendered, so its width is known when the counts arrive.
  if (!counts?.length)
    return (
      <div ref={ref} className="mini-bars">
        <div className="chart-empty small">No dataset summary yet.</div>
      </div>
    );
  const H = 120;
  const plot = { l: 34, r: Math.max(60, width - 4), t: 6, b: H - 20 };
  const axis = niceAxis(0, Math.max(1, ...counts), true);
  const fmt = tickFormat(axis.ticks);
  const top = axis.domain[1] || 1;
  const y = (v: number) => plot.b - (v / top) * (plot.b - plot.t);
  const slot = (plot.r - plot.l) / counts.length;
  const labels = counts.map((_, i) => CLASSES[i] ?? String(i - 3));
  return (
    <div ref={ref} className="mini-bars">
      <svg
        width={width || '100%'}
        height={H}
        role="img"
        aria-label={`Samples per label: ${counts.map((c, i) => `${labels[i]}: ${c}`).join(', ')}`}
      >
        {axis.ticks.map((t) => (
          <g key={t}>
            <line x1={plot.l} x2={plot.r} y1={y(t)} y2={y(t)} stroke="#e3e8ef" strokeDasharray="3 3" />
            <text x={plot.l - 6} y={y(t)} dy="0.35em" textAnchor="end" fontSize={11} fill="#5b6776">
              {fmt(t)}
            </text>
          </g>
        ))}
        <line x1={plot.l} x2={plot.r} y1={plot.b} y2={plot.b} stroke="#b8c2cf" />
        {counts.map((c, i) => {
          const x = plot.l + i * slot + slot * 0.15;
          const w = slot * 0.7;
          return (
            <g key={i}>
              <path d={barPath(x, y(c), w, plot.b - y(c), 3)} fill="#4a78a8">
                <title>{`label ${labels[i]}: ${c} samples`}</title>
              </path>
              <text x={x + w / 2} y={plot.b + 14} textAnchor="middle" fontSize={11} fill="#5b6776">
                {labels[i]}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
});

/** A bar with its top corners rounded (radius r, at most half its width or its height). */
function barPath(x: number, top: number, w: number, h: number, r: number): string {
  if (h <= 0) return '';
  const k = Math.min(r, w / 2, h);
  const b = top + h;
  return `M${x},${b}V${top + k}Q${x},${top} ${x + k},${top}H${x + w - k}Q${x + w},${top} ${x + w},${top + k}V${b}Z`;
}
