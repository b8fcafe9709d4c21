import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { TABLE5_SETTINGS } from '../core/config/config.ts';
import { makeResultsFile, type ResultsFile, type RunResult } from '../core/eval/results.ts';
import { metricsOf, run } from '../core/eval/__fixtures__/runs.ts';
import { heartbeatOwners, memoryJobDb, openJobDb, type JobDb } from './persist.ts';
import { createAppStore, type AppStore } from './store.ts';
import { FakeWorker } from './__fixtures__/fakeWorker.ts';

function setup<D extends JobDb = ReturnType<typeof memoryJobDb>>(opts: { db?: D; later?: number } = {}) {
  const workers: FakeWorker[] = [];
  const db = (opts.db ?? memoryJobDb()) as D;
  const store = createAppStore({
    makeWorker: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
    db,
    // Node has no Web Locks: heartbeats; `later` reads them as if that many ms had passed (a reload later on).
    owners: heartbeatOwners(() => Date.now() + (opts.later ?? 0)),
    sync: false,
    saveIntervalMs: 0,
    describeDelayMs: 0,
  });
  return { store, workers, db, worker: () => workers[workers.length - 1] };
}

const dataset = {
  source: 'synthetic:tiny',
  sizes: { train: 120, valid: 30, test: 60 },
  dims: { text: 32, audio: 5, vision: 20 },
  lengths: { text: 8, audio: 12, vision: 10 },
};

function resultsFor(store: AppStore, runs: RunResult[]): ResultsFile {
  return makeResultsFile({ backend: 'cpu', dataset, config: store.getState().config, runs, toolVersion: '0.1.0' });
}

const epochRecord = (epoch: number) => ({
  epoch,
  trainLoss: 1 / epoch,
  validLoss: 1.1 / epoch,
  lr: 0.002,
  seconds: 0.1,
  valid: metricsOf(0.5),
});

describe('app store with a fake worker', () => {
  it('creates the worker lazily and initialises it with the requested backend', async () => {
    const { store, workers, worker } = setup();
    expect(workers).toHaveLength(0);
    await store.getState().init({ url: 'http://localhost/#backend=wasm' });
    expect(workers).toHaveLength(1);
    expect(worker().sent[0]).toEqual({ type: 'init', backend: 'wasm' });
    expect(worker().types()).toContain('describe');
    expect(store.getState().jobsLoaded).toBe(true);
    worker().emit({ type: 'backend', name: 'wasm', tried: [{ name: 'wasm', ok: true }] });
    expect(store.getState().backend).toEqual({
      requested: 'wasm',
      active: 'wasm',
      tried: [{ name: 'wasm', ok: true }],
    });
    // init is idempotent
    await store.getState().init();
    expect(workers).toHaveLength(1);
  });

  it('start → progress → done updates status, jobs and progress', async () => {
    const { store, worker, db } = setup();
    await store.getState().init({ url: 'http://localhost/' });
    store.getState().applyPreset('quick-demo');
    store.getState().startJob('train');
    let s = store.getState();
    expect(s.status).toBe('running');
    const start = worker().last('start');
    expect(start.kind).toBe('train');
    expect(start.config.model.preset).toBe('tiny');
    expect(start.settings).toEqual([{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }]);
    const id = start.jobId;
    expect(s.currentJobId).toBe(id);
    expect(s.jobs[0]).toMatchObject({ id, status: 'running', kind: 'train' });
    expect(s.selectedJobIds).toContain(id);
    expect(s.progress).toMatchObject({ runIndex: 0, runTotal: 1, epoch: 0, maxEpochs: 8 });

    const setting = start.settings[0];
    worker().emit({
      type: 'run-start',
      jobId: id,
      index: 0,
      total: 1,
      setting,
      seed: 111,
      trainRate: 0.3,
      params: 5000,
    });
    worker().emit({
      type: 'step',
      jobId: id,
      index: 0,
      epoch: 1,
      step: 3,
      stepsPerEpoch: 5,
      loss: 1.5,
      stepsPerSecond: 10,
    });
    s = store.getState();
    expect(s.progress).toMatchObject({ epoch: 1, step: 3, stepsPerEpoch: 5, stepsPerSecond: 10, seed: 111 });
    expect(s.progress!.losses).toEqual([{ step: 3, loss: 1.5 }]);
    // 40 steps in all (8 epochs × 5), 3 done, at 10 steps/s
    expect(s.progress!.etaSeconds).toBeCloseTo(3.7);
    worker().emit({ type: 'epoch', jobId: id, index: 0, record: epochRecord(1) });
    expect(store.getState().jobs[0].epochs).toEqual([{ index: 0, record: epochRecord(1) }]);
    await store.getState().flush();
    expect(db.jobs.get(id)!.epochs).toHaveLength(1);

    const result = run({
      seed: 111,
      test: [
        [0, metricsOf(0.5)],
        [0.5, metricsOf(0.4)],
        [1, metricsOf(0.3)],
      ],
    });
    worker().emit({ type: 'run-end', jobId: id, index: 0, result });
    expect(store.getState().jobs[0].runs).toHaveLength(1);
    const file = resultsFor(store, [result]);
    worker().emit({ type: 'done', jobId: id, results: file, aborted: false });
    s = store.getState();
    expect(s.status).toBe('done');
    expect(s.jobs[0].status).toBe('done');
    expect(s.jobs[0].results).toEqual(file);
    expect(s.progress!.etaSeconds).toBe(0);
    await store.getState().flush();
    expect(db.jobs.get(id)!.status).toBe('done');
    // messages about other jobs are ignored
    worker().emit({
      type: 'step',
      jobId: 'someone-else',
      index: 0,
      epoch: 9,
      step: 9,
      stepsPerEpoch: 9,
      loss: 9,
      stepsPerSecond: 9,
    });
    expect(store.getState().progress!.epoch).toBe(1);
  });

  it('pause / resume / stop send the right messages and follow the worker', () => {
    const { store, worker } = setup();
    store.getState().startJob('ablation');
    const start = worker().last('start');
    expect(start.settings.map((x) => x.branches)).toEqual(TABLE5_SETTINGS.map((t) => t.branches));
    expect(store.getState().progress!.runTotal).toBe(4);
    const id = start.jobId;

    store.getState().pause();
    expect(worker().types().at(-1)).toBe('pause');
    worker().emit({ type: 'paused', jobId: id });
    expect(store.getState().status).toBe('paused');
    store.getState().pause(); // already paused: nothing sent
    expect(
      worker()
        .types()
        .filter((t) => t === 'pause'),
    ).toHaveLength(1);

    store.getState().resume();
    expect(worker().types().at(-1)).toBe('resume');
    worker().emit({ type: 'resumed', jobId: id });
    expect(store.getState().status).toBe('running');

    store.getState().stop();
    expect(worker().types().at(-1)).toBe('stop');
    expect(store.getState().status).toBe('stopping');
    store.getState().startJob('train'); // refused while one runs
    expect(
      worker()
        .types()
        .filter((t) => t === 'start'),
    ).toHaveLength(1);
    expect(store.getState().notice?.kind).toBe('error');

    const finished = run({ seed: 111, test: [[0, metricsOf(0.5)]] });
    worker().emit({ type: 'run-end', jobId: id, index: 0, result: finished });
    worker().emit({ type: 'done', jobId: id, results: resultsFor(store, [finished]), aborted: true });
    const s = store.getState();
    expect(s.status).toBe('done');
    expect(s.jobs[0].status).toBe('aborted');
    expect(s.jobs[0].runs).toHaveLength(1);
    expect(s.jobs[0].message).toMatch(/1 of 4 runs/);
    expect(s.notice).toEqual({ kind: 'info', text: expect.stringMatching(/Stopped: 1 of 4 runs/) });
  });

  it("an 'error' keeps the last good state and sets a notice", () => {
    const { store, worker } = setup();
    store.getState().startJob('train');
    const id = worker().last('start').jobId;
    worker().emit({
      type: 'run-start',
      jobId: id,
      index: 0,
      total: 1,
      setting: worker().last('start').settings[0],
      seed: 111,
      trainRate: 0.3,
      params: 10,
    });
    worker().emit({
      type: 'step',
      jobId: id,
      index: 0,
      epoch: 1,
      step: 2,
      stepsPerEpoch: 25,
      loss: 0.9,
      stepsPerSecond: 4,
    });
    worker().emit({ type: 'epoch', jobId: id, index: 0, record: epochRecord(1) });
    const before = store.getState();

    // an unrelated error (no job): notice only
    worker().emit({ type: 'error', message: 'could not describe the data and model: boom', recoverable: true });
    let s = store.getState();
    expect(s.notice).toEqual({ kind: 'error', text: 'could not describe the data and model: boom' });
    expect(s.status).toBe('running');
    expect(s.progress).toEqual(before.progress);
    expect(s.config).toEqual(before.config);

    // the job fails: it keeps its epochs, the store shows the error, the worker stays
    worker().emit({ type: 'error', jobId: id, message: 'training failed: out of memory', recoverable: true });
    s = store.getState();
    expect(s.status).toBe('error');
    expect(s.jobs[0]).toMatchObject({ id, status: 'error', message: 'training failed: out of memory' });
    expect(s.jobs[0].epochs).toHaveLength(1);
    expect(s.progress).toEqual(before.progress);
    expect(worker().terminated).toBe(false);

    // a new job can start after an error
    store.getState().startJob('train');
    expect(store.getState().status).toBe('running');
  });

  it('a non-recoverable error or a crash drops the worker and restarts it on next use', () => {
    const { store, workers, worker } = setup();
    store.getState().startJob('train');
    const first = worker();
    first.onerror?.({ message: 'Uncaught SyntaxError' });
    expect(first.terminated).toBe(true);
    expect(store.getState().status).toBe('error');
    expect(store.getState().notice?.text).toMatch(/stopped unexpectedly: Uncaught SyntaxError/);
    store.getState().refreshMemory();
    expect(workers).toHaveLength(2);
    expect(worker().types()).toEqual(['init', 'memory']);
    worker().emit({ type: 'memory', numTensors: 12, numBytes: 3456 });
    expect(store.getState().memory).toEqual({ numTensors: 12, numBytes: 3456 });
    worker().emit({ type: 'error', message: 'fatal', recoverable: false });
    expect(worker().terminated).toBe(true);
  });

  it('a lost WebGPU device re-initialises the backend once the job has stopped', () => {
    const { store, worker } = setup();
    store.getState().startJob('train');
    const id = worker().last('start').jobId;
    worker().emit({ type: 'backend', name: 'webgpu', tried: [{ name: 'webgpu', ok: true }] });
    worker().emit({
      type: 'error',
      jobId: id,
      message: 'WebGPU device lost (destroyed)',
      recoverable: true,
      backendLost: 'webgpu',
    });
    expect(store.getState().backend.active).toBeNull();
    expect(store.getState().status).toBe('running'); // the worker stops it and reports 'done'
    const inits = () =>
      worker()
        .types()
        .filter((t) => t === 'init').length;
    expect(inits()).toBe(1);
    worker().emit({ type: 'done', jobId: id, results: resultsFor(store, []), aborted: true });
    expect(inits()).toBe(2);
    expect(worker().last('init').backend).toBe('auto');
  });

  it('config edits are validated; a bad edit keeps the old config with a notice', () => {
    const { store, worker } = setup();
    store.getState().setConfig((c) => {
      c.train.epochs = 3;
    });
    expect(store.getState().config.train.epochs).toBe(3);
    expect(worker().last('describe').config.train.epochs).toBe(3);
    store.getState().setConfig((c) => {
      c.missing.testRates = [0.5, 0.1];
    });
    expect(store.getState().config.missing.testRates).toHaveLength(11);
    expect(store.getState().notice?.text).toMatch(/strictly ascending/);
    store.getState().setBranches({ macro: false, micro: false, recon: true });
    expect(store.getState().config.model.branches.macro).toBe(true);
    expect(store.getState().notice?.text).toMatch(/fusion stream/);
    store.getState().setModelPreset('tiny');
    expect(store.getState().config.model).toMatchObject({ preset: 'tiny', d: 12 });
    store.getState().setConfig((c) => {
      c.model.d = 16;
      c.model.hpaHeads = 4;
      c.model.hubHeads = 4;
    });
    expect(store.getState().config.model.preset).toBe('custom');
    store.getState().setConfig((c) => {
      c.data.source = 'synthetic:tiny';
    });
    expect(store.getState().config.model.dims).toEqual([32, 5, 20]);
    worker().emit({
      type: 'described',
      dataset: {
        source: 'synthetic:tiny',
        sizes: { train: 120, valid: 30, test: 60 },
        dims: [32, 5, 20],
        lens: [8, 12, 10],
        labelHistogram: [1, 2, 3, 4, 3, 2, 1],
      },
      params: [],
    });
    expect(store.getState().dataset?.labelHistogram).toEqual([1, 2, 3, 4, 3, 2, 1]);
  });

  it('importResults validates with parseResultsFile; a bad file gets a clear notice and changes nothing', () => {
    const { store, db } = setup();
    store.getState().importResults({ schema: 'nope' } as unknown as ResultsFile);
    expect(store.getState().jobs).toHaveLength(0);
    expect(store.getState().notice).toEqual({
      kind: 'error',
      text: expect.stringMatching(/^Could not import the results: results file: schema: expected "mfmb-results\/1"/),
    });

    const file = resultsFor(store, [
      run({ seed: 111, test: [[0, metricsOf(0.5)]] }),
      run({ seed: 1111, test: [[0, metricsOf(0.6)]] }),
    ]);
    const broken = structuredClone(file) as unknown as { runs: { seed: unknown }[] };
    broken.runs[1].seed = 'x';
    store.getState().importResults(broken as unknown as ResultsFile);
    expect(store.getState().notice?.text).toMatch(/runs\[1\]\.seed: expected a finite number/);
    expect(store.getState().jobs).toHaveLength(0);

    store.getState().importResults(JSON.parse(JSON.stringify(file)), 'from the CLI');
    const s = store.getState();
    expect(s.jobs).toHaveLength(1);
    expect(s.jobs[0]).toMatchObject({ name: 'from the CLI', status: 'done', kind: 'sweep' });
    expect(s.jobs[0].results).toEqual(file);
    expect(s.jobs[0].epochs).toHaveLength(4);
    expect(s.selectedJobIds).toEqual([s.jobs[0].id]);
    expect(s.notice?.kind).toBe('info');
    return store
      .getState()
      .flush()
      .then(() => expect(db.jobs.size).toBe(1));
  });

  it('rename, delete and select jobs', async () => {
    const { store, db } = setup();
    const file = resultsFor(store, [run({ seed: 111, test: [[0, metricsOf(0.5)]] })]);
    store.getState().importResults(file, 'one');
    store.getState().importResults(file, 'two');
    const [two, one] = store.getState().jobs;
    store.getState().renameJob(one.id, '  first  ');
    expect(store.getState().jobs[1].name).toBe('first');
    store.getState().toggleSelected(one.id);
    expect(store.getState().selectedJobIds).toEqual([two.id]);
    store.getState().toggleSelected('missing');
    expect(store.getState().selectedJobIds).toEqual([two.id]);
    store.getState().deleteJob(two.id);
    expect(store.getState().jobs.map((j) => j.name)).toEqual(['first']);
    expect(store.getState().selectedJobIds).toEqual([]);
    await store.getState().flush();
    expect([...db.jobs.values()].map((j) => j.name)).toEqual(['first']);
  });

  it('a bad shared URL keeps the defaults and says why', async () => {
    const { store } = setup();
    await store.getState().init({ url: 'http://localhost/#config=1.eyJ0cmFpbiI6eyJlcG9jaHoiOjN9fQ' });
    expect(store.getState().notice?.text).toMatch(/train\.epochz: unknown field/);
    expect(store.getState().config.train.epochs).toBe(40);
  });

  it('exports weights as a file and imports them as an evaluation job', async () => {
    const { store, worker } = setup();
    store.getState().startJob('train');
    const start = worker().last('start');
    const pending = store.getState().exportWeights(start.jobId, 0);
    const req = worker().last('export-weights');
    expect(req).toMatchObject({ jobId: start.jobId, index: 0 });
    const data = Float32Array.from([1, 2, 3]);
    worker().emit({
      type: 'weights',
      requestId: req.requestId,
      jobId: start.jobId,
      index: 0,
      setting: start.settings[0],
      seed: 111,
      names: ['a', 'b'],
      shapes: [[2], [1]],
      data: data.buffer,
    });
    const blob = await pending;
    expect(blob).not.toBeNull();
    const bytes = new Uint8Array(await blob!.arrayBuffer());

    // unavailable weights: null and a notice
    const none = store.getState().exportWeights(start.jobId, 5);
    worker().emit({
      type: 'error',
      jobId: start.jobId,
      requestId: worker().last('export-weights').requestId,
      message: 'no trained weights for run 6',
      recoverable: true,
    });
    expect(await none).toBeNull();
    expect(store.getState().notice?.text).toMatch(/no trained weights/);

    worker().emit({ type: 'done', jobId: start.jobId, results: resultsFor(store, []), aborted: false });
    store.getState().importWeights(bytes);
    const ev = worker().last('evaluate-weights');
    expect(ev.names).toEqual(['a', 'b']);
    expect(Array.from(new Float32Array(ev.data))).toEqual([1, 2, 3]);
    expect(store.getState().jobs[0]).toMatchObject({ id: ev.jobId, status: 'running' });
    expect(store.getState().currentJobId).toBe(ev.jobId);

    const evaluated = run({ seed: 111, test: [[0, metricsOf(0.5)]] });
    worker().emit({ type: 'run-end', jobId: ev.jobId, index: 0, result: evaluated });
    worker().emit({ type: 'done', jobId: ev.jobId, results: resultsFor(store, [evaluated]), aborted: false });
    expect(store.getState().jobs[0].status).toBe('done');
    store.getState().importWeights(new Uint8Array([1, 2, 3]));
    expect(store.getState().notice?.text).toMatch(/not an MFMB weights file/);
  });
});

describe('store persistence across a reload (fake-indexeddb)', () => {
  it("a job left 'running' by a reload comes back 'interrupted' with what it had", async () => {
    const name = `mfmb-store-${Math.random()}`;
    const first = setup({ db: openJobDb(indexedDB, name) });
    await first.store.getState().init({ url: 'http://localhost/' });
    first.store.getState().startJob('train');
    const id = first.worker().last('start').jobId;
    first.worker().emit({ type: 'epoch', jobId: id, index: 0, record: epochRecord(1) });
    first.worker().emit({ type: 'epoch', jobId: id, index: 0, record: epochRecord(2) });
    await first.store.getState().flush();
    // the page is reloaded: a new store over the same database (the old page's heartbeats have stopped)
    const second = setup({ db: openJobDb(indexedDB, name), later: 60_000 });
    expect(second.store.getState().jobs).toEqual([]);
    await second.store.getState().init({ url: 'http://localhost/' });
    const jobs = second.store.getState().jobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ id, status: 'interrupted' });
    expect(jobs[0].epochs.map((e) => e.record.epoch)).toEqual([1, 2]);
    expect(second.store.getState().status).toBe('idle');
  });
});
