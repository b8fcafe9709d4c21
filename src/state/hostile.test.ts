/**
 * Hostile or broken input never gets into the store: results files with wrong value types, huge
 * epoch lists, deep nesting or `__proto__` keys, weights files and share links with `__proto__`
 * keys are refused with a message, and Object.prototype stays clean.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { makeResultsFile, type ResultsFile } from '../core/eval/results.ts';
import { metricsOf, run } from '../core/eval/__fixtures__/runs.ts';
import { memoryJobDb } from './persist.ts';
import { createAppStore, type WorkerLike } from './store.ts';
import { encodeWeightsFile } from './weightsFile.ts';

const worker = (): WorkerLike => ({
  postMessage: () => undefined,
  onmessage: null,
  onerror: null,
  terminate: () => undefined,
});

function setup() {
  const db = memoryJobDb();
  const store = createAppStore({ makeWorker: worker, db, saveIntervalMs: 0, describeDelayMs: 0, sync: false });
  return { store, db };
}

const dataset = {
  source: 'synthetic:tiny',
  sizes: { train: 120, valid: 30, test: 60 },
  dims: { text: 32, audio: 5, vision: 20 },
  lengths: { text: 8, audio: 12, vision: 10 },
};

function goodFile(): Record<string, unknown> {
  const f = makeResultsFile({
    backend: 'cpu',
    dataset,
    config: defaultRunConfig(),
    runs: [run({ seed: 111, test: [[0, metricsOf(0.5)]] })],
    toolVersion: '0.1.0',
  });
  return JSON.parse(JSON.stringify(f)) as Record<string, unknown>;
}

const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

afterEach(() => {
  // nothing may have leaked onto every object
  expect(({} as Record<string, unknown>).hasOwnProperty).toBe(Object.prototype.hasOwnProperty);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe('hostile input is refused before it reaches the store', () => {
  const refusedImport = (doc: unknown, pattern: RegExp) => {
    const { store, db } = setup();
    store.getState().importResults(doc as ResultsFile);
    expect(store.getState().jobs).toHaveLength(0);
    expect(db.jobs.size).toBe(0);
    expect(store.getState().notice).toEqual({ kind: 'error', text: expect.stringMatching(pattern) });
  };

  it('results files whose config has wrong value types', () => {
    const a = goodFile();
    (a.config as { data: { source: unknown } }).data.source = 5;
    refusedImport(a, /Could not import the results: results file: config: data\.source/);
    const b = goodFile();
    (b.config as { model: { preset: unknown } }).model.preset = {};
    refusedImport(b, /config: model\.preset/);
  });

  it('a results file with 200,000 epoch records', () => {
    const f = goodFile() as { runs: { epochs: unknown[] }[] };
    const rec = f.runs[0].epochs[0];
    f.runs[0].epochs = Array.from({ length: 200_000 }, () => rec);
    refusedImport(f, /runs\[0\]\.epochs: 200000 epoch records/);
  });

  it('a deeply nested results file: a clear message, not a stack overflow', () => {
    const f = goodFile();
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    f.backend = deep;
    refusedImport(f, /nested more than \d+ levels/);
  });

  it('a results file carrying __proto__ keys', () => {
    const text = JSON.stringify(goodFile()).replace('"model":{', '"model":{"__proto__":{"hasOwnProperty":1},');
    refusedImport(JSON.parse(text), /config\.model\.__proto__: the key "__proto__" is not allowed/);
  });

  it('a share link carrying __proto__ keys: the defaults and a message', async () => {
    const { store } = setup();
    const token = `1.${b64url('{"__proto__":{"polluted":1,"hasOwnProperty":1},"train":{"epochs":3}}')}`;
    await store.getState().init({ url: `http://localhost/#config=${token}` });
    expect(store.getState().notice?.kind).toBe('error');
    expect(store.getState().notice?.text).toMatch(/__proto__: the key "__proto__" is not allowed/);
    expect(store.getState().config.train.epochs).toBe(defaultRunConfig().train.epochs);
    const nested = `1.${b64url('{"model":{"constructor":{"prototype":{"polluted":1}}}}')}`;
    const { store: s2 } = setup();
    await s2.getState().init({ url: `http://localhost/#config=${nested}` });
    expect(s2.getState().notice?.text).toMatch(/model\.constructor: the key "constructor" is not allowed/);
  });

  it('a weights file whose header carries __proto__ keys', () => {
    const { store } = setup();
    const bytes = encodeWeightsFile({
      createdAt: '2026-11-26T12:00:00Z',
      tool: { name: 'mfmb-playground', version: '0.1.0' },
      config: defaultRunConfig(),
      setting: { arch: 'mfmb', branches: { macro: true, micro: true, recon: true } },
      seed: 111,
      names: ['a'],
      shapes: [[1]],
      data: Float32Array.from([1]),
    });
    // rebuild the file with the hostile header
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    const bad = new TextDecoder()
      .decode(bytes.subarray(12, 12 + headerLength))
      .replace('"model":{', '"model":{"__proto__":{"polluted":1},');
    const h = new TextEncoder().encode(bad);
    const start = Math.ceil((12 + h.length) / 4) * 4;
    const out = new Uint8Array(start + 4);
    out.set(new TextEncoder().encode('MFMBWTS1'), 0);
    new DataView(out.buffer).setUint32(8, h.length, true);
    out.set(h, 12);
    new DataView(out.buffer).setFloat32(start, 1, true);
    store.getState().importWeights(out);
    expect(store.getState().notice?.text).toMatch(/Could not import the weights: weights file: .*__proto__/);
    expect(store.getState().jobs).toHaveLength(0);
  });

  it('a good results file still imports', () => {
    const { store } = setup();
    store.getState().importResults(goodFile() as unknown as ResultsFile, 'ok');
    expect(store.getState().jobs).toHaveLength(1);
  });
});
