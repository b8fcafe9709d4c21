/** Derivations from the store for the charts and tables (pure; no tfjs). */
import { useMemo } from 'react';
import type { EpochRecord, SummaryRow } from '../core/eval/results.ts';
import { summarizeRuns } from '../core/eval/summary.ts';
import { defaultRowLabel, formatTrainRate } from '../core/eval/tables.ts';
import type { LiveProgress, StoredJob } from '../state/types.ts';
import { useAppStore } from './bindings.ts';
import { colorAt, settingLabel } from './format.ts';
import { useCalm } from './hooks.ts';
import { useUiStore } from './uiStore.ts';

/** The job the charts show: the one picked in the runs list, else the running one, else the newest. */
export function useViewJob(): { job: StoredJob | null; isCurrent: boolean } {
  const jobs = useCalm(useAppStore((s) => s.jobs));
  const currentJobId = useAppStore((s) => s.currentJobId);
  const viewJobId = useUiStore((s) => s.viewJobId);
  return useMemo(() => {
    const byId = (id: string | null) => (id ? (jobs.find((j) => j.id === id) ?? null) : null);
    const job = byId(viewJobId) ?? byId(currentJobId) ?? jobs[0] ?? null;
    return { job, isCurrent: !!job && job.id === currentJobId };
  }, [jobs, currentJobId, viewJobId]);
}

export interface RunOption {
  index: number;
  label: string;
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
      if (r)
        return {
          index: i,
          label: `#${i + 1} ${settingLabel(r)} · seed ${r.seed}${r.trainRate === null ? '' : ` · train ${formatTrainRate(r.trainRate)}`}`,
        };
      if (isCurrent && progress && progress.runIndex === i) {
        return {
          index: i,
          label: `#${i + 1} ${settingLabel(progress.setting)}${progress.seed !== null ? ` · seed ${progress.seed}` : ''} (live)`,
        };
      }
      return { index: i, label: `#${i + 1}` };
    });
}

/** Which run index the epoch charts show. */
export function resolveRun(
  viewRun: number | 'live',
  options: RunOption[],
  progress: LiveRun | null,
  isCurrent: boolean,
): number | null {
  if (viewRun !== 'live' && options.some((o) => o.index === viewRun)) return viewRun;
  if (isCurrent && progress) return progress.runIndex;
  return options.length ? options[options.length - 1].index : null;
}

export function epochRecords(job: StoredJob | null, index: number | null): EpochRecord[] {
  if (!job || index === null) return [];
  const fromHistory = job.epochs.filter((e) => e.index === index).map((e) => e.record);
  if (fromHistory.length) return fromHistory.sort((a, b) => a.epoch - b.epoch);
  return job.runs[index]?.epochs ?? [];
}

/**
 * Summaries of unfinished jobs, by their runs array: the store replaces that array only when a run
 * ends, so the AUILC and ablation views do not re-summarise on every epoch message.
 */
const summaryCache = new WeakMap<StoredJob['runs'], { includeOne: boolean; rows: SummaryRow[] }>();

/** The summary rows of a job: from its results when finished, else computed from the runs done so far. */
export function jobSummary(job: StoredJob): SummaryRow[] {
  if (job.results) return job.results.summary;
  const includeOne = job.config.eval.auilcIncludeOne;
  const hit = summaryCache.get(job.runs);
  if (hit && hit.includeOne === includeOne) return hit.rows;
  const tested = job.runs.filter((r) => r.test.length > 0);
  let rows: SummaryRow[] = [];
  try {
    if (tested.length) rows = summarizeRuns(tested, includeOne);
  } catch {
    rows = [];
  }
  summaryCache.set(job.runs, { includeOne, rows });
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
}

/** One series per (job, summary row) for the compared jobs: the selected ones plus the current one. */
export function useCompareSeries(): { series: CurveSeries[]; jobs: StoredJob[] } {
  const jobs = useCalm(useAppStore((s) => s.jobs));
  const selected = useAppStore((s) => s.selectedJobIds);
  const currentJobId = useAppStore((s) => s.currentJobId);
  const viewJobId = useUiStore((s) => s.viewJobId);
  return useMemo(() => {
    const ids: string[] = [];
    const push = (id: string | null) => {
      if (id && !ids.includes(id) && jobs.some((j) => j.id === id)) ids.push(id);
    };
    if (currentJobId) push(currentJobId);
    selected.forEach(push);
    if (ids.length === 0) push(viewJobId);
    if (ids.length === 0) push(jobs.find((j) => jobSummary(j).length > 0)?.id ?? null);
    const picked = ids.map((id) => jobs.find((j) => j.id === id)!).filter(Boolean);
    const many = picked.length > 1;
    const series: CurveSeries[] = [];
    for (const job of picked) {
      const rows = jobSummary(job);
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
        });
      }
    }
    return { series, jobs: picked };
  }, [jobs, selected, currentJobId, viewJobId]);
}
