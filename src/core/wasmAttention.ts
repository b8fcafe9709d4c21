import * as tf from './tf.ts';
import { webgpuKernelActive } from './model/webgpu/select.ts';
import { checkWasmPatch, warnSkipped, wasmPatchEnv, type WasmPatchEnv, type WasmPatchNeeds } from './wasmGuard.ts';
import { findWasmMemory, simdKernels } from './wasmSimd.ts';
import { installFastWasmTranspose } from './wasmTranspose.ts';

/**
 * Fused kernels for the wasm backend: multi-head attention as one op (forward and a hand-written,
 * flash-style backward that recomputes the attention maps from q, k, v and one log-sum-exp per
 * query row instead of keeping them), dropout with its mask drawn inside the kernel from a
 * counter-based generator (no mask is ever stored: the backward pass regenerates it), and an
 * Identity that shares its input's buffer (as the cpu and webgpu backends do; tfjs clones every
 * tensor it saves for the backward pass through Identity, and the stock wasm kernel copies).
 *
 * The arithmetic is plain TypeScript on views of the wasm heap, so the same functions run on any
 * backend's data: the model uses them through registered wasm kernels, and the other backends keep
 * the op-by-op path (with the same dropout masks, drawn by `dropoutMask` in JavaScript).
 */

// ------------------------------------------------------------------ counter-based dropout masks

/** murmur3's 32-bit finaliser: a bijective mix of all bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Per-call key from a dropout seed (a 31-bit draw of the run's MT19937). */
export function dropoutKey(seed: number): number {
  return fmix32(Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x5bd1e995);
}

/** Elements whose hash is below this are dropped: P(drop) = rate (to 2⁻³²). */
export function dropThreshold(rate: number): number {
  return Math.min(2 ** 32, Math.floor(rate * 2 ** 32));
}

/** Is element `i` kept? Counter-based: a pure function of (key, index), so any order gives the same mask. */
export function keepAt(key: number, i: number, threshold: number): boolean {
  return fmix32((Math.imul(i, 0x9e3779b1) ^ key) >>> 0) >= threshold;
}

/**
 * out[i] = keep(i) ? x[i]·s : 0 with s = 1/(1 − rate) rounded to float32 (as the mask of the other
 * backends holds it, and as the SIMD kernel multiplies), for i ≥ `from`. The backward pass is the
 * same call on dy.
 */
export function dropoutInto(x: Float32Array, out: Float32Array, rate: number, seed: number, from = 0): void {
  const key = dropoutKey(seed),
    thr = dropThreshold(rate),
    s = Math.fround(1 / (1 - rate));
  for (let i = from; i < x.length; i++) out[i] = keepAt(key, i, thr) ? x[i] * s : 0;
}

/** The scaled keep mask (1/(1 − rate) or 0) for the op-by-op path on other backends. */
export function dropoutMask(n: number, rate: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  const key = dropoutKey(seed),
    thr = dropThreshold(rate),
    s = 1 / (1 - rate);
  for (let i = 0; i < n; i++) if (keepAt(key, i, thr)) out[i] = s;
  return out;
}

// ------------------------------------------------------------------ attention arithmetic

/**
 * Where q, k and v sit: rows of `stride` floats, head h of q at columns qOff + h·dh (likewise k, v).
 * q has B·Lq rows, k/v B·Lk rows. keyBias [B, Lk] is additive (0 or MASKED); `causalOff` ≥ 0 adds
 * `masked` to key j of query i when j > i + causalOff. Dropout on the probabilities is indexed as
 * [B, heads, Lq, Lk] (the op-by-op path's layout).
 */
export interface AttnGeom {
  B: number;
  Lq: number;
  Lk: number;
  heads: number;
  dh: number;
  qStride: number;
  qOff: number;
  kvStride: number;
  kOff: number;
  vOff: number;
  scale: number;
  causalOff: number; // −1: none
  masked: number;
  rate: number;
  seed: number;
}

const POW2 = Float64Array.from({ length: 300 }, (_, i) => 2 ** (i - 160));

/**
 * exp(x) for x ≤ ~1 (softmax arguments after the row maximum is subtracted): x = n·ln2 + r with
 * |r| ≤ ln2/2, a degree-7 Taylor polynomial in r (relative error < 1e-8, below float32 rounding) and
 * 2ⁿ from a table. Math.exp costs ~18 ns here and was most of the forward pass.
 */
export function expNeg(x: number): number {
  if (x < -110) return 0;
  const n = Math.floor(x * 1.4426950408889634 + 0.5);
  const r = x - n * 0.6931471805599453;
  const r2 = r * r;
  const p =
    1 +
    r +
    r2 * (0.5 + r * 0.16666666666666666) +
    r2 *
      r2 *
      (0.041666666666666664 + r * 0.008333333333333333 + r2 * (0.001388888888888889 + r * 0.0001984126984126984));
  return p * POW2[n + 160];
}

/** Transposes head h of sample b's keys (or values) at column offset `off` into t [dh, Lk]. */
function packT(g: AttnGeom, kv: Float32Array, b: number, off: number, t: Float32Array): void {
  const { Lk, dh, kvStride } = g;
  for (let j = 0; j < Lk; j++) {
    const r = (b * Lk + j) * kvStride + off;
    for (let d = 0; d < dh; d++) t[d * Lk + j] = kv[r + d];
  }
}

/**
 * Rows are processed four at a time (R): every loaded key/value element feeds four rows. Rows past
 * Lq in the last block compute on zeros and are never written.
 */
const R = 4;

/**
 * Scores of query rows i0..i0+3 of (b, h) into S [R, Lk] (bias and causal mask included):
 * S[r, j] = bias_j + Σ_d fround(q[i0+r, d]·scale)·k[j, d].
 */
function scoresBlock(
  g: AttnGeom,
  q: Float32Array,
  b: number,
  h: number,
  i0: number,
  kT: Float32Array,
  bias: Float32Array,
  S: Float32Array,
): void {
  const { Lq, Lk, dh, scale, qStride } = g;
  const bb = b * Lk;
  for (let j = 0; j < Lk; j++) {
    const v = bias[bb + j];
    S[j] = v;
    S[Lk + j] = v;
    S[2 * Lk + j] = v;
    S[3 * Lk + j] = v;
  }
  const base = (b * Lq + i0) * qStride + g.qOff + h * dh;
  const n = Math.min(R, Lq - i0);
  for (let d = 0; d < dh; d++) {
    const q0 = Math.fround(q[base + d] * scale);
    const q1 = n > 1 ? Math.fround(q[base + qStride + d] * scale) : 0;
    const q2 = n > 2 ? Math.fround(q[base + 2 * qStride + d] * scale) : 0;
    const q3 = n > 3 ? Math.fround(q[base + 3 * qStride + d] * scale) : 0;
    const o = d * Lk;
    for (let j = 0; j < Lk; j++) {
      const k = kT[o + j];
      S[j] += q0 * k;
      S[Lk + j] += q1 * k;
      S[2 * Lk + j] += q2 * k;
      S[3 * Lk + j] += q3 * k;
    }
  }
  if (g.causalOff >= 0) {
    for (let r = 0; r < n; r++) {
      for (let j = i0 + r + g.causalOff + 1; j < Lk; j++) S[r * Lk + j] += g.masked;
    }
  }
}

/** out [B, Lq, heads·dh] = dropout(softmax(q kᵀ·scale + bias)) v; lse [B, heads, Lq]. */
export function attentionForward(
  g: AttnGeom,
  q: Float32Array,
  kv: Float32Array,
  bias: Float32Array,
  out: Float32Array,
  lse: Float32Array,
): void {
  const { B, Lq, Lk, heads, dh } = g;
  const W = heads * dh;
  const kT = new Float32Array(dh * Lk),
    vT = new Float32Array(dh * Lk),
    S = new Float32Array(R * Lk);
  const key = dropoutKey(g.seed),
    thr = dropThreshold(g.rate),
    ks = 1 / (1 - g.rate),
    drop = g.rate > 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      packT(g, kv, b, g.kOff + h * dh, kT);
      packT(g, kv, b, g.vOff + h * dh, vT);
      for (let i0 = 0; i0 < Lq; i0 += R) {
        scoresBlock(g, q, b, h, i0, kT, bias, S);
        const n = Math.min(R, Lq - i0);
        for (let r = 0; r < n; r++) {
          const so = r * Lk;
          let m = -Infinity;
          for (let j = 0; j < Lk; j++) if (S[so + j] > m) m = S[so + j];
          let sum = 0;
          for (let j = 0; j < Lk; j++) {
            const e = expNeg(S[so + j] - m);
            S[so + j] = e;
            sum += e;
          }
          lse[(b * heads + h) * Lq + i0 + r] = m + Math.log(sum);
          const inv = 1 / sum;
          if (drop) {
            const base = ((b * heads + h) * Lq + i0 + r) * Lk;
            const sc = inv * ks;
            for (let j = 0; j < Lk; j++) S[so + j] = keepAt(key, base + j, thr) ? S[so + j] * sc : 0;
          } else {
            for (let j = 0; j < Lk; j++) S[so + j] *= inv;
          }
        }
        for (let r = n; r < R; r++) S.fill(0, r * Lk, (r + 1) * Lk);
        const o = (b * Lq + i0) * W + h * dh;
        for (let d = 0; d < dh; d++) {
          const vo = d * Lk;
          let a0 = 0,
            a1 = 0,
            a2 = 0,
            a3 = 0;
          for (let j = 0; j < Lk; j++) {
            const v = vT[vo + j];
            a0 += S[j] * v;
            a1 += S[Lk + j] * v;
            a2 += S[2 * Lk + j] * v;
            a3 += S[3 * Lk + j] * v;
          }
          out[o + d] = a0;
          if (n > 1) out[o + W + d] = a1;
          if (n > 2) out[o + 2 * W + d] = a2;
          if (n > 3) out[o + 3 * W + d] = a3;
        }
      }
    }
  }
}

/**
 * The backward pass from dOut [B, Lq, heads·dh]: recomputes each probability row from q, k and the
 * saved log-sum-exp, regenerates the dropout mask, and writes dq (into dq at q's geometry) and dk, dv
 * (into dkv at kv's geometry; dq and dkv may be one buffer when q, k, v came packed in one tensor).
 * Every element of dq/dkv at those columns is written (not accumulated).
 */
export function attentionBackward(
  g: AttnGeom,
  dOut: Float32Array,
  q: Float32Array,
  kv: Float32Array,
  bias: Float32Array,
  lse: Float32Array,
  dq: Float32Array,
  dkv: Float32Array,
): void {
  const { B, Lq, Lk, heads, dh, scale, qStride } = g;
  const W = heads * dh;
  const kT = new Float32Array(dh * Lk),
    vT = new Float32Array(dh * Lk),
    dkT = new Float32Array(dh * Lk),
    dvT = new Float32Array(dh * Lk),
    P = new Float32Array(R * Lk), // probabilities, then dS
    PD = new Float32Array(R * Lk), // dropped probabilities
    DP = new Float32Array(R * Lk); // gradient of the dropped probabilities
  const key = dropoutKey(g.seed),
    thr = dropThreshold(g.rate),
    ks = 1 / (1 - g.rate),
    drop = g.rate > 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      packT(g, kv, b, g.kOff + h * dh, kT);
      packT(g, kv, b, g.vOff + h * dh, vT);
      dkT.fill(0);
      dvT.fill(0);
      for (let i0 = 0; i0 < Lq; i0 += R) {
        const n = Math.min(R, Lq - i0);
        scoresBlock(g, q, b, h, i0, kT, bias, P);
        const o = (b * Lq + i0) * W + h * dh; // dOut row i0, head h
        // DP = dOut · vᵀ for the block
        DP.fill(0);
        for (let d = 0; d < dh; d++) {
          const g0 = dOut[o + d];
          const g1 = n > 1 ? dOut[o + W + d] : 0;
          const g2 = n > 2 ? dOut[o + 2 * W + d] : 0;
          const g3 = n > 3 ? dOut[o + 3 * W + d] : 0;
          const vo = d * Lk;
          for (let j = 0; j < Lk; j++) {
            const v = vT[vo + j];
            DP[j] += g0 * v;
            DP[Lk + j] += g1 * v;
            DP[2 * Lk + j] += g2 * v;
            DP[3 * Lk + j] += g3 * v;
          }
        }
        for (let r = 0; r < R; r++) {
          const so = r * Lk;
          if (r >= n) {
            P.fill(0, so, so + Lk);
            PD.fill(0, so, so + Lk);
            continue;
          }
          const l = lse[(b * heads + h) * Lq + i0 + r];
          for (let j = 0; j < Lk; j++) P[so + j] = expNeg(P[so + j] - l);
          if (drop) {
            const base = ((b * heads + h) * Lq + i0 + r) * Lk;
            for (let j = 0; j < Lk; j++) {
              if (keepAt(key, base + j, thr)) {
                PD[so + j] = P[so + j] * ks;
                DP[so + j] *= ks;
              } else {
                PD[so + j] = 0;
                DP[so + j] = 0;
              }
            }
          } else {
            for (let j = 0; j < Lk; j++) PD[so + j] = P[so + j];
          }
          // softmax backward: dS = p ⊙ (dp − Σ dp ⊙ p), into P
          let D = 0;
          for (let j = 0; j < Lk; j++) D += DP[so + j] * P[so + j];
          for (let j = 0; j < Lk; j++) P[so + j] = P[so + j] * (DP[so + j] - D);
        }
        const qb = (b * Lq + i0) * qStride + g.qOff + h * dh;
        for (let d = 0; d < dh; d++) {
          const ko = d * Lk;
          const q0 = Math.fround(q[qb + d] * scale);
          const q1 = n > 1 ? Math.fround(q[qb + qStride + d] * scale) : 0;
          const q2 = n > 2 ? Math.fround(q[qb + 2 * qStride + d] * scale) : 0;
          const q3 = n > 3 ? Math.fround(q[qb + 3 * qStride + d] * scale) : 0;
          const g0 = dOut[o + d];
          const g1 = n > 1 ? dOut[o + W + d] : 0;
          const g2 = n > 2 ? dOut[o + 2 * W + d] : 0;
          const g3 = n > 3 ? dOut[o + 3 * W + d] : 0;
          let a0 = 0,
            a1 = 0,
            a2 = 0,
            a3 = 0;
          for (let j = 0; j < Lk; j++) {
            const k = kT[ko + j];
            const s0 = P[j],
              s1 = P[Lk + j],
              s2 = P[2 * Lk + j],
              s3 = P[3 * Lk + j];
            a0 += s0 * k;
            a1 += s1 * k;
            a2 += s2 * k;
            a3 += s3 * k;
            dkT[ko + j] += q0 * s0 + q1 * s1 + q2 * s2 + q3 * s3;
            dvT[ko + j] += g0 * PD[j] + g1 * PD[Lk + j] + g2 * PD[2 * Lk + j] + g3 * PD[3 * Lk + j];
          }
          dq[qb + d] = a0 * scale;
          if (n > 1) dq[qb + qStride + d] = a1 * scale;
          if (n > 2) dq[qb + 2 * qStride + d] = a2 * scale;
          if (n > 3) dq[qb + 3 * qStride + d] = a3 * scale;
        }
      }
      for (let j = 0; j < Lk; j++) {
        const r = (b * Lk + j) * g.kvStride;
        const rk = r + g.kOff + h * dh,
          rv = r + g.vOff + h * dh;
        for (let d = 0; d < dh; d++) {
          dkv[rk + d] = dkT[d * Lk + j];
          dkv[rv + d] = dvT[d * Lk + j];
        }
      }
    }
  }
}

// ------------------------------------------------------------------ wasm kernels

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  incRef(dataId: tf.DataId): void;
  wasm?: unknown;
}
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

export const KERNEL_ATTENTION = 'MfmbAttention';
export const KERNEL_ATTENTION_GRAD = 'MfmbAttentionGrad';
export const KERNEL_DROPOUT = 'MfmbDropout';

function geomOf(attrs: tf.NamedAttrMap | undefined): AttnGeom {
  return attrs as unknown as AttnGeom;
}

/** inputs q, kv, bias → [out [B, Lq, W], lse [B, heads, Lq]]. */
function attentionKernel(args: KernelArgs): tf.TensorInfo[] {
  const g = geomOf(args.attrs);
  const backend = args.backend as WasmBackendLike;
  const { q, kv, bias } = args.inputs as Record<string, tf.TensorInfo>;
  // Allocate first: growing the heap detaches earlier views.
  const out = backend.makeOutput([g.B, g.Lq, g.heads * g.dh], 'float32');
  const lse = backend.makeOutput([g.B, g.heads, g.Lq], 'float32');
  attentionForward(
    g,
    backend.typedArrayFromHeap(q),
    backend.typedArrayFromHeap(kv),
    backend.typedArrayFromHeap(bias),
    backend.typedArrayFromHeap(out),
    backend.typedArrayFromHeap(lse),
  );
  return [out, lse];
}

/** inputs dy, q, kv, bias, lse → [dq] when q and kv are one tensor (attr `packed`), else [dq, dkv]. */
function attentionGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const g = geomOf(args.attrs);
  const packed = (args.attrs as unknown as { packed: boolean }).packed;
  const backend = args.backend as WasmBackendLike;
  const { dy, q, kv, bias, lse } = args.inputs as Record<string, tf.TensorInfo>;
  const dq = backend.makeOutput([...q.shape], 'float32');
  const dkv = packed ? dq : backend.makeOutput([...kv.shape], 'float32');
  const h = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  attentionBackward(g, h(dy), h(q), h(kv), h(bias), h(lse), h(dq), h(dkv));
  return packed ? [dq] : [dq, dkv];
}

function dropoutKernel(args: KernelArgs): tf.TensorInfo {
  const { rate, seed } = args.attrs as unknown as { rate: number; seed: number };
  const backend = args.backend as WasmBackendLike;
  const x = args.inputs.x as tf.TensorInfo;
  const out = backend.makeOutput([...x.shape], 'float32');
  const xv = backend.typedArrayFromHeap(x),
    ov = backend.typedArrayFromHeap(out);
  const thr = dropThreshold(rate);
  // The SIMD kernel (wasmSimd.ts) does four elements at a time; the last n mod 4 here, same mask.
  const simd = thr < 2 ** 32 ? simdKernels(findWasmMemory(backend.wasm)) : null;
  const n4 = simd ? xv.length & ~3 : 0;
  if (simd && n4 > 0)
    simd.drop(xv.byteOffset, ov.byteOffset, n4, dropoutKey(seed) | 0, thr | 0, Math.fround(1 / (1 - rate)));
  dropoutInto(xv, ov, rate, seed, n4);
  return out;
}

/** Identity as the cpu backend has it: the output shares the input's buffer (one more reference). */
function identityKernel(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const FUSED_NEEDS: WasmPatchNeeds = {
  kernels: ['Identity'],
  backendMethods: ['makeOutput', 'typedArrayFromHeap', 'incRef'],
  functions: {},
};

let state: 'unknown' | 'installed' | 'skipped' = 'unknown';

/**
 * Registers the fused kernels (and the sharing Identity) for the wasm backend, once. Checked first
 * by wasmGuard (tfjs release, backend internals); skipped with one warning otherwise. Returns
 * whether they are in place. `env` is for tests.
 */
export function installWasmFusedKernels(env: WasmPatchEnv = wasmPatchEnv()): boolean {
  if (state !== 'unknown') return state === 'installed';
  const why = checkWasmPatch(env, FUSED_NEEDS);
  if (why) {
    warnSkipped('fused wasm attention/dropout kernels', why);
    state = 'skipped';
    return false;
  }
  state = 'installed';
  // The SIMD Transpose (wasmTranspose.ts) goes in with these (backend.ts calls this installer).
  installFastWasmTranspose();
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: identityKernel as unknown as tf.KernelFunc,
  });
  for (const [kernelName, fn] of [
    [KERNEL_ATTENTION, attentionKernel],
    [KERNEL_ATTENTION_GRAD, attentionGradKernel],
    [KERNEL_DROPOUT, dropoutKernel],
  ] as const) {
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
  return true;
}

let enabled = true;

/** Turns the fused path off (the op-by-op path runs on wasm too): for tests and A/B timing. */
export function setFusedKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** True when the current backend is wasm and the fused kernels are registered (installs them on first use). */
export function fusedKernelsActive(): boolean {
  return enabled && tf.getBackend() === 'wasm' && installWasmFusedKernels();
}

/** The default of setFusedAttentionMinMap: 2²² floats = 16 MB per map. */
export const DEFAULT_FUSED_MIN_MAP = 2 ** 22;
let fusedMinMap = DEFAULT_FUSED_MIN_MAP;

/**
 * Attention maps of at least this many elements (B·heads·Lq·Lk; default 2²² floats = 16 MB) may take
 * the fused op, which keeps no map for the backward pass; smaller ones stay op by op (faster: the
 * fused op's arithmetic is plain JavaScript, ~1–1.6 GFLOP/s, plus the recomputation, where the op
 * path's products run in the SIMD kernel of wasmSimd.ts). 0 = always fused (tests).
 */
export function setFusedAttentionMinMap(elements: number): void {
  fusedMinMap = elements;
}

/** The default of setFusedAttentionBudget: 1.5 GiB of live tensors. */
export const DEFAULT_FUSED_BUDGET = 1.5 * 2 ** 30;
let fusedBudget = DEFAULT_FUSED_BUDGET;
/** Map-sized tensors the op path is assumed to add (kept for the backward pass, and its temporaries). */
const OP_PATH_MAPS = 8;

/**
 * A large map (at least the size above) still takes the faster op path while the live tensors plus
 * OP_PATH_MAPS maps of its size stay within this many bytes, and the fused op once they would not:
 * the fused op is the memory fix (the unaligned `base` model needs it to fit wasm's 4 GiB heap: with
 * this budget 12 of its attentions stay fused, heap 3,358 MB measured; a fixed 2²⁵ threshold ran out
 * of memory), the op path the speed one (`tiny` unaligned: 3 of its 4 large maps go op by op, step
 * 4.1 → 2.5–2.75 s measured under load, heap 718 → 1,141 MB).
 * The choice depends only on the shapes and the allocation sequence, so it is the same on every run
 * of the same configuration. 0 = large maps always fused.
 */
export function setFusedAttentionBudget(bytes: number): void {
  fusedBudget = bytes;
}

/**
 * Should an attention with a map of `mapElements` take the fused op? On WebGPU always, when its
 * kernels are registered (webgpu/kernels.ts: a handful of dispatches instead of ~40); on wasm from
 * the size and the memory budget set above.
 */
export function fusedAttentionFor(mapElements: number): boolean {
  if (webgpuKernelActive('attention', KERNEL_ATTENTION)) return true;
  if (mapElements < fusedMinMap || !fusedKernelsActive()) return false;
  if (fusedMinMap > 0 && fusedBudget > 0 && tf.memory().numBytes + OP_PATH_MAPS * 4 * mapElements <= fusedBudget)
    return false;
  return true;
}
