/**
 * Mini-batch row indices for one epoch. No sample is silently skipped (PROTOCOL.md): the last short
 * batch is kept, except that a tail of a single sample — which BatchNorm cannot normalise — joins
 * the batch before it.
 */
import type { MT19937 } from '../random.ts';

/** Rows 0..n-1 in batches of `batchSize`, shuffled by `rng.permutation(n)` when an rng is given. */
export function batchRows(n: number, batchSize: number, rng: MT19937 | null): Int32Array[] {
  if (!Number.isInteger(n) || n < 0) throw new Error(`sample count must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  let order: Int32Array;
  if (rng) order = rng.permutation(n);
  else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  const starts: number[] = [];
  for (let s = 0; s < n; s += batchSize) starts.push(s);
  if (starts.length > 1 && n - starts[starts.length - 1] < 2) starts.pop();
  return starts.map((s, k) => order.slice(s, k + 1 < starts.length ? starts[k + 1] : n));
}
