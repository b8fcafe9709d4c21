import type { MetricKey } from '../../core/eval/metrics.ts';
import { isRawScale } from '../../core/eval/tables.ts';

export const METRIC_LABELS: Record<MetricKey, string> = {
  mae: 'MAE',
  corr: 'Corr',
  acc7: 'Acc-7',
  acc5: 'Acc-5',
  acc2_has0: 'Acc-2 (has0)',
  acc2_non0: 'Acc-2 (non0)',
  f1_has0: 'F1 (has0)',
  f1_non0: 'F1 (non0)',
};

/** Accuracies and F1 are shown ×100 as in the paper; MAE and Corr as they are. */
export const scaleMetric = (k: MetricKey, v: number | null): number | null =>
  v === null ? null : isRawScale(k) ? v : v * 100;

/** A value already on the paper's scale (scaleMetric), with the paper's decimals. */
export const fmtScaled = (k: MetricKey, v: number): string => (isRawScale(k) ? v.toFixed(3) : v.toFixed(1));
