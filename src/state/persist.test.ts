import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { INTERRUPTED_MESSAGE, loadJobs, openJobDb } from './persist.ts';
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
});
