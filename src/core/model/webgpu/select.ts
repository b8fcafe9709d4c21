import * as tf from '../../tf.ts';

/**
 * Which fused WebGPU kernels the model takes. The kernels themselves (WGSL, kernels.ts) are loaded
 * only with the webgpu backend (a dynamic import where the backend is set up); this file is all the
 * model code needs to know: a switch per structure (tests and A/B counts turn one off to compare
 * with the op-by-op path) and whether the kernel is registered for the active backend.
 */
export const KERNEL_LAYER_NORM = 'MfmbLayerNorm';
export const KERNEL_LAYER_NORM_GRAD = 'MfmbLayerNormGrad';
export const KERNEL_ADAM = 'MfmbAdam';
/**
 * A Linear layer's backward, ∂x, ∂W and ∂b (through ReLU when the forward had one), as one program:
 * instead of two matMuls, a column sum and the ReLU mask.
 */
export const KERNEL_DENSE_GRAD = 'MfmbDenseGrad';
/** c + drop(x·W + b): a residual branch's last Linear layer, its dropout and the add as one program. */
export const KERNEL_DENSE_RESIDUAL = 'MfmbDenseResidual';
/** Scale, add and dropout in one pass: drop(x·s + c) (embedding) or c + drop(x·s) (residual). */
export const KERNEL_DROP_ADD = 'MfmbDropAdd';

/**
 * L_gen^m (SmoothL1 over the dropped positions, divided by their count × D + 1e-4) in one program
 * forward, returning the denominator too, and one backward.
 */
export const KERNEL_SMOOTH_L1 = 'MfmbSmoothL1';
export const KERNEL_SMOOTH_L1_GRAD = 'MfmbSmoothL1Grad';

/** Training-mode BatchNorm (batch statistics, running-statistics update) as one program each way. */
export const KERNEL_BATCH_NORM = 'MfmbBatchNorm';
export const KERNEL_BATCH_NORM_GRAD = 'MfmbBatchNormGrad';

/** The micro stream's memory gate (tanh, the kernel-3 conv, sigmoid, product): one program forward, two backward. */
export const KERNEL_MEMORY_GATE = 'MfmbMemoryGate';
export const KERNEL_MEMORY_GATE_GRAD = 'MfmbMemoryGateGrad';

/** The reconstruction's q, k and v projections (three bias-free Linear layers) into one [N, 3w] tensor. */
export const KERNEL_QKV = 'MfmbQkv';
export const KERNEL_QKV_GRAD = 'MfmbQkvGrad';

/** A cross-attention's q and k|v projections from the packed [w, 3w] matrix, one program each way. */
export const KERNEL_CROSS_PROJ = 'MfmbCrossProj';
export const KERNEL_CROSS_PROJ_GRAD = 'MfmbCrossProjGrad';

/** The recurrent weights of both directions packed gate by gate (`MfmbGatePack`) and back (`MfmbGateUnpack`). */
export const KERNEL_GATE_PACK = 'MfmbGatePack';
export const KERNEL_GATE_UNPACK = 'MfmbGateUnpack';

/**
 * `gatePack`: the bidirectional scan's fused weights built in one program each (recurrent.ts);
 * `dense`: Linear layers as tfjs's fused matMul (bias and ReLU in the same program) with a backward
 * of one program (`MfmbDenseGrad`), and batched matMuls' gradients with transpose flags; `dropAdd`: the embedding's scale–add–dropout and the residual
 * add with its dropout as one program each; `loss`: L_gen^m as one program each way;
 * `batchNorm`: training-mode BatchNorm likewise;
 * `memoryGate`: the micro stream's memory gate.
 */
export const webgpuFused = {
  attention: true,
  dropout: true,
  layerNorm: true,
  adam: true,
  dense: true,
  dropAdd: true,
  gatePack: true,
  loss: true,
  batchNorm: true,
  memoryGate: true,
};

/** True when the backend is webgpu, `kind` is switched on and `kernelName` is registered for webgpu. */
export function webgpuKernelActive(kind: keyof typeof webgpuFused, kernelName: string): boolean {
  return webgpuFused[kind] && tf.getBackend() === 'webgpu' && tf.getKernel(kernelName, 'webgpu') !== undefined;
}
