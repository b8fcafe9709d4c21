/**
 * Trained weights out of a finished run. runExperiment disposes each model right after its
 * 'run-end' event, so the worker notes the model's variables at 'run-start' (ParamStore names each
 * tf variable "<pytorch name>#<n>") and at 'run-end' clones them (a clone shares the data, so this
 * is cheap and survives the model's disposal), then reads them back asynchronously.
 */
import * as tf from '../core/tf.ts';
import type { ModelSetting } from '../core/eval/experiment.ts';

const PARAM_NAME = /^(.+)#\d+$/;

export interface CapturedWeights {
  names: string[]; // PyTorch state-dict names, in model order
  shapes: number[][];
  ready: Promise<Float32Array[]>;
  setting?: ModelSetting;
  seed?: number;
}

/** Names of the live parameter variables right after a model was built. */
export function captureStart(): string[] {
  return Object.keys(tf.engine().state.registeredVariables).filter((n) => PARAM_NAME.test(n));
}

/**
 * Clones the variables noted at run start; null when they cannot be matched to the model safely
 * (the trainable sizes must add up to the run's parameter count).
 */
export function captureEnd(atStart: string[], expectedParams: number): CapturedWeights | null {
  const vars = tf.engine().state.registeredVariables;
  const live = atStart.filter((n) => vars[n] && !vars[n].isDisposed);
  const trainable = live.reduce((s, n) => s + (vars[n].trainable ? vars[n].size : 0), 0);
  if (live.length === 0 || trainable !== expectedParams) return null;
  const clones = live.map((n) => tf.clone(vars[n]));
  const names = live.map((n) => PARAM_NAME.exec(n)![1]);
  if (new Set(names).size !== names.length) {
    clones.forEach((c) => c.dispose());
    return null;
  }
  const shapes = clones.map((c) => [...c.shape]);
  const ready = (async () => {
    try {
      const out: Float32Array[] = [];
      for (const c of clones) out.push((await c.data()) as Float32Array);
      return out;
    } finally {
      clones.forEach((c) => c.dispose());
    }
  })();
  return { names, shapes, ready };
}
