import * as tf from '../tf.ts';

/**
 * Adam as PyTorch runs it with the released code's settings: gradients clipped by value first, then
 * L2 weight decay added to the clipped gradient inside the step (wd·θ), then the bias-corrected
 * update with ε = 1e-8 outside the square root. A parameter without a gradient in a step (the
 * reconstruction branch during the L_gen warm-up) is skipped entirely, as PyTorch skips `grad is
 * None`: no decay, no moment update, and its own step count stays behind.
 *
 * All parameters are updated as ONE flat vector: a per-variable update costs ~10 kernel launches per
 * variable (≈3,000 for `base`), which would dominate a small model's step on wasm and WebGPU alike.
 */
export class Adam {
  private readonly sizes: number[];
  private readonly total: number;
  private readonly m: tf.Variable; // first moment, flat
  private readonly v: tf.Variable; // second moment, flat
  private readonly counts: number[]; // step count per parameter (PyTorch keeps one per parameter)
  private readonly activeMasks = new Map<string, tf.Tensor1D>();
  lr: number;

  constructor(
    private readonly vars: tf.Variable[],
    lr: number,
    private readonly weightDecay: number,
    private readonly clipValue: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {
    this.lr = lr;
    this.sizes = vars.map((v) => v.size);
    this.total = this.sizes.reduce((a, b) => a + b, 0);
    const zeros = () => tf.tidy(() => tf.variable(tf.zeros([this.total]), false));
    this.m = zeros();
    this.v = zeros();
    this.counts = vars.map(() => 0);
  }

  /** grads: by variable name, as tf.variableGrads returns them. Disposes nothing it was given. */
  step(grads: Record<string, tf.Tensor>): void {
    const { beta1: b1, beta2: b2 } = this;
    tf.tidy(() => {
      const present = this.vars.map((v) => v.name in grads);
      const allPresent = present.every(Boolean);
      const theta = tf.concat(this.vars.map((v) => tf.reshape(v, [-1])));
      const g = tf.add(
        tf.clipByValue(
          tf.concat(
            this.vars.map((v, i) => (present[i] ? tf.reshape(grads[v.name], [-1]) : tf.zeros([this.sizes[i]]))),
          ),
          -this.clipValue,
          this.clipValue,
        ),
        tf.mul(theta, this.weightDecay),
      );
      const active = allPresent ? null : this.activeMask(present);
      present.forEach((p, i) => {
        if (p) this.counts[i]++;
      });
      let m = tf.add(tf.mul(this.m, b1), tf.mul(g, 1 - b1));
      let v = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(g), 1 - b2));
      if (active) {
        m = tf.add(this.m, tf.mul(tf.sub(m, this.m), active));
        v = tf.add(this.v, tf.mul(tf.sub(v, this.v), active));
      }
      // Bias corrections: scalars when every parameter has taken the same number of steps (the usual
      // case), else per-element factors built here, 0 where a parameter is skipped this step.
      const t0 = this.counts[0];
      let update: tf.Tensor;
      if (!active && this.counts.every((c) => c === t0)) {
        const bc1 = 1 - b1 ** t0;
        const bc2Sqrt = Math.sqrt(1 - b2 ** t0);
        update = tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), bc2Sqrt), this.eps)), this.lr / bc1);
      } else {
        const invBc2 = new Float32Array(this.total);
        const step = new Float32Array(this.total);
        let o = 0;
        this.counts.forEach((c, i) => {
          const t = Math.max(c, 1);
          invBc2.fill(1 / Math.sqrt(1 - b2 ** t), o, o + this.sizes[i]);
          step.fill(present[i] ? this.lr / (1 - b1 ** t) : 0, o, o + this.sizes[i]);
          o += this.sizes[i];
        });
        update = tf.mul(tf.div(m, tf.add(tf.mul(tf.sqrt(v), tf.tensor1d(invBc2)), this.eps)), tf.tensor1d(step));
      }
      const next = tf.sub(theta, update);
      this.m.assign(m);
      this.v.assign(v);
      const parts = tf.split(next, this.sizes);
      this.vars.forEach((variable, i) => variable.assign(tf.reshape(parts[i], variable.shape)));
    });
  }

  private activeMask(present: boolean[]): tf.Tensor1D {
    const key = present.map((p) => (p ? 1 : 0)).join('');
    let mask = this.activeMasks.get(key);
    if (!mask) {
      const a = new Float32Array(this.total);
      let o = 0;
      present.forEach((p, i) => {
        if (p) a.fill(1, o, o + this.sizes[i]);
        o += this.sizes[i];
      });
      mask = tf.keep(tf.tensor1d(a));
      this.activeMasks.set(key, mask);
    }
    return mask;
  }

  dispose(): void {
    tf.dispose([this.m, this.v, ...this.activeMasks.values()]);
    this.activeMasks.clear();
  }
}
