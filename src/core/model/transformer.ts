import * as tf from '../tf.ts';
import type { ParamStore } from './params.ts';
import {
  applyDense,
  bmm,
  createLayerNorm,
  createLinear,
  dropout,
  keyBias,
  layerNorm,
  linear,
  MASKED,
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
    name: string,
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
    return dropout(
      tf.add(tf.mul(x, Math.sqrt(this.width)), sinusoid(info.pos, B, L, this.width)),
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
    let bias: tf.Tensor = keyBias(keys.valid, B, keys.L); // [B, 1, 1, Lk]
    if (this.causal) bias = tf.add(bias, causalBias(q.L, keys.L));
    this.layers.forEach((layer, i) => {
      const hn = layerNorm(layer.ln0, h) as tf.Tensor3D;
      const kvn = kvEmb ? (layerNorm(layer.ln0, kvEmb) as tf.Tensor3D) : null;
      let a: tf.Tensor3D;
      if (keepFrom > 0 && i === this.layers.length - 1) {
        if (this.causal) throw new Error('keepFrom is not supported with a causal mask');
        const part = (t: tf.Tensor3D) => tf.slice(t, [0, keepFrom, 0], [B, Lq - keepFrom, w]);
        a = attention(layer.attn, part(hn), kvn ?? hn, bias, ctx);
        h = part(h);
      } else {
        a = attention(layer.attn, hn, kvn, bias, ctx);
      }
      h = tf.add(h, dropout(a, this.drop, ctx));
      const f = linear(layer.fc2, dropout(tf.relu(linear(layer.fc1, layerNorm(layer.ln1, h))), this.drop, ctx));
      h = tf.add(h, dropout(f, this.drop, ctx));
    });
    if (keepFrom > 0 && this.layers.length === 0) h = tf.slice(h, [0, keepFrom, 0], [B, Lq - keepFrom, w]);
    return layerNorm(this.ln, h) as tf.Tensor3D;
  }
}

/** fairseq's buffered future mask: key j is allowed for query i iff j ≤ i + |Lk − Lq|. */
function causalBias(Lq: number, Lk: number): tf.Tensor {
  const off = Math.abs(Lk - Lq);
  const m = new Float32Array(Lq * Lk);
  for (let i = 0; i < Lq; i++) for (let j = 0; j < Lk; j++) if (j > i + off) m[i * Lk + j] = MASKED;
  return tf.tensor4d(m, [1, 1, Lq, Lk]);
}

/** Multi-head attention; kv = null means self-attention on x. bias [B|1, 1, Lq|1, Lk] is additive. */
function attention(a: MHA, x: tf.Tensor3D, kv: tf.Tensor3D | null, bias: tf.Tensor, ctx: Ctx): tf.Tensor3D {
  const [B, Lq, w] = x.shape;
  const Lk = kv ? kv.shape[1] : Lq;
  const h = a.heads;
  const dh = w / h;
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
  const probs = tf.reshape(dropout(tf.softmax(scores), a.attnDrop, ctx), [B * h, Lq, Lk]) as tf.Tensor3D;
  const ctxv = tf.reshape(tf.transpose(tf.reshape(bmm(probs, vh), [B, h, Lq, dh]), [0, 2, 1, 3]), [B, Lq, w]); // [B, Lq, w]
  return linear(a.out, ctxv) as tf.Tensor3D;
}
