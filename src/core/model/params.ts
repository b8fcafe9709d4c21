import * as tf from '../tf.ts';
import type { MT19937 } from '../random.ts';

/**
 * Every weight of a model, by its PyTorch state-dict name (so the code, the reference and the
 * parity fixture read side by side). Layouts are tfjs-friendly: a Linear weight is stored [in, out]
 * (PyTorch: [out, in]) so the forward pass is a plain 2-D matMul; `fromTorch` converts.
 */
export type Layout = 'plain' | 'linear' | 'conv1d';

interface Entry {
  variable: tf.Variable;
  layout: Layout;
  trainable: boolean;
}

export class ParamStore {
  readonly entries = new Map<string, Entry>();

  constructor(readonly rng: MT19937) {}

  private add(name: string, shape: number[], values: Float32Array, layout: Layout, trainable: boolean): tf.Variable {
    if (this.entries.has(name)) throw new Error(`parameter ${name} defined twice`);
    const variable = tf.tidy(() =>
      tf.variable(tf.tensor(values, shape, 'float32'), trainable, name + '#' + uniqueSuffix++),
    );
    this.entries.set(name, { variable, layout, trainable });
    return variable;
  }

  uniform(name: string, shape: number[], bound: number, layout: Layout = 'plain'): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = (2 * this.rng.random() - 1) * bound;
    return this.add(name, shape, v, layout, true);
  }

  normal(name: string, shape: number[], std: number): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = this.rng.normal() * std;
    return this.add(name, shape, v, 'plain', true);
  }

  constant(name: string, shape: number[], value: number, trainable = true): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    return this.add(name, shape, new Float32Array(n).fill(value), 'plain', trainable);
  }

  get(name: string): tf.Variable {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no parameter named ${name}`);
    return e.variable;
  }

  trainable(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => e.trainable).map((e) => e.variable);
  }

  trainableNames(): string[] {
    return [...this.entries].filter(([, e]) => e.trainable).map(([n]) => n);
  }

  /** Trainable parameter count, total and per top-level block (proj, hpa, macro, micro, recon, head). */
  count(): { total: number; byBlock: Record<string, number> } {
    const byBlock: Record<string, number> = {};
    let total = 0;
    for (const [name, e] of this.entries) {
      if (!e.trainable) continue;
      const block = name.split('.')[0];
      byBlock[block] = (byBlock[block] ?? 0) + e.variable.size;
      total += e.variable.size;
    }
    return { total, byBlock };
  }

  /** Copies weights in, converting from PyTorch layout when `torchLayout` is set. */
  load(name: string, shape: number[], data: Float32Array, torchLayout: boolean): void {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no parameter named ${name}`);
    const t = torchLayout ? fromTorch(e.layout, shape, data) : { shape, data };
    const want = e.variable.shape;
    if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i])) {
      throw new Error(`parameter ${name}: shape [${t.shape}] does not fit [${want}]`);
    }
    tf.tidy(() => e.variable.assign(tf.tensor(t.data, want, 'float32')));
  }

  /**
   * All values read back synchronously (tests, Node). Training uses `checkpoint`, which stays on the
   * device: on WebGPU a synchronous read is slow and on some setups returns zeros.
   */
  snapshot(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, e] of this.entries) out.set(name, e.variable.dataSync() as Float32Array);
    return out;
  }

  /**
   * A copy of every value that stays on the device (no read-back: on WebGPU a synchronous read is
   * slow and, on some setups, wrong). Give it back with `restoreCheckpoint`, free it with `disposeCheckpoint`.
   */
  checkpoint(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, e] of this.entries) out.set(name, tf.keep(e.variable.clone()));
    return out;
  }

  restoreCheckpoint(cp: Map<string, tf.Tensor>): void {
    // A fresh copy inside a tidy, as every other assign here: the checkpoint stays valid on its own.
    tf.tidy(() => {
      for (const [name, t] of cp) this.get(name).assign(t.clone());
    });
  }

  static disposeCheckpoint(cp: Map<string, tf.Tensor>): void {
    tf.dispose([...cp.values()]);
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}

let uniqueSuffix = 0;

/** PyTorch layout → ours: Linear [out, in] → [in, out]; Conv1d [out, in, k] → [k·in, out]. */
export function fromTorch(
  layout: Layout,
  shape: number[],
  data: Float32Array,
): { shape: number[]; data: Float32Array } {
  if (layout === 'linear') {
    const [o, i] = shape;
    const out = new Float32Array(o * i);
    for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) out[c * o + r] = data[r * i + c];
    return { shape: [i, o], data: out };
  }
  if (layout === 'conv1d') {
    const [o, i, k] = shape;
    const out = new Float32Array(k * i * o);
    for (let a = 0; a < o; a++)
      for (let c = 0; c < i; c++) for (let j = 0; j < k; j++) out[(j * i + c) * o + a] = data[(a * i + c) * k + j];
    return { shape: [k * i, o], data: out };
  }
  return { shape, data };
}
