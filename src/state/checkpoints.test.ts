import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { TrainCheckpoint } from '../core/train/trainer.ts';

const CHECKPOINT_FORMAT = 'mfmb-train-checkpoint/1' as const;
import {
  bestOf,
  fileIdentity,
  fileMismatch,
  memoryCheckpointDb,
  openCheckpointDb,
  type CheckpointDb,
  type StoredCheckpoint,
} from './checkpoints.ts';
import { openJobDb } from './persist.ts';

let dbCount = 0;
const freshName = () => `mfmb-ckpt-test-${++dbCount}-${Math.random()}`;

/** A record whose arrays take about `mb` MiB (params + best + two moments, equal parts). */
function rec(jobId: string, savedAt: number, mb: number, withBest = true): StoredCheckpoint {
  const n = Math.round((mb * 2 ** 20) / 16);
  const params = new Float32Array(n).fill(1);
  const checkpoint: TrainCheckpoint = {
    format: CHECKPOINT_FORMAT,
    epoch: 3,
    names: ['w'],
    shapes: [[n]],
    params,
    best: withBest ? new Float32Array(n).fill(2) : null,
    bestEpoch: withBest ? 2 : null,
    adam: { m: new Float32Array(n), v: new Float32Array(n), counts: [30], lr: 0.001 },
    rng: { mt: new Uint32Array(624), mti: 5, spareNormal: null },
    stopper: { best: 0.5, bestEpoch: 1, plateauBad: 1 },
    epochs: [],
    stopReason: null,
  };
  return {
    jobId,
    savedAt,
    runIndex: 1,
    setting: { arch: 'mfmb', branches: { macro: true, micro: true, recon: true } },
    seed: 7,
    checkpoint,
    best: null,
  };
}

const MB = 2 ** 20;

function suite(label: string, make: () => CheckpointDb) {
  describe(`checkpoint store (${label})`, () => {
    it('keeps one latest checkpoint per job and reads it back whole', async () => {
      const db = make();
      await db.save(rec('a', 1, 1), 10 * MB);
      const later = rec('a', 2, 1);
      later.checkpoint!.epoch = 4;
      await db.save(later, 10 * MB);
      const list = await db.list();
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ jobId: 'a', epoch: 4, bestEpoch: 2, resumable: true, runIndex: 1 });
      const got = (await db.get('a'))!;
      expect(got.checkpoint!.epoch).toBe(4);
      expect(got.checkpoint!.params).toBeInstanceOf(Float32Array);
      expect(got.checkpoint!.best![0]).toBe(2);
      expect(await db.get('none')).toBeNull();
    });

    it('size cap: the jobs saved longest ago are dropped first, and the caller learns which', async () => {
      const db = make();
      const cap = 10 * MB;
      expect((await db.save(rec('old', 1, 4), cap)).dropped).toEqual([]);
      expect((await db.save(rec('mid', 2, 4), cap)).dropped).toEqual([]);
      const out = await db.save(rec('new', 3, 4), cap);
      expect(out.stored).toBe(true);
      expect(out.dropped).toEqual(['old']);
      expect((await db.list()).map((i) => i.jobId).sort()).toEqual(['mid', 'new']);
      // Saving a job again never drops its own older copy's neighbours needlessly.
      expect((await db.save(rec('new', 4, 4), cap)).dropped).toEqual([]);
      const total = (await db.list()).reduce((s, i) => s + i.bytes, 0);
      expect(total).toBeLessThanOrEqual(cap);
    });

    it('a checkpoint bigger than the whole cap is refused with a reason, and nothing is dropped for it', async () => {
      const db = make();
      await db.save(rec('keep', 1, 2), 10 * MB);
      const out = await db.save(rec('huge', 2, 12), 10 * MB);
      expect(out.stored).toBe(false);
      expect(out.reason).toMatch(/more than the 10 MB/);
      expect((await db.list()).map((i) => i.jobId)).toEqual(['keep']);
    });

    it('clean-up: keep only the best weights of an ended job; delete one job; delete all', async () => {
      const db = make();
      await db.save(rec('a', 1, 2), 100 * MB);
      await db.save(rec('b', 2, 2), 100 * MB);
      await db.save(rec('nobest', 3, 1, false), 100 * MB);
      const before = (await db.list()).find((i) => i.jobId === 'a')!.bytes;
      const info = (await db.keepBestOnly('a'))!;
      expect(info.resumable).toBe(false);
      expect(info.bytes).toBeLessThan(before / 3);
      const a = (await db.get('a'))!;
      expect(a.checkpoint).toBeNull();
      expect(bestOf(a)).toMatchObject({ runIndex: 1, epoch: 2, names: ['w'] });
      // Nothing worth keeping: the record goes.
      expect(await db.keepBestOnly('nobest')).toBeNull();
      expect(await db.get('nobest')).toBeNull();
      await db.remove('b');
      expect((await db.list()).map((i) => i.jobId)).toEqual(['a']);
      await db.save(rec('c', 4, 1), 100 * MB);
      await db.removeAll();
      expect(await db.list()).toEqual([]);
      expect(await db.get('a')).toBeNull();
    });
  });
}

suite('IndexedDB', () => openCheckpointDb(indexedDB, freshName()));
suite('memory', () => memoryCheckpointDb());

describe('checkpoints share the database with the jobs', () => {
  it('a database made by the jobs store before checkpoints existed is upgraded, jobs kept', async () => {
    const name = freshName();
    // Version 1 as the previous release created it: only 'jobs'.
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore('jobs', { keyPath: 'id' }).put({ id: 'x', v: 1 });
      r.onsuccess = () => {
        r.result.close();
        resolve();
      };
      r.onerror = () => reject(r.error);
    });
    const ck = openCheckpointDb(indexedDB, name);
    await ck.save(rec('x', 1, 1), 10 * MB);
    const jobs = openJobDb(indexedDB, name);
    expect((await jobs.loadAll()).map((j) => j.id)).toEqual(['x']);
    expect((await ck.list()).map((i) => i.jobId)).toEqual(['x']);
  });
});

describe('file identity', () => {
  it('hashes with SHA-256 and tells a different file apart', async () => {
    const a = await fileIdentity(new Blob(['abc']), 'a.pkl');
    expect(a).toEqual({
      name: 'a.pkl',
      size: 3,
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    });
    expect(fileMismatch(a, await fileIdentity(new Blob(['abc']), 'renamed.pkl'))).toBeNull();
    expect(fileMismatch(a, await fileIdentity(new Blob(['abd']), 'a.pkl'))).toMatch(/not the file this run trained on/);
  });
});
