/**
 * Browser entry for e2e/tests/16-fused-webgpu.spec.ts (bundled by the test with esbuild, served on
 * the app's origin through a route): the fused WebGPU kernels (src/core/model/webgpu/kernels.ts)
 * against the op-by-op path on the same backend, same weights, inputs and dropout seeds.
 *
 * - encoder: the transformer Encoder (attention, LayerNorm, dropout with rates > 0) forward and
 *   backward, fused vs op by op: output and the gradients of the input and every weight;
 * - model: the whole tiny MFMB-Net (every Linear with its bias and ReLU, the reconstruction's batched
 *   matMuls, the recurrent weights' packing, the embedding and residual dropout–adds) forward and
 *   backward, fused vs op by op: predictions, reconstructions and the gradient of every weight;
 * - adam: Adam steps (one with a parameter lacking its gradient) fused vs op by op.
 * Counts compute dispatches (GPUComputePassEncoder.prototype.dispatchWorkgroups) for each.
 */
import { dispatchCount, maxDiff } from './compare.ts';
import * as tf from '../../src/core/tf.ts';
import '../../src/core/gradients.ts';
import '@tensorflow/tfjs-backend-webgpu';
import { installWebGPUFusedKernels } from '../../src/core/model/webgpu/kernels.ts';
import { webgpuFused } from '../../src/core/model/webgpu/select.ts';
import { Encoder, type SeqInfo } from '../../src/core/model/transformer.ts';
import { ParamStore } from '../../src/core/model/params.ts';
import { positions, validMask } from '../../src/core/model/ops.ts';
import { Adam } from '../../src/core/train/adam.ts';
import { MFMBNet } from '../../src/core/model/mfmb.ts';
import { lossTermsVector, mfmbLoss } from '../../src/core/train/loss.ts';
import { MODALITIES, modelPreset } from '../../src/core/config/config.ts';
import { MT19937 } from '../../src/core/random.ts';

export interface EncoderCase {
  width: number;
  heads: number;
  layers: number;
  B: number;
  Lq: number;
  Lk: number; // 0: self-attention
  lenQ: number[];
  lenK: number[];
  causal: boolean;
  drop: number;
  attnDrop: number;
  /** Which fused kernels the fused run takes (default: all). */
  kinds?: (keyof typeof webgpuFused)[];
}

export interface Compared {
  backend: string;
  maxOutDiff: number;
  maxGradDiff: number; // max over tensors of max |a − b| / max(1, max |b|)
  worst: string;
  dispatches: { fused: number; ops: number };
}

const KINDS = Object.keys(webgpuFused) as (keyof typeof webgpuFused)[];

function setFused(on: boolean, kinds = KINDS): void {
  for (const k of KINDS) webgpuFused[k] = on && kinds.includes(k);
}

async function ready(): Promise<void> {
  if (tf.getBackend() !== 'webgpu' && !(await tf.setBackend('webgpu'))) throw new Error('webgpu backend unavailable');
  await tf.ready();
  installWebGPUFusedKernels();
}

const info = (len: number[], L: number): SeqInfo => {
  const l = Int32Array.from(len);
  return { pos: positions(l, L), valid: validMask(l, L), L };
};

async function runEncoder(c: EncoderCase): Promise<Compared> {
  await ready();
  const p = new ParamStore(new MT19937(5));
  const enc = new Encoder(p, 'enc', c.width, c.heads, c.layers, c.drop, c.attnDrop, c.causal);
  const rng = new MT19937(9);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const x = tf.variable(tf.tensor3d(rand(c.B * c.Lq * c.width), [c.B, c.Lq, c.width]), true, 'encX');
  const kv = c.Lk ? tf.variable(tf.tensor3d(rand(c.B * c.Lk * c.width), [c.B, c.Lk, c.width]), true, 'encKv') : null;
  const W = tf.tensor3d(rand(c.B * c.Lq * c.width), [c.B, c.Lq, c.width]);
  const qi = info(c.lenQ, c.Lq);
  const ki = c.Lk ? info(c.lenK, c.Lk) : undefined;
  const vars = [x, ...(kv ? [kv] : []), ...p.trainable()];
  const once = async (fused: boolean) => {
    setFused(fused, c.kinds);
    let last: { out: Float32Array; grads: Float32Array[]; n: number } | null = null;
    for (let pass = 0; pass < 2; pass++) {
      const d0 = dispatchCount();
      const ctx = { training: true, rng: new MT19937(77) };
      const { value, grads } = tf.variableGrads(() => {
        const y = enc.forward(x, qi, ctx, kv ?? undefined, ki);
        return tf.sum(tf.mul(y, W)) as tf.Scalar;
      }, vars);
      const out = tf.tidy(() => enc.forward(x, qi, { training: true, rng: new MT19937(77) }, kv ?? undefined, ki));
      const o = (await out.data()) as Float32Array;
      const gs = await Promise.all(vars.map(async (v) => (await grads[v.name].data()) as Float32Array));
      last = { out: o, grads: gs, n: dispatchCount() - d0 };
      tf.dispose([value, out, ...Object.values(grads)]);
    }
    return last!;
  };
  const f = await once(true);
  const o = await once(false);
  setFused(true);
  let maxGradDiff = 0,
    worst = '';
  f.grads.forEach((g, i) => {
    const d = maxDiff(g, o.grads[i]);
    if (d >= maxGradDiff) {
      maxGradDiff = d;
      worst = vars[i].name;
    }
  });
  const r = {
    backend: tf.getBackend(),
    maxOutDiff: maxDiff(f.out, o.out),
    maxGradDiff,
    worst,
    dispatches: { fused: f.n, ops: o.n },
  };
  tf.dispose(vars);
  W.dispose();
  return r;
}

export interface ModelCase {
  B: number;
  lens: [number, number, number];
  dims: [number, number, number];
  len: [number[], number[], number[]];
}

/**
 * The tiny MFMB-Net (all branches, dropout on) fused vs op by op; loss = Σ pred·Wp + Σₘ Σ recon_m·W_m +
 * the objective (L_task + Σₘ L_gen^m); its terms are compared too.
 */
async function runModel(c: ModelCase): Promise<Compared> {
  await ready();
  const model = new MFMBNet(modelPreset('tiny', { dims: c.dims, lens: c.lens }), 21);
  const rng = new MT19937(13);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const x = {} as Record<(typeof MODALITIES)[number], tf.Tensor3D>;
  const len = {} as Record<(typeof MODALITIES)[number], Int32Array>;
  const Wr = {} as Record<(typeof MODALITIES)[number], tf.Tensor3D>;
  MODALITIES.forEach((m, i) => {
    x[m] = tf.tensor3d(rand(c.B * c.lens[i] * c.dims[i]), [c.B, c.lens[i], c.dims[i]]);
    Wr[m] = tf.tensor3d(rand(c.B * c.lens[i] * c.dims[i]), [c.B, c.lens[i], c.dims[i]]);
    len[m] = Int32Array.from(c.len[i]);
  });
  const Wp = tf.tensor2d(rand(c.B), [c.B, 1]);
  // The objective's L_gen on top (its own kernels when fused): the clean inputs, about half the real
  // positions dropped, each α = 1 — and a scaled copy of x as "clean" so |d| crosses SmoothL1's knee.
  const clean = {} as Record<(typeof MODALITIES)[number], tf.Tensor3D>;
  const drop = {} as Record<(typeof MODALITIES)[number], tf.Tensor2D>;
  MODALITIES.forEach((m, i) => {
    clean[m] = tf.mul(x[m], 0.5) as tf.Tensor3D;
    const d = new Float32Array(c.B * c.lens[i]);
    for (let b = 0; b < c.B; b++)
      for (let t = 0; t < c.len[i][b]; t++) d[b * c.lens[i] + t] = rng.random() < 0.5 ? 1 : 0;
    drop[m] = tf.tensor2d(d, [c.B, c.lens[i]]);
  });
  const y = tf.tensor1d(rand(c.B));
  const vars = model.params.trainable();
  const loss = (o: ReturnType<MFMBNet['forward']>) =>
    MODALITIES.reduce(
      (acc, m) => tf.add(acc, tf.sum(tf.mul(o.recon![m], Wr[m]))),
      tf.add(tf.sum(tf.mul(o.pred, Wp)), mfmbLoss(o, y, [1, 1, 1], clean, drop, true).total),
    ) as tf.Scalar;
  const once = async (fused: boolean) => {
    setFused(fused);
    const d0 = dispatchCount();
    const { value, grads } = tf.variableGrads(
      () => loss(model.forward({ x, len }, { training: true, rng: new MT19937(77) })),
      vars,
    );
    const n = dispatchCount() - d0;
    const out = tf.tidy(() => {
      const o = model.forward({ x, len }, { training: true, rng: new MT19937(77) });
      const terms = lossTermsVector(mfmbLoss(o, y, [1, 1, 1], clean, drop, true)); // [total, task, L_gen t/a/v]
      return tf.concat([tf.reshape(o.pred, [-1]), ...MODALITIES.map((m) => tf.reshape(o.recon![m], [-1])), terms]);
    });
    const o = (await out.data()) as Float32Array;
    const gs = await Promise.all(vars.map(async (v) => (await grads[v.name].data()) as Float32Array));
    tf.dispose([value, out, ...Object.values(grads)]);
    return { out: o, grads: gs, n };
  };
  await once(true); // compiles every program once, so the counts below are steady-state
  const f = await once(true);
  const o = await once(false);
  setFused(true);
  let maxGradDiff = 0,
    worst = '';
  f.grads.forEach((g, i) => {
    const d = maxDiff(g, o.grads[i]);
    if (d >= maxGradDiff) {
      maxGradDiff = d;
      worst = vars[i].name;
    }
  });
  tf.dispose([...Object.values(x), ...Object.values(Wr), ...Object.values(clean), ...Object.values(drop), y, Wp]);
  return {
    backend: tf.getBackend(),
    maxOutDiff: maxDiff(f.out, o.out),
    maxGradDiff,
    worst,
    dispatches: { fused: f.n, ops: o.n },
  };
}

/** Three Adam steps, the second without a gradient for the last parameter; params after each. */
async function runAdam(): Promise<Compared & { steps: number }> {
  await ready();
  const shapes = [[7, 5], [5], [3, 4, 2], [11]];
  const rng = new MT19937(3);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const init = shapes.map((s) => rand(s.reduce((a, b) => a * b, 1)));
  const gradsAt = [0, 1, 2].map(() => init.map((v) => rand(v.length)));
  const once = async (fused: boolean) => {
    setFused(fused);
    const vars = shapes.map((s, i) => tf.variable(tf.tensor(init[i], s), true, `adam${fused}_${i}`));
    const opt = new Adam(vars, 1e-2, 1e-3, 0.8);
    const after: Float32Array[][] = [];
    let n = 0;
    for (let k = 0; k < 3; k++) {
      const g: Record<string, tf.Tensor> = {};
      vars.forEach((v, i) => {
        if (!(k === 1 && i === vars.length - 1)) g[v.name] = tf.tensor(gradsAt[k][i], shapes[i]);
      });
      const d0 = dispatchCount();
      opt.step(g);
      after.push(await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array)));
      n += dispatchCount() - d0;
      tf.dispose(Object.values(g));
    }
    opt.dispose();
    tf.dispose(vars);
    return { after, n };
  };
  const f = await once(true);
  const o = await once(false);
  setFused(true);
  let m = 0;
  f.after.forEach((step, k) => step.forEach((v, i) => (m = Math.max(m, maxDiff(v, o.after[k][i])))));
  return {
    backend: tf.getBackend(),
    maxOutDiff: m,
    maxGradDiff: 0,
    worst: '',
    dispatches: { fused: f.n, ops: o.n },
    steps: 3,
  };
}

(globalThis as unknown as { __fusedEncoder: typeof runEncoder }).__fusedEncoder = runEncoder;
(globalThis as unknown as { __fusedAdam: typeof runAdam }).__fusedAdam = runAdam;
(globalThis as unknown as { __fusedModel: typeof runModel }).__fusedModel = runModel;
(globalThis as unknown as { __fusedWebgpuReady: boolean }).__fusedWebgpuReady = true;
