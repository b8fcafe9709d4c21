import type { MetricKey } from '../../core/eval/metrics.ts';

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
export const isRaw = (k: MetricKey) => k === 'mae' || k === 'corr';
export const scaleMetric = (k: MetricKey, v: number | null): number | null => (v === null ? null : isRaw(k) ? v : v * 100);

/** The paper's table columns: pairs are printed has0/non0. */
export const TABLE_COLUMNS: { title: string; keys: MetricKey[] }[] = [
  { title: 'MAE', keys: ['mae'] },
  { title: 'Corr', keys: ['corr'] },
  { title: 'Acc-7', keys: ['acc7'] },
  { title: 'Acc-5', keys: ['acc5'] },
  { title: 'Acc-2 has0/non0', keys: ['acc2_has0', 'acc2_non0'] },
  { title: 'F1 has0/non0', keys: ['f1_has0', 'f1_non0'] },
];
