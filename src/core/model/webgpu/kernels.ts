import * as tf from '../../tf.ts';
import {
  KERNEL_ATTENTION,
  KERNEL_ATTENTION_GRAD,
  KERNEL_DROPOUT,
  dropoutKey,
  dropThreshold,
  type AttnGeom,
} from '../../wasmAttention.ts';
import {
  KERNEL_ADAM,
  KERNEL_BATCH_NORM,
  KERNEL_BATCH_NORM_GRAD,
  KERNEL_CROSS_PROJ,
  KERNEL_CROSS_PROJ_GRAD,
  KERNEL_DENSE_GRAD,
  KERNEL_DENSE_RESIDUAL,
  KERNEL_DROP_ADD,
  KERNEL_GATE_PACK,
  KERNEL_GATE_UNPACK,
  KERNEL_LAYER_NORM,
  KERNEL_LAYER_NORM_GRAD,
  KERNEL_QKV,
  KERNEL_QKV_GRAD,
  KERNEL_MEMORY_GATE,
  KERNEL_MEMORY_GATE_GRAD,
  KERNEL_SMOOTH_L1,
  KERNEL_SMOOTH_L1_GRAD,
} from './select.ts';

/**
 * Fused WebGPU kernels registered for the `webgpu` backend under the names the model already uses
 * on wasm (`MfmbAttention`, `MfmbAttentionGrad`, `MfmbDropout`, same attributes and semantics) plus
 * LayerNorm, Adam's update, the dropout–add pairs of the embedding and the residuals, and ReLU's
 * gradient. Each is a few compute programs run through tfjs-backend-webgpu's
 * `runWebGPUProgram`, replacing tens of small kernels each.
 *
 * Loaded only with the webgpu backend (a dynamic import next to the backend's own), so the wasm and
 * cpu bundles carry none of this WGSL. Like scan.ts it does not import the webgpu package: programs
 * are plain objects with the fields of its WebGPUProgram interface.
 *
 * Dropout masks are the wasm kernels' and the op path's (wasmAttention.ts): element i is kept iff
 * murmur3's finaliser of (i·0x9e3779b1) xor key is at least the threshold, with u32 arithmetic that
 * wraps as Math.imul does. Attention is flash-style as on wasm: the forward keeps one log-sum-exp per
 * query row, and the backward recomputes each probability (and its dropout bit) from q, k and it.
 */

interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode: () => string;
}

interface Uniform {
  type: 'int32' | 'uint32' | 'float32';
  data: number[];
}

interface GPUBufferLike {
  size: number;
}
interface WebGPUBackendLike {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: tf.DataType, u?: Uniform[]): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  uploadToGPU(dataId: tf.DataId): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  tensorMap: { get(id: tf.DataId): { resource: unknown } };
  commandEncoder: {
    copyBufferToBuffer(src: GPUBufferLike, so: number, dst: GPUBufferLike, dO: number, n: number): void;
  };
  commandQueueOwnedIds: { add(id: tf.DataId): void };
}
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** The GPU buffer behind a tensor (uploaded first if it still lives on the CPU side). */
function gpuBuffer(backend: WebGPUBackendLike, t: tf.TensorInfo): GPUBufferLike {
  backend.uploadToGPU(t.dataId);
  return backend.tensorMap.get(t.dataId).resource as GPUBufferLike;
}

/** count float32s from src[so…] to dst[dO…]: a buffer-to-buffer copy in the command stream, no shader. */
function copyFloats(
  backend: WebGPUBackendLike,
  src: tf.TensorInfo,
  so: number,
  dst: tf.TensorInfo,
  dO: number,
  count: number,
): void {
  const s = gpuBuffer(backend, src),
    d = gpuBuffer(backend, dst);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder.copyBufferToBuffer(s, so * 4, d, dO * 4, count * 4);
  backend.commandQueueOwnedIds.add(src.dataId);
  backend.commandQueueOwnedIds.add(dst.dataId);
}

/**
 * Splits a program's packed output into tensors of the given shapes, in order, by buffer copies, and
 * frees it. tfjs programs have one output; this is how one dispatch returns several results.
 */
function unpack(backend: WebGPUBackendLike, packed: tf.TensorInfo, shapes: number[][]): tf.TensorInfo[] {
  let o = 0;
  const outs = shapes.map((shape) => {
    const n = tf.util.sizeFromShape(shape);
    const t = backend.makeTensorInfo(shape, 'float32');
    copyFloats(backend, packed, o, t, 0, n);
    o += n;
    return t;
  });
  backend.disposeData(packed.dataId);
  return outs;
}

const WG = 64;

/** One thread per index in [0, n): flat dispatch of 64-wide workgroups (tfjs reshapes it past 65,535). */
function flat(
  key: string,
  vars: string[],
  outShape: number[],
  n: number,
  body: string,
  uniforms?: string,
  size = false,
): Program {
  return {
    variableNames: vars,
    outputShape: outShape,
    shaderKey: key,
    dispatchLayout: { x: outShape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(n / WG)), 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms,
    size,
    // Pipelines use layout 'auto', which drops bindings the shader never names, while tfjs binds every
    // input and the uniforms: a branch that never runs names them all.
    getUserCode: () =>
      body.replace(
        'fn main(index : i32) {',
        `fn main(index : i32) {
      if (index < 0) { result[0] = uniforms.NAN${vars.map((v) => ` + f32(${v}[0])`).join('')}; }`,
      ),
  };
}

/** WGSL float literal. */
const f = (x: number): string => {
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? s : `${s}.0`;
};

const HASH = /* wgsl */ `
  fn fmix_(h0 : u32) -> u32 {
    var h = h0;
    h = h ^ (h >> 16u);
    h = h * 0x85ebca6bu;
    h = h ^ (h >> 13u);
    h = h * 0xc2b2ae35u;
    h = h ^ (h >> 16u);
    return h;
  }
  fn kept_(i : u32) -> bool { return fmix_((i * 0x9e3779b1u) ^ uniforms.key) >= uniforms.thr; }
`;
const DROP_UNIFORMS = 'key : u32, thr : u32, ks : f32,';
const dropUniforms = (rate: number, seed: number): Uniform[] => [
  { type: 'uint32', data: [dropoutKey(seed)] },
  { type: 'uint32', data: [Math.min(dropThreshold(rate), 2 ** 32 - 1)] },
  { type: 'float32', data: [1 / (1 - rate)] },
];

// ------------------------------------------------------------------ dropout

function dropoutKernel(args: KernelArgs): tf.TensorInfo {
  const { rate, seed } = args.attrs as unknown as { rate: number; seed: number };
  const backend = args.backend as WebGPUBackendLike;
  const x = args.inputs.x as tf.TensorInfo;
  const n = tf.util.sizeFromShape(x.shape);
  const body = /* wgsl */ `
    ${HASH}
    fn main(index : i32) {
      if (index < uniforms.size) {
        result[index] = select(0.0, x[index] * uniforms.ks, kept_(u32(index)));
      }
    }`;
  const prog = flat('mfmbDropout', ['x'], [...x.shape], n, body, DROP_UNIFORMS, true);
  return backend.runWebGPUProgram(prog, [x], 'float32', dropUniforms(rate, seed));
}

/** What ops.ts passes to `MfmbDropAdd`. */
export interface DropAddAttrs {
  /**
   * 'inner': drop(x·scale + c) (the encoder's embedding); 'outer': c + drop(x) (a residual add);
   * 'grad': drop(x)·scale (the backward of both, on dy). drop(t) = t/(1 − rate) or 0 by the mask.
   */
  mode: 'inner' | 'outer' | 'grad';
  scale: number;
  rate: number;
  seed: number;
}

/** inputs x and (modes inner, outer) c of x's shape → one tensor of x's shape: one dispatch. */
function dropAddKernel(args: KernelArgs): tf.TensorInfo {
  const { mode, scale, rate, seed } = args.attrs as unknown as DropAddAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { x, c } = args.inputs as Record<string, tf.TensorInfo>;
  const n = tf.util.sizeFromShape(x.shape);
  const drop = rate > 0;
  // The op path's rounding order: (x·s + c)·ks, c + x·ks, (dy·ks)·s.
  const keep = (v: string) => (drop ? `select(0.0, (${v}) * uniforms.ks, kept_(u32(index)))` : v);
  const expr =
    mode === 'inner'
      ? keep(`x[index] * ${f(scale)} + c[index]`)
      : mode === 'outer'
        ? `c[index] + ${keep('x[index]')}`
        : `${keep('x[index]')} * ${f(scale)}`;
  const body = /* wgsl */ `
    ${HASH}
    fn main(index : i32) {
      if (index < uniforms.size) { result[index] = ${expr}; }
    }`;
  const vars = mode === 'grad' ? ['x'] : ['x', 'c'];
  const prog = flat(`mfmbDropAdd_${mode}_${drop}_${f(scale)}`, vars, [...x.shape], n, body, DROP_UNIFORMS, true);
  return backend.runWebGPUProgram(prog, mode === 'grad' ? [x] : [x, c], 'float32', dropUniforms(drop ? rate : 0, seed));
}

// ------------------------------------------------------------------ recurrent weights

/**
 * Both directions' weights as the scan wants them, gate blocks of width 2h each [fwd | bwd]:
 * 'interleave': a, b [R, G·h] → [R, G·2h]; 'blockDiag': a, b [h, G·h] → [2h, G·2h] with a's rows on
 * top in the fwd halves, b's below in the bwd halves, zeros elsewhere. One dispatch for what the op
 * path does with two splits, a concat (and zeros) and, backward, the splits' concats and the
 * concat's split.
 */
function gatePackKernel(args: KernelArgs): tf.TensorInfo {
  const { G, h, mode } = args.attrs as unknown as { G: number; h: number; mode: 'interleave' | 'blockDiag' };
  const backend = args.backend as WebGPUBackendLike;
  const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const R = tf.util.sizeFromShape(a.shape) / (G * h);
  const rows = mode === 'blockDiag' ? 2 * R : R;
  const n = rows * G * 2 * h;
  const body = /* wgsl */ `
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let c = index % ${2 * G * h}; let r = index / ${2 * G * h};
      let g = c / ${2 * h}; let d = (c / ${h}) % 2; let j = c % ${h};
      ${
        mode === 'interleave'
          ? `let s = r * ${G * h} + g * ${h} + j;
      result[index] = select(b[s], a[s], d == 0);`
          : `let top = r < ${R};
      let s = (r % ${R}) * ${G * h} + g * ${h} + j;
      result[index] = select(0.0, select(b[s], a[s], d == 0), top == (d == 0));`
      }
    }`;
  const shape = mode === 'blockDiag' ? [2 * R, 2 * G * h] : a.shape.length === 1 ? [2 * G * h] : [R, 2 * G * h];
  return backend.runWebGPUProgram(
    flat(`mfmbGatePack_${mode}_${G}_${h}_${R}`, ['a', 'b'], shape, n, body),
    [a, b],
    'float32',
  );
}

/** The gradient of one side of MfmbGatePack: dy [.., G·2h] → the `part` (0 = a, 1 = b) half of every gate block. */
function gateUnpackKernel(args: KernelArgs): tf.TensorInfo {
  const { G, h, mode, part } = args.attrs as unknown as { G: number; h: number; mode: string; part: number };
  const backend = args.backend as WebGPUBackendLike;
  const { dy } = args.inputs as Record<string, tf.TensorInfo>;
  const R = tf.util.sizeFromShape(dy.shape) / (2 * G * h) / (mode === 'blockDiag' ? 2 : 1);
  const n = R * G * h;
  const r0 = mode === 'blockDiag' && part === 1 ? R : 0;
  const body = /* wgsl */ `
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let r = index / ${G * h}; let c = index % ${G * h};
      let g = c / ${h}; let j = c % ${h};
      result[index] = dy[(r + ${r0}) * ${2 * G * h} + g * ${2 * h} + ${part * h} + j];
    }`;
  const shape = dy.shape.length === 1 ? [G * h] : [R, G * h];
  return backend.runWebGPUProgram(
    flat(`mfmbGateUnpack_${mode}_${part}_${G}_${h}_${R}`, ['dy'], shape, n, body),
    [dy],
    'float32',
  );
}

// ------------------------------------------------------------------ attention

/** Geometry baked into the shader as constants (shapes are fixed during a run); the seed is a uniform. */
function geomKey(g: AttnGeom): string {
  return [g.B, g.Lq, g.Lk, g.heads, g.dh, g.qStride, g.qOff, g.kvStride, g.kOff, g.vOff, g.causalOff, g.rate > 0].join(
    '_',
  );
}

/**
 * WGSL shared by the attention programs: the row decomposition, the query row (scaled) and the
 * score of key j, bias and causal mask included, as the wasm kernel's scoresBlock.
 */
function attnCommon(g: AttnGeom): string {
  const W = g.heads * g.dh;
  return /* wgsl */ `
    ${HASH}
    const B_ = ${g.B}; const LQ = ${g.Lq}; const LK = ${g.Lk}; const H_ = ${g.heads}; const DH = ${g.dh};
    const W_ = ${W}; const QS = ${g.qStride}; const QO = ${g.qOff}; const KVS = ${g.kvStride};
    const KO = ${g.kOff}; const VO = ${g.vOff}; const SCALE = ${f(g.scale)}; const COFF = ${g.causalOff};
    const MASKED_ = ${f(g.masked)}; const DROP = ${g.rate > 0};
    fn score_(b : i32, h : i32, i : i32, j : i32, qv : ptr<function, array<f32, ${g.dh}>>) -> f32 {
      var acc = bias[b * LK + j];
      let kb = (b * LK + j) * KVS + KO + h * DH;
      for (var d = 0; d < DH; d++) { acc += (*qv)[d] * kv[kb + d]; }
      if (COFF >= 0 && j > i + COFF) { acc += MASKED_; }
      return acc;
    }
    fn loadQ_(b : i32, h : i32, i : i32, qv : ptr<function, array<f32, ${g.dh}>>) {
      let qb = (b * LQ + i) * QS + QO + h * DH;
      for (var d = 0; d < DH; d++) { (*qv)[d] = q[qb + d] * SCALE; }
    }
    // The dropout factor of probability (b, h, i, j): 1/(1 − rate) or 0, indexed [B, heads, Lq, Lk].
    fn dropF_(b : i32, h : i32, i : i32, j : i32) -> f32 {
      if (!DROP) { return 1.0; }
      return select(0.0, uniforms.ks, kept_(u32(((b * H_ + h) * LQ + i) * LK + j)));
    }`;
}

/** lse [B, heads, Lq]: one thread per query row, online max and sum. */
function lseProgram(g: AttnGeom): Program {
  const n = g.B * g.heads * g.Lq;
  return flat(
    `mfmbAttnLse_${geomKey(g)}`,
    ['q', 'kv', 'bias'],
    [g.B, g.heads, g.Lq],
    n,
    /* wgsl */ `
    ${attnCommon(g)}
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let i = index % LQ; let h = (index / LQ) % H_; let b = index / (LQ * H_);
      var qv : array<f32, ${g.dh}>;
      loadQ_(b, h, i, &qv);
      var m = -3.0e38;
      var s = 0.0;
      for (var j = 0; j < LK; j++) {
        let x = score_(b, h, i, j, &qv);
        if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s += exp(x - m); }
      }
      result[index] = m + log(s);
    }`,
    DROP_UNIFORMS,
  );
}

/** out [B, Lq, heads·dh] = dropout(softmax(scores)) v, from lse. */
function outProgram(g: AttnGeom): Program {
  const n = g.B * g.heads * g.Lq;
  return flat(
    `mfmbAttnOut_${geomKey(g)}`,
    ['q', 'kv', 'bias', 'lse'],
    [g.B, g.Lq, g.heads * g.dh],
    n,
    /* wgsl */ `
    ${attnCommon(g)}
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let i = index % LQ; let h = (index / LQ) % H_; let b = index / (LQ * H_);
      var qv : array<f32, ${g.dh}>;
      var acc : array<f32, ${g.dh}>;
      loadQ_(b, h, i, &qv);
      let l = lse[index];
      for (var j = 0; j < LK; j++) {
        let p = exp(score_(b, h, i, j, &qv) - l) * dropF_(b, h, i, j);
        let vb = (b * LK + j) * KVS + VO + h * DH;
        for (var d = 0; d < DH; d++) { acc[d] += p * kv[vb + d]; }
      }
      let o = (b * LQ + i) * W_ + h * DH;
      for (var d = 0; d < DH; d++) { result[o + d] = acc[d]; }
    }`,
    DROP_UNIFORMS,
  );
}

/** Dᵢ = Σⱼ Pᵢⱼ ∂P̃ᵢⱼ (the softmax backward's row term) [B, heads, Lq], with ∂P̃ = drop · (dOᵢ · vⱼ). */
function deltaProgram(g: AttnGeom): Program {
  const n = g.B * g.heads * g.Lq;
  return flat(
    `mfmbAttnDelta_${geomKey(g)}`,
    ['q', 'kv', 'bias', 'lse', 'dy'],
    [g.B, g.heads, g.Lq],
    n,
    /* wgsl */ `
    ${attnCommon(g)}
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let i = index % LQ; let h = (index / LQ) % H_; let b = index / (LQ * H_);
      var qv : array<f32, ${g.dh}>;
      var go : array<f32, ${g.dh}>;
      loadQ_(b, h, i, &qv);
      let ob = (b * LQ + i) * W_ + h * DH;
      for (var d = 0; d < DH; d++) { go[d] = dy[ob + d]; }
      let l = lse[index];
      var D = 0.0;
      for (var j = 0; j < LK; j++) {
        let p = exp(score_(b, h, i, j, &qv) - l);
        let vb = (b * LK + j) * KVS + VO + h * DH;
        var dp = 0.0;
        for (var d = 0; d < DH; d++) { dp += go[d] * kv[vb + d]; }
        D += p * dp * dropF_(b, h, i, j);
      }
      result[index] = D;
    }`,
    DROP_UNIFORMS,
  );
}

/** WGSL: ∂q of query row i into acc (unscaled by SCALE until written). */
const DQ_LOOP = /* wgsl */ `
      loadQ_(b, h, i, &qv);
      let ob = (b * LQ + i) * W_ + h * DH;
      for (var d = 0; d < DH; d++) { go[d] = dy[ob + d]; }
      let row = (b * H_ + h) * LQ + i;
      let l = lse[row];
      let Di = delta[row];
      for (var j = 0; j < LK; j++) {
        let p = exp(score_(b, h, i, j, &qv) - l);
        let vb = (b * LK + j) * KVS + VO + h * DH;
        var dp = 0.0;
        for (var d = 0; d < DH; d++) { dp += go[d] * kv[vb + d]; }
        let ds = p * (dp * dropF_(b, h, i, j) - Di);
        let kb = (b * LK + j) * KVS + KO + h * DH;
        for (var d = 0; d < DH; d++) { acc[d] += ds * kv[kb + d]; }
      }`;

/** WGSL: ∂k, ∂v of key row j into ak, av, looping over every query. */
const DKV_LOOP = /* wgsl */ `
      let kb = (b * LK + j) * KVS + KO + h * DH;
      let vb = (b * LK + j) * KVS + VO + h * DH;
      for (var d = 0; d < DH; d++) { vj[d] = kv[vb + d]; }
      for (var i = 0; i < LQ; i++) {
        loadQ_(b, h, i, &qv);
        let row = (b * H_ + h) * LQ + i;
        let p = exp(score_(b, h, i, j, &qv) - lse[row]);
        let ob = (b * LQ + i) * W_ + h * DH;
        var dp = 0.0;
        for (var d = 0; d < DH; d++) { dp += dy[ob + d] * vj[d]; }
        let fd = dropF_(b, h, i, j);
        let ds = p * (dp * fd - delta[row]);
        let pd = p * fd;
        for (var d = 0; d < DH; d++) { ak[d] += ds * qv[d]; av[d] += pd * dy[ob + d]; }
      }`;

/** ∂q alone [B, Lq, qStride] (cross-attention: q is its own tensor). */
function dqProgram(g: AttnGeom, shape: number[]): Program {
  const n = g.B * g.heads * g.Lq;
  return flat(
    `mfmbAttnDq_${geomKey(g)}`,
    ['q', 'kv', 'bias', 'lse', 'dy', 'delta'],
    shape,
    n,
    /* wgsl */ `
    ${attnCommon(g)}
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let i = index % LQ; let h = (index / LQ) % H_; let b = index / (LQ * H_);
      var qv : array<f32, ${g.dh}>; var go : array<f32, ${g.dh}>; var acc : array<f32, ${g.dh}>;
      ${DQ_LOOP}
      let o = (b * LQ + i) * QS + QO + h * DH;
      for (var d = 0; d < DH; d++) { result[o + d] = acc[d] * SCALE; }
    }`,
    DROP_UNIFORMS,
  );
}

/**
 * ∂k, ∂v [B, Lk, kvStride]; with `packed` (q, k and v read from one tensor, e.g. self-attention's
 * [B, L, 3w] or a cross-attention's [q | k|v] buffer) ∂q too, into one gradient of that tensor's
 * shape: thread (b, h, r) does key row r (r < Lk) and query row r (r < Lq).
 */
function dkvProgram(g: AttnGeom, shape: number[], packed: boolean): Program {
  const LM = packed ? Math.max(g.Lq, g.Lk) : g.Lk;
  const n = g.B * g.heads * LM;
  return flat(
    `mfmbAttnDkv_${packed}_${geomKey(g)}`,
    ['q', 'kv', 'bias', 'lse', 'dy', 'delta'],
    shape,
    n,
    /* wgsl */ `
    ${attnCommon(g)}
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let j = index % ${LM}; let h = (index / ${LM}) % H_; let b = index / (${LM} * H_);
      var qv : array<f32, ${g.dh}>; var vj : array<f32, ${g.dh}>;
      var ak : array<f32, ${g.dh}>; var av : array<f32, ${g.dh}>;
      if (j < LK) {
        ${DKV_LOOP}
        let r = (b * LK + j) * KVS + h * DH;
        for (var d = 0; d < DH; d++) { result[r + KO + d] = ak[d]; result[r + VO + d] = av[d]; }
      }
      ${
        packed
          ? `if (j < LQ) {
        let i = j;
        var go : array<f32, ${g.dh}>; var acc : array<f32, ${g.dh}>;
        ${DQ_LOOP}
        let o = (b * LQ + i) * QS + QO + h * DH;
        for (var d = 0; d < DH; d++) { result[o + d] = acc[d] * SCALE; }
      }`
          : ''
      }
    }`,
    DROP_UNIFORMS,
  );
}

function geomOf(attrs: tf.NamedAttrMap | undefined): AttnGeom {
  return attrs as unknown as AttnGeom;
}

/** inputs q, kv, bias [B, Lk] → [out [B, Lq, W], lse [B, heads, Lq]]: two dispatches. */
function attentionKernel(args: KernelArgs): tf.TensorInfo[] {
  const g = geomOf(args.attrs);
  const backend = args.backend as WebGPUBackendLike;
  const { q, kv, bias } = args.inputs as Record<string, tf.TensorInfo>;
  const u = dropUniforms(g.rate, g.seed);
  const lse = backend.runWebGPUProgram(lseProgram(g), [q, kv, bias], 'float32', u);
  const out = backend.runWebGPUProgram(outProgram(g), [q, kv, bias, lse], 'float32', u);
  return [out, lse];
}

/**
 * inputs dy, q, kv, bias, lse → [dq] when q and kv are one tensor (attr `packed`: two dispatches),
 * else [dq, dkv] (three).
 */
function attentionGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const g = geomOf(args.attrs);
  const packed = (args.attrs as unknown as { packed: boolean }).packed;
  const backend = args.backend as WebGPUBackendLike;
  const { dy, q, kv, bias, lse } = args.inputs as Record<string, tf.TensorInfo>;
  const u = dropUniforms(g.rate, g.seed);
  const delta = backend.runWebGPUProgram(deltaProgram(g), [q, kv, bias, lse, dy], 'float32', u);
  const ins = [q, kv, bias, lse, dy, delta];
  let res: tf.TensorInfo[];
  if (packed) {
    res = [backend.runWebGPUProgram(dkvProgram(g, [...kv.shape], true), ins, 'float32', u)];
  } else {
    res = [
      backend.runWebGPUProgram(dqProgram(g, [...q.shape]), ins, 'float32', u),
      backend.runWebGPUProgram(dkvProgram(g, [...kv.shape], false), ins, 'float32', u),
    ];
  }
  backend.disposeData(delta.dataId);
  return res;
}

// ------------------------------------------------------------------ LayerNorm

/**
 * LayerNorm over the last axis, x as [N, w]: one thread per row, the two-pass moments of tf.moments
 * (mean, then the mean squared deviation), rs = rsqrt(var + eps).
 */
const LN_STATS = /* wgsl */ `
      var mean = 0.0;
      for (var c = 0; c < W_; c++) { mean += x[o + c]; }
      mean = mean / f32(W_);
      var vr = 0.0;
      for (var c = 0; c < W_; c++) { let e = x[o + c] - mean; vr += e * e; }
      let rs = inverseSqrt(vr / f32(W_) + EPS);`;

/**
 * Forward with the row statistics kept for the backward pass: one program writes the packed
 * [y (N·w) | (mean, rsqrt(var + eps)) per row (2N)], which buffer copies split into y and st.
 */
function lnForwardStatsProgram(N: number, w: number, eps: number): Program {
  return flat(
    `mfmbLnFwdSt_${w}_${eps}`,
    ['x', 'g', 'b'],
    [N * w + 2 * N],
    N,
    /* wgsl */ `
    const W_ = ${w}; const EPS = ${f(eps)};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      if (index >= N) { return; }
      let o = index * W_;
      ${LN_STATS}
      for (var c = 0; c < W_; c++) { result[o + c] = (x[o + c] - mean) * rs * g[c] + b[c]; }
      result[N * W_ + index * 2] = mean;
      result[N * W_ + index * 2 + 1] = rs;
    }`,
  );
}

/**
 * The whole backward in one program, threads by task: [0, N) one row of ∂x = rs·(ĝ − mean(ĝ) −
 * x̂·mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ g; [N, N + w) one column of ∂g = Σₙ dy ⊙ x̂; [N + w, N + 2w) one
 * column of ∂b = Σₙ dy. Output packed [∂x (N·w) | ∂g (w) | ∂b (w)].
 */
function lnGradProgram(N: number, w: number): Program {
  return flat(
    `mfmbLnGrad_${w}`,
    ['x', 'g', 'dy', 'st'],
    [N * w + 2 * w],
    N + 2 * w,
    /* wgsl */ `
    const W_ = ${w};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      if (index < N) {
        let o = index * W_;
        let mean = st[index * 2];
        let rs = st[index * 2 + 1];
        var s1 = 0.0;
        var s2 = 0.0;
        for (var c = 0; c < W_; c++) {
          let gh = dy[o + c] * g[c];
          s1 += gh;
          s2 += gh * (x[o + c] - mean) * rs;
        }
        s1 = s1 / f32(W_);
        s2 = s2 / f32(W_);
        for (var c = 0; c < W_; c++) {
          result[o + c] = rs * (dy[o + c] * g[c] - s1 - (x[o + c] - mean) * rs * s2);
        }
      } else if (index < N + W_) {
        let c = index - N;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += dy[n * W_ + c] * (x[n * W_ + c] - st[n * 2]) * st[n * 2 + 1]; }
        result[N * W_ + c] = acc;
      } else if (index < N + 2 * W_) {
        let c = index - N - W_;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += dy[n * W_ + c]; }
        result[N * W_ + W_ + c] = acc;
      }
    }`,
  );
}

/** inputs x [N, w], g [w], b [w] → [y [N, w], st [N, 2]] (st for the backward pass): one dispatch. */
function layerNormKernel(args: KernelArgs): tf.TensorInfo[] {
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = args.backend as WebGPUBackendLike;
  const { x, g, b } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, w] = x.shape;
  const packed = backend.runWebGPUProgram(lnForwardStatsProgram(N, w, eps), [x, g, b], 'float32');
  return unpack(backend, packed, [
    [N, w],
    [N, 2],
  ]);
}

/** inputs dy, x [N, w], g, st (the forward's) → [∂x, ∂g, ∂b]: one dispatch. */
function layerNormGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, x, g, st } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, w] = x.shape;
  const packed = backend.runWebGPUProgram(lnGradProgram(N, w), [x, g, dy, st], 'float32');
  return unpack(backend, packed, [[N, w], [w], [w]]);
}

// ------------------------------------------------------------------ BatchNorm (training)

/** What ops.ts passes to `MfmbBatchNorm`. */
export interface BatchNormAttrs {
  eps: number;
  /** 0.1 · count/(count − 1): the running variance's factor (PyTorch keeps the unbiased variance). */
  varFactor: number;
}

/**
 * Training-mode BatchNorm over x [B, C, W] (channels on axis 1), one thread per channel: the batch
 * mean and (biased, two-pass) variance, y = (x − mean)·rsqrt(var + eps)(·g + b), and the running
 * statistics' update rm·0.9 + mean·0.1, rv·0.9 + var·varFactor. Output packed [y | mean | rstd | rm' | rv'].
 */
function batchNormKernel(args: KernelArgs): tf.TensorInfo[] {
  const { eps, varFactor } = args.attrs as unknown as BatchNormAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { x, g, b, rm, rv } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, C, W] = x.shape;
  const affine = !!g;
  const body = /* wgsl */ `
    const B_ = ${B}; const C_ = ${C}; const W_ = ${W}; const EPS = ${f(eps)};
    const N = B_ * W_; const Y = B_ * C_ * W_;
    fn main(index : i32) {
      if (index >= C_) { return; }
      let c = index;
      var mean = 0.0;
      for (var bb = 0; bb < B_; bb++) { for (var w = 0; w < W_; w++) { mean += x[(bb * C_ + c) * W_ + w]; } }
      mean = mean / f32(N);
      var vr = 0.0;
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) { let e = x[(bb * C_ + c) * W_ + w] - mean; vr += e * e; }
      }
      vr = vr / f32(N);
      let rs = inverseSqrt(vr + EPS);
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) {
          let i = (bb * C_ + c) * W_ + w;
          result[i] = ${affine ? '(x[i] - mean) * rs * g[c] + b[c]' : '(x[i] - mean) * rs'};
        }
      }
      result[Y + c] = mean;
      result[Y + C_ + c] = rs;
      result[Y + 2 * C_ + c] = rm[c] * ${f(0.9)} + mean * ${f(0.1)};
      result[Y + 3 * C_ + c] = rv[c] * ${f(0.9)} + vr * uniforms.vf;
    }`;
  const vars = affine ? ['x', 'rm', 'rv', 'g', 'b'] : ['x', 'rm', 'rv'];
  const n = B * C * W + 4 * C;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbBatchNorm_${B}_${C}_${W}_${affine}_${eps}`, vars, [n], C, body, 'vf : f32,'),
    affine ? [x, rm, rv, g, b] : [x, rm, rv],
    'float32',
    [{ type: 'float32', data: [varFactor] }],
  );
  return unpack(backend, packed, [[B, C, W], [2 * C], [C], [C]]);
}

/**
 * inputs dy, x [B, C, W], st [mean | rstd] (the forward's), g (affine) → [∂x, (affine) ∂g, ∂b], one
 * thread per channel: ∂x = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ĝ = dy·g.
 */
function batchNormGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, x, st, g } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, C, W] = x.shape;
  const affine = !!g;
  const body = /* wgsl */ `
    const B_ = ${B}; const C_ = ${C}; const W_ = ${W};
    const N = B_ * W_; const Y = B_ * C_ * W_;
    fn main(index : i32) {
      if (index >= C_) { return; }
      let c = index;
      let mean = st[c];
      let rs = st[C_ + c];
      let gc = ${affine ? 'g[c]' : '1.0'};
      var sdy = 0.0;
      var sdyx = 0.0;
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) {
          let i = (bb * C_ + c) * W_ + w;
          sdy += dy[i];
          sdyx += dy[i] * (x[i] - mean) * rs;
        }
      }
      let m1 = sdy * gc / f32(N);
      let m2 = sdyx * gc / f32(N);
      for (var bb = 0; bb < B_; bb++) {
        for (var w = 0; w < W_; w++) {
          let i = (bb * C_ + c) * W_ + w;
          result[i] = rs * (dy[i] * gc - m1 - (x[i] - mean) * rs * m2);
        }
      }
      ${affine ? 'result[Y + c] = sdyx; result[Y + C_ + c] = sdy;' : ''}
    }`;
  const vars = affine ? ['dy', 'x', 'st', 'g'] : ['dy', 'x', 'st'];
  const n = B * C * W + (affine ? 2 * C : 0);
  const packed = backend.runWebGPUProgram(
    flat(`mfmbBatchNormGrad_${B}_${C}_${W}_${affine}`, vars, [n], C, body),
    affine ? [dy, x, st, g] : [dy, x, st],
    'float32',
  );
  return unpack(backend, packed, affine ? [[B, C, W], [C], [C]] : [[B, C, W]]);
}

// ------------------------------------------------------------------ memory gate (micro stream)

/** WGSL: s = b + Σₒ Σ_c tanh R[b, t+o−1, c]·w[o·W + c] over the zero-padded neighbours of row (b, t). */
const GATE_SCORE = /* wgsl */ `
    fn gateScore_(bi : i32, t : i32) -> f32 {
      var s = gb[0];
      for (var o = 0; o < 3; o++) {
        let tt = t + o - 1;
        if (tt < 0 || tt >= L_) { continue; }
        let base = (bi * L_ + tt) * W_;
        for (var c = 0; c < W_; c++) { s += tanh(R[base + c]) * gw[o * W_ + c]; }
      }
      return s;
    }`;

/** The memory gate's forward, G = tanh R ⊙ σ(conv(tanh R)) [B, L, W]: one thread per (b, t) row. */
function memoryGateKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { R, gw, gb } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, L, W] = R.shape;
  const body = /* wgsl */ `
    const L_ = ${L}; const W_ = ${W};
    ${GATE_SCORE}
    fn main(index : i32) {
      if (index >= ${B * L}) { return; }
      let g = 1.0 / (1.0 + exp(-gateScore_(index / L_, index % L_)));
      for (var c = 0; c < W_; c++) { result[index * W_ + c] = tanh(R[index * W_ + c]) * g; }
    }`;
  return backend.runWebGPUProgram(
    flat(`mfmbGate_${L}_${W}`, ['R', 'gw', 'gb'], [B, L, W], B * L, body),
    [R, gw, gb],
    'float32',
  );
}

/**
 * The memory gate's backward, two programs: per row (ds, g) with g = σ(s) and ds = g(1 − g)·Σ_c dG ⊙
 * tanh R; then packed [∂R | ∂w (3W) | ∂b]: ∂R = (dG·g + Σₒ ds(t−o+1)·w[o]) ⊙ (1 − tanh² R), ∂w[o, c] =
 * Σ ds(b, t)·tanh R[b, t+o−1, c], ∂b = Σ ds.
 */
function memoryGateGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, R, gw, gb } = args.inputs as Record<string, tf.TensorInfo>;
  const [B, L, W] = R.shape;
  const rows = B * L;
  const dsBody = /* wgsl */ `
    const L_ = ${L}; const W_ = ${W};
    ${GATE_SCORE}
    fn main(index : i32) {
      if (index >= ${rows}) { return; }
      let g = 1.0 / (1.0 + exp(-gateScore_(index / L_, index % L_)));
      var acc = 0.0;
      for (var c = 0; c < W_; c++) { acc += dy[index * W_ + c] * tanh(R[index * W_ + c]); }
      result[index * 2] = acc * g * (1.0 - g);
      result[index * 2 + 1] = g;
    }`;
  const dsg = backend.runWebGPUProgram(
    flat(`mfmbGateDs_${L}_${W}`, ['dy', 'R', 'gw', 'gb'], [rows, 2], rows, dsBody),
    [dy, R, gw, gb],
    'float32',
  );
  const total = rows * W + 3 * W + 1;
  const body = /* wgsl */ `
    const L_ = ${L}; const W_ = ${W}; const ROWS = ${rows};
    fn main(index : i32) {
      if (index < ROWS * W_) {
        let r = index / W_;
        let c = index - r * W_;
        let t = r % L_;
        let T = tanh(R[index]);
        var dT = dy[index] * dsg[r * 2 + 1];
        for (var o = 0; o < 3; o++) {
          let tt = t - o + 1;
          if (tt >= 0 && tt < L_) { dT += dsg[(r - o + 1) * 2] * gw[o * W_ + c]; }
        }
        result[index] = dT * (1.0 - T * T);
      } else if (index < ROWS * W_ + 3 * W_) {
        let k = index - ROWS * W_;
        let o = k / W_;
        let c = k - o * W_;
        var acc = 0.0;
        for (var r = 0; r < ROWS; r++) {
          let tt = r % L_ + o - 1;
          if (tt >= 0 && tt < L_) { acc += dsg[r * 2] * tanh(R[(r + o - 1) * W_ + c]); }
        }
        result[index] = acc;
      } else if (index == ROWS * W_ + 3 * W_) {
        var acc = 0.0;
        for (var r = 0; r < ROWS; r++) { acc += dsg[r * 2]; }
        result[index] = acc;
      }
    }`;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbGateGrad_${L}_${W}`, ['dy', 'R', 'gw', 'dsg'], [total], total, body),
    [dy, R, gw, dsg],
    'float32',
  );
  backend.disposeData(dsg.dataId);
  return unpack(backend, packed, [[B, L, W], [3 * W, 1], [1]]);
}

// ------------------------------------------------------------------ Linear backward

/** What ops.ts passes to `MfmbDenseGrad`. */
export interface DenseGradAttrs {
  /** The forward applied ReLU: ∂z = dy where y > 0 (y is then an input). */
  relu: boolean;
  /** The layer has a bias: ∂b is returned too. */
  bias: boolean;
}

/**
 * A Linear layer's whole backward (y = act(x·W + b), x [N, in], W [in, out]) in one program, threads
 * by task: [0, N·in) one element of ∂x = ∂z·Wᵀ; then in·out elements of ∂W = xᵀ·∂z; then (bias)
 * out columns of ∂b = Σₙ ∂z. ∂z is dy, masked by y > 0 after a ReLU, read where it is needed (never
 * stored; a dropout's mask is applied before: its hash would be recomputed at every read). Output
 * packed [∂x | ∂W | ∂b].
 */
function denseGradProgram(N: number, inF: number, outF: number, relu: boolean, bias: boolean): Program {
  const vars = relu ? ['dy', 'x', 'w', 'y'] : ['dy', 'x', 'w'];
  const total = N * inF + inF * outF + (bias ? outF : 0);
  const dz = (i: string) => (relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`);
  return flat(
    `mfmbDenseGrad_${inF}_${outF}_${relu}_${bias}`,
    vars,
    [total],
    total,
    /* wgsl */ `
    const IN = ${inF}; const OUT = ${outF};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      let nx = N * IN;
      if (index < nx) {
        let n = index / IN;
        let i = index - n * IN;
        var acc = 0.0;
        for (var o = 0; o < OUT; o++) { acc += ${dz('n * OUT + o')} * w[i * OUT + o]; }
        result[index] = acc;
      } else if (index < nx + IN * OUT) {
        let k = index - nx;
        let i = k / OUT;
        let o = k - i * OUT;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += x[n * IN + i] * ${dz('n * OUT + o')}; }
        result[index] = acc;
      }${
        bias
          ? ` else if (index < nx + IN * OUT + OUT) {
        let o = index - nx - IN * OUT;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += ${dz('n * OUT + o')}; }
        result[index] = acc;
      }`
          : ''
      }
    }`,
  );
}

/** inputs dy [N, out], x [N, in], w [in, out], (relu) y [N, out] → [∂x, ∂W, (bias) ∂b]: one dispatch. */
function denseGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const { relu, bias } = args.attrs as unknown as DenseGradAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { dy, x, w, y } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, inF] = x.shape;
  const outF = w.shape[1];
  const ins = relu ? [dy, x, w, y] : [dy, x, w];
  const packed = backend.runWebGPUProgram(denseGradProgram(N, inF, outF, relu, bias), ins, 'float32');
  const shapes = [[N, inF], [inF, outF], ...(bias ? [[outF]] : [])];
  return unpack(backend, packed, shapes);
}

/** What ops.ts passes to `MfmbDenseResidual`. */
export interface DenseResidualAttrs {
  rate: number;
  seed: number;
}

/**
 * A residual branch's last Linear layer and the add: y = c + drop(x·W + b), x [N, in], W [in, out],
 * c [N, out], one thread per output element. The mask is element i of y's flat layout, as
 * `MfmbDropAdd` 'outer' on the layer's output.
 */
function denseResidualKernel(args: KernelArgs): tf.TensorInfo {
  const { rate, seed } = args.attrs as unknown as DenseResidualAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { x, w, b, c } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, inF] = x.shape;
  const outF = w.shape[1];
  const drop = rate > 0;
  const vars = b ? ['x', 'w', 'c', 'b'] : ['x', 'w', 'c'];
  const body = /* wgsl */ `
    ${HASH}
    const IN = ${inF}; const OUT = ${outF};
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let n = index / OUT;
      let o = index - n * OUT;
      var acc = 0.0;
      for (var i = 0; i < IN; i++) { acc += x[n * IN + i] * w[i * OUT + o]; }
      ${b ? 'acc += b[o];' : ''}
      result[index] = c[index] + ${drop ? 'select(0.0, acc * uniforms.ks, kept_(u32(index)))' : 'acc'};
    }`;
  const prog = flat(
    `mfmbDenseResid_${inF}_${outF}_${!!b}_${drop}`,
    vars,
    [N, outF],
    N * outF,
    body,
    DROP_UNIFORMS,
    true,
  );
  return backend.runWebGPUProgram(prog, b ? [x, w, c, b] : [x, w, c], 'float32', dropUniforms(rate, seed));
}

/**
 * A cross-attention's input projections into one buffer P = [q (N1·w) | k|v (N2·2w)]: q = x·W[:, :w] +
 * b[:w], k|v = x_kv·W[:, w:] + b[w:] (W the packed [w, 3w] q|k|v matrix), one thread per element.
 * The attention kernels read q and k|v from P by offsets; this replaces splitting W and b (four
 * slices) and two matMuls, and backward their concats.
 */
function crossProjKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { x, kv, w, b } = args.inputs as Record<string, tf.TensorInfo>;
  const [N1, W] = x.shape;
  const N2 = kv.shape[0];
  const body = /* wgsl */ `
    const W_ = ${W}; const W3 = ${3 * W};
    fn main(index : i32) {
      let N1 = uniforms.xShape.x;
      let N2 = uniforms.kvShape.x;
      if (index < N1 * W_) {
        let n = index / W_;
        let o = index - n * W_;
        var acc = b[o];
        for (var i = 0; i < W_; i++) { acc += x[n * W_ + i] * w[i * W3 + o]; }
        result[index] = acc;
      } else if (index < N1 * W_ + N2 * 2 * W_) {
        let k = index - N1 * W_;
        let n = k / (2 * W_);
        let o = W_ + k - n * 2 * W_;
        var acc = b[o];
        for (var i = 0; i < W_; i++) { acc += kv[n * W_ + i] * w[i * W3 + o]; }
        result[index] = acc;
      }
    }`;
  const total = N1 * W + N2 * 2 * W;
  return backend.runWebGPUProgram(
    flat(`mfmbCrossProj_${W}`, ['x', 'kv', 'w', 'b'], [total], total, body),
    [x, kv, w, b],
    'float32',
  );
}

/** inputs dp (∂P), x [N1, w], kv [N2, w], w → [∂x, ∂x_kv, ∂W [w, 3w], ∂b [3w]]: one dispatch. */
function crossProjGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dp, x, kv, w } = args.inputs as Record<string, tf.TensorInfo>;
  const [N1, W] = x.shape;
  const N2 = kv.shape[0];
  const body = /* wgsl */ `
    const W_ = ${W}; const W2 = ${2 * W}; const W3 = ${3 * W};
    fn main(index : i32) {
      let N1 = uniforms.xShape.x;
      let N2 = uniforms.kvShape.x;
      let K0 = N1 * W_; // where ∂(k|v) starts in dp
      let a = N1 * W_;
      let bb = a + N2 * W_;
      let c = bb + W_ * W3;
      if (index < a) {
        let n = index / W_;
        let i = index - n * W_;
        var acc = 0.0;
        for (var o = 0; o < W_; o++) { acc += dp[n * W_ + o] * w[i * W3 + o]; }
        result[index] = acc;
      } else if (index < bb) {
        let k = index - a;
        let n = k / W_;
        let i = k - n * W_;
        var acc = 0.0;
        for (var o = 0; o < W2; o++) { acc += dp[K0 + n * W2 + o] * w[i * W3 + W_ + o]; }
        result[index] = acc;
      } else if (index < c) {
        let k = index - bb;
        let i = k / W3;
        let j = k - i * W3;
        var acc = 0.0;
        if (j < W_) {
          for (var n = 0; n < N1; n++) { acc += x[n * W_ + i] * dp[n * W_ + j]; }
        } else {
          for (var n = 0; n < N2; n++) { acc += kv[n * W_ + i] * dp[K0 + n * W2 + j - W_]; }
        }
        result[index] = acc;
      } else if (index < c + W3) {
        let j = index - c;
        var acc = 0.0;
        if (j < W_) {
          for (var n = 0; n < N1; n++) { acc += dp[n * W_ + j]; }
        } else {
          for (var n = 0; n < N2; n++) { acc += dp[K0 + n * W2 + j - W_]; }
        }
        result[index] = acc;
      }
    }`;
  const total = N1 * W + N2 * W + W * 3 * W + 3 * W;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbCrossProjGrad_${W}`, ['dp', 'x', 'kv', 'w'], [total], total, body),
    [dp, x, kv, w],
    'float32',
  );
  return unpack(backend, packed, [[N1, W], [N2, W], [W, 3 * W], [3 * W]]);
}

/**
 * Three bias-free projections of one input into the self-attention layout P [N, 3w] (row n: q | k | v):
 * the reconstruction branch's q, k and v Linear layers (separate weights), one thread per element.
 */
function qkvKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { x, wq, wk, wv } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, W] = x.shape;
  const body = /* wgsl */ `
    const W_ = ${W}; const W3 = ${3 * W};
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let n = index / W3;
      let j = index - n * W3;
      let m = j / W_;
      let o = j - m * W_;
      var acc = 0.0;
      for (var i = 0; i < W_; i++) {
        let wt = select(select(wv[i * W_ + o], wk[i * W_ + o], m == 1), wq[i * W_ + o], m == 0);
        acc += x[n * W_ + i] * wt;
      }
      result[index] = acc;
    }`;
  return backend.runWebGPUProgram(
    flat(`mfmbQkv_${W}`, ['x', 'wq', 'wk', 'wv'], [N, 3 * W], N * 3 * W, body, undefined, true),
    [x, wq, wk, wv],
    'float32',
  );
}

/** inputs dp [N, 3w], x [N, w], wq, wk, wv → [∂x, ∂wq, ∂wk, ∂wv]: one dispatch. */
function qkvGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { dp, x, wq, wk, wv } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, W] = x.shape;
  const body = /* wgsl */ `
    const W_ = ${W}; const W3 = ${3 * W};
    fn main(index : i32) {
      let N = uniforms.xShape.x;
      if (index < N * W_) {
        let n = index / W_;
        let i = index - n * W_;
        var acc = 0.0;
        for (var o = 0; o < W_; o++) {
          acc += dp[n * W3 + o] * wq[i * W_ + o] + dp[n * W3 + W_ + o] * wk[i * W_ + o] + dp[n * W3 + 2 * W_ + o] * wv[i * W_ + o];
        }
        result[index] = acc;
      } else if (index < N * W_ + 3 * W_ * W_) {
        let k = index - N * W_;
        let m = k / (W_ * W_);
        let r = k - m * W_ * W_;
        let i = r / W_;
        let o = r - i * W_;
        var acc = 0.0;
        for (var n = 0; n < N; n++) { acc += x[n * W_ + i] * dp[n * W3 + m * W_ + o]; }
        result[index] = acc;
      }
    }`;
  const total = N * W + 3 * W * W;
  const packed = backend.runWebGPUProgram(
    flat(`mfmbQkvGrad_${W}`, ['dp', 'x', 'wq', 'wk', 'wv'], [total], total, body),
    [dp, x, wq, wk, wv],
    'float32',
  );
  return unpack(backend, packed, [
    [N, W],
    [W, W],
    [W, W],
    [W, W],
  ]);
}

// ------------------------------------------------------------------ reconstruction loss

const RED = 256;

/**
 * L_gen^m's forward in one workgroup: with d = (x̂ − x)·M (M [B, L] broadcast over D), S = Σ
 * SmoothL1(d) (β = 1, as 0.5·q² + (|d| − q), q = min(|d|, 1), the op path's form) and den = ΣM·D +
 * 1e-4; output [S/den, den].
 */
function smoothL1Program(): Program {
  return {
    variableNames: ['xh', 'cl', 'm'],
    outputShape: [2],
    shaderKey: 'mfmbSmoothL1',
    dispatchLayout: { x: [0] },
    dispatch: [1, 1, 1],
    workgroupSize: [RED, 1, 1],
    getUserCode: () => /* wgsl */ `
    var<workgroup> part : array<f32, ${RED}>;
    var<workgroup> partM : array<f32, ${RED}>;
    fn main(index : i32) {
      let t = i32(localId.x);
      let D = uniforms.xhShape.z;
      let rows = uniforms.xhShape.x * uniforms.xhShape.y;
      var acc = 0.0;
      for (var i = t; i < rows * D; i += ${RED}) {
        let d = abs((xh[i] - cl[i]) * m[i / D]);
        let q = min(d, 1.0);
        acc += q * q * 0.5 + (d - q);
      }
      var accM = 0.0;
      for (var r = t; r < rows; r += ${RED}) { accM += m[r]; }
      part[t] = acc;
      partM[t] = accM;
      workgroupBarrier();
      for (var s = ${RED / 2}; s > 0; s = s / 2) {
        if (t < s) {
          part[t] += part[t + s];
          partM[t] += partM[t + s];
        }
        workgroupBarrier();
      }
      if (t == 0) {
        let den = partM[0] * f32(D) + 1e-4;
        result[0] = part[0] / den;
        result[1] = den;
      }
    }`,
  };
}

/** inputs xh [B, L, D], cl [B, L, D], m [B, L] → [L_gen (scalar), den (scalar)]: one dispatch. */
function smoothL1Kernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { xh, cl, m } = args.inputs as Record<string, tf.TensorInfo>;
  const packed = backend.runWebGPUProgram(smoothL1Program(), [xh, cl, m], 'float32');
  return unpack(backend, packed, [[], []]);
}

/** ∂x̂ = dy/den · clamp(d, −1, 1) · M, the op path's gradient (0 where M = 0): one dispatch. */
function smoothL1GradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, xh, cl, m, den } = args.inputs as Record<string, tf.TensorInfo>;
  const n = tf.util.sizeFromShape(xh.shape);
  const body = /* wgsl */ `
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let mk = m[index / uniforms.xhShape.z];
      let d = (xh[index] - cl[index]) * mk;
      result[index] = dy[0] / den[0] * clamp(d, -1.0, 1.0) * mk;
    }`;
  const prog = flat('mfmbSmoothL1Grad', ['dy', 'xh', 'cl', 'm', 'den'], [...xh.shape], n, body, undefined, true);
  return backend.runWebGPUProgram(prog, [dy, xh, cl, m, den], 'float32');
}

// ------------------------------------------------------------------ Adam

/** What adam.ts passes as attributes (numbers as the op path computes them, in float64). */
export interface AdamAttrs {
  sizes: number[];
  /** Whether θ is read from the state's first third (the last update wrote it) instead of the inputs. */
  thetaInState: boolean;
  /** Per-element coefficients given as input `coef` [3T] = [active | 1/√bc2 | step] (uneven step counts). */
  perElement: boolean;
  b1: number;
  b2: number;
  eps: number;
  wd: number;
  clip: number;
  /** √(1 − b2ᵗ) and lr/(1 − b1ᵗ) when every parameter has taken the same number of steps. */
  bc2Sqrt: number;
  step: number;
}

/**
 * The update over the flat vector: state' [3T] = [θ' | m' | v'], the op path's arithmetic in its order:
 * g = clip(g) + θ·wd; m' = m·b1 + g·(1−b1); v' = v·b2 + g²·(1−b2); θ' = θ − m'/(√v'·c + ε)·s.
 */
function adamProgram(T: number, perElement: boolean): Program {
  return flat(
    `mfmbAdam_${perElement}`,
    perElement ? ['th', 'gr', 'st', 'coef'] : ['th', 'gr', 'st'],
    [3 * T],
    T,
    /* wgsl */ `
    fn main(index : i32) {
      let T = uniforms.grShape;
      if (index >= T) { return; }
      let t0 = th[index];
      let g = clamp(gr[index], -uniforms.clip, uniforms.clip) + t0 * uniforms.wd;
      let m0 = st[T + index];
      let v0 = st[2 * T + index];
      var m = m0 * uniforms.b1 + g * uniforms.c1;
      var v = v0 * uniforms.b2 + (g * g) * uniforms.c2;
      ${
        perElement
          ? `let a = coef[index];
      m = m0 + (m - m0) * a;
      v = v0 + (v - v0) * a;
      let upd = m / (sqrt(v) * coef[T + index] + uniforms.eps) * coef[2 * T + index];`
          : `let upd = m / (sqrt(v) / uniforms.bc2s + uniforms.eps) * uniforms.step;`
      }
      result[index] = t0 - upd;
      result[T + index] = m;
      result[2 * T + index] = v;
    }`,
    'b1 : f32, c1 : f32, b2 : f32, c2 : f32, eps : f32, wd : f32, clip : f32, bc2s : f32, step : f32,',
  );
}

/**
 * Adam over every parameter in one dispatch. inputs: g0…g(n−1) (each variable's gradient), t0…t(n−1)
 * (each variable, unless θ is current in the state), state [3T], optionally coef [3T]. Gradients (and
 * θ) are gathered into flat buffers, and θ' scattered back into one buffer per variable, by GPU
 * buffer-to-buffer copies (no compute dispatch). Returns [θ'₀ … θ'ₙ₋₁, state'].
 */
function adamKernel(args: KernelArgs): tf.TensorInfo[] {
  const a = args.attrs as unknown as AdamAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const n = a.sizes.length;
  const T = a.sizes.reduce((s, x) => s + x, 0);
  const state = inputs.state;
  const copy = (src: tf.TensorInfo, so: number, dst: tf.TensorInfo, dO: number, count: number): void =>
    copyFloats(backend, src, so, dst, dO, count);
  const gather = (prefix: string): tf.TensorInfo => {
    const out = backend.makeTensorInfo([T], 'float32');
    let o = 0;
    for (let i = 0; i < n; i++) {
      copy(inputs[`${prefix}${i}`], 0, out, o, a.sizes[i]);
      o += a.sizes[i];
    }
    return out;
  };
  const g = gather('g');
  let th: tf.TensorInfo;
  if (a.thetaInState) {
    th = backend.makeTensorInfo([T], 'float32');
    copy(state, 0, th, 0, T);
  } else {
    th = gather('t');
  }
  const ins = [th, g, state];
  if (a.perElement) ins.push(inputs.coef);
  const uniforms: Uniform[] = [a.b1, 1 - a.b1, a.b2, 1 - a.b2, a.eps, a.wd, a.clip, a.bc2Sqrt, a.step].map((v) => ({
    type: 'float32',
    data: [v],
  }));
  const next = backend.runWebGPUProgram(adamProgram(T, a.perElement), ins, 'float32', uniforms);
  backend.disposeData(g.dataId);
  backend.disposeData(th.dataId);
  const outs: tf.TensorInfo[] = [];
  let o = 0;
  for (let i = 0; i < n; i++) {
    const t = backend.makeTensorInfo([a.sizes[i]], 'float32');
    copy(next, o, t, 0, a.sizes[i]);
    o += a.sizes[i];
    outs.push(t);
  }
  outs.push(next);
  return outs;
}

// ------------------------------------------------------------------ registration

let installed = false;

/** Registers the fused kernels for the webgpu backend, once. */
export function installWebGPUFusedKernels(): void {
  if (installed) return;
  installed = true;
  for (const [kernelName, fn] of [
    [KERNEL_ATTENTION, attentionKernel],
    [KERNEL_ATTENTION_GRAD, attentionGradKernel],
    [KERNEL_DROPOUT, dropoutKernel],
    [KERNEL_LAYER_NORM, layerNormKernel],
    [KERNEL_LAYER_NORM_GRAD, layerNormGradKernel],
    [KERNEL_ADAM, adamKernel],
    [KERNEL_DROP_ADD, dropAddKernel],
    [KERNEL_GATE_PACK, gatePackKernel],
    [KERNEL_GATE_UNPACK, gateUnpackKernel],
    [KERNEL_DENSE_GRAD, denseGradKernel],
    [KERNEL_DENSE_RESIDUAL, denseResidualKernel],
    [KERNEL_SMOOTH_L1, smoothL1Kernel],
    [KERNEL_QKV, qkvKernel],
    [KERNEL_QKV_GRAD, qkvGradKernel],
    [KERNEL_MEMORY_GATE, memoryGateKernel],
    [KERNEL_MEMORY_GATE_GRAD, memoryGateGradKernel],
    [KERNEL_BATCH_NORM, batchNormKernel],
    [KERNEL_BATCH_NORM_GRAD, batchNormGradKernel],
    [KERNEL_CROSS_PROJ, crossProjKernel],
    [KERNEL_CROSS_PROJ_GRAD, crossProjGradKernel],
    [KERNEL_SMOOTH_L1_GRAD, smoothL1GradKernel],
  ] as const) {
    if (!tf.getKernel(kernelName, 'webgpu'))
      tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}
