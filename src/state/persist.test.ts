import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { heartbeatOwners, INTERRUPTED_MESSAGE, loadJobs, memoryJobDb, openJobDb, type JobOwners } from './persist.ts';
import type { StoredJob } from './types.ts';

let dbCount = 0;
const freshName = () => `mfmb-test-${++dbCount}-${Math.random()}`;

function job(id: string, status: StoredJob['status'], createdAt: string): StoredJob {
  return {
    id,
    name: `job ${id}`,
    kind: 'train',
    createdAt,
    status,
    config: defaultRunConfig(),
    settings: [{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }],
    epochs: [
      {
        index: 0,
        record: {
          epoch: 1,
          trainLoss: 1,
          validLoss: 1,
          lr: 0.002,
          seconds: 1,
          valid: { mae: 1, corr: null, acc7: 0, acc5: 0, acc2_has0: 0, acc2_non0: 0, f1_has0: 0, f1_non0: 0 },
        },
      },
    ],
    runs: [],
    results: null,
  };
}

describe('IndexedDB persistence', () => {
  it('stores, lists newest first, overwrites and deletes jobs', async () => {
    const name = freshName();
    const db = openJobDb(indexedDB, name);
    await db.put(job('a', 'done', '2026-11-26T10:00:00Z'));
    await db.put(job('b', 'done', '2026-11-26T11:00:00Z'));
    await db.put({ ...job('a', 'done', '2026-11-26T10:00:00Z'), name: 'renamed' });
    let all = await loadJobs(db);
    expect(all.map((j) => j.id)).toEqual(['b', 'a']);
    expect(all[1].name).toBe('renamed');
    await db.remove('b');
    all = await loadJobs(openJobDb(indexedDB, name));
    expect(all.map((j) => j.id)).toEqual(['a']);
  });

  it("marks a job left 'running' as 'interrupted' on the next load, keeping its epochs", async () => {
    const name = freshName();
    await openJobDb(indexedDB, name).put(job('r', 'running', '2026-11-26T12:00:00Z'));
    // "reload": a new connection reads what the old page left behind
    const after = await loadJobs(openJobDb(indexedDB, name));
    expect(after[0].status).toBe('interrupted');
    expect(after[0].message).toBe(INTERRUPTED_MESSAGE);
    expect(after[0].epochs).toHaveLength(1);
    // and the fix is written back
    const again = await openJobDb(indexedDB, name).loadAll();
    expect(again[0].status).toBe('interrupted');
  });

  it("leaves a 'running' job whose owner is alive (another tab trains it) as it is", async () => {
    const name = freshName();
    await openJobDb(indexedDB, name).put(job('live', 'running', '2026-11-26T12:00:00Z'));
    await openJobDb(indexedDB, name).put(job('gone', 'running', '2026-11-26T11:00:00Z'));
    const owners: JobOwners = { heartbeat: false, claim: () => () => undefined, isAlive: async (j) => j.id === 'live' };
    const after = await loadJobs(openJobDb(indexedDB, name), owners);
    expect(after.map((j) => [j.id, j.status])).toEqual([
      ['live', 'running'],
      ['gone', 'interrupted'],
    ]);
    const stored = await openJobDb(indexedDB, name).loadAll();
    expect(stored.find((j) => j.id === 'live')!.status).toBe('running');
    // heartbeats: a recent stamp is a live owner, an old one is not
    const now = Date.parse('2026-11-26T12:00:00Z');
    const hb = heartbeatOwners(() => now);
    expect(await hb.isAlive({ ...job('x', 'running', ''), heartbeatAt: now - 1000 })).toBe(true);
    expect(await hb.isAlive({ ...job('x', 'running', ''), heartbeatAt: now - 60_000 })).toBe(false);
    expect(await hb.isAlive(job('x', 'running', ''))).toBe(false);
  });

  it('update writes only the patched fields, so a stale copy never replaces a finished job', async () => {
    for (const db of [openJobDb(indexedDB, freshName()), memoryJobDb()]) {
      const finished: StoredJob = { ...job('a', 'done', '2026-11-26T10:00:00Z'), runs: [], results: null };
      finished.epochs = [...finished.epochs, ...finished.epochs];
      await db.put(finished);
      // another tab renames from its copy, which still says 'running' with no epochs
      const renamed = await db.update('a', { name: 'new name' });
      expect(renamed).toMatchObject({ name: 'new name', status: 'done' });
      expect((await db.get('a'))!.epochs).toHaveLength(2);
      // marking 'interrupted' only while it is still 'running' there
      const kept = await db.update('a', { status: 'interrupted' }, { onlyIf: (j) => j.status === 'running' });
      expect(kept!.status).toBe('done');
      // a record another tab deleted is not brought back by a rename
      await db.remove('a');
      expect(await db.update('a', { name: 'x' })).toBeNull();
      expect(await db.loadAll()).toEqual([]);
    }
  });
});
