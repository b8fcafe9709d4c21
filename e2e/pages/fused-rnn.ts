/**
 * Browser entry for e2e/tests/15-fused-rnn.spec.ts (bundled by the test with esbuild, served on the
 * app's origin through a route): the BiRNN of src/core/model/recurrent.ts on the webgpu backend,
 * forward and backward, once with the fused WebGPU scan and once op by op, on the same weights and
 * inputs. Counts compute dispatches (GPUComputePassEncoder.prototype.dispatchWorkgroups) for each.
 */
import { dispatchCount, maxDiff } from './compare.ts';
import * as tf from '../../src/core/tf.ts';
import '../../src/core/gradients.ts';
import '@tensorflow/tfjs-backend-webgpu';
import { installWebGPUFusedKernels } from '../../src/core/model/webgpu/kernels.ts';
import { BiRNN, fusedScan, type Cell } from '../../src/core/model/recurrent.ts';
import { ParamStore } from '../../src/core/model/params.ts';
import { MT19937 } from '../../src/core/random.ts';
import { modelPreset, MODALITIES } from '../../src/core/config/config.ts';
import type { ByModality } from '../../src/core/data/types.ts';
import { MFMBNet } from '../../src/core/model/mfmb.ts';
import { decodeTensor, type FixtureTensor } from '../../src/core/model/fixture.ts';
import { mfmbLoss } from '../../src/core/train/loss.ts';

export interface FusedRnnCase {
  cell: Cell;
  inF: number;
  hidden: number;
  layers: number;
  B: number;
  L: number;
  len: number[];
}

export interface PathResult {
  out: number[];
  grads: number[][]; // ∂loss/∂x, then every trainable weight
  forwardDispatches: number;
  stepDispatches: number; // forward + backward
  ms: number; // wall time of the counted forward + backward (SwiftShader: not a GPU speed figure)
}

export interface FusedRnnResult {
  backend: string;
  fused: PathResult;
  ops: PathResult;
  maxOutDiff: number;
  maxGradDiff: number; // max over tensors of max |a − b| / max(1, max |b|)
  names: string[];
}

async function runCase(c: FusedRnnCase): Promise<FusedRnnResult> {
  if (tf.getBackend() !== 'webgpu') {
    if (!(await tf.setBackend('webgpu'))) throw new Error('webgpu backend unavailable');
  }
  await tf.ready();
  const p = new ParamStore(new MT19937(5));
  const rnn = new BiRNN(p, 'rnn', c.cell, c.inF, c.hidden, c.layers);
  const rng = new MT19937(9);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const x = tf.variable(tf.tensor3d(rand(c.B * c.L * c.inF), [c.B, c.L, c.inF]), true, 'fusedRnnX');
  const W = tf.tensor3d(rand(c.B * c.L * 2 * c.hidden), [c.B, c.L, 2 * c.hidden]);
  const len = Int32Array.from(c.len);
  const vars = [x, ...p.trainable()];
  const once = async (fused: boolean): Promise<PathResult> => {
    fusedScan.webgpu = fused;
    // First a warm-up (pipelines compile), then the counted runs.
    for (let pass = 0; pass < 2; pass++) {
      const t0 = performance.now();
      const d0 = dispatchCount();
      const out = tf.tidy(() => rnn.forward(x, len));
      const outV = await out.data();
      const d1 = dispatchCount();
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(rnn.forward(x, len), W)) as tf.Scalar, vars);
      const gs = await Promise.all(vars.map(async (v) => Array.from(await grads[v.name].data())));
      const d2 = dispatchCount();
      out.dispose();
      tf.dispose(Object.values(grads));
      const ms = performance.now() - t0;
      if (pass === 1)
        return { out: Array.from(outV), grads: gs, forwardDispatches: d1 - d0, stepDispatches: d2 - d1, ms };
    }
    throw new Error('unreachable');
  };
  const fused = await once(true);
  const ops = await once(false);
  fusedScan.webgpu = true;
  const maxGradDiff = Math.max(...fused.grads.map((g, i) => maxDiff(g, ops.grads[i])));
  const result = {
    backend: tf.getBackend(),
    fused,
    ops,
    maxOutDiff: maxDiff(fused.out, ops.out),
    maxGradDiff,
    names: vars.map((v) => v.name),
  };
  tf.dispose([x, W]);
  p.trainable().forEach((v) => v.dispose());
  return result;
}

/**
 * The PyTorch parity fixture (src/core/model/__fixtures__/parity_tiny.json, fetched from `url`) on
 * webgpu with the fused scan, as src/core/model/parity.test.ts does on wasm for the all-on setting:
 * the eval-mode prediction, the train-mode loss and the gradients the fixture holds.
 */
export interface ParityResult {
  backend: string;
  predMaxErr: number; // max |got − want| / max(1, |want|)
  lossErr: number;
  grads: { name: string; relL2: number; absL2: number }[];
}

async function runParity(url: string, setting: string): Promise<ParityResult> {
  if (tf.getBackend() !== 'webgpu') await tf.setBackend('webgpu');
  await tf.ready();
  // As the app: the fused attention, dropout and LayerNorm kernels too (src/core/model/webgpu/kernels.ts).
  installWebGPUFusedKernels();
  fusedScan.webgpu = true;
  const fx = await (await fetch(url)).json();
  const s = fx.settings[setting];
  const c = fx.config;
  const build = (zeroDropout: boolean) => {
    const model = new MFMBNet(
      modelPreset('tiny', {
        dims: c.dims,
        lens: c.lens,
        branches: s.branches,
        ...(zeroDropout
          ? {
              textDropout: 0,
              dropout: 0,
              attnDropout: [0, 0, 0],
              selfAttnDropout: 0,
              fusionDropout: 0,
              headDropout: 0,
              macroDropout: 0,
            }
          : {}),
      }),
      999,
    );
    const own: Record<string, FixtureTensor> = s.own_weights;
    for (const name of s.state_names as string[]) {
      const t: FixtureTensor = own[name] ?? fx.weights[name];
      model.params.load(name, t.shape, decodeTensor(t), true);
    }
    return model;
  };
  const B: number = fx.B;
  const x = {} as ByModality<tf.Tensor3D>,
    clean = {} as ByModality<tf.Tensor3D>,
    drop = {} as ByModality<tf.Tensor2D>,
    len = {} as ByModality<Int32Array>;
  MODALITIES.forEach((m, i) => {
    const L = fx.lens[i],
      D = fx.dims[i];
    x[m] = tf.tensor3d(decodeTensor(fx.inputs.x[m]), [B, L, D]);
    clean[m] = tf.tensor3d(decodeTensor(fx.inputs.clean[m]), [B, L, D]);
    drop[m] = tf.tensor2d(decodeTensor(fx.inputs.drop[m]), [B, L]);
    len[m] = Int32Array.from(fx.inputs.lengths[m]);
  });
  const y = tf.tensor1d(decodeTensor(fx.inputs.y));

  const evalModel = build(false);
  const predT = tf.tidy(() => evalModel.forward({ x, len }, { training: false, rng: new MT19937(1) }).pred);
  const pred = await predT.data();
  predT.dispose();
  evalModel.params.dispose();
  const wantPred = decodeTensor(s.eval.pred);
  let predMaxErr = pred.length === wantPred.length ? 0 : Infinity;
  for (let i = 0; i < wantPred.length; i++)
    predMaxErr = Math.max(predMaxErr, Math.abs(pred[i] - wantPred[i]) / Math.max(1, Math.abs(wantPred[i])));

  const model = build(true);
  const names = model.params.trainableNames();
  const vars = model.params.trainable();
  const { value, grads } = tf.variableGrads(() => {
    const out = model.forward({ x, len }, { training: true, rng: new MT19937(1) });
    return mfmbLoss(out, y, [5, 2, 20], clean, drop, true).total;
  }, vars);
  const loss = (await value.data())[0];
  const gradErrs: ParityResult['grads'] = [];
  for (const name of Object.keys(s.train.grads)) {
    const v = vars[names.indexOf(name)];
    const want = decodeTensor(s.train.grads[name]);
    const got = toTorchLayout(
      (await grads[v.name].data()) as Float32Array,
      model.params.entries.get(name)!.layout,
      s.train.grads[name].shape,
    );
    let num = 0,
      den = 0;
    for (let i = 0; i < want.length; i++) {
      num += (got[i] - want[i]) ** 2;
      den += want[i] ** 2;
    }
    gradErrs.push({ name, relL2: Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12), absL2: Math.sqrt(num) });
  }
  tf.dispose([value, grads, y, Object.values(x), Object.values(clean), Object.values(drop)]);
  model.params.dispose();
  return {
    backend: tf.getBackend(),
    predMaxErr,
    lossErr: Math.abs(loss - s.train.loss) / Math.max(1, Math.abs(s.train.loss)),
    grads: gradErrs,
  };
}

/** As parity.test.ts: our [in, out] Linear weights and conv1d kernels → PyTorch's layout. */
function toTorchLayout(data: Float32Array, layout: string, torchShape: number[]): Float32Array {
  if (layout === 'linear') {
    const [o, i] = torchShape;
    const out = new Float32Array(o * i);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[r * i + c] = data[c * o + r];
    return out;
  }
  if (layout === 'conv1d') {
    const [o, i, k] = torchShape;
    const out = new Float32Array(o * i * k);
    for (let a = 0; a < o; a++)
      for (let c = 0; c < i; c++) for (let j = 0; j < k; j++) out[(a * i + c) * k + j] = data[(j * i + c) * o + a];
    return out;
  }
  return data;
}

(globalThis as unknown as { __fusedRnn: typeof runCase }).__fusedRnn = runCase;
(globalThis as unknown as { __fusedParity: typeof runParity }).__fusedParity = runParity;
(globalThis as unknown as { __fusedRnnReady: boolean }).__fusedRnnReady = true;
