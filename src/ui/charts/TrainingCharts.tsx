import { useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useAppStore } from '../bindings.ts';
import { epochRecords, resolveRun, runOptions, useViewJob, type LiveRun } from '../derive.ts';
import { ema, fmtNum, niceAxis, tickFormat } from '../format.ts';
import { useCalm } from '../hooks.ts';
import { useUiStore } from '../uiStore.ts';
import type { LossTerms } from '../../core/eval/results.ts';
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

function tooltipNum(v: unknown): string {
  return typeof v === 'number' ? fmtNum(v, 4) : String(v);
}

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
  const { job, run, live, liveRun } = useRunView();
  const liveLosses = useCalm(useAppStore((s) => s.progress?.losses)); // per step: only this chart follows it
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
  const genLabel = { value: 'L_gen joins', position: 'insideTopLeft' as const, fontSize: 10, fill: '#5b6776' };
  const empty = !job
    ? 'No runs yet: start a job to see its losses.'
    : steps.length === 0 && epochs.length === 0
      ? 'Waiting for the first steps…'
      : undefined;
  const lines = (smoothDots: boolean) =>
    keys.map((s) => (
      <Line
        key={s.key}
        dataKey={s.key}
        name={s.label}
        stroke={s.color}
        dot={smoothDots}
        strokeWidth={s.key === 'total' ? 1.5 : 2}
        strokeDasharray={s.key === 'total' ? '5 3' : undefined}
        isAnimationActive={false}
        connectNulls={false}
      />
    ));
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
          <RunPicker />
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
        ...keys.map((s) => ({ label: s.label, color: s.color, dashed: s.key === 'total' })),
        ...(on('total') ? [{ label: 'valid total per epoch', color: '#E69F00', dashed: true }] : []),
        ...(on('task') && hasTerms ? [{ label: 'valid L_task per epoch', color: '#E69F00' }] : []),
      ]}
    >
      <div className="chart-pair">
        <div className="chart-cell" data-testid="loss-steps" data-series={keys.map((s) => s.key).join(',')}>
          <div className="chart-cell-title">per step (EMA){live ? ', latest run' : ''}</div>
          {steps.length ? (
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={steps} margin={{ top: 6, right: 12, bottom: 4, left: -6 }}>
                {GRID}
                <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} {...AXIS} allowDecimals={false} />
                <YAxis
                  {...AXIS}
                  {...axisOf(
                    steps,
                    keys.map((s) => s.key),
                  )}
                  width={48}
                />
                <Tooltip formatter={tooltipNum} labelFormatter={(l) => `step ${l}`} />
                {genStep !== null ? (
                  <ReferenceLine x={genStep} stroke="#9aa5b1" strokeDasharray="2 3" label={genLabel} />
                ) : null}
                {lines(steps.length === 1)}
              </LineChart>
            </ResponsiveContainer>
          ) : (
            <div className="chart-empty small">Per-step losses are kept for the run in progress only.</div>
          )}
        </div>
        <div className="chart-cell" data-testid="loss-epochs" data-series={keys.map((s) => s.key).join(',')}>
          <div className="chart-cell-title">per epoch (train; valid in orange)</div>
          {epochs.length ? (
            <ResponsiveContainer width="100%" height={220}>
              <LineChart data={epochs} margin={{ top: 6, right: 12, bottom: 4, left: -6 }}>
                {GRID}
                <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} {...AXIS} allowDecimals={false} />
                <YAxis
                  {...AXIS}
                  {...axisOf(epochs, [
                    ...keys.map((s) => s.key),
                    ...(on('total') ? (['valid'] as const) : []),
                    ...(on('task') ? (['validTask'] as const) : []),
                  ])}
                  width={48}
                />
                <Tooltip formatter={tooltipNum} labelFormatter={(l) => `epoch ${l}`} />
                {genEpoch !== null && epochs.length >= genEpoch ? (
                  <ReferenceLine x={genEpoch} stroke="#9aa5b1" strokeDasharray="2 3" label={genLabel} />
                ) : null}
                {lines(true)}
                {on('total') ? (
                  <Line
                    dataKey="valid"
                    name="valid total"
                    stroke="#E69F00"
                    strokeDasharray="5 3"
                    strokeWidth={1.5}
                    dot={{ r: 2.5, strokeWidth: 0, fill: '#E69F00' }}
                    isAnimationActive={false}
                    connectNulls
                  />
                ) : null}
                {on('task') && hasTerms ? (
                  <Line
                    dataKey="validTask"
                    name="valid L_task"
                    stroke="#E69F00"
                    strokeWidth={2}
                    dot={{ r: 2.5, strokeWidth: 0, fill: '#E69F00' }}
                    isAnimationActive={false}
                    connectNulls
                  />
                ) : null}
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
    const axis = niceAxis(Math.min(0, ...vals), 1, true);
    return { ...axis, tickFormatter: tickFormat(axis.ticks) };
  }, [data]);
  const fmtFrac = (v: unknown, name: unknown) =>
    typeof v === 'number' ? (String(name).startsWith('Acc') ? `${(v * 100).toFixed(1)} %` : v.toFixed(3)) : String(v);
  return (
    <ChartCard
      id="valid"
      testId="valid-chart"
      title="Validation metrics per epoch"
      subtitle="Two charts, two scales: MAE on the left (error, lower is better); Corr and Acc-2 on the right (higher is better)"
      pngSubtitle={job ? `${job.name}${run !== null ? `, run #${run + 1}` : ''}` : undefined}
      empty={data.length ? undefined : 'Validation metrics appear after the first epoch.'}
      controls={<RunPicker />}
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
          <ResponsiveContainer width="100%" height={210}>
            <LineChart data={data} margin={{ top: 6, right: 12, bottom: 4, left: -6 }}>
              {GRID}
              <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} {...AXIS} allowDecimals={false} />
              <YAxis
                {...AXIS}
                {...axisOf(data, ['mae'])}
                width={48}
                label={{ value: 'MAE', angle: -90, position: 'insideLeft', offset: 14, fontSize: 11, fill: '#D55E00' }}
              />
              <Tooltip formatter={fmtFrac} labelFormatter={(l) => `epoch ${l}`} />
              <Line
                dataKey="mae"
                dot={{ r: 2.5, strokeWidth: 0, fill: '#D55E00' }}
                name="MAE"
                stroke="#D55E00"
                strokeWidth={2}
                isAnimationActive={false}
                connectNulls
              />
            </LineChart>
          </ResponsiveContainer>
        </div>
        <div className="chart-cell" data-testid="valid-corr">
          <div className="chart-cell-title">Corr and Acc-2 — higher is better</div>
          <ResponsiveContainer width="100%" height={210}>
            <LineChart data={data} margin={{ top: 6, right: 12, bottom: 4, left: -6 }}>
              {GRID}
              <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} {...AXIS} allowDecimals={false} />
              <YAxis
                {...AXIS}
                {...fracAxis}
                width={48}
                label={{
                  value: 'Corr / Acc-2',
                  angle: -90,
                  position: 'insideLeft',
                  offset: 14,
                  fontSize: 11,
                  fill: '#009E73',
                }}
              />
              <Tooltip formatter={fmtFrac} labelFormatter={(l) => `epoch ${l}`} />
              <Line
                dataKey="corr"
                dot={{ r: 2.5, strokeWidth: 0, fill: '#009E73' }}
                name="Corr"
                stroke="#009E73"
                strokeWidth={2}
                isAnimationActive={false}
                connectNulls
              />
              <Line
                dataKey="acc2"
                dot={{ r: 2.5, strokeWidth: 0, fill: '#0072B2' }}
                name="Acc-2 (non0)"
                stroke="#0072B2"
                strokeWidth={2}
                isAnimationActive={false}
                connectNulls
              />
              <Line
                dataKey="acc2h"
                dot={false}
                name="Acc-2 (has0)"
                stroke="#56B4E9"
                strokeDasharray="4 3"
                strokeWidth={1.5}
                isAnimationActive={false}
                connectNulls
              />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </div>
    </ChartCard>
  );
}
