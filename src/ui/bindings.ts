/**
 * Every import the UI makes from the store developer's modules, in one place, so the UI codes
 * against src/state/types.ts (AppState) and a rename over there is a one-file change here.
 */
import type { RunConfig } from '../core/config/config.ts';
import type { ResultsFile } from '../core/eval/results.ts';
import type { AppState } from '../state/types.ts';
import { useAppStore } from '../state/store.ts';
import * as presets from '../state/presets.ts';
import * as csv from '../state/csv.ts';
import * as urlCodec from '../state/urlCodec.ts';
export { jobResults, exportFileName } from '../state/jobResults.ts';
export { startUrlSync } from '../state/urlSync.ts';
export { isActive } from '../state/slices/job.ts';

export { useAppStore };
export type { AppState };

export type { PresetRun } from '../state/presets.ts';

/** The header's one-click buttons; `testId` keeps the e2e names stable whatever the store calls them. */
export const PRESET_BUTTONS: { id: presets.PresetId; testId: string; label: string; hint: string }[] =
  presets.PRESETS.map((p) => ({
    id: p.id,
    testId: p.id.replace(/^robustness/, 'sweep'),
    label: p.label,
    hint: p.description,
  }));

export type CsvKind = 'summary' | 'runs' | 'auilc' | 'epochs';
export const CSV_KINDS: { value: CsvKind; label: string }[] = [
  { value: 'summary', label: 'per rate, mean ± std' },
  { value: 'auilc', label: 'AUILC per setting' },
  { value: 'runs', label: 'every run × rate' },
  { value: 'epochs', label: 'every epoch' },
];

export function resultsToCsv(file: ResultsFile, kind: CsvKind): string {
  switch (kind) {
    case 'summary':
      return csv.summaryCsv(file);
    case 'auilc':
      return csv.auilcCsv(file);
    case 'runs':
      return csv.runsCsv(file);
    case 'epochs':
      return csv.epochsCsv(file);
  }
}

/** A shareable URL for the config: the current page with `#config=…` (the codec decides the encoding). */
export function shareUrlFor(config: RunConfig, base: string): string {
  return urlCodec.shareUrl(config, base);
}

/** Config and backend named in a page URL (each null when absent); `error` for a notice. Never throws. */
export function stateFromUrl(href: string): urlCodec.UrlState {
  return urlCodec.readUrlState(href);
}
