import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { SyntheticKnobs } from '../../core/config/config.ts';
import { useAppStore } from '../bindings.ts';
import { NumberField, Select, Slider } from '../controls.tsx';
import { fmtInt } from '../format.ts';
import { useBusy } from '../hooks.ts';
import { Panel } from '../Panel.tsx';
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
  const data = useAppStore((s) => s.config.data);
  const setConfig = useAppStore((s) => s.setConfig);
  const dataset = useAppStore((s) => s.dataset);
  const fileLoad = useAppStore((s) => s.fileLoad);
  const selectLoadedFile = useAppStore((s) => s.selectLoadedFile);
  const busy = useBusy();
  const isFile = data.source.startsWith('file:');
  // The loaded file stays selectable after switching to a synthetic set (it is kept in the worker).
  const fileSource = fileLoad.summary ? `file:${fileLoad.summary.file}` : null;
  const fileOptions = [fileSource, isFile && data.source !== fileSource ? data.source : null]
    .filter((v): v is string => v !== null)
    .map((v) => ({ value: v, label: `file: ${v.slice('file:'.length)}` }));
  const sources = [...SOURCES, ...fileOptions];
  const activeFile = isFile && fileLoad.summary && data.source === fileSource ? fileLoad.summary : null;
  const hist = (dataset?.labelHistogram ?? []).map((count, i) => ({ cls: CLASSES[i] ?? String(i - 3), count }));

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
      <fieldset disabled={busy} className="fieldset">
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
      </fieldset>

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
        {hist.length ? (
          <ResponsiveContainer width="100%" height={120}>
            <BarChart data={hist} margin={{ top: 4, right: 4, bottom: 0, left: -18 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e3e8ef" />
              <XAxis dataKey="cls" tick={{ fontSize: 11 }} />
              <YAxis tick={{ fontSize: 11 }} allowDecimals={false} />
              <Tooltip formatter={(v) => [String(v), 'samples']} labelFormatter={(l) => `label ${l}`} />
              <Bar dataKey="count" fill="#4a78a8" radius={[3, 3, 0, 0]} isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        ) : (
          <div className="chart-empty small">No dataset summary yet.</div>
        )}
      </div>

      <FileLoader />
    </Panel>
  );
}
