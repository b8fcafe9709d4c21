import * as tf from '../tf.ts';
import { MODALITIES, type Modality, type ModelConfig } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ParamStore } from './params.ts';
import type { SeqInfo } from './transformer.ts';
import { bmm, createLinear, keyBias, linear, MASKED, qkvActive, qkvProjection, type Linear } from './ops.ts';
import { packedAttention } from './transformer.ts';
import type { AttnGeom } from '../wasmAttention.ts';

/**
 * Reconstruction branch (eqs. 14–15): per modality, single-head self-attention over time within each
 * sample (scale 1/√(3d), padded keys masked, no residual, no LayerNorm), then an FFN back to D_m.
 * X̂_m only feeds L_gen.
 */
interface Block {
  q: Linear;
  k: Linear;
  v: Linear;
  ffn1: Linear;
  ffn2: Linear;
}

export class Recon {
  private readonly blocks = new Map<Modality, Block>();

  constructor(p: ParamStore, c: ModelConfig) {
    const w = 3 * c.d;
    const hidden = c.reconHidden || w;
    MODALITIES.forEach((m, i) => {
      const n = `recon.${m}`;
      this.blocks.set(m, {
        q: createLinear(p, `${n}.q`, w, w, 'torch', false),
        k: createLinear(p, `${n}.k`, w, w, 'torch', false),
        v: createLinear(p, `${n}.v`, w, w, 'torch', false),
        ffn1: createLinear(p, `${n}.ffn.0`, w, hidden),
        ffn2: createLinear(p, `${n}.ffn.2`, hidden, c.dims[i]),
      });
    });
  }

  forward(H: ByModality<tf.Tensor3D>, seq: ByModality<SeqInfo>): ByModality<tf.Tensor3D> {
    const out = {} as ByModality<tf.Tensor3D>;
    for (const m of MODALITIES) {
      const b = this.blocks.get(m)!;
      const x = H[m];
      const [B, L, w] = x.shape;
      if (qkvActive()) {
        // webgpu: q|k|v as one tensor, then the fused attention kernels (one head, no dropout).
        const P = qkvProjection(x, b.q.w, b.k.w, b.v.w); // [B, L, 3w]
        const kb = tf.reshape(keyBias(seq[m].valid, B, L), [B, L]);
        const geom: AttnGeom = {
          B,
          Lq: L,
          Lk: L,
          heads: 1,
          dh: w,
          qStride: 3 * w,
          qOff: 0,
          kvStride: 3 * w,
          kOff: w,
          vOff: 2 * w,
          scale: 1 / Math.sqrt(w),
          causalOff: -1,
          masked: MASKED,
          rate: 0,
          seed: 0,
        };
        const a = packedAttention(P, kb, geom); // [B, L, w]
        out[m] = linear(b.ffn2, linear(b.ffn1, a, 'relu')) as tf.Tensor3D;
        continue;
      }
      const q = linear(b.q, x) as tf.Tensor3D;
      const kT = tf.transpose(linear(b.k, x), [0, 2, 1]) as tf.Tensor3D; // [B, w, L]
      const v = linear(b.v, x) as tf.Tensor3D;
      const bias = tf.reshape(keyBias(seq[m].valid, B, L), [B, 1, L]);
      const a = tf.softmax(tf.add(tf.div(bmm(q, kT), Math.sqrt(w)), bias)) as tf.Tensor3D; // [B, L, L]
      out[m] = linear(b.ffn2, linear(b.ffn1, bmm(a, v), 'relu')) as tf.Tensor3D; // [B, L, D_m]
    }
    return out;
  }
}
