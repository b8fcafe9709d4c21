import { useDeferredValue, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { isActive, useAppStore, type AppState } from './bindings.ts';

/** True while a job holds the worker: the config panels lock so the running job's settings stay what they were. */
export function useBusy(): boolean {
  return useAppStore((s) => isActive(s.status));
}

/**
 * A part of the app store that re-renders its reader only when it changes in value (as JSON), not
 * in identity: loading a preset replaces every config object, even the parts it leaves as they were.
 * For small plain data (the config's sections).
 */
export function useStoreValue<T>(select: (s: AppState) => T): T {
  const last = useRef<{ key: string; value: T } | null>(null);
  return useAppStore((s) => {
    const value = select(s);
    const key = JSON.stringify(value);
    if (last.current?.key === key) return last.current.value;
    last.current = { key, value };
    return value;
  });
}

// Each view's updates land at its own phase of the period, so the views that follow one store
// change commit one after another instead of in one long task.
let calmInstances = 0;
const nextPhase = (ms: number) => (calmInstances++ * 89) % Math.max(1, Math.floor(ms / 2));

/**
 * `value` as a heavy view should follow it while a job streams updates: refreshed at most every
 * `ms` (the latest value always lands), at a phase of its own, and rendered at low priority, so
 * React can split the render into slices between the browser's own work. Charts re-rendered on
 * every step message made main-thread tasks of 100–300 ms; the page's rule is none over 50 ms.
 * The host still renders (cheaply) on every change of `value`; `useCalmRead` does not.
 */
export function useCalm<T>(value: T, ms = 500): T {
  const [shown, setShown] = useState(value);
  const latest = useRef(value);
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const [phase] = useState(() => nextPhase(ms));
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

/** Subscribes a listener to a store; returns the unsubscribe function (zustand's `subscribe`). */
export type Subscribe = (listener: () => void) => () => void;

/** Equal when both are the same, or plain objects with the same keys holding the same values. */
export function shallowSame<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * What `read()` returns from one or more stores, followed as `useCalm` follows a value (at most
 * every `ms`, at a phase of its own, at low priority), but without rendering the view on every
 * store change: the stores are subscribed outside React, and the view renders only when what it
 * reads has changed, in a timer task of its own. A job's start (config, status, the job list and
 * the progress all change in one click) then no longer renders every chart inside the click's
 * task. `subscribe` must be a stable array (a module constant); `read` may change per render.
 */
export function useCalmRead<T>(
  subscribe: readonly Subscribe[],
  read: () => T,
  same: (a: T, b: T) => boolean = Object.is,
  ms = 500,
): T {
  const [shown, setShown] = useState(read);
  const fns = useRef({ read, same });
  useLayoutEffect(() => {
    fns.current = { read, same };
  });
  const [phase] = useState(() => nextPhase(ms));
  const first = useRef(shown);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    let current = first.current; // what the view shows (or will, once the pending update lands)
    const land = () => {
      timer = null;
      last = performance.now();
      const v = fns.current.read();
      if (fns.current.same(current, v)) return;
      current = v;
      setShown(() => v);
    };
    const onChange = () => {
      if (timer !== null || fns.current.same(current, fns.current.read())) return;
      timer = setTimeout(land, Math.max(0, last + ms - performance.now()) + phase);
    };
    const unsubscribe = subscribe.map((s) => s(onChange));
    onChange(); // a change between the first render and the subscription
    return () => {
      unsubscribe.forEach((u) => u());
      if (timer !== null) clearTimeout(timer);
      first.current = current;
    };
  }, [subscribe, ms, phase]);
  return useDeferredValue(shown);
}
