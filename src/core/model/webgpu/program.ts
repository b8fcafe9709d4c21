import * as tf from '../../tf.ts';
import { dropoutKey, dropThreshold } from '../../wasmAttention.ts';

/**
 * What every fused WebGPU kernel file shares: the fields of tfjs-backend-webgpu 4.22's WebGPUProgram
 * that we set (without importing the package: programs are plain objects), the backend methods we
 * call, a one-thread-per-index program builder, buffer copies to split a packed output into tensors
 * (tfjs programs have one output), and the dropout hash in WGSL — the wasm kernels' and the op path's
 * mask (wasmAttention.ts): element i is kept iff murmur3's finaliser of (i·0x9e3779b1) xor key is at
 * least the threshold, with u32 arithmetic that wraps as Math.imul does.
 */

export interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode: () => string;
}

export interface Uniform {
  type: 'int32' | 'uint32' | 'float32';
  data: number[];
}

export interface GPUBufferLike {
  size: number;
}
export interface WebGPUBackendLike {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: tf.DataType, u?: Uniform[]): tf.TensorInfo;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: tf.DataId): boolean;
  uploadToGPU(dataId: tf.DataId): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  tensorMap: { get(id: tf.DataId): { resource: unknown } };
  commandEncoder: {
    copyBufferToBuffer(src: GPUBufferLike, so: number, dst: GPUBufferLike, dO: number, n: number): void;
  };
  commandQueueOwnedIds: { add(id: tf.DataId): void };
}
export type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** The GPU buffer behind a tensor (uploaded first if it still lives on the CPU side). */
export function gpuBuffer(backend: WebGPUBackendLike, t: tf.TensorInfo): GPUBufferLike {
  backend.uploadToGPU(t.dataId);
  return backend.tensorMap.get(t.dataId).resource as GPUBufferLike;
}

/** count float32s from src[so…] to dst[dO…]: a buffer-to-buffer copy in the command stream, no shader. */
export function copyFloats(
  backend: WebGPUBackendLike,
  src: tf.TensorInfo,
  so: number,
  dst: tf.TensorInfo,
  dO: number,
  count: number,
): void {
  const s = gpuBuffer(backend, src),
    d = gpuBuffer(backend, dst);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.commandEncoder.copyBufferToBuffer(s, so * 4, d, dO * 4, count * 4);
  backend.commandQueueOwnedIds.add(src.dataId);
  backend.commandQueueOwnedIds.add(dst.dataId);
}

/**
 * Splits a program's packed output into tensors of the given shapes, in order, by buffer copies, and
 * frees it. tfjs programs have one output; this is how one dispatch returns several results.
 */
export function unpack(backend: WebGPUBackendLike, packed: tf.TensorInfo, shapes: number[][]): tf.TensorInfo[] {
  let o = 0;
  const outs = shapes.map((shape) => {
    const n = tf.util.sizeFromShape(shape);
    const t = backend.makeTensorInfo(shape, 'float32');
    copyFloats(backend, packed, o, t, 0, n);
    o += n;
    return t;
  });
  backend.disposeData(packed.dataId);
  return outs;
}

export const WG = 64;

/** One thread per index in [0, n): flat dispatch of 64-wide workgroups (tfjs reshapes it past 65,535). */
export function flat(
  key: string,
  vars: string[],
  outShape: number[],
  n: number,
  body: string,
  uniforms?: string,
  size = false,
): Program {
  return {
    variableNames: vars,
    outputShape: outShape,
    shaderKey: key,
    dispatchLayout: { x: outShape.map((_, i) => i) },
    dispatch: [Math.max(1, Math.ceil(n / WG)), 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms,
    size,
    // Pipelines use layout 'auto', which drops bindings the shader never names, while tfjs binds every
    // input and the uniforms: a branch that never runs names them all.
    getUserCode: () =>
      body.replace(
        'fn main(index : i32) {',
        `fn main(index : i32) {
      if (index < 0) { result[0] = uniforms.NAN${vars.map((v) => ` + f32(${v}[0])`).join('')}; }`,
      ),
  };
}

/** WGSL float literal. */
export const f = (x: number): string => {
  const s = String(Math.fround(x));
  return /[.e]/.test(s) ? s : `${s}.0`;
};

export const HASH = /* wgsl */ `
  fn fmix_(h0 : u32) -> u32 {
    var h = h0;
    h = h ^ (h >> 16u);
    h = h * 0x85ebca6bu;
    h = h ^ (h >> 13u);
    h = h * 0xc2b2ae35u;
    h = h ^ (h >> 16u);
    return h;
  }
  fn kept_(i : u32) -> bool { return fmix_((i * 0x9e3779b1u) ^ uniforms.key) >= uniforms.thr; }
`;
export const DROP_UNIFORMS = 'key : u32, thr : u32, ks : f32,';
export const dropUniforms = (rate: number, seed: number): Uniform[] => [
  { type: 'uint32', data: [dropoutKey(seed)] },
  { type: 'uint32', data: [Math.min(dropThreshold(rate), 2 ** 32 - 1)] },
  { type: 'float32', data: [1 / (1 - rate)] },
];
