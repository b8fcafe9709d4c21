/**
 * Epoch checkpoints survive a reload: the worker sends each finished epoch's resumable checkpoint
 * (src/core/train/trainer.ts TrainCheckpoint) and the page keeps the latest one per job in
 * IndexedDB ('mfmb-playground', object store 'checkpoints', with a small 'checkpoint-info' record
 * per job so the list and the size cap never load the arrays). A job that ended keeps only its
 * best weights (for "Export weights"); a job cut off by a reload keeps everything Resume needs.
 *
 * Storage is capped (default 200 MB over all jobs): a new checkpoint that does not fit drops the
 * checkpoints of the jobs saved longest ago first, and the caller tells the user which. One
 * checkpoint bigger than the whole cap is not stored at all (and the user is told).
 */
import type { ModelSetting } from '../core/eval/experiment.ts';
import type { TrainCheckpoint } from '../core/train/trainer.ts';
import { CHECKPOINT_INFO_STORE, CHECKPOINT_STORE, DB_NAME, done, openDatabase, request } from './persist.ts';

export const DEFAULT_CHECKPOINT_CAP_BYTES = 200 * 1024 * 1024;

/** A run's best-epoch weights, kept for export after the job's resumable state is dropped. */
export interface BestWeights {
  runIndex: number;
  setting: ModelSetting;
  seed: number;
  epoch: number; // 1-based best epoch
  names: string[];
  shapes: number[][];
  data: Float32Array;
}

export interface StoredCheckpoint {
  jobId: string;
  savedAt: number; // ms since 1970
  runIndex: number; // the run `checkpoint` belongs to
  setting: ModelSetting;
  seed: number;
  checkpoint: TrainCheckpoint | null; // null once the job ended: only `best` is kept
  best: BestWeights | null; // set when `checkpoint` is null
}

/** What the runs list shows about a job's stored checkpoint, without loading its arrays. */
export interface CheckpointInfo {
  jobId: string;
  savedAt: number;
  bytes: number;
  runIndex: number;
  setting: ModelSetting;
  seed: number;
  epoch: number; // epochs of run `runIndex` the checkpoint holds (0 when only best weights are kept)
  bestEpoch: number | null;
  resumable: boolean; // holds a resumable checkpoint (not only best weights)
}

export interface SaveOutcome {
  stored: boolean;
  info: CheckpointInfo | null;
  dropped: string[]; // job ids whose checkpoints were removed to make room
  reason?: string; // why it was not stored
}

export interface CheckpointDb {
  list(): Promise<CheckpointInfo[]>;
  get(jobId: string): Promise<StoredCheckpoint | null>;
  /** Stores `rec` as the job's latest, dropping other jobs' checkpoints (oldest first) to stay under `capBytes`. */
  save(rec: StoredCheckpoint, capBytes: number): Promise<SaveOutcome>;
  /** Keeps only the best weights of the job's stored checkpoint (the job ended: nothing to resume). */
  keepBestOnly(jobId: string): Promise<CheckpointInfo | null>;
  remove(jobId: string): Promise<void>;
  removeAll(): Promise<void>;
  close?(): void;
}

/** The best weights a record holds (its checkpoint's, or the ones kept after the job ended). */
export function bestOf(rec: StoredCheckpoint): BestWeights | null {
  if (rec.best) return rec.best;
  const c = rec.checkpoint;
  if (!c || !c.best || c.bestEpoch === null) return null;
  return {
    runIndex: rec.runIndex,
    setting: rec.setting,
    seed: rec.seed,
    epoch: c.bestEpoch,
    names: c.names,
    shapes: c.shapes,
    data: c.best,
  };
}

/** Bytes a record takes: its arrays, plus a rough figure for the epoch records and names. */
export function recordBytes(rec: StoredCheckpoint): number {
  let n = 0;
  const c = rec.checkpoint;
  if (c) {
    n += c.params.byteLength + (c.best?.byteLength ?? 0) + c.adam.m.byteLength + c.adam.v.byteLength;
    n += c.rng.mt.byteLength + c.epochs.length * 400 + c.names.length * 64;
  }
  if (rec.best) n += rec.best.data.byteLength + rec.best.names.length * 64;
  return n;
}

export function infoOf(rec: StoredCheckpoint): CheckpointInfo {
  const best = bestOf(rec);
  return {
    jobId: rec.jobId,
    savedAt: rec.savedAt,
    bytes: recordBytes(rec),
    runIndex: rec.runIndex,
    setting: rec.setting,
    seed: rec.seed,
    epoch: rec.checkpoint?.epoch ?? 0,
    bestEpoch: best?.epoch ?? null,
    resumable: rec.checkpoint !== null,
  };
}

/**
 * Which other jobs' checkpoints to drop so `rec` fits under the cap (oldest saved first), or that
 * it cannot fit at all. Pure: both stores use it.
 */
export function planSave(
  others: CheckpointInfo[],
  bytes: number,
  capBytes: number,
): { fits: true; drop: string[] } | { fits: false; drop: [] } {
  if (bytes > capBytes) return { fits: false, drop: [] };
  let total = others.reduce((s, i) => s + i.bytes, 0) + bytes;
  const drop: string[] = [];
  for (const o of [...others].sort((a, b) => a.savedAt - b.savedAt)) {
    if (total <= capBytes) break;
    drop.push(o.jobId);
    total -= o.bytes;
  }
  return { fits: true, drop };
}

const tooBig = (bytes: number, cap: number) =>
  `one checkpoint of this model takes ${(bytes / 2 ** 20).toFixed(1)} MB, more than the ${(cap / 2 ** 20).toFixed(0)} MB kept for checkpoints`;

function bestOnly(rec: StoredCheckpoint): StoredCheckpoint | null {
  if (!rec.checkpoint) return rec;
  const best = bestOf(rec);
  return best ? { ...rec, checkpoint: null, best } : null;
}

/** The IndexedDB-backed store (the app's database; it opens on first use). */
export function openCheckpointDb(factory: IDBFactory | undefined = globalThis.indexedDB, name = DB_NAME): CheckpointDb {
  let db: Promise<IDBDatabase> | null = null;
  const open = () => {
    if (!db) {
      db = openDatabase(factory, name);
      db.catch(() => (db = null));
    }
    return db;
  };
  const both = [CHECKPOINT_STORE, CHECKPOINT_INFO_STORE];
  return {
    async list() {
      const d = await open();
      const tx = d.transaction(CHECKPOINT_INFO_STORE, 'readonly');
      return await request(tx.objectStore(CHECKPOINT_INFO_STORE).getAll() as IDBRequest<CheckpointInfo[]>);
    },
    async get(jobId) {
      const d = await open();
      const tx = d.transaction(CHECKPOINT_STORE, 'readonly');
      const v = await request(tx.objectStore(CHECKPOINT_STORE).get(jobId) as IDBRequest<StoredCheckpoint | undefined>);
      return v ?? null;
    },
    async save(rec, capBytes) {
      const d = await open();
      const info = infoOf(rec);
      const tx = d.transaction(both, 'readwrite');
      const blobs = tx.objectStore(CHECKPOINT_STORE);
      const infos = tx.objectStore(CHECKPOINT_INFO_STORE);
      let outcome: SaveOutcome = { stored: false, info: null, dropped: [] };
      // Reading the sizes and writing share one transaction: another tab's save cannot slip between.
      const all = infos.getAll() as IDBRequest<CheckpointInfo[]>;
      all.onsuccess = () => {
        const plan = planSave(
          all.result.filter((i) => i.jobId !== rec.jobId),
          info.bytes,
          capBytes,
        );
        if (!plan.fits) {
          outcome = { stored: false, info: null, dropped: [], reason: tooBig(info.bytes, capBytes) };
          return;
        }
        for (const id of plan.drop) {
          blobs.delete(id);
          infos.delete(id);
        }
        blobs.put(rec);
        infos.put(info);
        outcome = { stored: true, info, dropped: plan.drop };
      };
      await done(tx);
      return outcome;
    },
    async keepBestOnly(jobId) {
      const d = await open();
      const tx = d.transaction(both, 'readwrite');
      const blobs = tx.objectStore(CHECKPOINT_STORE);
      const infos = tx.objectStore(CHECKPOINT_INFO_STORE);
      let result: CheckpointInfo | null = null;
      const g = blobs.get(jobId) as IDBRequest<StoredCheckpoint | undefined>;
      g.onsuccess = () => {
        if (!g.result) return;
        const next = bestOnly(g.result);
        if (!next) {
          blobs.delete(jobId);
          infos.delete(jobId);
          return;
        }
        result = infoOf(next);
        blobs.put(next);
        infos.put(result);
      };
      await done(tx);
      return result;
    },
    async remove(jobId) {
      const d = await open();
      const tx = d.transaction(both, 'readwrite');
      tx.objectStore(CHECKPOINT_STORE).delete(jobId);
      tx.objectStore(CHECKPOINT_INFO_STORE).delete(jobId);
      await done(tx);
    },
    async removeAll() {
      const d = await open();
      const tx = d.transaction(both, 'readwrite');
      tx.objectStore(CHECKPOINT_STORE).clear();
      tx.objectStore(CHECKPOINT_INFO_STORE).clear();
      await done(tx);
    },
    close() {
      void db?.then(
        (x) => x.close(),
        () => undefined,
      );
      db = null;
    },
  };
}

/** The same store in memory (tests; browsers without IndexedDB). Values are cloned as IndexedDB does. */
export function memoryCheckpointDb(): CheckpointDb & { records: Map<string, StoredCheckpoint> } {
  const records = new Map<string, StoredCheckpoint>();
  return {
    records,
    async list() {
      return [...records.values()].map(infoOf);
    },
    async get(jobId) {
      const r = records.get(jobId);
      return r ? structuredClone(r) : null;
    },
    async save(rec, capBytes) {
      const info = infoOf(rec);
      const plan = planSave(
        [...records.values()].filter((r) => r.jobId !== rec.jobId).map(infoOf),
        info.bytes,
        capBytes,
      );
      if (!plan.fits) return { stored: false, info: null, dropped: [], reason: tooBig(info.bytes, capBytes) };
      for (const id of plan.drop) records.delete(id);
      records.set(rec.jobId, structuredClone(rec));
      return { stored: true, info, dropped: plan.drop };
    },
    async keepBestOnly(jobId) {
      const r = records.get(jobId);
      if (!r) return null;
      const next = bestOnly(r);
      if (!next) {
        records.delete(jobId);
        return null;
      }
      records.set(jobId, next);
      return infoOf(next);
    },
    async remove(jobId) {
      records.delete(jobId);
    },
    async removeAll() {
      records.clear();
    },
  };
}

/** A feature file's identity: Resume asks for the same file again and refuses another. */
export interface FileIdentity {
  name: string;
  size: number;
  sha256: string; // hex
}

export async function fileIdentity(file: Blob, name: string): Promise<FileIdentity> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { name, size: file.size, sha256 };
}

/** Why `have` is not the file a job trained on (null: it is). */
export function fileMismatch(want: FileIdentity, have: FileIdentity): string | null {
  if (have.size !== want.size || have.sha256 !== want.sha256)
    return `the loaded file ${have.name} (${have.size.toLocaleString('en-US')} bytes) is not the file this run trained on: ${want.name} (${want.size.toLocaleString('en-US')} bytes, SHA-256 ${want.sha256.slice(0, 12)}…)`;
  return null;
}
