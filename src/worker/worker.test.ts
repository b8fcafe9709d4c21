/**
 * The worker's message protocol end to end, in Node: worker.ts is loaded into a fake worker scope
 * (self.postMessage / self.onmessage on globalThis) and trains the tiny model for real on the
 * wasm backend (webgpu and webgl are absent in Node, which exercises the fallback reasons).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parseResultsFile } from '../core/eval/results.ts';
import { quickDemoPreset } from '../state/presets.ts';
import { normalizeConfig } from '../core/config/validateConfig.ts';
import type { FromWorker, ToWorker } from './protocol.ts';

// In the browser these `?url` imports are served URLs; in Node the wasm loader reads files, so
// point them at the package's files on disk (as the CLI's initNodeBackend does).
const wasmFile = async (name: string) => {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  return { default: path.join(dist, 'dist', name) };
};
vi.mock('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url', () => wasmFile('tfjs-backend-wasm.wasm'));
vi.mock('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url', () =>
  wasmFile('tfjs-backend-wasm-simd.wasm'),
);
vi.mock('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url', () =>
  wasmFile('tfjs-backend-wasm-threaded-simd.wasm'),
);

const posted: FromWorker[] = [];
let firstJob: Extract<FromWorker, { type: 'done' }> | null = null;
const g = globalThis as unknown as {
  self: unknown;
  postMessage(m: unknown): void;
  onmessage: ((e: { data: ToWorker }) => void) | null;
};

function send(msg: ToWorker): void {
  g.onmessage!({ data: structuredClone(msg) });
}

async function waitFor<T extends FromWorker['type']>(
  type: T,
  pred: (m: Extract<FromWorker, { type: T }>) => boolean = () => true,
  ms = 60_000,
): Promise<Extract<FromWorker, { type: T }>> {
  const t0 = Date.now();
  for (;;) {
    const m = posted.find((x) => x.type === type && pred(x as Extract<FromWorker, { type: T }>));
    if (m) return m as Extract<FromWorker, { type: T }>;
    const err = posted.find((x) => x.type === 'error');
    if (err && type !== 'error')
      throw new Error(`worker error while waiting for ${type}: ${(err as { message: string }).message}`);
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${type}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const config = (() => {
  const c = quickDemoPreset().config;
  // The Quick demo trains on synthetic:small at batch 60; this test keeps the faster tiny set.
  c.data.source = 'synthetic:tiny';
  c.train.batchSize = 24;
  c.train.epochs = 2;
  return normalizeConfig(c);
})();

beforeAll(async () => {
  g.self = globalThis;
  g.postMessage = (m: unknown) => posted.push(structuredClone(m) as FromWorker);
  await import('./worker.ts');
});

describe('training worker (Node, wasm backend)', () => {
  it('init: auto falls back with reasons; a forced backend is used', async () => {
    send({ type: 'init', backend: 'auto' });
    const auto = await waitFor('backend');
    expect(auto.tried[0]).toEqual({ name: 'webgpu', ok: false, reason: 'WebGPU unavailable: navigator.gpu missing' });
    expect(auto.tried[1].name).toBe('webgl');
    expect(auto.tried[1].ok).toBe(false);
    expect(auto.tried[1].reason).toBe('WebGL unavailable: no OffscreenCanvas in this worker');
    expect(auto.tried[2]).toEqual({ name: 'wasm', ok: true });
    expect(auto.name).toBe('wasm');
    posted.length = 0;
    send({ type: 'init', backend: 'cpu' });
    expect(await waitFor('backend')).toEqual({ type: 'backend', name: 'cpu', tried: [{ name: 'cpu', ok: true }] });
    posted.length = 0;
    send({ type: 'init', backend: 'wasm' }); // the rest trains on wasm: 6-7x faster than cpu
    const wasm = await waitFor('backend');
    expect(wasm).toMatchObject({ type: 'backend', name: 'wasm', tried: [{ name: 'wasm', ok: true }] });
    // Node: no cross-origin isolation, so the single-threaded SIMD binary.
    expect(wasm.type === 'backend' && wasm.wasm).toMatchObject({ binary: 'tfjs-backend-wasm-simd.wasm', threads: 1 });
  });

  it('describe: dataset summary with label histogram and the four Table-5 parameter counts', async () => {
    posted.length = 0;
    send({ type: 'describe', config });
    const d = await waitFor('described');
    expect(d.dataset).toMatchObject({
      source: 'synthetic:tiny',
      sizes: { train: 120, valid: 30, test: 60 },
      dims: [32, 5, 20],
      lens: [8, 12, 10],
    });
    expect(d.dataset.labelHistogram).toHaveLength(7);
    expect(d.dataset.labelHistogram.reduce((a, b) => a + b, 0)).toBe(120);
    expect(d.params).toHaveLength(4);
    expect(d.params[0].total).toBeGreaterThan(d.params[1].total); // macro off is smaller
    expect(d.params[0].byBlock.micro).toBeGreaterThan(0);
    expect(d.params[2].byBlock.micro ?? 0).toBe(0);
  });

  it('start: run-start, throttled steps, epochs, run-end and a valid results file; pause and resume', async () => {
    posted.length = 0;
    send({
      type: 'start',
      jobId: 'j1',
      kind: 'train',
      config,
      settings: [{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }],
    });
    send({ type: 'pause' });
    await waitFor('paused');
    const stepsBefore = posted.filter((m) => m.type === 'step').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(posted.filter((m) => m.type === 'step').length).toBe(stepsBefore); // really paused
    send({ type: 'memory' });
    expect((await waitFor('memory')).numTensors).toBeGreaterThan(0); // answered while paused
    send({ type: 'resume' });
    await waitFor('resumed');
    const done = await waitFor('done');
    firstJob = done;
    expect(done.aborted).toBe(false);
    const start = await waitFor('run-start');
    expect(start).toMatchObject({ jobId: 'j1', index: 0, total: 1, seed: 111, trainRate: 0.3 });
    const steps = posted.filter((m): m is Extract<FromWorker, { type: 'step' }> => m.type === 'step');
    expect(steps.some((s) => s.step === s.stepsPerEpoch && s.epoch === 2)).toBe(true); // last step of an epoch always sent
    expect(steps.at(-1)!.stepsPerSecond).toBeGreaterThan(0);
    expect(posted.filter((m) => m.type === 'epoch')).toHaveLength(2);
    const file = parseResultsFile(JSON.parse(JSON.stringify(done.results)));
    expect(file.backend).toBe('wasm');
    expect(file.tool).toEqual({ name: 'mfmb-playground', version: '0.1.0' });
    expect(file.runs[0].test.map((t) => t.rate)).toEqual([0, 0.5, 1]);
    expect(file.dataset.sizes.train).toBe(120);
  });

  it('export-weights, then evaluate-weights reproduces the same test metrics', async () => {
    posted.length = 0;
    send({ type: 'export-weights', requestId: 7, jobId: 'j1' });
    const w = await waitFor('weights');
    expect(w.requestId).toBe(7);
    expect(w.names.length).toBe(w.shapes.length);
    expect(w.data.byteLength / 4).toBe(w.shapes.reduce((s, sh) => s + sh.reduce((a, b) => a * b, 1), 0));
    send({
      type: 'evaluate-weights',
      jobId: 'j2',
      config,
      setting: w.setting,
      seed: w.seed,
      names: w.names,
      shapes: w.shapes,
      data: w.data,
    });
    const done = await waitFor('done', (m) => m.jobId === 'j2');
    expect(done.results.runs[0].bestEpoch).toBeNull();
    expect(done.results.runs[0].test).toHaveLength(3);
    // the same weights on the same masked test split: the same metrics as after training
    expect(done.results.runs[0].test).toEqual(firstJob!.results.runs[0].test);
  });

  it('errors leave the worker usable; stop aborts a job and keeps what finished', async () => {
    posted.length = 0;
    send({
      type: 'start',
      jobId: 'bad',
      kind: 'train',
      config: { ...config, data: { ...config.data, source: 'file:x.pkl' } },
      settings: [{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }],
    });
    const err = await waitFor('error');
    expect(err).toMatchObject({ jobId: 'bad', recoverable: true });
    expect(err.message).toMatch(/the file x\.pkl is not loaded in this tab/);
    send({ type: 'export-weights', requestId: 9, index: 42 });
    expect((await waitFor('error', (m) => m.requestId === 9)).message).toMatch(/no trained weights for run 43/);

    posted.length = 0;
    const long = structuredClone(config);
    long.train.epochs = 50;
    long.train.patience = 50;
    send({
      type: 'start',
      jobId: 'j3',
      kind: 'train',
      config: long,
      settings: [{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }],
    });
    await waitFor('epoch', (m) => m.jobId === 'j3');
    send({ type: 'stop' });
    const done = await waitFor('done', (m) => m.jobId === 'j3');
    expect(done.aborted).toBe(true);
    expect(done.results.runs).toHaveLength(1);
    expect(done.results.runs[0].stopReason).toBe('aborted');
    expect(done.results.runs[0].epochs.length).toBeLessThan(50);
  });

  it('load-file: a good pickle becomes the dataset; a refused one leaves it in place and it still trains', async () => {
    const { readFileSync } = await import('node:fs');
    const blob = (name: string) =>
      new Blob([readFileSync(new URL(`../core/data/files/__fixtures__/pickle/${name}`, import.meta.url))]);
    const settings = [{ arch: 'mfmb' as const, branches: { macro: true, micro: true, recon: true } }];
    posted.length = 0;
    send({
      type: 'load-file',
      requestId: 1,
      file: blob('mmsa_aligned_p2_np1.pkl'),
      name: 'mmsa_aligned_p2_np1.pkl',
      subset: null,
      maxBytes: 1e9,
      standardize: false,
    });
    const loaded = await waitFor('file-loaded', (m) => m.requestId === 1);
    expect(loaded.summary.file).toBe('mmsa_aligned_p2_np1.pkl');
    expect(loaded.dataset.source).toBe('file:mmsa_aligned_p2_np1.pkl');
    expect(posted.some((m) => m.type === 'load-progress' && m.requestId === 1)).toBe(true);

    for (const [id, bad, pattern] of [
      [2, 'hostile_popen_p4.pkl', /refused global subprocess\.Popen/],
      [3, 'bad_nan.pkl', /train split, vision: found 1 NaN/],
    ] as const) {
      send({
        type: 'load-file',
        requestId: id,
        file: blob(bad),
        name: bad,
        subset: null,
        maxBytes: 1e9,
        standardize: false,
      });
      const e = await waitFor('file-error', (m) => m.requestId === id);
      expect(e.message).toMatch(pattern);
      expect(e.message.startsWith(`${bad}: `)).toBe(true);
    }

    const fileConfig = structuredClone(config);
    fileConfig.data.source = 'file:mmsa_aligned_p2_np1.pkl';
    fileConfig.train.epochs = 1;
    // A config that claims standardised features does not run on raw ones.
    send({
      type: 'start',
      jobId: 'jstd',
      kind: 'train',
      config: { ...fileConfig, data: { ...fileConfig.data, standardize: true } },
      settings,
    });
    expect((await waitFor('error', (m) => m.jobId === 'jstd')).message).toMatch(/loaded without standardised features/);
    posted.length = 0;
    send({ type: 'start', jobId: 'jf', kind: 'train', config: fileConfig, settings });
    const done = await waitFor('done', (m) => m.jobId === 'jf');
    expect(done.results.dataset.source).toBe('file:mmsa_aligned_p2_np1.pkl');
    expect(done.results.dataset.sizes).toEqual({
      train: loaded.dataset.sizes.train,
      valid: loaded.dataset.sizes.valid,
      test: loaded.dataset.sizes.test,
    });
  });

  it('cancel-load stops a read and keeps the previous file', async () => {
    posted.length = 0;
    // The cancel arrives before the read's first await completes: the read must stop, not load.
    const { readFileSync } = await import('node:fs');
    const good = readFileSync(
      new URL('../core/data/files/__fixtures__/pickle/mmsa_aligned_p4_np2.pkl', import.meta.url),
    );
    send({
      type: 'load-file',
      requestId: 10,
      file: new Blob([good]),
      name: 'again.pkl',
      subset: null,
      maxBytes: 1e9,
      standardize: false,
    });
    send({ type: 'cancel-load', requestId: 10 });
    const e = await waitFor('file-error', (m) => m.requestId === 10);
    expect(e.kind).toBe('cancelled');
    send({ type: 'describe', config: { ...config, data: { ...config.data, source: 'file:mmsa_aligned_p2_np1.pkl' } } });
    const d = await waitFor('described');
    expect(d.dataset.source).toBe('file:mmsa_aligned_p2_np1.pkl');
  });
});
