/**
 * Aggregation over seeds: the paper reports mean ± std over run seeds, with numpy's default
 * population std (ddof = 0), as the released code does.
 */

import type { Architecture, Branches } from '../config/config.ts';
import { auilc } from './auilc.ts';
import { METRIC_KEYS, type MetricKey, type Metrics } from './metrics.ts';
import type { AuilcSummary, MeanStd, RunResult, RunStatus, SummaryRow, SummaryTrainRate } from './resultTypes.ts';

/** A run's status: its own field when set, else from its stop reason ('aborted' = stopped by the user). */
export function runStatus(run: Pick<RunResult, 'status' | 'stopReason'>): RunStatus {
  return run.status ?? (run.stopReason === 'aborted' ? 'stopped' : 'finished');
}

/** "n of total" seeds of a summary row: the seeds counted, of all the seeds that ran in it. */
export function seedCount(row: Pick<SummaryRow, 'seeds' | 'cutOff'>): { n: number; of: number } {
  const all = new Set(row.seeds);
  for (const c of row.cutOff ?? []) all.add(c.seed);
  return { n: row.seeds.length, of: all.size };
}

/**
 * How a row reads beside its figures: "n = 2 of 3 seeds" when a run was left out, "stopped (n = 0
 * of 1)" when nothing in it finished, "incl. 1 stopped" when partial runs were counted; '' when
 * every run finished.
 */
export function rowStatusNote(row: Pick<SummaryRow, 'seeds' | 'cutOff' | 'partial'>): string {
  const cut = row.cutOff ?? [];
  if (cut.length === 0) return '';
  const { n, of } = seedCount(row);
  const seeds = `${of} seed${of === 1 ? '' : 's'}`;
  const kinds = [...new Set(cut.map((c) => c.status))];
  if (row.partial) {
    const counts = kinds.map((k) => `${cut.filter((c) => c.status === k).length} ${k}`);
    return `n = ${n} of ${seeds}, incl. ${counts.join(', ')}`;
  }
  if (n === 0) return `${kinds.join(', ')} (n = 0 of ${of})`;
  return `n = ${n} of ${seeds}`;
}

/** Mean and population std of the non-null values; both null when there are none. */
export function meanStd(values: (number | null)[]): MeanStd {
  const xs = values.filter((v): v is number => v !== null);
  for (const v of xs) if (!Number.isFinite(v)) throw new Error(`meanStd: got ${v}; use null for an undefined value`);
  if (xs.length === 0) return { mean: null, std: null };
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  // Two passes: subtracting the mean first keeps the std accurate when the spread is tiny.
  const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * A run trained at exactly the rate it was tested at (PROTOCOL.md's per-rate protocol), or one that
 * names no single training rate, contributes one point to a curve assembled from several runs.
 */
export function summaryTrainRate(run: RunResult): SummaryTrainRate {
  if (run.trainRate === null) return 'per-rate';
  if (typeof run.trainRate === 'number' && run.test.length === 1 && run.test[0].rate === run.trainRate)
    return 'per-rate';
  return run.trainRate;
}

function branchesKey(b: Branches): string {
  return `${b.macro ? 1 : 0}${b.micro ? 1 : 0}${b.recon ? 1 : 0}`;
}

interface Group {
  arch: Architecture;
  branches: Branches;
  trainRate: SummaryTrainRate;
  /** seed → rate → metrics, merged over the group's runs. */
  bySeed: Map<number, Map<number, Metrics>>;
  cutOff: { seed: number; status: RunStatus }[];
}

function describe(g: Group): string {
  return `arch ${g.arch}, branches macro=${g.branches.macro} micro=${g.branches.micro} recon=${g.branches.recon}, train rate ${g.trainRate}`;
}

function metricsMeanStd(points: Metrics[]): { mean: Metrics; std: Metrics } {
  const mean = {} as Metrics;
  const std = {} as Metrics;
  for (const k of METRIC_KEYS) {
    const s = meanStd(points.map((m) => m[k]));
    mean[k] = s.mean;
    std[k] = s.std;
  }
  return { mean, std };
}

/**
 * One row per (architecture, branch setting[, training rate when a file sweeps it]), in order of
 * first appearance. Per rate: mean/std of every metric over seeds. AUILC: computed per seed on that
 * seed's own curve, then mean/std over seeds — the mean of areas, not the area of the mean curve,
 * because that is what a per-seed std describes. Seeds with fewer than two rates have no AUILC.
 *
 * Only finished runs count (runStatus): a run cut off by Stop, a reload or an error is listed in its
 * row's `cutOff` and left out of every figure, so a seed stopped after 2 epochs never pulls the mean
 * down or widens the std. A row whose runs were all cut off is still there, with no figures
 * ("stopped (n = 0 of 1)"). `includePartial` counts them anyway and marks the row `partial`.
 */
export function summarizeRuns(
  runs: RunResult[],
  includeOne: boolean,
  opts: { includePartial?: boolean } = {},
): SummaryRow[] {
  const groups = new Map<string, Group>();
  for (const run of runs) {
    const trainRate = summaryTrainRate(run);
    const key = `${run.arch}|${branchesKey(run.branches)}|${String(trainRate)}`;
    let g = groups.get(key);
    if (!g) {
      g = { arch: run.arch, branches: { ...run.branches }, trainRate, bySeed: new Map(), cutOff: [] };
      groups.set(key, g);
    }
    const status = runStatus(run);
    if (status !== 'finished') {
      g.cutOff.push({ seed: run.seed, status });
      if (!opts.includePartial) continue;
    }
    let curve = g.bySeed.get(run.seed);
    if (!curve) {
      curve = new Map();
      g.bySeed.set(run.seed, curve);
    }
    for (const point of run.test) {
      if (curve.has(point.rate)) {
        // Averaging two results of one seed as if they were independent seeds would shrink the std.
        throw new Error(
          `summarizeRuns: two results for seed ${run.seed} at rate ${point.rate} (${describe(g)}); ` +
            'each seed may be tested once per rate',
        );
      }
      curve.set(point.rate, point.metrics);
    }
  }

  const rows: SummaryRow[] = [];
  for (const g of groups.values()) {
    const seeds = [...g.bySeed.entries()].filter(([, curve]) => curve.size > 0).map(([seed]) => seed);
    const rates = [...new Set(seeds.flatMap((s) => [...g.bySeed.get(s)!.keys()]))].sort((a, b) => a - b);
    const perRate = rates.map((rate) => {
      const points = seeds.map((s) => g.bySeed.get(s)!.get(rate)).filter((m): m is Metrics => m !== undefined);
      return { rate, ...metricsMeanStd(points) };
    });

    const auilcs = {} as Record<MetricKey, AuilcSummary>;
    for (const k of METRIC_KEYS) {
      const areas: number[] = [];
      let nullsAsZero = 0;
      for (const s of seeds) {
        const curve = [...g.bySeed.get(s)!.entries()].sort((a, b) => a[0] - b[0]);
        const usable =
          !includeOne && curve.length > 0 && curve[curve.length - 1][0] === 1 ? curve.length - 1 : curve.length;
        if (usable < 2) continue;
        const res = auilc(
          curve.map(([r]) => r),
          curve.map(([, m]) => m[k]),
          includeOne,
        );
        areas.push(res.value);
        nullsAsZero += res.nullsAsZero;
      }
      auilcs[k] = { ...meanStd(areas), nullsAsZero };
    }
    rows.push({
      arch: g.arch,
      branches: g.branches,
      trainRate: g.trainRate,
      seeds,
      perRate,
      auilc: auilcs,
      cutOff: g.cutOff,
      ...(opts.includePartial && g.cutOff.length ? { partial: true } : {}),
    });
  }
  return rows;
}
