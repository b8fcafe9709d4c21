import { useMemo, useState, type ReactNode } from 'react';
import {
  epochRecords,
  overlayRuns,
  resolveRun,
  runOptions,
  useChartInputs,
  viewJobOf,
  type LiveRun,
  type OverlayRun,
  type RunOption,
} from '../derive.ts';
import { ema, fmtNum, niceAxis, tickFormat } from '../format.ts';
import { useUiStore } from '../uiStore.ts';
import type { LossTerms } from '../../core/eval/results.ts';
import type { StoredJob } from '../../state/types.ts';
import { ChartCard, extent } from './ChartCard.tsx';
import { LineCanvas, type CanvasSeries } from './LineCanvas.tsx';

// The live charts are drawn on a canvas (LineCanvas), not as recharts SVG: their refreshes while a
// job trains were the page's longest main-thread tasks (50–150 ms each on a 2-core laptop).

/**
 * The job and run a chart shows, and the runs ticked for overlay, from one calm snapshot of the
 * stores (useChartInputs): the chart renders only when these change, at most every 500 ms, in a
 * task of its own. Only the loss chart asks for the per-step losses.
 */
function useRunView(withLosses = false) {
  const inputs = useChartInputs(withLosses);
  const { jobs, currentJobId, viewJobId, runIndex, setting, seed, selected } = inputs;
  const { job, isCurrent } = useMemo(() => viewJobOf(jobs, currentJobId, viewJobId), [jobs, currentJobId, viewJobId]);
  const viewRun = useUiStore((s) => s.viewRun);
  const liveRun: LiveRun | null = useMemo(
    () => (isCurrent && runIndex !== undefined ? { runIndex, setting, seed } : null),
    [isCurrent, runIndex, setting, seed],
  );
  const options = useMemo(() => runOptions(job, liveRun, isCurrent), [job, liveRun, isCurrent]);
  const run = resolveRun(viewRun, options, liveRun, isCurrent);
  const live = liveRun !== null && run === liveRun.runIndex;
  const overlay = useMemo(
    () => overlayRuns(jobs, selected, currentJobId, runIndex),
    [jobs, selected, currentJobId, runIndex],
  );
  return { job, isCurrent, liveRun, options, run, live, viewRun, overlay, losses: inputs.losses };
}

function RunPicker({
  options,
  viewRun,
  job,
}: {
  options: RunOption[];
  viewRun: number | 'live';
  job: StoredJob | null;
}) {
  const setViewRun = useUiStore((s) => s.setViewRun);
  if (!job || options.length < 2) return null;
  return (
    <label className="inline-select">
      <span className="sr-only">Run</span>
      <select
        data-testid="run-picker"
        value={String(viewRun)}
        onChange={(e) => setViewRun(e.target.value === 'live' ? 'live' : Number(e.target.value))}
      >
        <option value="live">latest run</option>
        {options.map((o) => (
          <option key={o.index} value={o.index}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Nice bounds around the finite values of some fields, so ticks never collide with the data's own extremes. */
function axisOf<T>(
  rows: T[],
  keys: (keyof T)[],
): { domain: [number, number]; ticks: number[]; tickFormatter: (v: number) => string } {
  const vals: number[] = [];
  for (const r of rows)
    for (const k of keys) {
      const v = r[k];
      if (typeof v === 'number' && Number.isFinite(v)) vals.push(v);
    }
  const range = extent(vals);
  const axis = range ? niceAxis(range[0], range[1], false) : { domain: [0, 1] as [number, number], ticks: [0, 0.5, 1] };
  return { ...axis, tickFormatter: tickFormat(axis.ticks) };
}

/**
 * Overlay rows keyed by epoch: `${prefix}${k}` = the value of run k at that epoch (null where that run
 * has no such epoch), for one line per ticked run.
 */
function overlayRows(
  runs: OverlayRun[],
  fields: Record<string, (r: OverlayRun['records'][number]) => number | null | undefined>,
): Record<string, number | null>[] {
  const epochs = [...new Set(runs.flatMap((r) => r.records.map((e) => e.epoch)))].sort((a, b) => a - b);
  return epochs.map((epoch) => {
    const row: Record<string, number | null> = { epoch };
    runs.forEach((r, k) => {
      const rec = r.records.find((e) => e.epoch === epoch);
      for (const [prefix, get] of Object.entries(fields)) row[`${prefix}${k}`] = rec ? finiteOrNull(get(rec)) : null;
    });
    return row;
  });
}

function overlaySeries(runs: OverlayRun[], prefix: string, dashed = false): CanvasSeries[] {
  return runs.map((r, k) => ({
    key: `${prefix}${k}`,
    label: `${r.label}${dashed ? ' (valid)' : ''}`,
    color: r.color,
    width: dashed ? 1.5 : 2,
    dash: dashed ? [5, 3] : undefined,
    dots: 'filled',
    connectNulls: true,
  }));
}

const tooltipNum = (v: number): string => fmtNum(v, 4);

/** The loss series: L_task and each weighted α_m·L_gen^m apart (eqs. 17–19), and their sum. */
const LOSS_SERIES = [
  { key: 'task', label: 'L_task', color: '#D55E00' },
  { key: 'genText', label: 'α_t·L_gen(t)', color: '#0072B2' },
  { key: 'genAudio', label: 'α_a·L_gen(a)', color: '#009E73' },
  { key: 'genVision', label: 'α_v·L_gen(v)', color: '#CC79A7' },
  { key: 'total', label: 'total', color: '#5b6776' },
] as const;
type LossKey = (typeof LOSS_SERIES)[number]['key'];
type LossRow = Record<LossKey, number | null>;

const finiteOrNull = (v: number | null | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null;

/** A loss and its terms as one row; without terms (files from before they were recorded) only the total. */
function lossRow(total: number | null, terms: LossTerms | undefined): LossRow {
  return {
    total: finiteOrNull(total),
    task: finiteOrNull(terms?.task),
    genText: finiteOrNull(terms?.genText),
    genAudio: finiteOrNull(terms?.genAudio),
    genVision: finiteOrNull(terms?.genVision),
  };
}

export function LossChart() {
  const { job, run, live, liveRun, overlay, options, viewRun, losses: liveLosses } = useRunView(true);
  const overlayData = useMemo(() => overlayRows(overlay, { t: (r) => r.trainLoss, v: (r) => r.validLoss }), [overlay]);
  const [alpha, setAlpha] = useState(0.6);
  // The total is off by default: L_gen's noise floor (e.g. α_v = 20 on unit-variance features)
  // dwarfs L_task, and the sum hides what the task loss does.
  const [shown, setShown] = useState<Record<LossKey, boolean>>({
    task: true,
    genText: true,
    genAudio: true,
    genVision: true,
    total: false,
  });
  const steps = useMemo(() => {
    const losses = live && liveLosses ? liveLosses : [];
    const rows = losses.map((l) => lossRow(l.loss, l.terms));
    const smooth = Object.fromEntries(
      LOSS_SERIES.map((s) => [
        s.key,
        ema(
          rows.map((r) => r[s.key]),
          alpha,
        ),
      ]),
    ) as Record<LossKey, (number | null)[]>;
    return losses.map((l, i) => ({
      step: l.step,
      raw: rows[i].total,
      ...(Object.fromEntries(LOSS_SERIES.map((s) => [s.key, smooth[s.key][i]])) as LossRow),
    }));
  }, [live, liveLosses, alpha]);
  const epochs = useMemo(
    () =>
      epochRecords(job, run).map((r) => ({
        epoch: r.epoch,
        ...lossRow(r.trainLoss, r.trainTerms),
        valid: finiteOrNull(r.validLoss),
        validTask: finiteOrNull(r.validTerms?.task),
      })),
    [job, run],
  );
  // Records from before the terms were kept have only the total: show it then.
  const hasTerms = steps.some((r) => r.task !== null) || epochs.some((r) => r.task !== null);
  const on = (k: LossKey) => (hasTerms ? shown[k] : k === 'total');
  const keys = LOSS_SERIES.filter((s) => on(s.key));
  // L_gen (reconstruction) joins the loss after the warm-up epochs: a visible step in the curve.
  const runRecon =
    job && run !== null
      ? (job.runs[run]?.branches ?? (live ? liveRun?.setting?.branches : undefined) ?? job.config.model.branches).recon
      : false;
  const warmup = job ? job.config.train.reconWarmupEpochs : 0;
  const genEpoch = runRecon && job?.config.model.arch === 'mfmb' && warmup > 0 ? warmup + 1 : null;
  // The first step whose loss includes L_gen, from the data itself.
  const genStep = steps.find((r) => r.genText !== null)?.step ?? null;
  const GEN = 'L_gen joins';
  const empty = overlay.length
    ? undefined
    : !job
      ? 'No runs yet: start a job to see its losses.'
      : steps.length === 0 && epochs.length === 0
        ? 'Waiting for the first steps…'
        : undefined;
  const lines = (dots: CanvasSeries['dots']): CanvasSeries[] =>
    keys.map((s) => ({
      key: s.key,
      label: s.label,
      color: s.color,
      width: s.key === 'total' ? 1.5 : 2,
      dash: s.key === 'total' ? [5, 3] : undefined,
      dots,
      connectNulls: false,
    }));
  const epochSeries: CanvasSeries[] = [
    ...lines('hollow'),
    ...(on('total')
      ? [
          {
            key: 'valid',
            label: 'valid total',
            color: '#E69F00',
            dash: [5, 3],
            width: 1.5,
            dots: 'filled' as const,
            connectNulls: true,
          },
        ]
      : []),
    ...(on('task') && hasTerms
      ? [
          {
            key: 'validTask',
            label: 'valid L_task',
            color: '#E69F00',
            width: 2,
            dots: 'filled' as const,
            connectNulls: true,
          },
        ]
      : []),
  ];
  return (
    <ChartCard
      id="loss"
      testId="loss-chart"
      title="Training loss"
      subtitle={
        job ? (
          <>
            {job.name}
            {run !== null ? ` · run #${run + 1}` : ''}
            {genEpoch !== null ? (
              <span className="muted">
                {' '}
                · L_task and each weighted reconstruction term α_m·L_gen(m) apart; L_gen joins at epoch {genEpoch}
              </span>
            ) : null}
          </>
        ) : undefined
      }
      pngSubtitle={
        job
          ? `${job.name}${run !== null ? `, run #${run + 1}` : ''}; step losses smoothed with EMA ${alpha.toFixed(2)}`
          : undefined
      }
      empty={empty}
      controls={
        <>
          <RunPicker options={options} viewRun={viewRun} job={job} />
          {hasTerms ? (
            <span role="group" aria-label="Loss series shown" data-testid="loss-series">
              {LOSS_SERIES.map((s) => (
                <label key={s.key} className="inline-check small">
                  <input
                    type="checkbox"
                    data-testid={`loss-series-${s.key}`}
                    checked={shown[s.key]}
                    onChange={(e) => setShown((v) => ({ ...v, [s.key]: e.target.checked }))}
                  />
                  {s.label}
                </label>
              ))}
            </span>
          ) : null}
          <label className="inline-slider" title="Exponential moving average of the per-step losses">
            smoothing <output>{alpha.toFixed(2)}</output>
            <input
              type="range"
              min={0}
              max={0.99}
              step={0.01}
              value={alpha}
              data-testid="loss-smoothing"
              onChange={(e) => setAlpha(Number(e.target.value))}
            />
          </label>
        </>
      }
      legend={[
        ...overlay.map((r) => ({ label: `per epoch: ${r.label}`, color: r.color })),
        ...keys.map((s) => ({ label: s.label, color: s.color, dashed: s.key === 'total' })),
        ...(on('total') ? [{ label: 'valid total per epoch', color: '#E69F00', dashed: true }] : []),
        ...(on('task') && hasTerms ? [{ label: 'valid L_task per epoch', color: '#E69F00' }] : []),
      ]}
    >
      <div className="chart-pair">
        <div className="chart-cell" data-testid="loss-steps" data-series={keys.map((s) => s.key).join(',')}>
          <div className="chart-cell-title">per step (EMA){live ? ', latest run' : ''}</div>
          {steps.length ? (
            <LineCanvas
              rows={steps}
              xKey="step"
              xName="step"
              height={220}
              y={axisOf(
                steps,
                keys.map((s) => s.key),
              )}
              series={lines(steps.length === 1 ? 'hollow' : false)}
              refs={genStep !== null ? [{ x: genStep, label: GEN }] : undefined}
              format={tooltipNum}
              label="Training loss per step (EMA-smoothed)"
            />
          ) : (
            <div className="chart-empty small">Per-step losses are kept for the run in progress only.</div>
          )}
        </div>
        {overlay.length ? (
          <div className="chart-cell" data-testid="loss-epochs" data-overlay-runs={overlay.length}>
            <div className="chart-cell-title">
              per epoch, {overlay.length} ticked runs (total loss: train solid, valid dashed)
            </div>
            <LineCanvas
              rows={overlayData}
              xKey="epoch"
              xName="epoch"
              xMin={1}
              height={220}
              y={axisOf(
                overlayData,
                overlay.flatMap((_, k) => [`t${k}`, `v${k}`]),
              )}
              series={[...overlaySeries(overlay, 't'), ...overlaySeries(overlay, 'v', true)]}
              format={tooltipNum}
              label={`Total loss per epoch of ${overlay.length} ticked runs (train and valid)`}
            />
          </div>
        ) : (
          <div className="chart-cell" data-testid="loss-epochs" data-series={keys.map((s) => s.key).join(',')}>
            <div className="chart-cell-title">per epoch (train; valid in orange)</div>
            {epochs.length ? (
              <LineCanvas
                rows={epochs}
                xKey="epoch"
                xName="epoch"
                xMin={1}
                height={220}
                y={axisOf(epochs, [
                  ...keys.map((s) => s.key),
                  ...(on('total') ? (['valid'] as const) : []),
                  ...(on('task') ? (['validTask'] as const) : []),
                ])}
                series={epochSeries}
                refs={genEpoch !== null && epochs.length >= genEpoch ? [{ x: genEpoch, label: GEN }] : undefined}
                format={tooltipNum}
                label="Training loss per epoch (train; valid in orange)"
              />
            ) : (
              <div className="chart-empty small">The first epoch is still running.</div>
            )}
          </div>
        )}
      </div>
    </ChartCard>
  );
}

export function ValidMetricsChart() {
  const { job, run, overlay, options, viewRun } = useRunView();
  const overlayData = useMemo(
    () => overlayRows(overlay, { mae: (r) => r.valid.mae, corr: (r) => r.valid.corr }),
    [overlay],
  );
  if (overlay.length) return <ValidOverlay runs={overlay} data={overlayData} />;
  return <ValidSingle job={job} run={run} picker={<RunPicker options={options} viewRun={viewRun} job={job} />} />;
}

/** Ticked runs side by side: validation MAE and Corr per epoch, one line per run. */
function ValidOverlay({ runs, data }: { runs: OverlayRun[]; data: Record<string, number | null>[] }) {
  const corrAxis = useMemo(() => {
    const vals = data
      .flatMap((d) => runs.map((_, k) => d[`corr${k}`]))
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const axis = niceAxis(Math.min(0, ...vals), Math.max(...vals, 0.1), true);
    return { ...axis, tickFormatter: tickFormat(axis.ticks) };
  }, [data, runs]);
  const fmt = (v: number) => v.toFixed(3);
  return (
    <ChartCard
      id="valid"
      testId="valid-chart"
      title="Validation metrics per epoch"
      subtitle={`${runs.length} ticked runs overlaid: MAE (lower is better) and Corr (higher is better)`}
      pngSubtitle={runs.map((r) => r.label).join('; ')}
      legend={runs.map((r) => ({ label: r.label, color: r.color }))}
    >
      <div className="chart-pair">
        <div className="chart-cell" data-testid="valid-mae" data-overlay-runs={runs.length}>
          <div className="chart-cell-title">MAE — lower is better</div>
          <LineCanvas
            rows={data}
            xKey="epoch"
            xName="epoch"
            xMin={1}
            height={210}
            y={axisOf(
              data,
              runs.map((_, k) => `mae${k}`),
            )}
            series={overlaySeries(runs, 'mae')}
            format={fmt}
            label={`Validation MAE per epoch of ${runs.length} ticked runs`}
          />
        </div>
        <div className="chart-cell" data-testid="valid-corr" data-overlay-runs={runs.length}>
          <div className="chart-cell-title">Corr — higher is better</div>
          <LineCanvas
            rows={data}
            xKey="epoch"
            xName="epoch"
            xMin={1}
            height={210}
            y={corrAxis}
            series={overlaySeries(runs, 'corr')}
            format={fmt}
            label={`Validation Corr per epoch of ${runs.length} ticked runs`}
          />
        </div>
      </div>
    </ChartCard>
  );
}

const FRAC_SERIES: CanvasSeries[] = [
  { key: 'corr', label: 'Corr', color: '#009E73', width: 2, dots: 'filled', connectNulls: true },
  { key: 'acc2', label: 'Acc-2 (non0)', color: '#0072B2', width: 2, dots: 'filled', connectNulls: true },
  { key: 'acc2h', label: 'Acc-2 (has0)', color: '#56B4E9', width: 1.5, dash: [4, 3], connectNulls: true },
];

function ValidSingle({ job, run, picker }: { job: StoredJob | null; run: number | null; picker: ReactNode }) {
  const data = useMemo(
    () =>
      epochRecords(job, run).map((r) => ({
        epoch: r.epoch,
        mae: r.valid.mae,
        corr: r.valid.corr,
        acc2: r.valid.acc2_non0,
        acc2h: r.valid.acc2_has0,
      })),
    [job, run],
  );
  const fracAxis = useMemo(() => {
    const vals = data
      .flatMap((d) => [d.corr, d.acc2, d.acc2h])
      .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    const axis = niceAxis(Math.min(0, ...vals), 1, true);
    return { ...axis, tickFormatter: tickFormat(axis.ticks) };
  }, [data]);
  const fmtFrac = (v: number, s: CanvasSeries) =>
    s.label.startsWith('Acc') ? `${(v * 100).toFixed(1)} %` : v.toFixed(3);
  return (
    <ChartCard
      id="valid"
      testId="valid-chart"
      title="Validation metrics per epoch"
      subtitle="Two charts, two scales: MAE on the left (error, lower is better); Corr and Acc-2 on the right (higher is better)"
      pngSubtitle={job ? `${job.name}${run !== null ? `, run #${run + 1}` : ''}` : undefined}
      empty={data.length ? undefined : 'Validation metrics appear after the first epoch.'}
      controls={picker}
      legend={[
        { label: 'MAE (left chart)', color: '#D55E00' },
        { label: 'Corr', color: '#009E73' },
        { label: 'Acc-2 (non0)', color: '#0072B2' },
        { label: 'Acc-2 (has0)', color: '#56B4E9', dashed: true },
      ]}
    >
      <div className="chart-pair">
        <div className="chart-cell" data-testid="valid-mae">
          <div className="chart-cell-title">MAE — lower is better</div>
          <LineCanvas
            rows={data}
            xKey="epoch"
            xName="epoch"
            xMin={1}
            height={210}
            y={axisOf(data, ['mae'])}
            yTitle={{ text: 'MAE', color: '#D55E00' }}
            series={[{ key: 'mae', label: 'MAE', color: '#D55E00', width: 2, dots: 'filled', connectNulls: true }]}
            format={fmtFrac}
            label="Validation MAE per epoch"
          />
        </div>
        <div className="chart-cell" data-testid="valid-corr">
          <div className="chart-cell-title">Corr and Acc-2 — higher is better</div>
          <LineCanvas
            rows={data}
            xKey="epoch"
            xName="epoch"
            xMin={1}
            height={210}
            y={fracAxis}
            yTitle={{ text: 'Corr / Acc-2', color: '#009E73' }}
            series={FRAC_SERIES}
            format={fmtFrac}
            label="Validation Corr and Acc-2 per epoch"
          />
        </div>
      </div>
    </ChartCard>
  );
}
