/**
 * What the fused-kernel test pages share: WebGPU dispatches counted with the project's own counter
 * (src/worker/dispatchCounter.ts, patched onto the GPU prototypes when this module loads — import
 * it before any device exists), and the relative difference used to compare two paths.
 */
import { installDispatchCounter } from '../../src/worker/dispatchCounter.ts';

const counter = installDispatchCounter();

/** WebGPU compute dispatches since the page loaded. */
export function dispatchCount(): number {
  return counter.read().dispatches;
}

/** max |a − b| relative to max(1, max |b|); Infinity when the lengths differ or a value is NaN. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0,
    s = 1;
  for (let i = 0; i < b.length; i++) s = Math.max(s, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    m = Number.isNaN(d) ? Infinity : Math.max(m, d);
  }
  return a.length === b.length ? m / s : Infinity;
}
