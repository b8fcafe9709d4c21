import { useDeferredValue, useEffect, useRef, useState } from 'react';
import { isActive, useAppStore } from './bindings.ts';

/** True while a job holds the worker: the config panels lock so the running job's settings stay what they were. */
export function useBusy(): boolean {
  return useAppStore((s) => isActive(s.status));
}

// Each view's updates land at its own phase of the period, so the views that follow one store
// change commit one after another instead of in one long task.
let calmInstances = 0;

/**
 * `value` as a heavy view should follow it while a job streams updates: refreshed at most every
 * `ms` (the latest value always lands), at a phase of its own, and rendered at low priority, so
 * React can split the render into slices between the browser's own work. Charts re-rendered on
 * every step message made main-thread tasks of 100–300 ms; the page's rule is none over 50 ms.
 */
export function useCalm<T>(value: T, ms = 500): T {
  const [shown, setShown] = useState(value);
  const latest = useRef(value);
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [phase] = useState(() => (calmInstances++ * 89) % Math.max(1, Math.floor(ms / 2)));
  useEffect(() => {
    latest.current = value;
    if (timer.current !== null) return; // the pending update will take the latest value
    const wait = Math.max(0, last.current + ms - performance.now()) + phase;
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = performance.now();
      setShown(() => latest.current);
    }, wait);
  }, [value, ms, phase]);
  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );
  return useDeferredValue(shown);
}
