import * as tf from '../tf.ts';
import { KERNEL_ADAM, webgpuKernelActive } from '../model/webgpu/select.ts';

/**
 * Adam as PyTorch runs it with the released code's settings: gradients clipped by value first, then
 * L2 weight decay added to the clipped gradient inside the step (wd·θ), then the bias-corrected
 * update with ε = 1e-8 outside the square root. A parameter without a gradient in a step (the
 * reconstruction branch during the L_gen warm-up) is skipped entirely, as PyTorch skips `grad is
 * None`: no decay, no moment update, and its own step count stays behind.
 *
 * All parameters are updated as ONE flat vector: a per-variable update costs ~10 kernel launches per
 * variable (≈3,000 for `base`), which would dominate a small model's step on wasm and WebGPU alike.
 * On WebGPU the whole update is one fused program (webgpu/kernels.ts, `MfmbAdam`) over a state
 * buffer [θ | m | v]; parameters and gradients move in and out of it by buffer copies, not kernels.
 */
/** Adam's state between steps, as plain arrays (trainer checkpoints). */
export interface AdamState {
  m: Float32Array; // first moments, flat in parameter order
  v: Float32Array; // second moments
  counts: number[]; // step count per parameter
  lr: number; // after any plateau decay
}

export class Adam {
  private readonly sizes: number[];
  private readonly total: number;
  private readonly m: tf.Variable; // first moment, flat
  private readonly v: tf.Variable; // second moment, flat
  private readonly counts: number[]; // step count per parameter (PyTorch keeps one per parameter)
  private readonly activeMasks = new Map<string, tf.Tensor1D>();
  /** WebGPU path: [θ | m | v] [3T] after the last fused update (m and v live here, not in this.m/this.v). */
  private fusedState: tf.Tensor1D | null = null;
  /** The buffers the last fused update assigned, to tell whether θ in fusedState is still current. */
  private assigned: tf.DataId[] = [];
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
    if (webgpuKernelActive('adam', KERNEL_ADAM)) {
      this.fusedStep(grads);
      return;
    }
    this.leaveFused();
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
      const bc = this.biasCorrection(present, !active);
      const update =
        'bc2Sqrt' in bc
          ? tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), bc.bc2Sqrt), this.eps)), bc.step)
          : tf.mul(tf.div(m, tf.add(tf.mul(tf.sqrt(v), tf.tensor1d(bc.invBc2)), this.eps)), tf.tensor1d(bc.step));
      const next = tf.sub(theta, update);
      this.m.assign(m);
      this.v.assign(v);
      const parts = tf.split(next, this.sizes);
      this.vars.forEach((variable, i) => variable.assign(tf.reshape(parts[i], variable.shape)));
    });
  }

  /**
   * Bias corrections: scalars when every parameter has taken the same number of steps (the usual
   * case), else per-element factors, the step 0 where a parameter is skipped this step.
   */
  private biasCorrection(
    present: boolean[],
    allPresent: boolean,
  ): { bc2Sqrt: number; step: number } | { invBc2: Float32Array; step: Float32Array } {
    const { beta1: b1, beta2: b2 } = this;
    const t0 = this.counts[0];
    if (allPresent && this.counts.every((c) => c === t0))
      return { bc2Sqrt: Math.sqrt(1 - b2 ** t0), step: this.lr / (1 - b1 ** t0) };
    const invBc2 = new Float32Array(this.total);
    const step = new Float32Array(this.total);
    let o = 0;
    this.counts.forEach((c, i) => {
      const t = Math.max(c, 1);
      invBc2.fill(1 / Math.sqrt(1 - b2 ** t), o, o + this.sizes[i]);
      step.fill(present[i] ? this.lr / (1 - b1 ** t) : 0, o, o + this.sizes[i]);
      o += this.sizes[i];
    });
    return { invBc2, step };
  }

  /** The same update as one WebGPU program (webgpu/kernels.ts), identical arithmetic in the same order. */
  private fusedStep(grads: Record<string, tf.Tensor>): void {
    const { beta1: b1, beta2: b2 } = this;
    const present = this.vars.map((v) => v.name in grads);
    const allPresent = present.every(Boolean);
    present.forEach((p, i) => {
      if (p) this.counts[i]++;
    });
    const bc = this.biasCorrection(present, allPresent);
    tf.tidy(() => {
      // First fused step: the state starts from the op path's moments (zeros on a fresh optimiser).
      const state = this.fusedState ?? tf.concat([tf.zeros([this.total]), this.m, this.v]);
      const thetaInState = this.fusedState !== null && this.vars.every((v, i) => v.dataId === this.assigned[i]);
      const inputs: tf.NamedTensorMap = { state };
      this.vars.forEach((v, i) => {
        inputs[`g${i}`] = present[i] ? grads[v.name] : tf.zeros([this.sizes[i]]);
        if (!thetaInState) inputs[`t${i}`] = v;
      });
      const perElement = !('bc2Sqrt' in bc);
      if (perElement) {
        const coef = new Float32Array(3 * this.total);
        coef.set(this.activeMaskValues(present), 0);
        coef.set(bc.invBc2, this.total);
        coef.set(bc.step, 2 * this.total);
        inputs.coef = tf.tensor1d(coef);
      }
      const attrs = {
        sizes: this.sizes,
        thetaInState,
        perElement,
        b1,
        b2,
        eps: this.eps,
        wd: this.weightDecay,
        clip: this.clipValue,
        bc2Sqrt: perElement ? 1 : bc.bc2Sqrt,
        step: perElement ? 0 : bc.step,
      };
      const out = tf.engine().runKernel(KERNEL_ADAM, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      this.vars.forEach((variable, i) => variable.assign(tf.reshape(out[i], variable.shape)));
      this.assigned = this.vars.map((v) => v.dataId);
      if (this.fusedState) this.fusedState.dispose();
      this.fusedState = tf.keep(out[this.vars.length] as tf.Tensor1D);
    });
  }

  /** Back on the op path (another backend): the moments move from the fused state to this.m / this.v. */
  private leaveFused(): void {
    if (!this.fusedState) return;
    const s = this.fusedState;
    tf.tidy(() => {
      this.m.assign(tf.slice(s, [this.total], [this.total]));
      this.v.assign(tf.slice(s, [2 * this.total], [this.total]));
    });
    s.dispose();
    this.fusedState = null;
  }

  private activeMaskValues(present: boolean[]): Float32Array {
    const a = new Float32Array(this.total);
    let o = 0;
    present.forEach((p, i) => {
      if (p) a.fill(1, o, o + this.sizes[i]);
      o += this.sizes[i];
    });
    return a;
  }

  private activeMask(present: boolean[]): tf.Tensor1D {
    const key = present.map((p) => (p ? 1 : 0)).join('');
    let mask = this.activeMasks.get(key);
    if (!mask) {
      mask = tf.keep(tf.tensor1d(this.activeMaskValues(present)));
      this.activeMasks.set(key, mask);
    }
    return mask;
  }

  /**
   * The optimiser's state as plain arrays (a resumable checkpoint): moments, per-parameter step
   * counts and the lr. Read asynchronously, as every read in training (WebGPU's synchronous read is
   * slow); the moments come from the fused state when the last step ran there.
   */
  async exportState(): Promise<AdamState> {
    const [m, v] = tf.tidy(() =>
      this.fusedState
        ? [
            tf.slice(this.fusedState, [this.total], [this.total]),
            tf.slice(this.fusedState, [2 * this.total], [this.total]),
          ]
        : [tf.clone(this.m), tf.clone(this.v)],
    );
    try {
      return {
        m: new Float32Array((await m.data()) as Float32Array),
        v: new Float32Array((await v.data()) as Float32Array),
        counts: [...this.counts],
        lr: this.lr,
      };
    } finally {
      tf.dispose([m, v]);
    }
  }

  /** Continues from an exportState() of an optimiser over the same parameters. */
  importState(s: AdamState): void {
    if (
      !(s.m instanceof Float32Array) ||
      !(s.v instanceof Float32Array) ||
      s.m.length !== this.total ||
      s.v.length !== this.total
    )
      throw new Error(`optimiser state does not fit: ${this.total} moment values expected`);
    if (
      !Array.isArray(s.counts) ||
      s.counts.length !== this.counts.length ||
      !s.counts.every((c) => Number.isInteger(c) && c >= 0)
    )
      throw new Error(`optimiser state does not fit: ${this.counts.length} step counts expected`);
    // The fused state (WebGPU) is rebuilt from this.m / this.v on its next step.
    this.fusedState?.dispose();
    this.fusedState = null;
    this.assigned = [];
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(s.m));
      this.v.assign(tf.tensor1d(s.v));
    });
    s.counts.forEach((c, i) => (this.counts[i] = c));
    this.lr = s.lr;
  }

  dispose(): void {
    tf.dispose([this.m, this.v, ...this.activeMasks.values()]);
    this.fusedState?.dispose();
    this.fusedState = null;
    this.activeMasks.clear();
  }
}
