import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { estimateDuration } from '../../core/eval/estimate.ts';
import type { FromWorker } from '../../worker/protocol.ts';
import { memoryJobDb } from '../persist.ts';
import { PRESETS } from '../presets.ts';
import { createAppStore } from '../store.ts';
import { FakeWorker } from '../__fixtures__/fakeWorker.ts';

function setup() {
  const worker = new FakeWorker();
  const store = createAppStore({
    makeWorker: () => worker,
    db: memoryJobDb(),
    sync: false,
    saveIntervalMs: 0,
    describeDelayMs: 0,
    estimateDelayMs: 10,
  });
  return { store, sent: worker.sent, emit: (m: FromWorker) => worker.emit(m), asked: () => worker.all('estimate') };
}

const backendMsg: FromWorker = { type: 'backend', name: 'wasm', tried: [{ name: 'wasm', ok: true }] };
const sizes = { train: 600, valid: 120, test: 240 };

afterEach(() => vi.useRealTimers());

describe('preset estimates', () => {
  it('measures each distinct model/data/batch once, one request at a time, and fills every preset', async () => {
    vi.useFakeTimers();
    const { store, emit, asked } = setup();
    store.getState().init({ url: 'http://x/' });
    emit(backendMsg);
    await vi.advanceTimersByTimeAsync(20);
    expect(asked()).toHaveLength(1); // one at a time
    expect(PRESETS.every((p) => store.getState().estimates[p.id]?.status === 'measuring')).toBe(true);

    const timing = { trainMs: 100, inferMs: 20, inferBatch: 60 };
    for (let k = 0; k < 10 && asked().length > k; k++) {
      emit({ type: 'estimated', requestId: asked()[k].requestId, backend: 'wasm', timing, sizes });
    }
    // The lesson presets share the tiny/batch-60 recipe; the paper-sized ones the small/batch-24 one.
    expect(asked()).toHaveLength(2);
    for (const p of PRESETS) {
      const run = p.build();
      const e = store.getState().estimates[p.id];
      expect(e?.status, p.id).toBe('ready');
      expect(e?.seconds).toBeCloseTo(estimateDuration(run.config, run.settings.length, sizes, timing).seconds, 9);
    }
    // Measured: another backend message for the same backend sends nothing new.
    emit(backendMsg);
    await vi.advanceTimersByTimeAsync(20);
    expect(asked()).toHaveLength(2);
  });

  it('a refused measurement (a job started) is shown as unavailable, not as a number', async () => {
    vi.useFakeTimers();
    const { store, emit, asked } = setup();
    store.getState().init({ url: 'http://x/' });
    emit(backendMsg);
    await vi.advanceTimersByTimeAsync(20);
    const first = asked()[0];
    emit({
      type: 'estimated',
      requestId: first.requestId,
      backend: null,
      timing: null,
      sizes: null,
      error: 'a job is running',
    });
    const states = PRESETS.map((p) => store.getState().estimates[p.id]);
    expect(states.some((e) => e?.status === 'unavailable')).toBe(true);
    expect(states.every((e) => e?.seconds === undefined)).toBe(true);
  });
});
