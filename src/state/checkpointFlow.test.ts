import { describe, expect, it } from 'vitest';
import { metricsOf } from '../core/eval/__fixtures__/runs.ts';
import type { TrainCheckpoint } from '../core/train/trainer.ts';

const CHECKPOINT_FORMAT = 'mfmb-train-checkpoint/1' as const;
import type { FromWorker } from '../worker/protocol.ts';
import { memoryCheckpointDb } from './checkpoints.ts';
import { heartbeatOwners, memoryJobDb } from './persist.ts';
import { createAppStore } from './store.ts';
import { decodeWeightsFile } from './weightsFile.ts';
import { FakeWorker } from './__fixtures__/fakeWorker.ts';

/**
 * The store's side of checkpoints: the worker's epoch checkpoints land in the checkpoint store;
 * after a reload an interrupted job lists them, Resume sends them back with the finished runs, and
 * weights export falls back to the stored best weights; deleting a job deletes its checkpoint;
 * the size cap drops the oldest job's checkpoint and says so.
 */

const setting = { arch: 'mfmb' as const, branches: { macro: true, micro: true, recon: true } };
const record = (epoch: number) => ({
  epoch,
  trainLoss: 1 / epoch,
  validLoss: 1 / epoch,
  lr: 0.002,
  seconds: 0.1,
  valid: metricsOf(0.9 - epoch * 0.1),
});

function ckpt(epoch: number, n = 6): TrainCheckpoint {
  return {
    format: CHECKPOINT_FORMAT,
    epoch,
    names: ['a', 'b'],
    shapes: [[2], [n - 2]],
    params: new Float32Array(n).fill(epoch),
    best: new Float32Array(n).fill(10 + epoch),
    bestEpoch: epoch,
    adam: { m: new Float32Array(n), v: new Float32Array(n), counts: [3 * epoch, 3 * epoch], lr: 0.002 },
    rng: { mt: new Uint32Array(624).fill(epoch), mti: 7, spareNormal: null },
    stopper: { best: 0.9 - epoch * 0.1, bestEpoch: epoch - 1, plateauBad: 0 },
    epochs: Array.from({ length: epoch }, (_, i) => record(i + 1)),
    stopReason: null,
  };
}

function setup(
  shared: { jobs: ReturnType<typeof memoryJobDb>; ck: ReturnType<typeof memoryCheckpointDb> },
  later = 0,
  cap?: number,
) {
  const workers: FakeWorker[] = [];
  const store = createAppStore({
    makeWorker: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
    db: shared.jobs,
    checkpoints: shared.ck,
    checkpointCapBytes: cap,
    owners: heartbeatOwners(() => Date.now() + later),
    sync: false,
    saveIntervalMs: 0,
    describeDelayMs: 0,
    estimateDelayMs: null,
  });
  return { store, worker: () => workers[workers.length - 1] };
}

describe('checkpoints through the store', () => {
  it('stores epoch checkpoints; after a reload: listed, exported, resumed with the finished runs', async () => {
    const shared = { jobs: memoryJobDb(), ck: memoryCheckpointDb() };
    const a = setup(shared);
    await a.store.getState().init({ url: 'http://localhost/' });
    a.store.getState().startJob('train');
    const id = a.store.getState().currentJobId!;
    const w = a.worker();
    w.emit({ type: 'run-start', jobId: id, index: 0, total: 1, setting, seed: 111, trainRate: 0.3, params: 6 });
    for (const e of [1, 2]) {
      w.emit({ type: 'epoch', jobId: id, index: 0, record: record(e) });
      w.emit({ type: 'checkpoint', jobId: id, index: 0, setting, seed: 111, checkpoint: ckpt(e) });
    }
    w.emit({ type: 'epoch', jobId: id, index: 0, record: record(3) }); // cut off before its checkpoint
    await a.store.getState().flush();
    expect(a.store.getState().checkpoints[id]).toMatchObject({ epoch: 2, bestEpoch: 2, resumable: true });

    // The reload: the owner is gone (its heartbeat is a minute old).
    const b = setup(shared, 60_000);
    await b.store.getState().init({ url: 'http://localhost/' });
    await b.store.getState().flush();
    const job = b.store.getState().jobs.find((j) => j.id === id)!;
    expect(job.status).toBe('interrupted');
    expect(b.store.getState().checkpoints[id]).toMatchObject({ epoch: 2, resumable: true });

    const blob = await b.store.getState().exportWeights(id);
    expect(blob).not.toBeNull();
    const file = decodeWeightsFile(new Uint8Array(await blob!.arrayBuffer()));
    expect([...file.data]).toEqual(new Array(6).fill(12)); // the best weights, not the current ones
    expect(file.seed).toBe(111);

    await b.store.getState().resumeInterrupted(id);
    const start = b.worker().last('start');
    expect(start.jobId).toBe(id);
    expect(start.resume?.runIndex).toBe(0);
    expect(start.resume?.finished).toEqual([]);
    expect(start.resume?.checkpoint?.epoch).toBe(2);
    expect([...start.resume!.checkpoint!.params]).toEqual(new Array(6).fill(2));
    const resumed = b.store.getState().jobs.find((j) => j.id === id)!;
    expect(resumed.status).toBe('running');
    // The run's history is the checkpoint's: epoch 3 (never checkpointed) is trained again.
    expect(resumed.epochs.map((e) => e.record.epoch)).toEqual([1, 2]);
    expect(b.store.getState().currentJobId).toBe(id);

    // Ended: only the best weights are kept; deleting the job deletes them.
    b.worker().emit({
      type: 'run-start',
      jobId: id,
      index: 0,
      total: 1,
      setting,
      seed: 111,
      trainRate: 0.3,
      params: 6,
    });
    b.worker().emit({ type: 'checkpoint', jobId: id, index: 0, setting, seed: 111, checkpoint: ckpt(3) });
    b.worker().emit({
      type: 'done',
      jobId: id,
      aborted: false,
      results: { runs: [] } as unknown as Extract<FromWorker, { type: 'done' }>['results'],
    });
    await b.store.getState().flush();
    expect(b.store.getState().checkpoints[id]).toMatchObject({ resumable: false, bestEpoch: 3 });
    expect(shared.ck.records.get(id)!.checkpoint).toBeNull();
    b.store.getState().deleteJob(id);
    await b.store.getState().flush();
    expect(shared.ck.records.has(id)).toBe(false);
    expect(b.store.getState().checkpoints[id]).toBeUndefined();
  });

  it('Resume refuses a job that was not cut off; the size cap drops the oldest job and says so', async () => {
    const shared = { jobs: memoryJobDb(), ck: memoryCheckpointDb() };
    // Each checkpoint here takes ~6.2 kB, the first job's best weights alone ~0.9 kB: a 6.5 kB cap holds one job.
    const a = setup(shared, 0, 6_500);
    await a.store.getState().init({ url: 'http://localhost/' });
    a.store.getState().startJob('train');
    const first = a.store.getState().currentJobId!;
    await a.store.getState().resumeInterrupted(first);
    expect(a.store.getState().notice?.text).toMatch(/A job is running/);
    a.worker().emit({ type: 'checkpoint', jobId: first, index: 0, setting, seed: 1, checkpoint: ckpt(1, 200) });
    a.worker().emit({ type: 'done', jobId: first, aborted: true, results: { runs: [] } as never });
    await a.store.getState().flush();
    expect(Object.keys(a.store.getState().checkpoints)).toEqual([first]);
    await a.store.getState().resumeInterrupted(first);
    expect(a.store.getState().notice?.text).toMatch(/Only a run cut off by a reload can be resumed/);

    a.store.getState().startJob('train');
    const second = a.store.getState().currentJobId!;
    a.worker().emit({ type: 'checkpoint', jobId: second, index: 0, setting, seed: 1, checkpoint: ckpt(1, 200) });
    await a.store.getState().flush();
    expect(Object.keys(a.store.getState().checkpoints)).toEqual([second]);
    expect(a.store.getState().notice?.text).toMatch(/dropped the stored checkpoint of ".*"/);
    a.store.getState().deleteAllCheckpoints(); // the running job's is kept: its next epoch would re-store it
    await a.store.getState().flush();
    expect(shared.ck.records.has(second)).toBe(true);
  });
});
