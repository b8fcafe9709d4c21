import * as tf from '../tf.ts';
import type { ParamStore } from './params.ts';
import { fusedAttentionFor, KERNEL_ATTENTION, KERNEL_ATTENTION_GRAD, type AttnGeom } from '../wasmAttention.ts';
import {
  applyDense,
  bmm,
  createLayerNorm,
  createLinear,
  crossProjActive,
  crossProjection,
  customOp,
  dropout,
  dropoutSeeded,
  keyBias,
  layerNorm,
  linear,
  MASKED,
  residualLinear,
  scaleAddDropout,
  sinusoid,
  type Ctx,
  type Linear,
  type Norm,
} from './ops.ts';

/**
 * The fairseq/MulT pre-LayerNorm transformer encoder (MODEL.md §2), used by HPA and the macro
 * stream. Self-attention when no key/value input is given, cross-attention otherwise.
 */

interface MHA {
  inW: tf.Variable; // [w, 3w] packed q|k|v projection (PyTorch: in_w [3w, w])
  inB: tf.Variable; // [3w]
  out: Linear;
  heads: number;
  attnDrop: number;
}

interface Layer {
  attn: MHA;
  ln0: Norm; // shared by query and key/value, as in the code
  ln1: Norm;
  fc1: Linear;
  fc2: Linear;
}

/** What the encoder needs to know about a sequence besides its values. */
export interface SeqInfo {
  pos: Int32Array; // [B·L] fairseq positions (0 = padding)
  valid: Float32Array; // [B·L] 1 = real position
  L: number;
}

export class Encoder {
  private readonly layers: Layer[] = [];
  private readonly ln: Norm;

  constructor(
    p: ParamStore,
    readonly name: string,
    readonly width: number,
    heads: number,
    nLayers: number,
    private readonly drop: number,
    attnDrop: number,
    private readonly causal = false,
  ) {
    const w = width;
    if (w % heads) throw new Error(`${name}: width ${w} not divisible by ${heads} heads`);
    for (let i = 0; i < nLayers; i++) {
      const n = `${name}.layers.${i}`;
      // Xavier over the packed [3w, w] matrix: bound √(6 / 4w), as PyTorch/fairseq.
      const inW = p.uniform(`${n}.attn.in_w`, [w, 3 * w], Math.sqrt(6 / (4 * w)), 'linear');
      const inB = p.constant(`${n}.attn.in_b`, [3 * w], 0);
      const out = createLinear(p, `${n}.attn.out`, w, w, 'xavier');
      this.layers.push({
        attn: { inW, inB, out, heads, attnDrop },
        ln0: createLayerNorm(p, `${n}.ln0`, w),
        ln1: createLayerNorm(p, `${n}.ln1`, w),
        fc1: createLinear(p, `${n}.fc1`, w, 4 * w, 'xavier'),
        fc2: createLinear(p, `${n}.fc2`, 4 * w, w, 'xavier'),
      });
    }
    this.ln = createLayerNorm(p, `${name}.ln`, w);
  }

  private embed(x: tf.Tensor3D, info: SeqInfo, ctx: Ctx): tf.Tensor3D {
    const [B, L] = x.shape;
    return scaleAddDropout(
      x,
      Math.sqrt(this.width),
      sinusoid(info.pos, B, L, this.width),
      this.drop,
      ctx,
    ) as tf.Tensor3D;
  }

  /**
   * x [B, Lq, w] → [B, Lq − keepFrom, w]. With kv, queries attend to kv's valid positions instead of
   * x's. `keepFrom` > 0 returns only the positions from there on; the last layer then computes only
   * those queries (every position is still a key), which is exact and spares the macro waterfall
   * most of its last layer: only the hub tokens are read from it.
   */
  forward(x: tf.Tensor3D, q: SeqInfo, ctx: Ctx, kv?: tf.Tensor3D, k?: SeqInfo, keepFrom = 0): tf.Tensor3D {
    const [B, Lq, w] = x.shape;
    let h = this.embed(x, q, ctx);
    const kvEmb = kv && k ? this.embed(kv, k, ctx) : null;
    const keys = k ?? q;
    const bias = keyBias(keys.valid, B, keys.L); // [B, 1, 1, Lk]
    const causal = this.causal;
    this.layers.forEach((layer, i) => {
      const hn = layerNorm(layer.ln0, h) as tf.Tensor3D;
      const kvn = kvEmb ? (layerNorm(layer.ln0, kvEmb) as tf.Tensor3D) : null;
      let a: tf.Tensor3D; // the attention's context, before its output projection
      if (keepFrom > 0 && i === this.layers.length - 1) {
        if (this.causal) throw new Error('keepFrom is not supported with a causal mask');
        const part = (t: tf.Tensor3D) => tf.slice(t, [0, keepFrom, 0], [B, Lq - keepFrom, w]);
        a = attention(layer.attn, part(hn), kvn ?? hn, bias, causal, ctx, `${this.name}.layer${i}`);
        h = part(h);
      } else {
        a = attention(layer.attn, hn, kvn, bias, causal, ctx, `${this.name}.layer${i}`);
      }
      h = residualLinear(h, layer.attn.out, a, this.drop, ctx) as tf.Tensor3D;
      const f = dropout(linear(layer.fc1, layerNorm(layer.ln1, h), 'relu'), this.drop, ctx); // [B, Lq, 4w]
      h = residualLinear(h, layer.fc2, f, this.drop, ctx) as tf.Tensor3D;
    });
    if (keepFrom > 0 && this.layers.length === 0) h = tf.slice(h, [0, keepFrom, 0], [B, Lq - keepFrom, w]);
    return layerNorm(this.ln, h) as tf.Tensor3D;
  }
}

/**
 * The fused attention op (wasmAttention.ts; webgpu/kernels.ts) on one tensor P holding q, k and v at
 * the geometry's strides and offsets: forward keeps one log-sum-exp per query row, backward recomputes
 * the maps and returns ∂P in one piece. kb [B, Lk] is the additive key bias.
 */
export function packedAttention(P: tf.Tensor, kb: tf.Tensor, geom: AttnGeom): tf.Tensor {
  const run = (inputs: tf.NamedTensorMap, kernel: string, attrs: object) =>
    tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor[];
  return customOp((t: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, lse] = run({ q: t, kv: t, bias: kb }, KERNEL_ATTENTION, geom); // [B, Lq, heads·dh], [B, heads, Lq]
    save([t, kb, lse]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, [st, skb, slse]: tf.Tensor[]) =>
        run({ dy, q: st, kv: st, bias: skb, lse: slse }, KERNEL_ATTENTION_GRAD, { ...geom, packed: true }),
    };
  })(P);
}

/** fairseq's buffered future mask: key j is allowed for query i iff j ≤ i + |Lk − Lq|. */
function causalBias(Lq: number, Lk: number): tf.Tensor {
  const off = Math.abs(Lk - Lq);
  const m = new Float32Array(Lq * Lk);
  for (let i = 0; i < Lq; i++) for (let j = 0; j < Lk; j++) if (j > i + off) m[i * Lk + j] = MASKED;
  return tf.tensor4d(m, [1, 1, Lq, Lk]);
}

/**
 * Multi-head attention up to its output projection (the caller applies it with the residual add);
 * kv = null means self-attention on x. keyBias [B, 1, 1, Lk] is additive;
 * `causal` adds fairseq's future mask. On wasm, large maps take one fused op (wasmAttention.ts) whose
 * backward recomputes the attention maps instead of keeping them; otherwise (and on other backends)
 * op by op with the same dropout mask.
 */
function attention(
  a: MHA,
  x: tf.Tensor3D,
  kv: tf.Tensor3D | null,
  keyBias: tf.Tensor4D,
  causal: boolean,
  ctx: Ctx,
  name: string,
): tf.Tensor3D {
  const [B, Lq, w] = x.shape;
  const Lk = kv ? kv.shape[1] : Lq;
  const h = a.heads;
  const dh = w / h;
  const rate = ctx.training ? a.attnDrop : 0;
  const seed = rate > 0 ? ctx.rng.childSeed() : 0;
  if (!ctx.capture && fusedAttentionFor(B * h * Lq * Lk)) {
    const geom: AttnGeom = {
      B,
      Lq,
      Lk,
      heads: h,
      dh,
      qStride: kv ? w : 3 * w,
      qOff: 0,
      kvStride: kv ? 2 * w : 3 * w,
      kOff: kv ? 0 : w,
      vOff: kv ? w : 2 * w,
      scale: dh ** -0.5,
      causalOff: causal ? Math.abs(Lk - Lq) : -1,
      masked: MASKED,
      rate,
      seed,
    };
    const kb = tf.reshape(keyBias, [B, Lk]);
    const run = (inputs: tf.NamedTensorMap, kernel: string, attrs: object) =>
      tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor[];
    let ctxv: tf.Tensor;
    if (!kv) {
      ctxv = packedAttention(applyDense(x, a.inW, a.inB), kb, geom); // q|k|v [B, L, 3w]
    } else if (crossProjActive()) {
      // q and k|v in one buffer P [B·Lq·w | B·Lk·2w], read by offsets (webgpu).
      const P = crossProjection(x, kv, a.inW, a.inB);
      ctxv = packedAttention(P, kb, { ...geom, qStride: w, kvStride: 2 * w, kOff: B * Lq * w, vOff: B * Lq * w + w });
    } else {
      const [wq, wkv] = tf.split(a.inW, [w, 2 * w], 1);
      const [bq, bkv] = tf.split(a.inB, [w, 2 * w], 0);
      const q = applyDense(x, wq, bq);
      const kvp = applyDense(kv, wkv, bkv); // [B, Lk, 2w]
      ctxv = customOp((tq: tf.Tensor, tkv: tf.Tensor, save: tf.GradSaveFunc) => {
        const [out, lse] = run({ q: tq, kv: tkv, bias: kb }, KERNEL_ATTENTION, geom);
        save([tq, tkv, kb, lse]);
        return {
          value: out,
          gradFunc: (dy: tf.Tensor, [sq, skv, skb, slse]: tf.Tensor[]) =>
            run({ dy, q: sq, kv: skv, bias: skb, lse: slse }, KERNEL_ATTENTION_GRAD, { ...geom, packed: false }),
        };
      })(q, kvp);
    }
    return ctxv as tf.Tensor3D;
  }
  let bias: tf.Tensor = keyBias;
  if (causal) bias = tf.add(bias, causalBias(Lq, Lk));
  let q: tf.Tensor, k: tf.Tensor, v: tf.Tensor;
  if (!kv) {
    [q, k, v] = tf.split(applyDense(x, a.inW, a.inB), 3, 2); // 3 × [B, L, w]
  } else {
    const [wq, wkv] = tf.split(a.inW, [w, 2 * w], 1);
    const [bq, bkv] = tf.split(a.inB, [w, 2 * w], 0);
    q = applyDense(x, wq, bq);
    [k, v] = tf.split(applyDense(kv, wkv, bkv), 2, 2);
  }
  const qs = tf.reshape(tf.mul(q, dh ** -0.5), [B, Lq, h, dh]);
  const qh = tf.reshape(tf.transpose(qs, [0, 2, 1, 3]), [B * h, Lq, dh]) as tf.Tensor3D;
  const kT = tf.reshape(tf.transpose(tf.reshape(k, [B, Lk, h, dh]), [0, 2, 3, 1]), [B * h, dh, Lk]) as tf.Tensor3D;
  const vh = tf.reshape(tf.transpose(tf.reshape(v, [B, Lk, h, dh]), [0, 2, 1, 3]), [B * h, Lk, dh]) as tf.Tensor3D;
  const scores = tf.add(tf.reshape(bmm(qh, kT), [B, h, Lq, Lk]), bias); // [B, h, Lq, Lk]
  let probs = tf.softmax(scores);
  ctx.capture?.(name, probs as tf.Tensor4D);
  // The fused kernel's mask, indexed [B, h, Lq, Lk].
  if (rate > 0) probs = dropoutSeeded(probs, rate, seed);
  const ctxv = tf.reshape(
    tf.transpose(tf.reshape(bmm(tf.reshape(probs, [B * h, Lq, Lk]) as tf.Tensor3D, vh), [B, h, Lq, dh]), [0, 2, 1, 3]),
    [B, Lq, w],
  ) as tf.Tensor3D; // [B, Lq, w]
  return ctxv;
}
