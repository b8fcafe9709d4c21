import type { Modality } from '../../core/config/config.ts';

export const MODALITY_NAME: Record<Modality, string> = { t: 'text', a: 'audio', v: 'vision' };
export const MODALITY_COLOR: Record<Modality, string> = { t: '#2563eb', a: '#d97706', v: '#059669' };
export const MODS: Modality[] = ['t', 'a', 'v'];

/** [L, D] row-major → [D, L], so time runs along x. */
export function timeAlongX(values: Float32Array, L: number, D: number): Float32Array {
  const out = new Float32Array(L * D);
  for (let t = 0; t < L; t++) for (let d = 0; d < D; d++) out[d * L + t] = values[t * D + d];
  return out;
}

/** [heads, rows, cols] → the mean over heads, [rows, cols]. */
export function headMean(probs: Float32Array, heads: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let h = 0; h < heads; h++) for (let i = 0; i < rows * cols; i++) out[i] += probs[h * rows * cols + i];
  for (let i = 0; i < out.length; i++) out[i] /= heads;
  return out;
}
