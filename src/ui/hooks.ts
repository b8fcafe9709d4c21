import { useDeferredValue, useEffect, useRef, useState } from 'react';
import { isActive, useAppStore } from './bindings.ts';

/** True while a job holds the worker: the config panels lock so the running job's settings stay what they were. */
export function useBusy(): boolean {
  return useAppStore((s) => isActive(s.status));
}

/**
 * `value` as a heavy view should follow it while a job streams updates: refreshed at most every
 * `ms` (the latest value always lands), and rendered at low priority, so React can split the
 * render into slices between the browser's own work. Charts re-rendered on every step message made
 * main-thread tasks of 100–300 ms; the page's rule is none over 50 ms.
 */
export function useCalm<T>(value: T, ms = 500): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - performance.now();
    if (wait <= 0) {
      last.current = performance.now();
      setShown(() => value);
      return;
    }
    const timer = setTimeout(() => {
      last.current = performance.now();
      setShown(() => value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return useDeferredValue(shown);
}
