import * as tf from '../tf.ts';
import { MODALITIES, validateModelConfig, type ModelConfig } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import { MT19937 } from '../random.ts';
import { ParamStore } from './params.ts';
import { createLinear, dropout, linear, positions, validMask, type Ctx, type Linear } from './ops.ts';
import { HPA } from './hpa.ts';
import { Macro } from './macro.ts';
import { Micro } from './micro.ts';
import { Recon } from './recon.ts';
import { Head } from './head.ts';
import type { SeqInfo } from './transformer.ts';
import type { Model, ModelInput, ModelOutput } from './model.ts';

/**
 * MFMB-Net (MODEL.md): unimodal encoders → HPA alignment → macro (coarse hub) and micro
 * (pseudo-Siamese) fusion streams → head, plus the reconstruction branch for L_gen. A disabled
 * branch is never constructed, so it owns no variables and runs no ops.
 */
export class MFMBNet implements Model {
  readonly params: ParamStore;
  private readonly proj = {} as ByModality<Linear>;
  private readonly hpa: HPA;
  private readonly macro: Macro | null;
  private readonly micro: Micro | null;
  private readonly recon: Recon | null;
  private readonly head: Head;

  constructor(
    readonly config: ModelConfig,
    seed: number,
  ) {
    validateModelConfig(config);
    const c = config;
    this.params = new ParamStore(new MT19937(seed));
    const p = this.params;
    MODALITIES.forEach((m, i) => (this.proj[m] = createLinear(p, `proj.${m}`, c.dims[i], c.d)));
    this.hpa = new HPA(p, c);
    this.macro = c.branches.macro ? new Macro(p, c) : null;
    this.micro = c.branches.micro ? new Micro(p, c) : null;
    this.recon = c.branches.recon ? new Recon(p, c) : null;
    const feat = (c.branches.macro ? 3 * c.d : 0) + (c.branches.micro ? Micro.outWidth(c) : 0);
    this.head = new Head(p, feat, c.headHidden, c.numClasses, c.headDropout);
  }

  forward(input: ModelInput, ctx: Ctx): ModelOutput {
    const seq = {} as ByModality<SeqInfo>;
    MODALITIES.forEach((m, i) => {
      const L = input.x[m].shape[1];
      if (L !== this.config.lens[i])
        throw new Error(`input ${m}: length ${L} does not match the model's L=${this.config.lens[i]}`);
      seq[m] = { pos: positions(input.len[m], L), valid: validMask(input.len[m], L), L };
    });
    const h = {} as ByModality<tf.Tensor3D>;
    for (const m of MODALITIES) {
      const x = m === 't' ? (dropout(input.x.t, this.config.textDropout, ctx) as tf.Tensor3D) : input.x[m];
      h[m] = linear(this.proj[m], x) as tf.Tensor3D; // [B, L_m, d]
    }
    const H = this.hpa.forward(h, seq, ctx); // [B, L_m, 3d]
    const feats: tf.Tensor2D[] = [];
    if (this.macro) feats.push(this.macro.forward(H, seq, ctx)); // H_f [B, 3d]
    if (this.micro) feats.push(this.micro.forward(H, seq, input.len, ctx)); // H_fusion [B, 360]
    const pred = this.head.forward(feats.length === 1 ? feats[0] : (tf.concat(feats, 1) as tf.Tensor2D), ctx);
    return { pred, recon: this.recon ? this.recon.forward(H, seq) : null };
  }
}
