import * as tf from '../tf.ts';
import { MODALITIES, type Modality, type ModelConfig } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ParamStore } from './params.ts';
import { Encoder, type SeqInfo } from './transformer.ts';
import type { Ctx } from './ops.ts';

/**
 * Hybrid parallel attention (eq. 2): for each target m, a self net and two cross nets (queries
 * from m, keys/values from each other modality) side by side; their outputs concatenate on
 * features as [self, cross←first other, cross←second other] → H_m [B, L_m, 3d].
 */
export class HPA {
  private readonly nets = new Map<string, Encoder>();

  constructor(
    p: ParamStore,
    private readonly c: ModelConfig,
  ) {
    MODALITIES.forEach((m) => {
      MODALITIES.forEach((n, j) => {
        // Self nets all use the self-attention dropout; cross nets use the key source's rate.
        const attnDrop = n === m ? c.selfAttnDropout : c.attnDropout[j];
        this.nets.set(
          m + n,
          new Encoder(p, `hpa.nets.${m}${n}`, c.d, c.hpaHeads, c.hpaLayers, c.dropout, attnDrop, c.causalMask),
        );
      });
    });
  }

  forward(h: ByModality<tf.Tensor3D>, seq: ByModality<SeqInfo>, ctx: Ctx): ByModality<tf.Tensor3D> {
    const out = {} as ByModality<tf.Tensor3D>;
    for (const m of MODALITIES) {
      const s = this.nets.get(m + m)!.forward(h[m], seq[m], ctx);
      const query = this.c.alignment === 'sequential' ? s : h[m];
      const crosses = MODALITIES.filter((n): n is Modality => n !== m).map((n) =>
        this.nets.get(m + n)!.forward(query, seq[m], ctx, h[n], seq[n]),
      );
      out[m] = tf.concat([s, ...crosses], 2) as tf.Tensor3D; // [B, L_m, 3d]
    }
    return out;
  }
}
