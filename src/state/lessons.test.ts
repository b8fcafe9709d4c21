import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { LESSONS, lessonFromUrl, urlWithLesson } from './lessons.ts';
import { memoryJobDb } from './persist.ts';
import { createAppStore } from './store.ts';
import { FakeWorker } from './__fixtures__/fakeWorker.ts';

function setup() {
  const worker = new FakeWorker();
  const store = createAppStore({
    makeWorker: () => worker,
    db: memoryJobDb(),
    sync: false,
    saveIntervalMs: 0,
    describeDelayMs: 0,
  });
  return { store, sent: worker.sent };
}

describe('lesson links', () => {
  it('reads ?lesson=N only for lessons that exist', () => {
    expect(lessonFromUrl('http://x/?lesson=2')).toBe(2);
    expect(lessonFromUrl('http://x/?lesson=2#config=1.abc')).toBe(2);
    expect(lessonFromUrl('http://x/')).toBeNull();
    expect(lessonFromUrl(`http://x/?lesson=${LESSONS.length + 1}`)).toBeNull();
    expect(lessonFromUrl('http://x/?lesson=1e3')).toBeNull();
    expect(lessonFromUrl('http://x/?lesson=-1')).toBeNull();
    expect(lessonFromUrl('not a url')).toBeNull();
  });

  it('sets and clears the parameter, keeping the shared config in the hash', () => {
    const u = urlWithLesson('http://x/app/?backend=wasm#config=1.abc', 3);
    expect(u).toBe('http://x/app/?backend=wasm&lesson=3#config=1.abc');
    expect(lessonFromUrl(u)).toBe(3);
    expect(urlWithLesson(u, null)).toBe('http://x/app/?backend=wasm#config=1.abc');
  });

  it('numbers the lessons 1…n in order, each pointing at a control', () => {
    expect(LESSONS.map((l) => l.n)).toEqual(LESSONS.map((_, i) => i + 1));
    for (const l of LESSONS) {
      expect(l.points.length).toBeGreaterThan(0);
      expect(l.target.testId).toMatch(/^[a-z0-9-]+$/);
    }
  });
});

describe('lesson steps', () => {
  it('lesson 1 sets the train-once protocol at 30 % with the full test grid, starting nothing', () => {
    const { store, sent } = setup();
    LESSONS[0].step!.run(store.getState());
    const c = store.getState().config;
    expect(c.missing.protocol).toBe('train-once');
    expect(c.missing.trainRate).toBe(0.3);
    expect(c.missing.testRates).toHaveLength(11);
    expect(sent.filter((m) => m.type === 'start')).toHaveLength(0);
  });

  it('lesson 2 starts the Quick demo with every branch on', () => {
    const { store, sent } = setup();
    LESSONS[1].step!.run(store.getState());
    const start = sent.find((m) => m.type === 'start');
    expect(start).toBeDefined();
    if (start?.type !== 'start') return;
    expect(start.config.data.source).toBe('synthetic:small');
    expect(start.settings).toEqual([{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }]);
  });

  it('lesson 3 trains the Quick demo config with the macro stream off', () => {
    const demo = setup().store;
    demo.getState().applyPreset('quick-demo', false);
    const expected = demo.getState().config;
    const { store, sent } = setup();
    LESSONS[2].step!.run(store.getState());
    const start = sent.find((m) => m.type === 'start');
    expect(start?.type).toBe('start');
    if (start?.type !== 'start') return;
    expect(start.settings).toEqual([{ arch: 'mfmb', branches: { macro: false, micro: true, recon: true } }]);
    expect(start.config.data).toEqual(expected.data);
    expect(start.config.train).toEqual(expected.train);
    expect(start.config.missing).toEqual(expected.missing);
    expect(store.getState().config.model.branches.macro).toBe(false);
  });

  it('lesson 4 starts an ablation job over the four Table-5 settings', () => {
    const { store, sent } = setup();
    LESSONS[3].step!.run(store.getState());
    const start = sent.find((m) => m.type === 'start');
    expect(start?.type === 'start' && start.kind).toBe('ablation');
    expect(start?.type === 'start' && start.settings.length).toBe(4);
  });
});
