import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf.ts';
import { initNodeBackend } from '../backend.ts';
import { Adam } from './adam.ts';

/**
 * The flat Adam against PyTorch (PROTOCOL.md "Training": clip by value 0.8, then L2 weight decay
 * 1e-3 added to the clipped gradient inside the step, bias correction, ε 1e-8 outside the sqrt).
 * Expected values were computed with torch 1.13 (float32) by this snippet:
 *
 *   import torch
 *   def run(init, grads, lr=0.1, wd=1e-3, clip=0.8):
 *       ps = [torch.nn.Parameter(torch.tensor(v, dtype=torch.float32)) for v in init]
 *       opt = torch.optim.Adam(ps, lr=lr, weight_decay=wd, eps=1e-8, foreach=False)
 *       out = []
 *       for step in grads:
 *           opt.zero_grad(set_to_none=True)
 *           for p, g in zip(ps, step):
 *               p.grad = None if g is None else torch.tensor(g, dtype=torch.float32)
 *           torch.nn.utils.clip_grad_value_([p for p in ps if p.grad is not None], clip)
 *           opt.step()
 *           out.append([p.detach().numpy().tolist() for p in ps])
 *       return out
 *   print(run(FULL_INIT, FULL_GRADS))
 *   print(run(PARTIAL_INIT, PARTIAL_GRADS))
 */

const LR = 0.1,
  WD = 1e-3,
  CLIP = 0.8;

const FULL_INIT = [
  [0.5, -1.0, 2.0, 0.0],
  [0.3, -0.2, 1.5],
];
const FULL_GRADS = [
  [
    [1.5, -0.3, 0.05, -2.0],
    [0.2, -0.9, 0.0],
  ],
  [
    [-0.4, 0.9, 0.1, 0.0],
    [-1.2, 0.6, 0.01],
  ],
  [
    [0.7, -0.7, 3.0, 0.2],
    [0.3, 0.3, -0.5],
  ],
];
const FULL_EXPECTED = [
  [
    [0.4000000059604645, -0.8999999761581421, 1.899999976158142, 0.10000000149011612],
    [0.20000001788139343, -0.10000000149011612, 1.4000006914138794],
  ],
  [
    [0.3733035624027252, -0.9460326433181763, 1.803266167640686, 0.1669965237379074],
    [0.25591617822647095, -0.09104755520820618, 1.3174854516983032],
  ],
  [
    [0.3176606297492981, -0.9329851269721985, 1.729468822479248, 0.20171302556991577],
    [0.2746583819389343, -0.10278256982564926, 1.3798803091049194],
  ],
];

// a: a gradient every step; b: none in step 1 (like recon during the L_gen warm-up); c: none in step 2.
const PARTIAL_INIT = [
  [0.5, -1.0],
  [0.3, -0.2, 1.5],
  [1.0, -2.0],
];
const PARTIAL_GRADS: (number[] | null)[][] = [
  [[1.5, -0.3], null, [0.4, -1.1]],
  [[-0.4, 0.9], [-1.2, 0.6, 0.01], null],
  [
    [0.7, -0.7],
    [0.3, 0.3, -0.5],
    [0.2, 0.9],
  ],
];
const PARTIAL_EXPECTED = [
  [
    [0.4000000059604645, -0.8999999761581421],
    [0.30000001192092896, -0.20000000298023224, 1.5],
    [0.8999999761581421, -1.899999976158142],
  ],
  [
    [0.3733035624027252, -0.9460326433181763],
    [0.4000000059604645, -0.29999998211860657, 1.4000000953674316],
    [0.8999999761581421, -1.899999976158142],
  ],
  [
    [0.3176606297492981, -0.9329851269721985],
    [0.43654340505599976, -0.39320817589759827, 1.472849726676941],
    [0.8067528605461121, -1.9050194025039673],
  ],
];

let uid = 0;

/** A variable whose initial tensor is disposed (tf.variable shares its data, so the tidy leaks nothing). */
function mkVar(v: number[]): tf.Variable {
  return tf.tidy(() => tf.variable(tf.tensor1d(v), true, `adamtest_${uid++}`));
}

function runAdam(
  init: number[][],
  grads: (number[] | null)[][],
): { after: number[][][]; vars: tf.Variable[]; opt: Adam } {
  const vars = init.map(mkVar);
  const opt = new Adam(vars, LR, WD, CLIP);
  const after: number[][][] = [];
  for (const step of grads) {
    const g: Record<string, tf.Tensor> = {};
    step.forEach((values, i) => {
      if (values) g[vars[i].name] = tf.tensor1d(values);
    });
    opt.step(g);
    tf.dispose(Object.values(g));
    after.push(vars.map((v) => Array.from(v.dataSync())));
  }
  return { after, vars, opt };
}

function expectClose(got: number[][][], want: number[][][]) {
  expect(got.length).toBe(want.length);
  got.forEach((step, s) =>
    step.forEach((v, i) =>
      v.forEach((x, k) => {
        const w = want[s][i][k];
        if (!(Math.abs(x - w) <= 2e-6 * Math.max(1, Math.abs(w))))
          throw new Error(`step ${s + 1}, variable ${i}, element ${k}: got ${x}, want ${w}`);
      }),
    ),
  );
}

describe('Adam matches PyTorch (clip by value, L2 after clipping, bias correction)', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('two variables, three steps, every gradient present', () => {
    const { after, vars, opt } = runAdam(FULL_INIT, FULL_GRADS);
    expectClose(after, FULL_EXPECTED);
    opt.dispose();
    tf.dispose(vars);
  });

  it('a variable without a gradient is left untouched, and its bias correction starts at its own step 1', () => {
    const { after, vars, opt } = runAdam(PARTIAL_INIT, PARTIAL_GRADS);
    // Step 1: b has no gradient → exactly its initial value (no decay, no moment update).
    expect(after[0][1]).toEqual(Array.from(Float32Array.from(PARTIAL_INIT[1])));
    // Step 2: c has no gradient → exactly its value after step 1.
    expect(after[1][2]).toEqual(after[0][2]);
    // b's first real step is a full-size, sign-like step (lr·ĝ/√v̂ with its own t = 1), as in PyTorch.
    after[1][1].forEach((x, k) => expect(Math.abs(x - PARTIAL_INIT[1][k])).toBeCloseTo(LR, 5));
    expectClose(after, PARTIAL_EXPECTED);
    opt.dispose();
    tf.dispose(vars);
  });

  it('a step leaves the tensor count unchanged and dispose releases its state', () => {
    const before = tf.memory().numTensors;
    const vars = FULL_INIT.map(mkVar);
    const opt = new Adam(vars, LR, WD, CLIP);
    const counts: number[] = [];
    for (const step of [...FULL_GRADS, ...FULL_GRADS]) {
      const g: Record<string, tf.Tensor> = {};
      step.forEach((values, i) => (g[vars[i].name] = tf.tensor1d(values)));
      opt.step(g);
      tf.dispose(Object.values(g));
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    opt.dispose();
    tf.dispose(vars);
    expect(tf.memory().numTensors, 'tensors left after opt.dispose()').toBe(before);
  });
});
