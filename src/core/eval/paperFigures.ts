/**
 * The MFMB-Net paper's published numbers (PROTOCOL.md, "Paper figures"), as data so the CLI and the
 * UI can set them beside ours as clearly labelled reference rows. They come from BERT fine-tuned on
 * token ids; runs on pre-extracted features are expected to land lower, so they are never to be
 * presented as this app's results.
 *
 * Stored in the results file's units (accuracies and F1 as fractions, the paper prints them ×100)
 * so one formatter serves both; `null` = the table does not report that metric.
 */

import type { Branches } from '../config/config.ts';
import type { Metrics } from './metrics.ts';

export const PAPER_SOURCE = 'MFMB-Net (AAAI 2025), BERT fine-tuned on token ids';

function m(
  mae: number | null,
  corr: number | null,
  acc7: number | null,
  acc5: number | null,
  acc2: [number, number] | null,
  f1: [number, number] | null,
): Metrics {
  const frac = (v: number | null) => (v === null ? null : v / 100);
  return {
    mae,
    corr,
    acc7: frac(acc7),
    acc5: frac(acc5),
    acc2_has0: frac(acc2?.[0] ?? null),
    acc2_non0: frac(acc2?.[1] ?? null),
    f1_has0: frac(f1?.[0] ?? null),
    f1_non0: frac(f1?.[1] ?? null),
  };
}

export interface PaperAblationRow {
  paperLabel: string; // as printed in the paper's Table 5
  branches: Branches; // matched against ours by branches, not by label
  auilc: Metrics; // Table 5 reports Corr and Acc-7 only
}

export const PAPER_FIGURES: {
  source: string;
  /** Table 3: complete data (no missing modality). */
  table3: { mosi: Metrics; mosei: Metrics };
  /** Table 4: AUILC over r = 0, 0.1, …, 1.0. */
  table4: { mosi: Metrics; mosei: Metrics };
  /** Table 5: ablation on MOSI, AUILC, in the paper's order (as TABLE5_SETTINGS). */
  table5: PaperAblationRow[];
} = {
  source: PAPER_SOURCE,
  table3: {
    mosi: m(0.709, 0.798, 45.8, 53.7, [82.7, 85.7], [83.2, 86.0]),
    mosei: m(0.532, 0.758, 54.2, 55.9, [84.7, 85.1], [85.0, 85.1]),
  },
  table4: {
    mosi: m(1.115, 0.461, 27.5, 30.5, [66.4, 67.0], [69.3, 69.8]),
    mosei: m(0.68, 0.524, 47.0, 47.9, [72.8, 75.0], [73.0, 76.2]),
  },
  table5: [
    {
      paperLabel: 'MFMB-Net',
      branches: { macro: true, micro: true, recon: true },
      auilc: m(null, 0.461, 27.5, null, null, null),
    },
    {
      paperLabel: 'w/o F-1',
      branches: { macro: false, micro: true, recon: true },
      auilc: m(null, 0.451, 27.1, null, null, null),
    },
    {
      paperLabel: 'w/o F-2',
      branches: { macro: true, micro: false, recon: true },
      auilc: m(null, 0.461, 26.3, null, null, null),
    },
    {
      paperLabel: 'w/o Recon',
      branches: { macro: true, micro: true, recon: false },
      auilc: m(null, 0.422, 26.1, null, null, null),
    },
  ],
};
