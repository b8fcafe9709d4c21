import { describe, expect, it } from 'vitest';
import type { FileSummary } from '../worker/protocol.ts';
import { memoryJobDb } from './persist.ts';
import { createAppStore } from './store.ts';
import { jobResults } from './jobResults.ts';
import { metricsOf, run } from '../core/eval/__fixtures__/runs.ts';
import { FakeWorker } from './__fixtures__/fakeWorker.ts';

/** A worker stand-in that keeps what the page sends (Blobs included, uncloned). */

function setup() {
  const workers: FakeWorker[] = [];
  const store = createAppStore({
    makeWorker: () => {
      const w = new FakeWorker(false);
      workers.push(w);
      return w;
    },
    db: memoryJobDb(),
    saveIntervalMs: 0,
    describeDelayMs: 0,
  });
  return { store, worker: () => workers[workers.length - 1] };
}

const summary = (file: string): FileSummary => ({
  file,
  format: 'pickle',
  bytes: 1000,
  splits: {
    train: { n: 6, loaded: 6, fields: [] },
    valid: { n: 4, loaded: 4, fields: [] },
    test: { n: 5, loaded: 5, fields: [] },
  },
  dims: [16, 5, 20],
  lens: [8, 30, 40],
  aligned: false,
  hasLengths: [true, true, true],
  textIsBert: true,
  textUnk: false,
  dtypes: ['<f4'],
  featureBytes: 100,
  fullFeatureBytes: 100,
  subset: null,
  labelHistogram: [0, 1, 1, 2, 1, 1, 0],
  nonFinite: [],
  negInfZeroed: 0,
  maxAbs: [1, 2, 3],
  standardized: false,
  seconds: { structure: 0, read: 0 },
});

const datasetSummary = (file: string) => ({
  source: `file:${file}`,
  sizes: { train: 6, valid: 4, test: 5 },
  dims: [16, 5, 20] as [number, number, number],
  lens: [8, 30, 40] as [number, number, number],
  labelHistogram: [0, 1, 1, 2, 1, 1, 0],
});

describe('loading a feature file through the store', () => {
  it('sends the File to the worker, follows its progress, and on success switches data and model sizes to it', async () => {
    const { store, worker } = setup();
    await store.getState().init({ url: 'http://localhost/' });
    const blob = new Blob([new Uint8Array(1000)]);
    store.getState().loadFile(blob, 'a.pkl');
    const msg = worker().last('load-file');
    expect(msg.file).toBe(blob);
    expect(msg.name).toBe('a.pkl');
    expect(msg.maxBytes).toBeGreaterThan(0);
    expect(store.getState().fileLoad.status).toBe('reading');

    worker().emit({
      type: 'load-progress',
      requestId: msg.requestId,
      bytesRead: 400,
      totalBytes: 1000,
      stage: 'train/text',
    });
    expect(store.getState().fileLoad.progress).toEqual({ bytesRead: 400, totalBytes: 1000, stage: 'train/text' });

    worker().emit({
      type: 'file-loaded',
      requestId: msg.requestId,
      summary: summary('a.pkl'),
      dataset: datasetSummary('a.pkl'),
    });
    const s = store.getState();
    expect(s.fileLoad.status).toBe('loaded');
    expect(s.config.data.source).toBe('file:a.pkl');
    expect(s.config.model.dims).toEqual([16, 5, 20]);
    expect(s.config.model.lens).toEqual([8, 30, 40]);
    expect(s.dataset?.sizes.train).toBe(6);
  });

  it('a refused file leaves the previous file and config in place; cancel is forwarded', async () => {
    const { store, worker } = setup();
    await store.getState().init({ url: 'http://localhost/' });
    const goodBlob = new Blob([new Uint8Array(10)]);
    store.getState().loadFile(goodBlob, 'good.pkl');
    const first = worker().last('load-file');
    worker().emit({
      type: 'file-loaded',
      requestId: first.requestId,
      summary: summary('good.pkl'),
      dataset: datasetSummary('good.pkl'),
    });
    const before = structuredClone(store.getState().config);

    store.getState().loadFile(new Blob([new Uint8Array(10)]), 'evil.pkl');
    const second = worker().last('load-file');
    store.getState().cancelFileLoad();
    expect(worker().last('cancel-load').requestId).toBe(second.requestId);
    worker().emit({
      type: 'file-error',
      requestId: second.requestId,
      message: 'evil.pkl: refused global posix.system',
      kind: 'format',
      maxSubset: null,
    });
    const s = store.getState();
    expect(s.fileLoad.status).toBe('failed');
    expect(s.fileLoad.error?.message).toContain('refused global posix.system');
    expect(s.fileLoad.summary?.file).toBe('good.pkl');
    expect(s.fileLoad.activeFile).toBe(goodBlob); // what a changed option re-reads: never the refused file
    expect(s.config).toEqual(before);
  });

  it('ignores answers to an older request', async () => {
    const { store, worker } = setup();
    await store.getState().init({ url: 'http://localhost/' });
    store.getState().loadFile(new Blob([new Uint8Array(10)]), 'old.pkl');
    const old = worker().last('load-file');
    store.getState().loadFile(new Blob([new Uint8Array(10)]), 'new.pkl');
    worker().emit({
      type: 'file-loaded',
      requestId: old.requestId,
      summary: summary('old.pkl'),
      dataset: datasetSummary('old.pkl'),
    });
    expect(store.getState().fileLoad.status).toBe('reading');
    expect(store.getState().config.data.source).toBe('synthetic:small');
  });

  it('a shared link naming a file falls back to synthetic data and says why', async () => {
    const { store } = setup();
    const { configToHash } = await import('./urlCodec.ts');
    const { baseConfig } = await import('./urlCodec.ts');
    const c = baseConfig();
    c.data.source = 'file:aligned_50.pkl';
    await store.getState().init({ url: `http://localhost/${configToHash(c, 'auto')}` });
    expect(store.getState().config.data.source).toBe('synthetic:small');
    expect(store.getState().notice?.text).toContain('aligned_50.pkl');
  });

  it('a job on a file records the file’s sizes, so its partial results can still be exported', async () => {
    const { store, worker } = setup();
    await store.getState().init({ url: 'http://localhost/' });
    store.getState().loadFile(new Blob([new Uint8Array(10)]), 'a.pkl');
    const msg = worker().last('load-file');
    worker().emit({
      type: 'file-loaded',
      requestId: msg.requestId,
      summary: summary('a.pkl'),
      dataset: datasetSummary('a.pkl'),
    });
    store.getState().startJob('train');
    const job = store.getState().jobs[0];
    expect(job.dataset).toEqual({
      source: 'file:a.pkl',
      sizes: { train: 6, valid: 4, test: 5 },
      dims: { text: 16, audio: 5, vision: 20 },
      lengths: { text: 8, audio: 30, vision: 40 },
    });
    const interrupted = {
      ...job,
      status: 'interrupted' as const,
      runs: [run({ seed: 111, test: [[0, metricsOf(0.5)]] })],
    };
    expect(jobResults(interrupted)?.dataset.source).toBe('file:a.pkl');
  });
});
