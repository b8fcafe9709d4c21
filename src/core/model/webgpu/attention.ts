import type * as tf from '../../tf.ts';
import type { AttnGeom } from '../../wasmAttention.ts';
import {
  DROP_UNIFORMS,
  dropUniforms,
  f,
  flat,
  HASH,
  type KernelArgs,
  type Program,
  type WebGPUBackendLike,
} from './program.ts';

/**
 * Attention, flash-style as on wasm: the forward keeps one log-sum-exp per query row, and the backward
 * recomputes each probability (and its dropout bit) from q, k and it. Registered under the wasm
 * kernels' names and attributes (`MfmbAttention`, `MfmbAttentionGrad`).
 */

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

/**
 * A program with one thread per query row (b, h, i) of [B, heads, Lq]: the shared WGSL header (the
 * geometry, the row's indices, its q in `qv`) around `body`.
 */
function queryRowProgram(key: string, g: AttnGeom, vars: string[], shape: number[], body: string): Program {
  const n = g.B * g.heads * g.Lq;
  return flat(
    `${key}_${geomKey(g)}`,
    vars,
    shape,
    n,
    /* wgsl */ `
    ${attnCommon(g)}
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let i = index % LQ; let h = (index / LQ) % H_; let b = index / (LQ * H_);
      var qv : array<f32, ${g.dh}>;
${body}
    }`,
    DROP_UNIFORMS,
  );
}

/** lse [B, heads, Lq]: one thread per query row, online max and sum. */
function lseProgram(g: AttnGeom): Program {
  return queryRowProgram(
    'mfmbAttnLse',
    g,
    ['q', 'kv', 'bias'],
    [g.B, g.heads, g.Lq],
    /* wgsl */ `
      loadQ_(b, h, i, &qv);
      var m = -3.0e38;
      var s = 0.0;
      for (var j = 0; j < LK; j++) {
        let x = score_(b, h, i, j, &qv);
        if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s += exp(x - m); }
      }
      result[index] = m + log(s);`,
  );
}

/** out [B, Lq, heads·dh] = dropout(softmax(scores)) v, from lse. */
function outProgram(g: AttnGeom): Program {
  return queryRowProgram(
    'mfmbAttnOut',
    g,
    ['q', 'kv', 'bias', 'lse'],
    [g.B, g.Lq, g.heads * g.dh],
    /* wgsl */ `
      var acc : array<f32, ${g.dh}>;
      loadQ_(b, h, i, &qv);
      let l = lse[index];
      for (var j = 0; j < LK; j++) {
        let p = exp(score_(b, h, i, j, &qv) - l) * dropF_(b, h, i, j);
        let vb = (b * LK + j) * KVS + VO + h * DH;
        for (var d = 0; d < DH; d++) { acc[d] += p * kv[vb + d]; }
      }
      let o = (b * LQ + i) * W_ + h * DH;
      for (var d = 0; d < DH; d++) { result[o + d] = acc[d]; }`,
  );
}

/** Dᵢ = Σⱼ Pᵢⱼ ∂P̃ᵢⱼ (the softmax backward's row term) [B, heads, Lq], with ∂P̃ = drop · (dOᵢ · vⱼ). */
function deltaProgram(g: AttnGeom): Program {
  return queryRowProgram(
    'mfmbAttnDelta',
    g,
    ['q', 'kv', 'bias', 'lse', 'dy'],
    [g.B, g.heads, g.Lq],
    /* wgsl */ `
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
      result[index] = D;`,
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
  return queryRowProgram(
    'mfmbAttnDq',
    g,
    ['q', 'kv', 'bias', 'lse', 'dy', 'delta'],
    shape,
    /* wgsl */ `
      var go : array<f32, ${g.dh}>; var acc : array<f32, ${g.dh}>;
      ${DQ_LOOP}
      let o = (b * LQ + i) * QS + QO + h * DH;
      for (var d = 0; d < DH; d++) { result[o + d] = acc[d] * SCALE; }`,
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
export function attentionKernel(args: KernelArgs): tf.TensorInfo[] {
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
export function attentionGradKernel(args: KernelArgs): tf.TensorInfo[] {
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
