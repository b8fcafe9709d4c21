import type * as tf from '../tf.ts';
import type { ParamStore } from './params.ts';
import {
  batchNorm,
  createBatchNorm,
  createLinear,
  dropout,
  linear,
  type BatchNorm,
  type Ctx,
  type Linear,
} from './ops.ts';

/** Prediction head (eq. 16): BatchNorm (affine) → Linear → ReLU → Dropout → Linear. */
export class Head {
  private readonly bn: BatchNorm;
  private readonly fc1: Linear;
  private readonly fc2: Linear;

  constructor(
    p: ParamStore,
    inF: number,
    hidden: number,
    outF: number,
    private readonly drop: number,
  ) {
    this.bn = createBatchNorm(p, 'head.0', inF, true);
    this.fc1 = createLinear(p, 'head.1', inF, hidden);
    this.fc2 = createLinear(p, 'head.4', hidden, outF);
  }

  forward(h: tf.Tensor2D, ctx: Ctx): tf.Tensor2D {
    const z = linear(this.fc1, batchNorm(this.bn, h, ctx.training), 'relu');
    return linear(this.fc2, dropout(z, this.drop, ctx)) as tf.Tensor2D;
  }
}
