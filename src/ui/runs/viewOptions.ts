/**
 * View options shared by the runs table and the result views: whether summaries count runs that did
 * not finish (stopped, interrupted, failed). Off by default: a cut-off seed is never averaged in
 * silently. View-only state; not part of the app store.
 */
import { create } from 'zustand';

interface ViewOptions {
  includePartial: boolean;
  setIncludePartial(on: boolean): void;
}

export const useViewOptions = create<ViewOptions>((set) => ({
  includePartial: false,
  setIncludePartial: (on) => set({ includePartial: on }),
}));
