import { useMemo, useState } from 'react';
import {
  CartesianGrid,
  ComposedChart,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useAppStore } from '../bindings.ts';
import { epochRecords, resolveRun, runOptions, useViewJob, type LiveRun } from '../derive.ts';
import { ema, fmtNum, fmtTick, niceAxis } from '../format.ts';
import { useUiStore } from '../uiStore.ts';
import { ChartCard, extent } from './ChartCard.tsx';

const AXIS = { tick: { fontSize: 11, fill: '#5b6776' }, stroke: '#b8c2cf' };
const GRID = <CartesianGrid strokeDasharray="3 3" stroke="#e6ebf1" />;

/**
 * The job and run the charts show. It reads only the parts of the live progress that change per
 * run (not per step), so charts other than the per-step loss do not re-render on every step.
 */
function useRunView() {
  const { job, isCurrent } = useViewJob();
  const runIndex = useAppStore((s) => s.progress?.runIndex);
  const setting = useAppStore((s) => s.progress?.setting ?? null);
  const seed = useAppStore((s) => s.progress?.seed ?? null);
  const viewRun = useUiStore((s) => s.viewRun);
  const liveRun: LiveRun | null = useMemo(
    () => (isCurrent && runIndex !== undefined ? { runIndex, setting, seed } : null),
    [isCurrent, runIndex, setting, seed],
  );
  const options = useMemo(() => runOptions(job, liveRun, isCurrent), [job, liveRun, isCurrent]);
  const run = resolveRun(viewRun, options, liveRun, isCurrent);
  const live = liveRun !== null && run === liveRun.runIndex;
  return { job, isCurrent, liveRun, options, run, live, viewRun };
}

function RunPicker() {
  const { options, viewRun, job } = useRunView();
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
function axisOf<T>(rows: T[], keys: (keyof T)[]): { domain: [number, number]; ticks: number[] } {
  const vals: number[] = [];
  for (const r of rows)
    for (const k of keys) {
      const v = r[k];
      if (typeof v === 'number' && Number.isFinite(v)) vals.push(v);
    }
  const range = extent(vals);
  return range ? niceAxis(range[0], range[1], false) : { domain: [0, 1], ticks: [0, 0.5, 1] };
}

function tooltipNum(v: unknown): string {
  return typeof v === 'number' ? fmtNum(v, 4) : String(v);
}

export function LossChart() {
  const { job, run, live, liveRun } = useRunView();
  const liveLosses = useAppStore((s) => s.progress?.losses); // per step: only this chart follows it
  const [alpha, setAlpha] = useState(0.6);
  const steps = useMemo(() => {
    const losses = live && liveLosses ? liveLosses : [];
    const smooth = ema(
      losses.map((l) => (Number.isFinite(l.loss) ? l.loss : null)),
      alpha,
    );
    return losses.map((l, i) => ({ step: l.step, loss: Number.isFinite(l.loss) ? l.loss : null, smooth: smooth[i] }));
  }, [live, liveLosses, alpha]);
  const epochs = useMemo(
    () => epochRecords(job, run).map((r) => ({ epoch: r.epoch, train: r.trainLoss, valid: r.validLoss })),
    [job, run],
  );
  // L_gen (reconstruction) joins the loss after the warm-up epochs: a visible step in the curve.
  const runRecon =
    job && run !== null
      ? (job.runs[run]?.branches ?? (live ? liveRun?.setting?.branches : undefined) ?? job.config.model.branches).recon
      : false;
  const warmup = job ? job.config.train.reconWarmupEpochs : 0;
  const genEpoch = runRecon && job?.config.model.arch === 'mfmb' && warmup > 0 ? warmup + 1 : null;
  const empty = !job
    ? 'No runs yet: start a job to see its losses.'
    : steps.length === 0 && epochs.length === 0
      ? 'Waiting for the first steps…'
      : undefined;
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
              <span className="muted"> · the reconstruction loss L_gen joins at epoch {genEpoch}</span>
            ) : null}
          </>
        ) : undefined
      }
      pngSubtitle={
        job
          ? `${job.name}${run !== null ? `, run #${run + 1}` : ''}; step loss smoothed with EMA ${alpha.toFixed(2)}`
          : undefined
      }
      empty={empty}
      controls={
        <>
          <RunPicker />
          <label className="inline-slider" title="Exponential moving average of the per-step loss">
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
        { label: 'train loss per step (raw)', color: '#a9c4de' },
        { label: `per step, EMA ${alpha.toFixed(2)}`, color: '#0072B2' },
        { label: 'train loss per epoch', color: '#0072B2', dashed: true },
        { label: 'valid loss per epoch', color: '#D55E00' },
      ]}
    >
      <div className="chart-pair">
        <div className="chart-cell">
          <div className="chart-cell-title">per step{live ? ' (latest run)' : ''}</div>
          {steps.length ? (
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={steps} margin={{ top: 6, right: 12, bottom: 4, left: -6 }}>
                {GRID}
                <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} {...AXIS} allowDecimals={false} />
                <YAxis {...AXIS} {...axisOf(steps, ['loss', 'smooth'])} tickFormatter={fmtTick} width={48} />
                <Tooltip formatter={tooltipNum} labelFormatter={(l) => `step ${l}`} />
                <Line
                  dataKey="loss"
                  name="raw"
                  stroke="#a9c4de"
                  dot={false}
                  strokeWidth={1}
                  isAnimationActive={false}
                  connectNulls
                />
                <Line
                  dataKey="smooth"
                  name="EMA"
                  stroke="#0072B2"
                  dot={steps.length === 1}
                  strokeWidth={2}
                  isAnimationActive={false}
                  connectNulls
                />
              </LineChart>
            </ResponsiveContainer>
          ) : (
            <div className="chart-empty small">Per-step losses are kept for the run in progress only.</div>
          )}
        </div>
        <div className="chart-cell">
          <div className="chart-cell-title">per epoch</div>
          {epochs.length ? (
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={epochs} margin={{ top: 6, right: 12, bottom: 4, left: -6 }}>
                {GRID}
                <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} {...AXIS} allowDecimals={false} />
                <YAxis {...AXIS} {...axisOf(epochs, ['train', 'valid'])} tickFormatter={fmtTick} width={48} />
                <Tooltip formatter={tooltipNum} labelFormatter={(l) => `epoch ${l}`} />
                {genEpoch !== null && epochs.length >= genEpoch ? (
                  <ReferenceLine
                    x={genEpoch}
                    stroke="#9aa5b1"
                    strokeDasharray="2 3"
                    label={{ value: '+ L_gen', position: 'insideTopLeft', fontSize: 10, fill: '#5b6776' }}
                  />
                ) : null}
                <Line
                  dataKey="train"
                  name="train"
                  stroke="#0072B2"
                  strokeDasharray="5 3"
                  strokeWidth={2}
                  dot={{ r: 2.5, strokeWidth: 0, fill: '#0072B2' }}
                  isAnimationActive={false}
                  connectNulls
                />
                <Line
                  dataKey="valid"
                  name="valid"
                  stroke="#D55E00"
                  strokeWidth={2}
                  dot={{ r: 2.5, strokeWidth: 0, fill: '#D55E00' }}
                  isAnimationActive={false}
                  connectNulls
                />
              </LineChart>
            </ResponsiveContainer>
          ) : (
            <div className="chart-empty small">The first epoch is still running.</div>
          )}
        </div>
      </div>
    </ChartCard>
  );
}

export function ValidMetricsChart() {
  const { job, run } = useRunView();
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
    return niceAxis(Math.min(0, ...vals), 1, true);
  }, [data]);
  return (
    <ChartCard
      id="valid"
      testId="valid-chart"
      title="Validation metrics per epoch"
      subtitle="MAE on the left axis (lower is better); Corr and Acc-2 on the right"
      pngSubtitle={job ? `${job.name}${run !== null ? `, run #${run + 1}` : ''}` : undefined}
      empty={data.length ? undefined : 'Validation metrics appear after the first epoch.'}
      controls={<RunPicker />}
      legend={[
        { label: 'MAE', color: '#D55E00' },
        { label: 'Corr', color: '#009E73' },
        { label: 'Acc-2 (non0)', color: '#0072B2' },
        { label: 'Acc-2 (has0)', color: '#56B4E9', dashed: true },
      ]}
    >
      <ResponsiveContainer width="100%" height={230}>
        <ComposedChart data={data} margin={{ top: 6, right: 4, bottom: 4, left: -6 }}>
          {GRID}
          <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} {...AXIS} allowDecimals={false} />
          <YAxis yAxisId="mae" {...AXIS} {...axisOf(data, ['mae'])} tickFormatter={fmtTick} width={48} />
          <YAxis yAxisId="frac" orientation="right" {...AXIS} {...fracAxis} tickFormatter={fmtTick} width={36} />
          <Tooltip
            formatter={(v, name) =>
              typeof v === 'number'
                ? String(name).startsWith('Acc')
                  ? `${(v * 100).toFixed(1)} %`
                  : v.toFixed(3)
                : String(v)
            }
            labelFormatter={(l) => `epoch ${l}`}
          />
          <Line
            yAxisId="mae"
            dataKey="mae"
            dot={{ r: 2.5, strokeWidth: 0, fill: '#D55E00' }}
            name="MAE"
            stroke="#D55E00"
            strokeWidth={2}
            isAnimationActive={false}
            connectNulls
          />
          <Line
            yAxisId="frac"
            dataKey="corr"
            dot={{ r: 2.5, strokeWidth: 0, fill: '#009E73' }}
            name="Corr"
            stroke="#009E73"
            strokeWidth={2}
            isAnimationActive={false}
            connectNulls
          />
          <Line
            yAxisId="frac"
            dataKey="acc2"
            dot={{ r: 2.5, strokeWidth: 0, fill: '#0072B2' }}
            name="Acc-2 (non0)"
            stroke="#0072B2"
            strokeWidth={2}
            isAnimationActive={false}
            connectNulls
          />
          <Line
            yAxisId="frac"
            dataKey="acc2h"
            dot={false}
            name="Acc-2 (has0)"
            stroke="#56B4E9"
            strokeDasharray="4 3"
            strokeWidth={1.5}
            isAnimationActive={false}
            connectNulls
          />
        </ComposedChart>
      </ResponsiveContainer>
    </ChartCard>
  );
}
