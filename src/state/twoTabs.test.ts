/**
 * Two tabs of the app on one IndexedDB (fake-indexeddb): a job has an owner (the tab that runs it,
 * holding a Web Lock), only a job whose owner is gone is marked 'interrupted', and writes are per
 * field, so a stale tab can never write its old copy over a finished job.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { makeResultsFile } from '../core/eval/results.ts';
import { metricsOf, run } from '../core/eval/__fixtures__/runs.ts';
import { openJobDb, webLocksOwners, type LockManagerLike } from './persist.ts';
import { createAppStore } from './store.ts';
import { FakeWorker } from './__fixtures__/fakeWorker.ts';

/** One browser's LockManager, seen from several tabs; closing a tab releases its locks. */
class FakeBrowserLocks {
  private held = new Map<string, string>(); // lock name → tab
  tab(tabId: string): LockManagerLike & { close(): void } {
    return {
      request: async (name, cb) => {
        while (this.held.has(name)) await new Promise((r) => setTimeout(r, 1));
        this.held.set(name, tabId);
        try {
          return await cb({ name });
        } finally {
          if (this.held.get(name) === tabId) this.held.delete(name);
        }
      },
      query: async () => ({ held: [...this.held.keys()].map((name) => ({ name })), pending: [] }),
      close: () => {
        for (const [name, t] of [...this.held]) if (t === tabId) this.held.delete(name);
      },
    };
  }
}

const epochRecord = (epoch: number) => ({
  epoch,
  trainLoss: 1 / epoch,
  validLoss: 1.1 / epoch,
  lr: 0.002,
  seconds: 0.1,
  valid: metricsOf(0.5),
});

const dataset = {
  source: 'synthetic:tiny',
  sizes: { train: 120, valid: 30, test: 60 },
  dims: { text: 32, audio: 5, vision: 20 },
  lengths: { text: 8, audio: 12, vision: 10 },
};

function tab(dbName: string, locks: LockManagerLike) {
  const workers: FakeWorker[] = [];
  const store = createAppStore({
    makeWorker: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
    db: openJobDb(indexedDB, dbName),
    owners: webLocksOwners(locks),
    sync: false, // no BroadcastChannel: the stale tab stays stale, the worst case
    saveIntervalMs: 0,
    describeDelayMs: 0,
  });
  return { store, worker: () => workers[workers.length - 1] };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

function finish(t: ReturnType<typeof tab>, id: string, seed: number) {
  const result = run({ seed, test: [[0, metricsOf(0.5)]] });
  t.worker().emit({ type: 'epoch', jobId: id, index: 0, record: epochRecord(1) });
  t.worker().emit({ type: 'epoch', jobId: id, index: 0, record: epochRecord(2) });
  t.worker().emit({ type: 'run-end', jobId: id, index: 0, result });
  const results = makeResultsFile({
    backend: 'cpu',
    dataset,
    config: t.store.getState().config,
    runs: [result],
    toolVersion: '0.1.0',
  });
  t.worker().emit({ type: 'done', jobId: id, results, aborted: false });
}

describe('two tabs on one IndexedDB', () => {
  it("a second tab does not mark a job whose owner is alive 'interrupted', and its stale rename keeps the results", async () => {
    const name = `mfmb-2tabs-${Math.random()}`;
    const browser = new FakeBrowserLocks();
    const a = tab(name, browser.tab('A'));
    await a.store.getState().init({ url: 'http://localhost/' });
    a.store.getState().applyPreset('quick-demo');
    a.store.getState().startJob('train');
    const id = a.worker().last('start').jobId;
    await a.store.getState().flush();
    await tick();

    const b = tab(name, browser.tab('B'));
    await b.store.getState().init({ url: 'http://localhost/' });
    expect(b.store.getState().jobs.find((j) => j.id === id)?.status).toBe('running');

    finish(a, id, 111);
    await a.store.getState().flush();
    // B still holds its stale copy (running, no epochs) and renames it.
    b.store.getState().renameJob(id, 'renamed in B');
    await b.store.getState().flush();

    const stored = (await openJobDb(indexedDB, name).loadAll()).find((j) => j.id === id)!;
    expect(stored.name).toBe('renamed in B');
    expect(stored.status).toBe('done');
    expect(stored.epochs).toHaveLength(2);
    expect(stored.runs).toHaveLength(1);
    expect(stored.results).not.toBeNull();
  });

  it("a job whose tab was closed is 'interrupted' on the next load, keeping its epochs", async () => {
    const name = `mfmb-2tabs-${Math.random()}`;
    const browser = new FakeBrowserLocks();
    const lockA = browser.tab('A');
    const a = tab(name, lockA);
    await a.store.getState().init({ url: 'http://localhost/' });
    a.store.getState().startJob('train');
    const id = a.worker().last('start').jobId;
    a.worker().emit({ type: 'epoch', jobId: id, index: 0, record: epochRecord(1) });
    await a.store.getState().flush();
    await tick();
    lockA.close(); // the tab is closed (or reloaded): its locks go
    const b = tab(name, browser.tab('B'));
    await b.store.getState().init({ url: 'http://localhost/' });
    const job = b.store.getState().jobs.find((j) => j.id === id)!;
    expect(job.status).toBe('interrupted');
    expect(job.epochs).toHaveLength(1);
  });

  it('two tabs training at once both keep their runs', async () => {
    const name = `mfmb-2tabs-${Math.random()}`;
    const browser = new FakeBrowserLocks();
    const a = tab(name, browser.tab('A'));
    const b = tab(name, browser.tab('B'));
    await a.store.getState().init({ url: 'http://localhost/' });
    a.store.getState().startJob('train');
    const idA = a.worker().last('start').jobId;
    await a.store.getState().flush();
    await tick();
    await b.store.getState().init({ url: 'http://localhost/' });
    b.store.getState().startJob('train');
    const idB = b.worker().last('start').jobId;
    await b.store.getState().flush();
    finish(b, idB, 1111);
    finish(a, idA, 111);
    await Promise.all([a.store.getState().flush(), b.store.getState().flush()]);
    // B renames A's job from its stale copy (A's job was running when B loaded it), and its own
    b.store.getState().renameJob(idA, 'A from B');
    b.store.getState().renameJob(idB, 'B itself');
    await Promise.all([a.store.getState().flush(), b.store.getState().flush()]);
    const all = await openJobDb(indexedDB, name).loadAll();
    const ja = all.find((j) => j.id === idA)!;
    const jb = all.find((j) => j.id === idB)!;
    expect([ja.status, ja.runs.length, ja.name]).toEqual(['done', 1, 'A from B']);
    expect([jb.status, jb.runs.length, jb.name]).toEqual(['done', 1, 'B itself']);
  });
});
