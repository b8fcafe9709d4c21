/**
 * Results → CSV. `runsCsv`: one row per run × test rate with every metric; `summaryCsv`: one row per
 * summary row × rate with mean and std of every metric; `auilcCsv`: one row per summary row with
 * mean and std of each metric's AUILC. Fractions stay fractions (as in the results file); empty
 * cells are metrics that could not be computed (null). Every run row says its status (finished,
 * stopped, interrupted, failed); summary rows list the seeds they count (finished runs) and, in
 * `cutOff`, the runs they leave out ("11111:stopped"). RFC 4180 quoting, \r\n line ends.
 */
import { METRIC_KEYS } from '../core/eval/metrics.ts';
import type { ResultsFile, SummaryTrainRate } from '../core/eval/results.ts';
import type { Branches } from '../core/config/config.ts';
import { runStatus } from '../core/eval/summary.ts';

type Cell = string | number | boolean | null | undefined;

export function csvCell(v: Cell): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const branchCells = (b: Branches): Cell[] => [b.macro, b.micro, b.recon];
const cutOffCell = (cut: { seed: number; status: string }[] | undefined): Cell =>
  (cut ?? []).map((c) => `${c.seed}:${c.status}`).join(' ');
const trainRateCell = (r: number | 'random' | null | SummaryTrainRate): Cell => (r === null ? 'per-rate' : r);

export function runsCsv(file: ResultsFile): string {
  const header = [
    'run',
    'arch',
    'macro',
    'micro',
    'recon',
    'seed',
    'trainRate',
    'params',
    'epochs',
    'bestEpoch',
    'stopReason',
    'status',
    'rate',
    ...METRIC_KEYS,
  ];
  const rows: Cell[][] = [];
  file.runs.forEach((run, i) => {
    for (const t of run.test) {
      rows.push([
        i + 1,
        run.arch,
        ...branchCells(run.branches),
        run.seed,
        trainRateCell(run.trainRate),
        run.params,
        run.epochs.length,
        run.bestEpoch,
        run.stopReason,
        runStatus(run),
        t.rate,
        ...METRIC_KEYS.map((k) => t.metrics[k]),
      ]);
    }
  });
  return toCsv(header, rows);
}

export function summaryCsv(file: ResultsFile): string {
  const header = [
    'arch',
    'macro',
    'micro',
    'recon',
    'trainRate',
    'seeds',
    'cutOff',
    'rate',
    ...METRIC_KEYS.flatMap((k) => [`${k}_mean`, `${k}_std`]),
  ];
  const rows: Cell[][] = [];
  for (const row of file.summary) {
    for (const p of row.perRate) {
      rows.push([
        row.arch,
        ...branchCells(row.branches),
        trainRateCell(row.trainRate),
        row.seeds.join(' '),
        cutOffCell(row.cutOff),
        p.rate,
        ...METRIC_KEYS.flatMap((k) => [p.mean[k], p.std[k]]),
      ]);
    }
  }
  return toCsv(header, rows);
}

export function auilcCsv(file: ResultsFile): string {
  const header = [
    'arch',
    'macro',
    'micro',
    'recon',
    'trainRate',
    'seeds',
    'cutOff',
    ...METRIC_KEYS.flatMap((k) => [`${k}_auilc_mean`, `${k}_auilc_std`]),
  ];
  const rows: Cell[][] = file.summary.map((row) => [
    row.arch,
    ...branchCells(row.branches),
    trainRateCell(row.trainRate),
    row.seeds.join(' '),
    cutOffCell(row.cutOff),
    ...METRIC_KEYS.flatMap((k) => [row.auilc[k].mean, row.auilc[k].std]),
  ]);
  return toCsv(header, rows);
}

/** Per-epoch history (for plotting elsewhere): one row per run × epoch. */
export function epochsCsv(file: ResultsFile): string {
  const header = [
    'run',
    'arch',
    'macro',
    'micro',
    'recon',
    'seed',
    'status',
    'epoch',
    'trainLoss',
    'validLoss',
    'lr',
    'seconds',
    ...METRIC_KEYS.map((k) => `valid_${k}`),
  ];
  const rows: Cell[][] = [];
  file.runs.forEach((run, i) => {
    for (const e of run.epochs) {
      rows.push([
        i + 1,
        run.arch,
        ...branchCells(run.branches),
        run.seed,
        runStatus(run),
        e.epoch,
        e.trainLoss,
        e.validLoss,
        e.lr,
        e.seconds,
        ...METRIC_KEYS.map((k) => e.valid[k]),
      ]);
    }
  });
  return toCsv(header, rows);
}
