import type * as tf from '../tf.ts';
import type { ModelConfig } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ParamStore } from './params.ts';
import type { Ctx } from './ops.ts';

/** What every model (MFMB-Net and the Table-2 baselines) takes and gives. */
export interface ModelInput {
  x: ByModality<tf.Tensor3D>; // [B, L_m, D_m], already masked
  len: ByModality<Int32Array>; // [B] valid lengths (JS side: masks and positions are built from them)
}

export interface ModelOutput {
  pred: tf.Tensor2D; // [B, numClasses]
  recon: ByModality<tf.Tensor3D> | null; // X̂_m [B, L_m, D_m] when the reconstruction branch is on
}

export interface Model {
  readonly config: ModelConfig;
  readonly params: ParamStore;
  forward(input: ModelInput, ctx: Ctx): ModelOutput;
}
