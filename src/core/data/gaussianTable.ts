/**
 * Fast approximate Gaussian noise for the synthetic dataset. mosi-shape text alone is 49 M floats;
 * exact polar Box–Muller costs several MT draws, a log and a sqrt per pair, which takes too long
 * in the browser. Instead each 32-bit draw gives two 16-bit indices into a table of N(0, 1)
 * quantiles Φ⁻¹((k + ½) / 2¹⁶): deterministic, MT19937-only, and Gaussian to within 2⁻¹⁶ in
 * probability (tails cut at ±4.3σ) — ample for teaching data. Masks and noise replacement use the
 * exact numpy-identical normal(), never this.
 */
import type { MT19937 } from '../random.ts';

const BITS = 16;
const SIZE = 1 << BITS;
let table: Float32Array | null = null;

/** Acklam's rational approximation to Φ⁻¹ (relative error < 1.2e-9). */
function inverseNormalCdf(p: number): number {
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const z =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < lo ? z : -z;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

function quantiles(): Float32Array {
  if (!table) {
    table = new Float32Array(SIZE);
    for (let k = 0; k < SIZE; k++) table[k] = inverseNormalCdf((k + 0.5) / SIZE);
  }
  return table;
}

/** out[start .. start+count) += scale · z, z ≈ N(0, 1); uses ⌈count / 2⌉ draws of `rng`. */
export function addGaussian(rng: MT19937, out: Float32Array, start: number, count: number, scale: number): void {
  const q = quantiles();
  const end = start + count;
  let k = start;
  for (; k + 1 < end; k += 2) {
    const u = rng.nextUint32();
    out[k] += scale * q[u & 0xffff];
    out[k + 1] += scale * q[u >>> 16];
  }
  if (k < end) out[k] += scale * q[rng.nextUint32() & 0xffff];
}
