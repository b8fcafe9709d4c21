/**
 * The gradients tfjs autodiff needs to train every model this project builds — and no others.
 * tfjs-core registers no gradient by itself; `register_all_gradients` would register all ~100 and
 * pull every op they call into the worker's bundle. The model's own matMuls and recurrent scans
 * carry hand-written gradients (tf.customGrad, src/core/model/ops.ts and recurrent.ts), which need
 * no entry here.
 *
 * The list is exactly the kernels that training steps put on the tape and backpropagate through
 * over every architecture and option (gradients.test.ts checks it). A new op in the forward pass
 * that is missing here fails with tfjs's "Cannot compute gradient: gradient function not found for
 * <Kernel>": add its `<Kernel>_grad.js` config below.
 *
 * Node cannot load these ES-module files statically (see src/core/backend.ts, registerTfjsOps):
 * the worker imports this module statically, Node code only through initNodeBackend.
 */
import { registerGradient, type GradConfig } from './tf.ts';
import { absGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Abs_grad.js';
import { addGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Add_grad.js';
import { batchMatMulGradConfig } from '@tensorflow/tfjs-core/dist/gradients/BatchMatMul_grad.js';
import { castGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Cast_grad.js';
import { concatGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Concat_grad.js';
import { maxGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Max_grad.js';
import { meanGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Mean_grad.js';
import { minimumGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Minimum_grad.js';
import { multiplyGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Multiply_grad.js';
import { packGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Pack_grad.js';
import { padV2GradConfig } from '@tensorflow/tfjs-core/dist/gradients/PadV2_grad.js';
import { divGradConfig } from '@tensorflow/tfjs-core/dist/gradients/RealDiv_grad.js';
import { reluGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Relu_grad.js';
import { reshapeGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Reshape_grad.js';
import { rsqrtGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Rsqrt_grad.js';
import { sigmoidGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Sigmoid_grad.js';
import { sliceGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Slice_grad.js';
import { softmaxGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Softmax_grad.js';
import { splitVGradConfig } from '@tensorflow/tfjs-core/dist/gradients/SplitV_grad.js';
import { squareGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Square_grad.js';
import { subGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Sub_grad.js';
import { sumGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Sum_grad.js';
import { tanhGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Tanh_grad.js';
import { tileGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Tile_grad.js';
import { transposeGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Transpose_grad.js';

/** One entry per kernel (its tfjs name is `kernelName`), sorted by it. */
export const GRADIENTS: readonly GradConfig[] = [
  absGradConfig,
  addGradConfig,
  batchMatMulGradConfig, // not taped by the model (customGrad); tests' plain-autodiff references use it
  castGradConfig,
  concatGradConfig,
  maxGradConfig,
  meanGradConfig,
  minimumGradConfig,
  multiplyGradConfig,
  packGradConfig,
  padV2GradConfig,
  divGradConfig,
  reluGradConfig,
  reshapeGradConfig,
  rsqrtGradConfig,
  sigmoidGradConfig,
  sliceGradConfig,
  softmaxGradConfig,
  splitVGradConfig,
  squareGradConfig,
  subGradConfig,
  sumGradConfig,
  tanhGradConfig,
  tileGradConfig,
  transposeGradConfig,
];

for (const config of GRADIENTS) registerGradient(config);
