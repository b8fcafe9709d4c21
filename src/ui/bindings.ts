/**
 * Every import the UI makes from the store developer's modules, in one place, so the UI codes
 * against src/state/types.ts (AppState) and a rename over there is a one-file change here.
 */
import type { RunConfig } from '../core/config/config.ts';
import type { ResultsFile } from '../core/eval/results.ts';
import type { AppState } from '../state/types.ts';
import { useSyncExternalStore } from 'react';
import { useAppStore as appStore } from '../state/store.ts';
import * as presets from '../state/presets.ts';
import * as csv from '../state/csv.ts';
import * as urlCodec from '../state/urlCodec.ts';
export { jobResults, exportFileName } from '../state/jobResults.ts';
export { startUrlSync } from '../state/urlSync.ts';
export { isActive } from '../state/slices/job.ts';

export type { AppState };

// The store as the UI reads it: zustand's own hook, except that the UI can hold what its components
// see for one task while an action that changes much at once runs (starting a job: the config,
// the status, the job list and the progress). The store does its work in that task and the page
// renders the result in the next one, instead of both in one main-thread task over 50 ms.
let held: AppState | null = null;
const heldListeners = new Set<() => void>();
const subscribe = (listener: () => void) => {
  heldListeners.add(listener);
  const unsubscribe = appStore.subscribe(listener);
  return () => {
    heldListeners.delete(listener);
    unsubscribe();
  };
};
const shownState = () => held ?? appStore.getState();

function useAppStoreHook<T>(selector: (s: AppState) => T = (s) => s as T): T {
  return useSyncExternalStore(subscribe, () => selector(shownState()));
}

/** The app store (zustand), read by the components as it was before a running `heldAction`. */
export const useAppStore = Object.assign(useAppStoreHook, {
  getState: appStore.getState,
  setState: appStore.setState,
  subscribe: appStore.subscribe,
  getInitialState: appStore.getInitialState,
}) as unknown as typeof appStore;

/**
 * Runs `action` (a store action) in a task of its own after the input event that asked for it,
 * with the components still reading the store as it was; they render its outcome in the task after.
 * So a job's start is three short tasks (the click, the store's work, the render), not one long one.
 */
export function heldAction(action: () => void): void {
  setTimeout(() => {
    held = appStore.getState();
    try {
      action();
    } finally {
      setTimeout(() => {
        held = null;
        for (const l of [...heldListeners]) l();
      }, 0);
    }
  }, 0);
}

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
