/** View-only state of the page (which job and run the charts show, the workshop card); not part of the app store. */
import { create } from 'zustand';
import { lessonFromUrl } from '../state/lessons.ts';

interface UiState {
  viewJobId: string | null; // null = follow the current job, else the newest
  viewRun: number | 'live'; // 'live' = follow the run in progress (or the job's last run)
  setViewJob(id: string | null): void;
  setViewRun(r: number | 'live'): void;
  lesson: number | null; // the workshop card shown (`?lesson=N`), null = none
  setLesson(n: number | null): void;
}

export const useUiStore = create<UiState>((set) => ({
  viewJobId: null,
  viewRun: 'live',
  setViewJob: (id) => set({ viewJobId: id, viewRun: 'live' }),
  setViewRun: (r) => set({ viewRun: r }),
  // Read before the first render: the card's own effect rewrites `?lesson=` to follow the card.
  lesson: typeof location !== 'undefined' ? lessonFromUrl(location.href) : null,
  setLesson: (n) => set({ lesson: n }),
}));
