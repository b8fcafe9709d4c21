import * as tf from './tf.ts';
import { checkWasmPatch, warnSkipped, wasmPatchEnv, type WasmPatchEnv, type WasmPatchNeeds } from './wasmGuard.ts';
import { findWasmMemory, simdKernels, type SimdKernels } from './wasmSimd.ts';

/**
 * The bidirectional GRU/LSTM scan of model/recurrent.ts as wasm kernels: the whole time loop of a
 * layer (both directions on the fused [B, 2h] state) forward in one kernel call and its
 * backpropagation through time in one more, in place of ~12 tfjs kernels per time step forward and
 * ~6 backward. At `tiny` sizes (hidden 6–10) each of those kernels costs tens of µs of tfjs
 * bookkeeping for a few hundred multiply-adds; here a step is one SIMD product (wasmSimd.ts, or a
 * JavaScript loop without SIMD) and a loop over B·2h elements, reading and writing the tensors
 * through views of the wasm heap.
 *
 * Same inputs and semantics as recurrent.ts's op scans (gruScan / lstmScan): gi [L, B, G·W] the
 * input projections in step order (b_ih included, padding steps as gateRows builds them), whh
 * [W, G·W] the block-diagonal recurrent matrix, bhh [G·W], W = 2h, gate blocks in PyTorch's order.
 * The element-wise arithmetic runs in float64 and is rounded once when stored (the op path rounds
 * after every op), so results agree to float32 rounding, not bit for bit. The weight gradients
 * (Σ_s h_{s−1}ᵀ ∂gh_s and its column sum) are left to one tfjs matMul and Sum in the caller.
 */

export const KERNEL_GRU_SCAN = 'MfmbGruScan';
export const KERNEL_GRU_SCAN_GRAD = 'MfmbGruScanGrad';
export const KERNEL_LSTM_SCAN = 'MfmbLstmScan';
export const KERNEL_LSTM_SCAN_GRAD = 'MfmbLstmScanGrad';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Heap-addressed product used by the scans: out[M×N] = a[M×K] · b[K×N]. */
type MatMul = (a: number, b: number, out: number, M: number, K: number, N: number) => void;

/** The same product in JavaScript on a Float32Array of the whole heap (no SIMD). */
function jsMatMul(heap: () => Float32Array): MatMul {
  return (a, b, out, M, K, N) => {
    const h = heap();
    const ia = a >> 2,
      ib = b >> 2,
      io = out >> 2;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s = Math.fround(s + Math.fround(h[ia + i * K + k] * h[ib + k * N + j]));
        h[io + i * N + j] = s;
      }
    }
  };
}

/** Float32 views of the heap for the scans (created after every allocation: growth detaches views). */
export interface ScanHeap {
  f32: Float32Array;
  mm: MatMul;
}

/** Byte address of element `i` of a view on the heap. */
const addr = (v: Float32Array, i = 0): number => v.byteOffset + 4 * i;

// ------------------------------------------------------------------ GRU

/**
 * Forward: hs [L, B, W] the states, gh [L, B, 3W] the recurrent pre-activations h_{s−1}·whh + bhh
 * (kept for the backward pass).
 */
export function gruForward(
  mm: MatMul,
  L: number,
  B: number,
  W: number,
  gi: Float32Array,
  whh: Float32Array,
  bhh: Float32Array,
  hs: Float32Array,
  gh: Float32Array,
): void {
  const G3 = 3 * W;
  for (let s = 0; s < L; s++) {
    const go = s * B * G3,
      ho = s * B * W,
      po = (s - 1) * B * W;
    if (s === 0) gh.fill(0, 0, B * G3);
    else mm(addr(hs, po), addr(whh), addr(gh, go), B, W, G3);
    for (let b = 0; b < B; b++) {
      const rb = go + b * G3,
        hb = ho + b * W,
        pb = po + b * W;
      for (let w = 0; w < W; w++) {
        // Stored rounded to float32 and used as stored, so the backward pass recomputes r, z, n exactly.
        const ghr = (gh[rb + w] = Math.fround(gh[rb + w] + bhh[w]));
        const ghz = (gh[rb + W + w] = Math.fround(gh[rb + W + w] + bhh[W + w]));
        const ghn = (gh[rb + 2 * W + w] = Math.fround(gh[rb + 2 * W + w] + bhh[2 * W + w]));
        const r = sigmoid(gi[rb + w] + ghr);
        const z = sigmoid(gi[rb + W + w] + ghz);
        const n = Math.tanh(gi[rb + 2 * W + w] + r * ghn);
        const hp = s === 0 ? 0 : hs[pb + w];
        hs[hb + w] = n + z * (hp - n);
      }
    }
  }
}

/**
 * Backward from dy [L, B, W]: dgi [L, B, 3W] (∂gi) and dgh [L, B, 3W] (∂gh: the recurrent
 * pre-activations, for the weight gradients). tmp [B, W] is heap scratch; whhT [3W, W].
 */
export function gruBackward(
  mm: MatMul,
  L: number,
  B: number,
  W: number,
  dy: Float32Array,
  gi: Float32Array,
  gh: Float32Array,
  hs: Float32Array,
  whhT: Float32Array,
  dgi: Float32Array,
  dgh: Float32Array,
  tmp: Float32Array,
): void {
  const G3 = 3 * W;
  const dH = new Float64Array(B * W); // ∂ loss / ∂ h_s carried from step s + 1
  for (let s = L - 1; s >= 0; s--) {
    const go = s * B * G3,
      ho = s * B * W,
      po = (s - 1) * B * W;
    for (let b = 0; b < B; b++) {
      const rb = go + b * G3,
        hb = ho + b * W,
        pb = po + b * W;
      for (let w = 0; w < W; w++) {
        const ghn = gh[rb + 2 * W + w];
        const r = sigmoid(gi[rb + w] + gh[rb + w]);
        const z = sigmoid(gi[rb + W + w] + gh[rb + W + w]);
        const n = Math.tanh(gi[rb + 2 * W + w] + r * ghn);
        const hp = s === 0 ? 0 : hs[pb + w];
        const dc = dy[hb + w] + dH[b * W + w];
        const dn = dc * (1 - z) * (1 - n * n);
        const dr = dn * ghn * r * (1 - r);
        const dz = dc * (hp - n) * z * (1 - z);
        dgi[rb + w] = dr;
        dgi[rb + W + w] = dz;
        dgi[rb + 2 * W + w] = dn;
        dgh[rb + w] = dr;
        dgh[rb + W + w] = dz;
        dgh[rb + 2 * W + w] = dn * r;
        dH[b * W + w] = dc * z;
      }
    }
    if (s > 0) {
      mm(addr(dgh, go), addr(whhT), addr(tmp), B, G3, W);
      for (let i = 0; i < B * W; i++) dH[i] += tmp[i];
    }
  }
}

// ------------------------------------------------------------------ LSTM

/** Forward: hs [L, B, W], gates [L, B, 4W] (i, f, g, o after their activations), cs [L, B, W] the cell states. */
export function lstmForward(
  mm: MatMul,
  L: number,
  B: number,
  W: number,
  gi: Float32Array,
  whh: Float32Array,
  bhh: Float32Array,
  hs: Float32Array,
  gates: Float32Array,
  cs: Float32Array,
): void {
  const G4 = 4 * W;
  for (let s = 0; s < L; s++) {
    const go = s * B * G4,
      ho = s * B * W,
      po = (s - 1) * B * W;
    if (s === 0) gates.fill(0, 0, B * G4);
    else mm(addr(hs, po), addr(whh), addr(gates, go), B, W, G4);
    for (let b = 0; b < B; b++) {
      const rb = go + b * G4,
        hb = ho + b * W,
        pb = po + b * W;
      for (let w = 0; w < W; w++) {
        // (gi + bhh) + h·whh, as the op path adds them
        const i = sigmoid(Math.fround(gi[rb + w] + bhh[w]) + gates[rb + w]);
        const f = sigmoid(Math.fround(gi[rb + W + w] + bhh[W + w]) + gates[rb + W + w]);
        const g = Math.tanh(Math.fround(gi[rb + 2 * W + w] + bhh[2 * W + w]) + gates[rb + 2 * W + w]);
        const o = sigmoid(Math.fround(gi[rb + 3 * W + w] + bhh[3 * W + w]) + gates[rb + 3 * W + w]);
        const cp = s === 0 ? 0 : cs[pb + w];
        const c = Math.fround(f * cp + i * g);
        gates[rb + w] = i;
        gates[rb + W + w] = f;
        gates[rb + 2 * W + w] = g;
        gates[rb + 3 * W + w] = o;
        cs[hb + w] = c;
        hs[hb + w] = o * Math.tanh(c);
      }
    }
  }
}

/** Backward from dy [L, B, W]: dpre [L, B, 4W] (∂ of the gate pre-activations = ∂gi = ∂gh). tmp [B, W] heap scratch; whhT [4W, W]. */
export function lstmBackward(
  mm: MatMul,
  L: number,
  B: number,
  W: number,
  dy: Float32Array,
  gates: Float32Array,
  cs: Float32Array,
  whhT: Float32Array,
  dpre: Float32Array,
  tmp: Float32Array,
): void {
  const G4 = 4 * W;
  const dH = new Float64Array(B * W),
    dC = new Float64Array(B * W);
  for (let s = L - 1; s >= 0; s--) {
    const go = s * B * G4,
      ho = s * B * W,
      po = (s - 1) * B * W;
    for (let b = 0; b < B; b++) {
      const rb = go + b * G4,
        hb = ho + b * W,
        pb = po + b * W;
      for (let w = 0; w < W; w++) {
        const i = gates[rb + w],
          f = gates[rb + W + w],
          g = gates[rb + 2 * W + w],
          o = gates[rb + 3 * W + w];
        const tc = Math.tanh(cs[hb + w]);
        const cp = s === 0 ? 0 : cs[pb + w];
        const k = b * W + w;
        const dh = dy[hb + w] + dH[k];
        const dc = dC[k] + dh * o * (1 - tc * tc);
        dpre[rb + w] = dc * g * i * (1 - i);
        dpre[rb + W + w] = dc * cp * f * (1 - f);
        dpre[rb + 2 * W + w] = dc * i * (1 - g * g);
        dpre[rb + 3 * W + w] = dh * tc * o * (1 - o);
        dC[k] = dc * f;
        dH[k] = 0;
      }
    }
    if (s > 0) {
      mm(addr(dpre, go), addr(whhT), addr(tmp), B, G4, W);
      for (let i = 0; i < B * W; i++) dH[i] = tmp[i];
    }
  }
}

// ------------------------------------------------------------------ step order

/**
 * Gate pre-activation a padding step reads (recurrent.ts's MASKED_PRE): it saturates GRU z / LSTM f
 * to exactly 1 (and LSTM i, negated, to 0), so the step keeps the state and passes gradients through.
 */
export const MASKED_PRE = 1e4;

/**
 * xp [B, L, G, 2, h] (batch-major, natural time: the input projections as the Linear layer gives
 * them) → gi [L, B, G, 2, h] in step order: step s holds the forward half at time s and the
 * backward half at time L−1−s; a step past a row's length reads the padding constants (0, or
 * ±MASKED_PRE for GRU z / LSTM f and LSTM i). The same permutation as recurrent.ts's gateRows.
 */
export function toStepOrder(
  xp: Float32Array,
  gi: Float32Array,
  len: ArrayLike<number>,
  L: number,
  B: number,
  G: number,
  h: number,
  lstm: boolean,
): void {
  const W = 2 * h,
    GW = G * W;
  for (let s = 0; s < L; s++)
    for (let b = 0; b < B; b++)
      for (let d = 0; d < 2; d++) {
        const t = d === 0 ? s : L - 1 - s;
        const dst = (s * B + b) * GW + d * h;
        if (t < len[b]) {
          const src = (b * L + t) * GW + d * h;
          for (let g = 0; g < G; g++) gi.set(xp.subarray(src + g * W, src + g * W + h), dst + g * W);
        } else {
          for (let g = 0; g < G; g++) {
            const v = g === 1 ? MASKED_PRE : lstm && g === 0 ? -MASKED_PRE : 0;
            gi.fill(v, dst + g * W, dst + g * W + h);
          }
        }
      }
}

/** The gradient of toStepOrder: dgi [L, B, G, 2, h] → dxp [B, L, G, 2, h] (zero where nothing was read). */
export function fromStepOrderGates(
  dgi: Float32Array,
  dxp: Float32Array,
  len: ArrayLike<number>,
  L: number,
  B: number,
  G: number,
  h: number,
): void {
  const W = 2 * h,
    GW = G * W;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < L; t++)
      for (let d = 0; d < 2; d++) {
        const dst = (b * L + t) * GW + d * h;
        if (t < len[b]) {
          const s = d === 0 ? t : L - 1 - t;
          const src = (s * B + b) * GW + d * h;
          for (let g = 0; g < G; g++) dxp.set(dgi.subarray(src + g * W, src + g * W + h), dst + g * W);
        } else {
          for (let g = 0; g < G; g++) dxp.fill(0, dst + g * W, dst + g * W + h);
        }
      }
}

/**
 * States by step hs [L, B, 2, h] → out [B, L, 2, h] in natural time (the backward half of step s is
 * time L−1−s), zero beyond each length (recurrent.ts's outRows). `toSteps` runs it the other way
 * (the gradient): dy [B, L, 2, h] → [L, B, 2, h], zero where a step's output is not read.
 */
export function stepStates(
  src: Float32Array,
  dst: Float32Array,
  len: ArrayLike<number>,
  L: number,
  B: number,
  h: number,
  toSteps: boolean,
): void {
  const W = 2 * h;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < L; t++)
      for (let d = 0; d < 2; d++) {
        const nat = (b * L + t) * W + d * h;
        const step = ((d === 0 ? t : L - 1 - t) * B + b) * W + d * h;
        if (t < len[b]) {
          if (toSteps) dst.set(src.subarray(nat, nat + h), step);
          else dst.set(src.subarray(step, step + h), nat);
        } else if (toSteps) dst.fill(0, step, step + h);
        else dst.fill(0, nat, nat + h);
      }
}

// ------------------------------------------------------------------ wasm kernels

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  wasm?: unknown;
}
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

let simdOff = false;

/**
 * The product the scans use on this backend's heap: SIMD (wasmSimd.ts) where it can, else JavaScript
 * on a view of the whole heap. `heap` is any view of it taken after the kernel's last allocation (the
 * scans allocate nothing further, so its buffer stays the heap's; tfjs-wasm's threaded build keeps
 * its memory where findWasmMemory does not see it, and then this path is the one taken).
 */
function matMulFor(backend: WasmBackendLike, W: number, heap: Float32Array): MatMul {
  const simd: SimdKernels | null = simdOff || W < 4 ? null : simdKernels(findWasmMemory(backend.wasm));
  if (simd) return simd.mm;
  const view = new Float32Array(heap.buffer);
  return jsMatMul(() => view);
}

/** Kernel attributes: lens (valid steps per row, padding at the end). */
interface ScanAttrs {
  lens: number[];
}

const dims = (xp: tf.TensorInfo, G: number) => {
  const [B, L, GW] = xp.shape;
  return { L, B, W: GW / G, h: GW / G / 2 };
};

/**
 * GRU layer forward. inputs xp [B, L, 3·W] (natural time), whh [W, 3W], bhh [3W]; attr lens →
 * [out [B, L, W] (natural time, zero beyond each length), gi, hs, gh] (the last three by step, kept
 * for the backward pass).
 */
function gruScanKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { xp, whh, bhh } = args.inputs as Record<string, tf.TensorInfo>;
  const { lens } = args.attrs as unknown as ScanAttrs;
  const { L, B, W, h } = dims(xp, 3);
  const out = backend.makeOutput([B, L, W], 'float32');
  const gi = backend.makeOutput([L, B, 3 * W], 'float32');
  const hs = backend.makeOutput([L, B, W], 'float32');
  const gh = backend.makeOutput([L, B, 3 * W], 'float32');
  const v = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  toStepOrder(v(xp), v(gi), lens, L, B, 3, h, false);
  gruForward(matMulFor(backend, W, v(gi)), L, B, W, v(gi), v(whh), v(bhh), v(hs), v(gh));
  stepStates(v(hs), v(out), lens, L, B, h, false);
  return [out, gi, hs, gh];
}

/** inputs dy [B, L, W], gi, gh, hs, whhT; attr lens → [dxp [B, L, 3W], dgh (by step), scratch ×2 (disposed by the caller)]. */
function gruScanGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { dy, gi, gh, hs, whhT } = args.inputs as Record<string, tf.TensorInfo>;
  const { lens } = args.attrs as unknown as ScanAttrs;
  const [L, B, GW] = gi.shape;
  const W = GW / 3,
    h = W / 2;
  const dxp = backend.makeOutput([B, L, 3 * W], 'float32');
  const dgh = backend.makeOutput([L, B, 3 * W], 'float32');
  const scratch = backend.makeOutput([L * B * 3 * W + L * B * W + B * W], 'float32');
  const v = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  const sc = v(scratch);
  const dgi = sc.subarray(0, L * B * 3 * W),
    dyS = sc.subarray(L * B * 3 * W, L * B * 4 * W),
    tmp = sc.subarray(L * B * 4 * W);
  stepStates(v(dy), dyS, lens, L, B, h, true);
  gruBackward(matMulFor(backend, W, dyS), L, B, W, dyS, v(gi), v(gh), v(hs), v(whhT), dgi, v(dgh), tmp);
  fromStepOrderGates(dgi, v(dxp), lens, L, B, 3, h);
  return [dxp, dgh, scratch];
}

/** LSTM layer forward: as gruScanKernel with G = 4 → [out, hs, gates, cs] (the last three by step), scratch (disposed by the caller). */
function lstmScanKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { xp, whh, bhh } = args.inputs as Record<string, tf.TensorInfo>;
  const { lens } = args.attrs as unknown as ScanAttrs;
  const { L, B, W, h } = dims(xp, 4);
  const out = backend.makeOutput([B, L, W], 'float32');
  const hs = backend.makeOutput([L, B, W], 'float32');
  const gates = backend.makeOutput([L, B, 4 * W], 'float32');
  const cs = backend.makeOutput([L, B, W], 'float32');
  const gi = backend.makeOutput([L, B, 4 * W], 'float32'); // scratch: the backward pass needs only the gates
  const v = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  toStepOrder(v(xp), v(gi), lens, L, B, 4, h, true);
  lstmForward(matMulFor(backend, W, v(gi)), L, B, W, v(gi), v(whh), v(bhh), v(hs), v(gates), v(cs));
  stepStates(v(hs), v(out), lens, L, B, h, false);
  return [out, hs, gates, cs, gi];
}

/** inputs dy [B, L, W], gates, cs, whhT; attr lens → [dxp [B, L, 4W], dpre (by step), scratch (disposed by the caller)]. */
function lstmScanGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { dy, gates, cs, whhT } = args.inputs as Record<string, tf.TensorInfo>;
  const { lens } = args.attrs as unknown as ScanAttrs;
  const [L, B, GW] = gates.shape;
  const W = GW / 4,
    h = W / 2;
  const dxp = backend.makeOutput([B, L, 4 * W], 'float32');
  const dpre = backend.makeOutput([L, B, 4 * W], 'float32');
  const scratch = backend.makeOutput([L * B * W + B * W], 'float32');
  const v = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  const sc = v(scratch);
  const dyS = sc.subarray(0, L * B * W),
    tmp = sc.subarray(L * B * W);
  stepStates(v(dy), dyS, lens, L, B, h, true);
  lstmBackward(matMulFor(backend, W, dyS), L, B, W, dyS, v(gates), v(cs), v(whhT), v(dpre), tmp);
  fromStepOrderGates(v(dpre), v(dxp), lens, L, B, 4, h);
  return [dxp, dpre, scratch];
}

export const SCAN_NEEDS: WasmPatchNeeds = {
  kernels: [],
  backendMethods: ['makeOutput', 'typedArrayFromHeap'],
  functions: {},
};

let state: 'unknown' | 'installed' | 'skipped' = 'unknown';

/** Registers the scan kernels for the wasm backend, once (checked by wasmGuard first). `env` is for tests. */
export function installWasmScanKernels(env: WasmPatchEnv = wasmPatchEnv()): boolean {
  if (state !== 'unknown') return state === 'installed';
  const why = checkWasmPatch(env, SCAN_NEEDS);
  if (why) {
    warnSkipped('wasm recurrent scan kernels', why);
    state = 'skipped';
    return false;
  }
  state = 'installed';
  for (const [kernelName, fn] of [
    [KERNEL_GRU_SCAN, gruScanKernel],
    [KERNEL_GRU_SCAN_GRAD, gruScanGradKernel],
    [KERNEL_LSTM_SCAN, lstmScanKernel],
    [KERNEL_LSTM_SCAN_GRAD, lstmScanGradKernel],
  ] as const) {
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
  return true;
}

let enabled = true;

/** Turns the wasm scan off (recurrent.ts's op-by-op scan runs on wasm too): for tests and A/B timing. */
export function setWasmScanEnabled(on: boolean): void {
  enabled = on;
}

/** Makes the scan kernels use their JavaScript product instead of SIMD: for tests. */
export function setWasmScanSimd(on: boolean): void {
  simdOff = !on;
}

/** True when the current backend is wasm and the scan kernels are registered (installs them on first use). */
export function wasmScanActive(): boolean {
  return enabled && tf.getBackend() === 'wasm' && installWasmScanKernels();
}
