/**
 * Jobs survive a reload: every StoredJob lives in IndexedDB (database 'mfmb-playground', object
 * store 'jobs', keyed by id), through the plain IndexedDB API. `memoryJobDb()` is the same
 * interface in memory (tests, or browsers without IndexedDB).
 *
 * Several tabs share the database, so:
 * - a running job has an **owner**, the tab that runs it. The owner holds a Web Lock named
 *   `mfmb-job:<id>` (`webLocksOwners`) until the job ends; the browser drops it when the tab closes
 *   or reloads. Without the Web Locks API, the owner stamps `heartbeatAt` every few seconds
 *   (`heartbeatOwners`). On load, only a 'running' job whose owner is gone becomes 'interrupted'.
 * - writes are **per field**, read-modify-write in one transaction (`update`): the owner writes the
 *   job's progress fields, a rename writes only the name, marking 'interrupted' happens only while
 *   the stored job is still 'running'. No tab ever writes its whole (possibly stale) copy over the
 *   stored one; `put` only creates.
 */
import type { StoredJob } from './types.ts';

export const DB_NAME = 'mfmb-playground';
export const STORE_NAME = 'jobs';
/** Version 2 adds the epoch checkpoints (src/state/checkpoints.ts): 'checkpoints' and 'checkpoint-info'. */
const DB_VERSION = 2;
export const CHECKPOINT_STORE = 'checkpoints';
export const CHECKPOINT_INFO_STORE = 'checkpoint-info';

/**
 * Opens the app's database, creating what a version lacks. Jobs and checkpoints share it (one
 * version, one upgrade), each with its own connection.
 */
export function openDatabase(factory: IDBFactory | undefined, name: string): Promise<IDBDatabase> {
  if (!factory) return Promise.reject(new Error('IndexedDB is not available in this browser'));
  return new Promise<IDBDatabase>((resolve, reject) => {
    const req = factory.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const d = req.result;
      if (!d.objectStoreNames.contains(STORE_NAME)) d.createObjectStore(STORE_NAME, { keyPath: 'id' });
      if (!d.objectStoreNames.contains(CHECKPOINT_STORE)) d.createObjectStore(CHECKPOINT_STORE, { keyPath: 'jobId' });
      if (!d.objectStoreNames.contains(CHECKPOINT_INFO_STORE))
        d.createObjectStore(CHECKPOINT_INFO_STORE, { keyPath: 'jobId' });
    };
    req.onsuccess = () => {
      const d = req.result;
      d.onversionchange = () => d.close();
      resolve(d);
    };
    req.onerror = () => reject(req.error ?? new Error('could not open IndexedDB'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab of this app; close it and reload'));
  });
}

export interface JobDb {
  loadAll(): Promise<StoredJob[]>;
  get(id: string): Promise<StoredJob | null>;
  /** Writes a whole record: for a job this tab creates (never over another tab's copy). */
  put(job: StoredJob): Promise<void>;
  /**
   * Read-modify-write of some fields in one transaction. The stored record gets `patch`'s fields
   * (others untouched) when `onlyIf(stored)` holds (default: always); when there is no record,
   * `create` is stored if given. Resolves with the record as stored afterwards (null: none).
   */
  update(id: string, patch: Partial<StoredJob>, opts?: UpdateOptions): Promise<StoredJob | null>;
  remove(id: string): Promise<void>;
  close?(): void;
}

export interface UpdateOptions {
  create?: StoredJob;
  onlyIf?(stored: StoredJob): boolean;
}

/** The record after `update`'s rules (pure: both stores use it). */
function applyUpdate(
  stored: StoredJob | null | undefined,
  patch: Partial<StoredJob>,
  opts: UpdateOptions = {},
): { write: StoredJob | null; result: StoredJob | null } {
  if (!stored || !isStoredJob(stored))
    return opts.create ? { write: opts.create, result: opts.create } : { write: null, result: null };
  if (opts.onlyIf && !opts.onlyIf(stored)) return { write: null, result: stored };
  const next: StoredJob = { ...stored };
  for (const k of Object.keys(patch) as (keyof StoredJob)[]) {
    if (!Object.prototype.hasOwnProperty.call(patch, k)) continue;
    if (patch[k] === undefined) delete next[k];
    else (next as unknown as Record<string, unknown>)[k] = patch[k];
  }
  return { write: next, result: next };
}

export function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

export function done(tx: IDBTransaction): Promise<void> {
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
    if (!db) {
      db = openDatabase(factory, name);
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
    async get(id) {
      const d = await open();
      const tx = d.transaction(STORE_NAME, 'readonly');
      const v = await request(tx.objectStore(STORE_NAME).get(id) as IDBRequest<unknown>);
      return isStoredJob(v) ? v : null;
    },
    async put(job) {
      const d = await open();
      const tx = d.transaction(STORE_NAME, 'readwrite');
      tx.objectStore(STORE_NAME).put(job);
      await done(tx);
    },
    async update(id, patch, opts) {
      const d = await open();
      const tx = d.transaction(STORE_NAME, 'readwrite');
      const os = tx.objectStore(STORE_NAME);
      let result: StoredJob | null = null;
      // The get and the put share one readwrite transaction: no other tab's write lands between them.
      const getReq = os.get(id) as IDBRequest<StoredJob | undefined>;
      getReq.onsuccess = () => {
        const r = applyUpdate(getReq.result, patch, opts);
        result = r.result;
        if (r.write) os.put(r.write);
      };
      await done(tx);
      return result;
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
    async get(id) {
      const j = jobs.get(id);
      return j ? structuredClone(j) : null;
    },
    async put(job) {
      jobs.set(job.id, structuredClone(job));
    },
    async update(id, patch, opts) {
      const r = applyUpdate(jobs.get(id), structuredClone(patch), opts);
      if (r.write) jobs.set(id, structuredClone(r.write));
      return r.result ? structuredClone(r.result) : null;
    },
    async remove(id) {
      jobs.delete(id);
    },
  };
}

// ----------------------------------------------------------------------------- owners

/** The part of the Web Locks API (navigator.locks) the owners use. */
export interface LockManagerLike {
  request(name: string, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
  query(): Promise<{ held?: { name?: string }[]; pending?: { name?: string }[] }>;
}

/** Who runs which job: the tab that runs a job claims it; other tabs ask whether its owner lives. */
export interface JobOwners {
  /** This tab owns the job until the returned release function is called (or the tab goes). */
  claim(jobId: string): () => void;
  /** Whether a live tab (this one included) owns this stored job. */
  isAlive(job: StoredJob): Promise<boolean>;
  /** true: ownership is shown by `heartbeatAt`, which the owner must refresh every HEARTBEAT_MS. */
  readonly heartbeat: boolean;
}

export const jobLockName = (id: string): string => `mfmb-job:${id}`;
export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this means the owner is gone. */
export const HEARTBEAT_STALE_MS = 20_000;

/** Ownership through the Web Locks API: a lock per running job, released by the browser with the tab. */
export function webLocksOwners(locks: LockManagerLike): JobOwners {
  return {
    heartbeat: false,
    claim(jobId) {
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => (release = r));
      void locks.request(jobLockName(jobId), () => held).catch(() => undefined);
      return () => release();
    },
    async isAlive(job) {
      const q = await locks.query();
      const name = jobLockName(job.id);
      return [...(q.held ?? []), ...(q.pending ?? [])].some((l) => l.name === name);
    },
  };
}

/** Ownership without Web Locks: the owner's `heartbeatAt` stamp must be recent. */
export function heartbeatOwners(now: () => number = () => Date.now()): JobOwners {
  return {
    heartbeat: true,
    claim: () => () => undefined,
    isAlive: async (job) =>
      typeof job.heartbeatAt === 'number' && Math.abs(now() - job.heartbeatAt) < HEARTBEAT_STALE_MS,
  };
}

/** navigator.locks where the browser has it, heartbeats otherwise. */
export function defaultOwners(): JobOwners {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks && typeof locks.request === 'function' && typeof locks.query === 'function'
    ? webLocksOwners(locks)
    : heartbeatOwners();
}

export const INTERRUPTED_MESSAGE = 'cut off by a page reload; what had finished is kept';

/** Newest first. */
export function sortJobs(jobs: StoredJob[]): StoredJob[] {
  return [...jobs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

/**
 * Loads every job. A job still 'running' whose owner is gone (its tab was closed or reloaded) is
 * marked 'interrupted' in the database, only if it is still 'running' there; one whose owner lives
 * (another tab is training it) is left alone. Without `owners` every 'running' job counts as cut
 * off. Records that are not jobs at all are skipped.
 */
export async function loadJobs(db: JobDb, owners?: JobOwners): Promise<StoredJob[]> {
  const all = (await db.loadAll()).filter(isStoredJob);
  const out: StoredJob[] = [];
  for (const job of all) {
    if (job.status === 'running' && !(owners && (await owners.isAlive(job).catch(() => false)))) {
      const fixed = await db.update(
        job.id,
        { status: 'interrupted', message: INTERRUPTED_MESSAGE },
        { onlyIf: (stored) => stored.status === 'running' },
      );
      if (fixed) out.push(fixed);
    } else {
      out.push(job);
    }
  }
  return sortJobs(out);
}

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** A stored record that is a job (own properties of the right types). */
export function isStoredJob(v: unknown): v is StoredJob {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const j = v as Record<string, unknown>;
  const has = (k: string, t: string) => own(j, k) && typeof j[k] === t;
  return (
    has('id', 'string') &&
    has('name', 'string') &&
    has('createdAt', 'string') &&
    has('status', 'string') &&
    has('kind', 'string') &&
    own(j, 'epochs') &&
    Array.isArray(j.epochs) &&
    own(j, 'runs') &&
    Array.isArray(j.runs) &&
    own(j, 'settings') &&
    Array.isArray(j.settings) &&
    has('config', 'object') &&
    j.config !== null
  );
}
