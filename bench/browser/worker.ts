/**
 * The browser benchmark's dedicated worker (as the app trains in one): initialises the requested
 * tfjs backend itself (not through src/worker/backend.ts: no fallback here, a benchmark of the
 * wrong backend is worse than an error), builds MFMB-Net on random MOSI-shaped inputs, times
 * training steps and inference batches, and counts the device work of each training step with
 * src/worker/dispatchCounter.ts (patched onto the GPU prototypes before any device exists).
 */
import {
  installDispatchCounter,
  deviceWork,
  type DispatchCounts,
  type EngineLike,
} from '../../src/worker/dispatchCounter.ts';
import * as tf from '../../src/core/tf.ts';
import '../../src/core/gradients.ts';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { installFastWasmSlice } from '../../src/core/wasmSlice.ts';
import { installFastWasmBatchMatMul } from '../../src/core/wasmMatMul.ts';
import { installWasmFusedKernels } from '../../src/core/wasmAttention.ts';
import { defaultRunConfig, modelPreset, type PerModality } from '../../src/core/config/config.ts';
import { maskedBatch, planMissing } from '../../src/core/data/masking.ts';
import { buildModel } from '../../src/core/model/build.ts';
import { Adam } from '../../src/core/train/adam.ts';
import { batchTensors, trainStep } from '../../src/core/train/trainer.ts';
import { benchData, DIMS } from '../benchData.ts';
import { MT19937 } from '../../src/core/random.ts';
import { benchBranches, type BenchParams, type BenchResult, type WorkerMessage } from './protocol.ts';

// Before tfjs can create a GPU device: every encoder and context made later is counted.
const counter = installDispatchCounter({ engine: tf.engine() as unknown as EngineLike });

/**
 * Charges each dispatch (draw, kernel) to the innermost tfjs kernel running when it was issued, so a
 * step's device work can be read by kernel name. Wraps engine.runKernel over the counter's wrapper.
 */
const byKernel = new Map<string, number>();
let backendName = 'cpu';
{
  const engine = tf.engine() as unknown as { runKernel(name: string, ...rest: unknown[]): unknown };
  const inner = engine.runKernel;
  const stack: { start: number; child: number }[] = [];
  const now = (): number => deviceWork(backendName, counter.read()).count;
  engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]): unknown {
    const frame = { start: now(), child: 0 };
    stack.push(frame);
    try {
      return inner.call(this, name, ...rest);
    } finally {
      stack.pop();
      const delta = now() - frame.start;
      if (stack.length) stack[stack.length - 1].child += delta;
      const self = delta - frame.child;
      if (self) byKernel.set(name, (byKernel.get(name) ?? 0) + self);
    }
  };
}

const post = (m: WorkerMessage): void => (self as unknown as Worker).postMessage(m);
const log = (text: string): void => post({ type: 'log', text });

const LENS: Record<BenchParams['shape'], PerModality<number>> = {
  aligned: [50, 50, 50],
  unaligned: [50, 375, 500],
};

interface GpuAdapterLike {
  info?: Record<string, unknown>;
  isFallbackAdapter?: boolean;
  features?: Set<string>;
  limits?: Record<string, number>;
}

async function initBackend(name: BenchParams['backend']): Promise<{ adapter: string; info: Record<string, unknown> }> {
  if (name === 'webgpu') {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(o?: unknown): Promise<GpuAdapterLike | null> } }).gpu;
    if (!gpu) throw new Error('WebGPU unavailable: navigator.gpu missing (Chromium needs --enable-unsafe-webgpu)');
    // The same request tfjs-backend-webgpu makes, to report the adapter it will get.
    const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) throw new Error('WebGPU unavailable: requestAdapter() returned null');
    const info: Record<string, unknown> = {};
    for (const k of ['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize'])
      if (a.info && a.info[k] !== undefined && a.info[k] !== '') info[k] = a.info[k];
    info.isFallbackAdapter = a.isFallbackAdapter ?? (a.info as { isFallbackAdapter?: boolean })?.isFallbackAdapter;
    if (a.features) info.features = [...a.features].sort();
    if (a.limits) info.maxBufferSize = a.limits.maxBufferSize;
    await import('@tensorflow/tfjs-backend-webgpu');
    // As the app (src/worker/backend.ts): the fused kernels come with the webgpu backend.
    (await import('../../src/core/model/webgpu/kernels.ts')).installWebGPUFusedKernels();
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs could not initialise the webgpu backend');
    const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ');
    return { adapter: name || '(the adapter gave no info)', info };
  }
  if (name === 'webgl') {
    await import('@tensorflow/tfjs-backend-webgl');
    if (!(await tf.setBackend('webgl'))) throw new Error('tfjs could not initialise the webgl backend');
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGL2RenderingContext } }).gpgpu?.gl;
    const info: Record<string, unknown> = {};
    if (gl) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      info.renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
      info.vendor = ext ? gl.getParameter(ext.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR);
      info.version = gl.getParameter(gl.VERSION);
    }
    return { adapter: String(info.renderer ?? '(no WebGL renderer string)'), info };
  }
  if (name === 'wasm') {
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlainUrl,
      'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
    });
    // As the app: one thread (threaded wasm hangs in minified builds served with COOP/COEP).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    installFastWasmSlice();
    installFastWasmBatchMatMul();
    installWasmFusedKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not initialise the wasm backend');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return { adapter: `wasm (${simd ? 'SIMD' : 'no SIMD'}, 1 thread)`, info: { simd, threads: 1 } };
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('tfjs could not initialise the cpu backend');
  return { adapter: 'cpu (JavaScript)', info: {} };
}

/** Device memory now: what the GPU backends hold (pools included), or the wasm heap's size. */
function deviceBytes(backend: string): { bytes: number; source: string } {
  if (backend === 'wasm') {
    const heap = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
    return { bytes: heap?.buffer.byteLength ?? 0, source: 'wasm heap size (WebAssembly.Memory, grows only)' };
  }
  const m = tf.memory() as tf.MemoryInfo & {
    numBytesInGPU?: number;
    numBytesInGPUAllocated?: number;
    numBytesAllocatedInGPU?: number;
  };
  if (backend === 'webgpu')
    return {
      bytes: Math.max(m.numBytesAllocatedInGPU ?? 0, m.numBytesInGPU ?? 0),
      source: 'tf.memory().numBytesAllocatedInGPU (buffers allocated, pool included)',
    };
  if (backend === 'webgl')
    return {
      bytes: Math.max(m.numBytesInGPUAllocated ?? 0, m.numBytesInGPU ?? 0),
      source: 'tf.memory().numBytesInGPUAllocated (textures allocated, pool included)',
    };
  return { bytes: m.numBytes, source: 'tf.memory().numBytes (tensors)' };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function run(p: BenchParams): Promise<BenchResult> {
  const t0 = performance.now();
  const { adapter, info } = await initBackend(p.backend);
  backendName = p.backend;
  await tf.ready();
  const initMs = performance.now() - t0;
  log(`${tf.getBackend()} ready in ${initMs.toFixed(0)} ms; adapter: ${adapter}`);

  const cfg = defaultRunConfig();
  const lens = LENS[p.shape];
  if (p.off) {
    const { webgpuFused } = await import('../../src/core/model/webgpu/select.ts');
    for (const k of p.off.split(',')) {
      if (!(k in webgpuFused)) throw new Error(`off=${k}: expected one of ${Object.keys(webgpuFused).join(', ')}`);
      webgpuFused[k as keyof typeof webgpuFused] = false;
    }
    log(`fused WebGPU kernels off: ${p.off}`);
  }
  cfg.model = modelPreset(p.model, { dims: DIMS, lens, branches: benchBranches(p.branches) });
  const ds = benchData(p.batch, lens);
  const plan = planMissing(ds.train, ds, cfg.missing);
  const rows = Array.from({ length: p.batch }, (_, i) => i);
  const batch = maskedBatch(ds.train, plan, rows, [0.3, 0.3, 0.3], ds);
  const model = buildModel(cfg.model, 111);
  const params = model.params.count().total;
  const vars = model.params.trainable();
  const opt = new Adam(vars, cfg.train.lr, cfg.train.weightDecay, cfg.train.clipValue);
  const ctx = { training: true, rng: new MT19937(111) };

  let peak = deviceBytes(p.backend);
  const notePeak = (): void => {
    const d = deviceBytes(p.backend);
    if (d.bytes > peak.bytes) peak = d;
  };
  const trainMs: number[] = [];
  const counts: DispatchCounts[] = [];
  const losses: number[] = [];
  const tensorsAfterStep: number[] = [];
  let firstStepMs: number | null = null;
  let peakTensorBytes = 0;
  let lastByKernel: [string, number][] = [];
  try {
    for (let i = 0; i < p.warmup + p.steps; i++) {
      counter.reset();
      byKernel.clear();
      const s0 = performance.now();
      // trainStep reads the loss back (await data()), so the step's GPU work has finished.
      const loss = await trainStep(model, opt, batch, ds, cfg, true, ctx, vars);
      const ms = performance.now() - s0;
      const c = counter.read();
      notePeak();
      losses.push(loss);
      tensorsAfterStep.push(tf.memory().numTensors);
      if (i === 0) firstStepMs = ms;
      const timed = i >= p.warmup;
      if (timed) {
        trainMs.push(ms);
        counts.push(c);
        peakTensorBytes = Math.max(peakTensorBytes, c.peakTensorBytes);
      }
      const w = deviceWork(p.backend, c);
      if (timed) {
        const inKernels = [...byKernel.values()].reduce((a, b) => a + b, 0);
        lastByKernel = [...byKernel.entries(), ['(outside kernels)', w.count - inKernels] as [string, number]]
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1]);
      }
      log(
        `${timed ? 'step' : 'warm-up'} ${i + 1}/${p.warmup + p.steps}: ${ms.toFixed(0)} ms, loss ${loss.toFixed(4)}, ` +
          `${w.count} ${w.unit}${w.unit === 'kernels' ? '' : `, ${c.kernels} kernels`}` +
          (p.backend === 'webgpu' ? `, ${c.copies} buffer copies` : ''),
      );
    }
    const inferMs: number[] = [];
    const inferCounts: DispatchCounts[] = [];
    // --profile: one more training step under tf.profile, device time summed by kernel name and input shapes (where
    // the backend can time kernels: WebGPU with timestamp queries; otherwise the times are missing).
    let kernelMs: [string, number][] | null = null;
    if (p.profile) {
      const info = await tf.profile(async () => {
        await trainStep(model, opt, batch, ds, cfg, true, ctx, vars);
      });
      const sums = new Map<string, number>();
      let timed = 0;
      for (const k of info.kernels) {
        const t = await (k.kernelTimeMs as number | Promise<number | { error: string }> | { error: string });
        if (typeof t !== 'number') continue;
        timed++;
        const key = `${k.name} ${k.inputShapes.map((sh) => `[${sh}]`).join(' ')}`;
        sums.set(key, (sums.get(key) ?? 0) + t);
      }
      log(`profile: ${info.kernels.length} kernels, ${timed} timed`);
      kernelMs = [...sums.entries()].sort((a, b) => b[1] - a[1]);
    }
    const evalCtx = { training: false, rng: new MT19937(0) };
    for (let i = 0; i < (p.infer > 0 ? p.infer + 1 : 0); i++) {
      counter.reset();
      const s0 = performance.now();
      const pred = tf.tidy(() => model.forward(batchTensors(batch, ds, false).input, evalCtx).pred);
      await pred.data();
      pred.dispose();
      const ms = performance.now() - s0;
      notePeak();
      // The first batch is a warm-up (inference-only programs compile here).
      if (i > 0) {
        inferMs.push(ms);
        inferCounts.push(counter.read());
      }
    }
    const perStep = counts.map((c) => deviceWork(p.backend, c).count);
    const gpu = p.backend === 'webgpu' || p.backend === 'webgl';
    const tm = median(trainMs);
    return {
      backend: p.backend,
      model: p.model,
      shape: p.shape,
      batch: p.batch,
      warmup: p.warmup,
      steps: p.steps,
      params,
      stepsPerSec: 1000 / tm,
      trainMs: tm,
      trainMsAll: trainMs,
      inferMs: inferMs.length ? median(inferMs) : null,
      firstStepMs,
      initMs,
      dispatchesPerTrainStep: gpu ? median(perStep) : null,
      dispatchesPerTrainStepAll: gpu ? perStep : [],
      copiesPerTrainStep: p.backend === 'webgpu' ? median(counts.map((c) => c.copies)) : null,
      dispatchesPerInferStep:
        gpu && inferCounts.length ? median(inferCounts.map((c) => deviceWork(p.backend, c).count)) : null,
      dispatchUnit: deviceWork(p.backend, counts[0]).unit,
      kernelsPerTrainStep: median(counts.map((c) => c.kernels)),
      dispatchesByKernel: lastByKernel,
      kernelMsByName: kernelMs,
      tensorsAfterStep,
      kernelsPerInferStep: inferCounts.length ? median(inferCounts.map((c) => c.kernels)) : null,
      peakBytes: peak.bytes,
      peakBytesSource: peak.source,
      peakTensorBytes,
      adapter,
      adapterInfo: info,
      hooks: [...counter.hooks],
      losses,
      userAgent: navigator.userAgent,
      tfjs: tf.version.tfjs,
    };
  } finally {
    opt.dispose();
    model.params.dispose();
  }
}

self.onmessage = (e: MessageEvent<BenchParams>) => {
  run(e.data).then(
    (result) => post({ type: 'result', result }),
    (err: unknown) =>
      post({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) }),
  );
};
