import * as tf from '../../tf.ts';
import { KERNEL_ATTENTION, KERNEL_ATTENTION_GRAD, KERNEL_DROPOUT } from '../../wasmAttention.ts';
import {
  KERNEL_ADAM,
  KERNEL_BATCH_NORM,
  KERNEL_BATCH_NORM_GRAD,
  KERNEL_CROSS_PROJ,
  KERNEL_CROSS_PROJ_GRAD,
  KERNEL_DENSE_GRAD,
  KERNEL_DENSE_RESIDUAL,
  KERNEL_DROP_ADD,
  KERNEL_GATE_PACK,
  KERNEL_GATE_UNPACK,
  KERNEL_LAYER_NORM,
  KERNEL_LAYER_NORM_GRAD,
  KERNEL_QKV,
  KERNEL_QKV_GRAD,
  KERNEL_MEMORY_GATE,
  KERNEL_MEMORY_GATE_GRAD,
  KERNEL_SMOOTH_L1,
  KERNEL_SMOOTH_L1_GRAD,
} from './select.ts';
import { dropAddKernel, dropoutKernel, gatePackKernel, gateUnpackKernel } from './elementwise.ts';
import { attentionGradKernel, attentionKernel } from './attention.ts';
import { batchNormGradKernel, batchNormKernel, layerNormGradKernel, layerNormKernel } from './norm.ts';
import { memoryGateGradKernel, memoryGateKernel } from './gate.ts';
import {
  crossProjGradKernel,
  crossProjKernel,
  denseGradKernel,
  denseResidualKernel,
  qkvGradKernel,
  qkvKernel,
} from './dense.ts';
import { smoothL1GradKernel, smoothL1Kernel } from './loss.ts';
import { adamKernel } from './adam.ts';

/**
 * Fused WebGPU kernels registered for the `webgpu` backend under the names the model already uses
 * on wasm (`MfmbAttention`, `MfmbAttentionGrad`, `MfmbDropout`, same attributes and semantics) plus
 * LayerNorm, BatchNorm, Linear layers' backwards, the attention projections, the memory gate, L_gen,
 * Adam's update and the dropout–add pairs. Each is one to three compute programs run through
 * tfjs-backend-webgpu's `runWebGPUProgram`, replacing tens of small kernels each; one file per
 * structure (attention.ts, dense.ts, norm.ts, gate.ts, loss.ts, adam.ts, elementwise.ts), the shared
 * program helpers in program.ts.
 *
 * Loaded only with the webgpu backend (a dynamic import next to the backend's own), so the wasm and
 * cpu bundles carry none of this WGSL. Like scan.ts it does not import the webgpu package: programs
 * are plain objects with the fields of its WebGPUProgram interface.
 */

let installed = false;

/** Registers the fused kernels for the webgpu backend, once. */
export function installWebGPUFusedKernels(): void {
  if (installed) return;
  installed = true;
  for (const [kernelName, fn] of [
    [KERNEL_ATTENTION, attentionKernel],
    [KERNEL_ATTENTION_GRAD, attentionGradKernel],
    [KERNEL_DROPOUT, dropoutKernel],
    [KERNEL_LAYER_NORM, layerNormKernel],
    [KERNEL_LAYER_NORM_GRAD, layerNormGradKernel],
    [KERNEL_ADAM, adamKernel],
    [KERNEL_DROP_ADD, dropAddKernel],
    [KERNEL_GATE_PACK, gatePackKernel],
    [KERNEL_GATE_UNPACK, gateUnpackKernel],
    [KERNEL_DENSE_GRAD, denseGradKernel],
    [KERNEL_DENSE_RESIDUAL, denseResidualKernel],
    [KERNEL_SMOOTH_L1, smoothL1Kernel],
    [KERNEL_QKV, qkvKernel],
    [KERNEL_QKV_GRAD, qkvGradKernel],
    [KERNEL_MEMORY_GATE, memoryGateKernel],
    [KERNEL_MEMORY_GATE_GRAD, memoryGateGradKernel],
    [KERNEL_BATCH_NORM, batchNormKernel],
    [KERNEL_BATCH_NORM_GRAD, batchNormGradKernel],
    [KERNEL_CROSS_PROJ, crossProjKernel],
    [KERNEL_CROSS_PROJ_GRAD, crossProjGradKernel],
    [KERNEL_SMOOTH_L1_GRAD, smoothL1GradKernel],
  ] as const) {
    if (!tf.getKernel(kernelName, 'webgpu'))
      tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}
