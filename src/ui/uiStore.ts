/** View-only state of the page (which job and run the charts show); not part of the app store. */
import { create } from 'zustand';

interface UiState {
  viewJobId: string | null; // null = follow the current job, else the newest
  viewRun: number | 'live'; // 'live' = follow the run in progress (or the job's last run)
  setViewJob(id: string | null): void;
  setViewRun(r: number | 'live'): void;
}

export const useUiStore = create<UiState>((set) => ({
  viewJobId: null,
  viewRun: 'live',
  setViewJob: (id) => set({ viewJobId: id, viewRun: 'live' }),
  setViewRun: (r) => set({ viewRun: r }),
}));
