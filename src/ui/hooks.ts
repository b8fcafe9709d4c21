import { isActive, useAppStore } from './bindings.ts';

/** True while a job holds the worker: the config panels lock so the running job's settings stay what they were. */
export function useBusy(): boolean {
  return useAppStore((s) => isActive(s.status));
}
