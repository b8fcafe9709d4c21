/**
 * Jobs survive a reload: every StoredJob lives in IndexedDB (database 'mfmb-playground', object
 * store 'jobs', keyed by id), through the plain IndexedDB API. On load, a job still marked
 * 'running' was cut off by the reload: it becomes 'interrupted' and keeps what it had saved.
 * `memoryJobDb()` is the same interface in memory (tests, or browsers without IndexedDB).
 */
import type { StoredJob } from './types.ts';

export const DB_NAME = 'mfmb-playground';
export const STORE_NAME = 'jobs';
const DB_VERSION = 1;

export interface JobDb {
  loadAll(): Promise<StoredJob[]>;
  put(job: StoredJob): Promise<void>;
  remove(id: string): Promise<void>;
  close?(): void;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
  });
}

/** The IndexedDB-backed store; the database opens on first use. */
export function openJobDb(factory: IDBFactory | undefined = globalThis.indexedDB, name = DB_NAME): JobDb {
  let db: Promise<IDBDatabase> | null = null;
  const open = (): Promise<IDBDatabase> => {
    if (!factory) return Promise.reject(new Error('IndexedDB is not available in this browser'));
    if (!db) {
      db = new Promise<IDBDatabase>((resolve, reject) => {
        const req = factory.open(name, DB_VERSION);
        req.onupgradeneeded = () => {
          const d = req.result;
          if (!d.objectStoreNames.contains(STORE_NAME)) d.createObjectStore(STORE_NAME, { keyPath: 'id' });
        };
        req.onsuccess = () => {
          const d = req.result;
          d.onversionchange = () => d.close();
          resolve(d);
        };
        req.onerror = () => reject(req.error ?? new Error('could not open IndexedDB'));
        req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this app; close it and reload'));
      });
      db.catch(() => (db = null));
    }
    return db;
  };
  return {
    async loadAll() {
      const d = await open();
      const tx = d.transaction(STORE_NAME, 'readonly');
      const all = await request(tx.objectStore(STORE_NAME).getAll() as IDBRequest<StoredJob[]>);
      return all;
    },
    async put(job) {
      const d = await open();
      const tx = d.transaction(STORE_NAME, 'readwrite');
      tx.objectStore(STORE_NAME).put(job);
      await done(tx);
    },
    async remove(id) {
      const d = await open();
      const tx = d.transaction(STORE_NAME, 'readwrite');
      tx.objectStore(STORE_NAME).delete(id);
      await done(tx);
    },
    close() {
      void db?.then(
        (d) => d.close(),
        () => undefined,
      );
      db = null;
    },
  };
}

/** In-memory JobDb (values are cloned on the way in and out, like IndexedDB's structured clone). */
export function memoryJobDb(initial: StoredJob[] = []): JobDb & { jobs: Map<string, StoredJob> } {
  const jobs = new Map(initial.map((j) => [j.id, structuredClone(j)]));
  return {
    jobs,
    async loadAll() {
      return [...jobs.values()].map((j) => structuredClone(j));
    },
    async put(job) {
      jobs.set(job.id, structuredClone(job));
    },
    async remove(id) {
      jobs.delete(id);
    },
  };
}

export const INTERRUPTED_MESSAGE = 'cut off by a page reload; what had finished is kept';

/** Newest first. */
export function sortJobs(jobs: StoredJob[]): StoredJob[] {
  return [...jobs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/**
 * Loads every job; the ones still 'running' (a reload cut them off) are marked 'interrupted' and
 * written back. Records that are not jobs at all are skipped.
 */
export async function loadJobs(db: JobDb): Promise<StoredJob[]> {
  const all = (await db.loadAll()).filter(isStoredJob);
  const out: StoredJob[] = [];
  for (const job of all) {
    if (job.status === 'running') {
      const fixed: StoredJob = { ...job, status: 'interrupted', message: INTERRUPTED_MESSAGE };
      await db.put(fixed);
      out.push(fixed);
    } else {
      out.push(job);
    }
  }
  return sortJobs(out);
}

function isStoredJob(v: unknown): v is StoredJob {
  if (typeof v !== 'object' || v === null) return false;
  const j = v as Partial<StoredJob>;
  return (
    typeof j.id === 'string' &&
    typeof j.name === 'string' &&
    typeof j.createdAt === 'string' &&
    typeof j.status === 'string' &&
    Array.isArray(j.epochs) &&
    Array.isArray(j.runs) &&
    typeof j.config === 'object'
  );
}
