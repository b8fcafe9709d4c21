import * as tf from '../tf.ts';

/**
 * `tf.variableGrads` that frees as it goes. tfjs 4.22's backward pass (engine.gradients) keeps every
 * intermediate gradient and every tensor saved for the backward pass until the whole backward pass
 * ends, so its peak is about forward activations + all gradients. This walks the same tape in the
 * same order with the same arithmetic, but disposes a tensor's gradient as soon as the node that
 * produced the tensor has consumed it, and a node's saved tensors right after its gradient ran.
 * Results are identical (the same kernels run in the same order).
 *
 * It uses engine internals (the tape, startTape/endTape, scopedRun), checked on each call; when any
 * is missing (another tfjs release) it falls back to tf.variableGrads.
 */

interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

/** Whether the freeing path can run (tfjs internals as expected); else variableGradsFreeing falls back. */
export function freeingGradsAvailable(): boolean {
  return internals() !== null;
}

function internals(): EngineInternals | null {
  const e = tf.engine() as unknown as Partial<EngineInternals>;
  const ok =
    tf.version_core === '4.22.0' &&
    typeof e.startTape === 'function' &&
    typeof e.endTape === 'function' &&
    typeof e.scopedRun === 'function' &&
    typeof e.tidy === 'function' &&
    e.state !== undefined &&
    typeof e.state.gradientDepth === 'number'; // activeTape appears only with the first tape
  return ok ? (e as EngineInternals) : null;
}

/** tfjs's getFilteredNodesXToY (tape.ts): the nodes on a path from xs to y, inputs pruned to those from xs. */
function filterTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX.has(node.inputs[name].id)) {
        node.outputs.forEach((o) => fromX.add(o.id));
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const name in node.inputs) {
        toY.add(node.inputs[name].id);
        nodesToY.add(node.id);
      }
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) if (fromX.has(node.inputs[name].id)) inputs[name] = node.inputs[name];
    out.push({ ...node, inputs, outputs: node.outputs });
  }
  return out;
}

export function variableGradsFreeing(
  f: () => tf.Scalar,
  vars: tf.Variable[],
): { value: tf.Scalar; grads: Record<string, tf.Tensor> } {
  const engine = internals();
  if (!engine) return tf.variableGrads(f, vars);
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  const tape = engine.state.activeTape ?? [];
  const filtered = filterTape(tape, vars, y);
  const keepIds = new Set<number>(vars.map((v) => v.id));
  const grads: (tf.Tensor | undefined)[] = [];
  engine.tidy('backward', () => {
    const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    for (let i = filtered.length - 1; i >= 0; i--) {
      const node = filtered[i];
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      if (!node.gradient)
        throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const inputGradients = node.gradient(dys);
      const produced = new Set<tf.Tensor>();
      const replaced: tf.Tensor[] = []; // freed after every input's gradient ran (a thunk may return dy itself)
      for (const name in node.inputs) {
        if (!(name in inputGradients)) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
        const dx = engine.tidy('grad', () => inputGradients[name]());
        const x = node.inputs[name];
        if (dx.dtype !== 'float32' || !tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(
            `gradient of ${node.kernelName} input ${name}: dtype ${dx.dtype}, shape ${dx.shape} vs ${x.shape}`,
          );
        }
        const cur = acc.get(x.id);
        if (cur === undefined) {
          acc.set(x.id, dx);
          produced.add(dx);
        } else {
          const sum = tf.add(cur, dx);
          acc.set(x.id, sum);
          produced.add(sum);
          replaced.push(cur, dx);
        }
      }
      for (const t of replaced) if (!produced.has(t)) t.dispose();
      // This node's outputs' gradients and its saved tensors are not needed again.
      for (const o of node.outputs) {
        const g = acc.get(o.id);
        if (g && !keepIds.has(o.id) && !produced.has(g)) {
          acc.delete(o.id);
          g.dispose();
        }
      }
      for (const t of node.saved ?? []) t.dispose();
    }
    vars.forEach((v, i) => (grads[i] = acc.get(v.id)));
    return grads.filter((g): g is tf.Tensor => g !== undefined);
  });
  if (engine.state.gradientDepth === 0) {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
  }
  const named: Record<string, tf.Tensor> = {};
  vars.forEach((v, i) => {
    const g = grads[i];
    if (g) named[v.name] = g;
  });
  return { value: y, grads: named };
}
