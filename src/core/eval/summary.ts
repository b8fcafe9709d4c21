/**
 * Aggregation over seeds: the paper reports mean ± std over run seeds, with numpy's default
 * population std (ddof = 0), as the released code does.
 */

import type { Architecture, Branches } from '../config/config.ts';
import { auilc } from './auilc.ts';
import { METRIC_KEYS, type MetricKey, type Metrics } from './metrics.ts';
import type { AuilcSummary, MeanStd, RunResult, SummaryRow, SummaryTrainRate } from './resultTypes.ts';

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
 */
export function summarizeRuns(runs: RunResult[], includeOne: boolean): SummaryRow[] {
  const groups = new Map<string, Group>();
  for (const run of runs) {
    const trainRate = summaryTrainRate(run);
    const key = `${run.arch}|${branchesKey(run.branches)}|${String(trainRate)}`;
    let g = groups.get(key);
    if (!g) {
      g = { arch: run.arch, branches: { ...run.branches }, trainRate, bySeed: new Map() };
      groups.set(key, g);
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
    rows.push({ arch: g.arch, branches: g.branches, trainRate: g.trainRate, seeds, perRate, auilc: auilcs });
  }
  return rows;
}
