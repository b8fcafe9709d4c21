/** Derivations from the store for the charts and tables (pure; no tfjs). */
import { useMemo } from 'react';
import type { EpochRecord, SummaryRow } from '../core/eval/results.ts';
import { rowStatusNote, runStatus, summarizeRuns } from '../core/eval/summary.ts';
import { defaultRowLabel, formatTrainRate } from '../core/eval/tables.ts';
import type { LiveProgress, StoredJob } from '../state/types.ts';
import { useAppStore } from './bindings.ts';
import { colorAt, settingLabel } from './format.ts';
import { shallowSame, useCalmRead, type Subscribe } from './hooks.ts';
import { useUiStore } from './uiStore.ts';
import { useViewOptions } from './runs/viewOptions.ts';

const APP_AND_UI: readonly Subscribe[] = [useAppStore.subscribe, useUiStore.subscribe];

/** The job the charts show: the one picked in the runs list, else the running one, else the newest. */
export function viewJobOf(
  jobs: StoredJob[],
  currentJobId: string | null,
  viewJobId: string | null,
): { job: StoredJob | null; isCurrent: boolean } {
  const byId = (id: string | null) => (id ? (jobs.find((j) => j.id === id) ?? null) : null);
  const job = byId(viewJobId) ?? byId(currentJobId) ?? jobs[0] ?? null;
  return { job, isCurrent: !!job && job.id === currentJobId };
}

/** The viewed job as it is now, for what acts on it (export, share, the runs table). */
export function useViewJobNow(): { job: StoredJob | null; isCurrent: boolean } {
  const jobs = useAppStore((s) => s.jobs);
  const currentJobId = useAppStore((s) => s.currentJobId);
  const viewJobId = useUiStore((s) => s.viewJobId);
  return useMemo(() => viewJobOf(jobs, currentJobId, viewJobId), [jobs, currentJobId, viewJobId]);
}

/** What the training charts read of the stores, in one calm snapshot (see useCalmRead). */
export interface ChartInputs {
  jobs: StoredJob[];
  currentJobId: string | null;
  viewJobId: string | null;
  selected: string[];
  /** The live run (changes per run, not per step). */
  runIndex: number | undefined;
  setting: LiveProgress['setting'] | null;
  seed: number | null;
  /** The live run's step losses (per step), when asked for; else undefined. */
  losses: LiveProgress['losses'] | undefined;
}

function readChartInputs(withLosses: boolean): ChartInputs {
  const s = useAppStore.getState();
  return {
    jobs: s.jobs,
    currentJobId: s.currentJobId,
    viewJobId: useUiStore.getState().viewJobId,
    selected: s.selectedJobIds,
    runIndex: s.progress?.runIndex,
    setting: s.progress?.setting ?? null,
    seed: s.progress?.seed ?? null,
    losses: withLosses ? s.progress?.losses : undefined,
  };
}

/**
 * The charts' inputs, followed calmly: a chart renders only when they change, at most every 500 ms,
 * in a task of its own (never inside the click that starts a job, nor on every step message).
 */
export function useChartInputs(withLosses = false): ChartInputs {
  return useCalmRead(APP_AND_UI, () => readChartInputs(withLosses), shallowSame);
}

export interface RunOption {
  index: number;
  label: string;
  finished: boolean; // the run trained to its own end (not stopped, interrupted or failed, not live)
}

/** What the run pickers need of the live progress; it changes per run, not per step. */
export type LiveRun = Pick<LiveProgress, 'runIndex' | 'setting' | 'seed'>;

export function runOptions(job: StoredJob | null, progress: LiveRun | null, isCurrent: boolean): RunOption[] {
  if (!job) return [];
  const indices = new Set<number>();
  job.epochs.forEach((e) => indices.add(e.index));
  job.runs.forEach((_, i) => indices.add(i));
  if (isCurrent && progress) indices.add(progress.runIndex);
  return [...indices]
    .sort((a, b) => a - b)
    .map((i) => {
      const r = job.runs[i];
      if (r) {
        const status = runStatus(r);
        return {
          index: i,
          label: `#${i + 1} ${settingLabel(r)} · seed ${r.seed}${r.trainRate === null ? '' : ` · train ${formatTrainRate(r.trainRate)}`}${status === 'finished' ? '' : ` · ${status}`}`,
          finished: status === 'finished',
        };
      }
      if (isCurrent && progress && progress.runIndex === i) {
        return {
          index: i,
          label: `#${i + 1} ${settingLabel(progress.setting)}${progress.seed !== null ? ` · seed ${progress.seed}` : ''} (live)`,
          finished: false,
        };
      }
      const cut = job.status === 'running' ? 'unfinished' : 'cut off';
      return { index: i, label: `#${i + 1} (${cut})`, finished: false };
    });
}

/**
 * Which run index the epoch charts show: the one picked, else the live run, else the latest
 * *finished* run (a seed cut off by Stop is not what a job's charts should open on), else the latest.
 */
export function resolveRun(
  viewRun: number | 'live',
  options: RunOption[],
  progress: LiveRun | null,
  isCurrent: boolean,
): number | null {
  if (viewRun !== 'live' && options.some((o) => o.index === viewRun)) return viewRun;
  if (isCurrent && progress) return progress.runIndex;
  const finished = options.filter((o) => o.finished);
  if (finished.length) return finished[finished.length - 1].index;
  return options.length ? options[options.length - 1].index : null;
}

export function epochRecords(job: StoredJob | null, index: number | null): EpochRecord[] {
  if (!job || index === null) return [];
  const fromHistory = job.epochs.filter((e) => e.index === index).map((e) => e.record);
  if (fromHistory.length) return fromHistory.sort((a, b) => a.epoch - b.epoch);
  return job.runs[index]?.epochs ?? [];
}

/**
 * Summaries by the job's runs array: the store replaces that array only when a run ends, so the
 * AUILC and ablation views do not re-summarise on every epoch message.
 */
const summaryCache = new WeakMap<StoredJob['runs'], Map<string, SummaryRow[]>>();

/**
 * The summary rows of a job, computed from its runs (finished runs only unless `includePartial`;
 * see summarizeRuns), so a finished job, an imported file and a shared link all read the same way.
 * A job whose runs cannot be summarised (a file from elsewhere) falls back to its file's summary.
 */
export function jobSummary(job: StoredJob, includePartial = false): SummaryRow[] {
  const runs = job.runs.length ? job.runs : (job.results?.runs ?? []);
  const includeOne = job.config.eval.auilcIncludeOne;
  const key = `${includeOne}|${includePartial}`;
  let byKey = summaryCache.get(runs);
  const hit = byKey?.get(key);
  if (hit) return hit;
  let rows: SummaryRow[] = job.results?.summary ?? [];
  try {
    if (runs.length) rows = summarizeRuns(runs, includeOne, { includePartial });
  } catch {
    rows = job.results?.summary ?? [];
  }
  if (!byKey) summaryCache.set(runs, (byKey = new Map()));
  byKey.set(key, rows);
  return rows;
}

export function protocolOf(row: SummaryRow): string {
  return row.trainRate === 'per-rate' ? 'per-rate' : `train once @ ${formatTrainRate(row.trainRate)}`;
}

export interface CurveSeries {
  key: string;
  jobId: string;
  jobName: string;
  jobKind: StoredJob['kind'];
  row: SummaryRow;
  label: string; // setting label (+ job name when several jobs are compared)
  setting: string;
  protocol: string;
  color: string;
  live: boolean; // the job is still running: the curve will grow
  note: string; // "n = 2 of 3 seeds", "stopped (n = 0 of 1)": runs of the row that did not finish
}

/** One series per (job, summary row) for the compared jobs: the selected ones plus the current one. */
export function useCompareSeries(): { series: CurveSeries[]; jobs: StoredJob[] } {
  const { jobs, selected, currentJobId, viewJobId } = useChartInputs();
  const includePartial = useViewOptions((s) => s.includePartial);
  return useMemo(() => {
    const ids: string[] = [];
    const push = (id: string | null) => {
      if (id && !ids.includes(id) && jobs.some((j) => j.id === id)) ids.push(id);
    };
    if (currentJobId) push(currentJobId);
    selected.forEach(push);
    if (ids.length === 0) push(viewJobId);
    if (ids.length === 0) push(jobs.find((j) => jobSummary(j, includePartial).length > 0)?.id ?? null);
    const picked = ids.map((id) => jobs.find((j) => j.id === id)!).filter(Boolean);
    const many = picked.length > 1;
    const series: CurveSeries[] = [];
    for (const job of picked) {
      const rows = jobSummary(job, includePartial);
      const rates = new Set(rows.map((r) => `${r.arch}|${r.branches.macro}${r.branches.micro}${r.branches.recon}`));
      const sweepsRate = rates.size < rows.length; // same setting at several training rates
      for (const row of rows) {
        const setting = defaultRowLabel(row) + (sweepsRate ? ` [train ${formatTrainRate(row.trainRate)}]` : '');
        series.push({
          key: `${job.id}:${series.length}`,
          jobId: job.id,
          jobName: job.name,
          jobKind: job.kind,
          row,
          setting,
          label: many ? `${job.name} — ${setting}` : setting,
          protocol: protocolOf(row),
          color: colorAt(series.length),
          live: job.status === 'running',
          note: rowStatusNote(row),
        });
      }
    }
    return { series, jobs: picked };
  }, [jobs, selected, currentJobId, viewJobId, includePartial]);
}

/** One ticked job's run as an overlay series in the loss and validation charts. */
export interface OverlayRun {
  key: string;
  jobId: string;
  jobName: string;
  runIndex: number;
  label: string; // job name · run #k
  color: string;
  records: EpochRecord[];
}

/**
 * Runs to overlay when two or more jobs are ticked in the runs table (of the charts' inputs): per
 * job, the run its charts would open on (the live run, else the latest finished one). Empty below two ticked jobs, where
 * the charts show the viewed job's run alone.
 */
export function overlayRuns(
  jobs: StoredJob[],
  selected: string[],
  currentJobId: string | null,
  liveIndex: number | undefined,
): OverlayRun[] {
  const picked = selected.map((id) => jobs.find((j) => j.id === id)).filter((j): j is StoredJob => !!j);
  if (picked.length < 2) return [];
  return picked.flatMap((job, k) => {
    const isCurrent = job.id === currentJobId && job.status === 'running';
    const live: LiveRun | null =
      isCurrent && liveIndex !== undefined ? { runIndex: liveIndex, setting: null, seed: null } : null;
    const index = resolveRun('live', runOptions(job, live, isCurrent), live, isCurrent);
    const records = epochRecords(job, index);
    if (index === null || records.length === 0) return [];
    const several = new Set(job.epochs.map((e) => e.index)).size > 1 || job.runs.length > 1;
    return [
      {
        key: `${job.id}:${index}`,
        jobId: job.id,
        jobName: job.name,
        runIndex: index,
        label: several ? `${job.name} · run #${index + 1}` : job.name,
        color: colorAt(k),
        records,
      },
    ];
  });
}
