/**
 * What the store needs besides state: the worker (created on first use, replaceable by a fake in
 * tests), the IndexedDB writer with its per-job throttle, the describe debounce and the pending
 * weight requests. One Runtime per store; the slices reach it through their creator's argument.
 */
import type { StoreApi } from 'zustand';
import type { FromWorker, ToWorker } from '../worker/protocol.ts';
import type { JobDb } from './persist.ts';
import type { AppState } from './types.ts';

/** The part of a Worker the store uses (a real Worker fits; tests pass a fake). */
export interface WorkerLike {
  postMessage(msg: ToWorker, transfer?: Transferable[]): void;
  onmessage: ((e: { data: FromWorker }) => void) | null;
  onerror: ((e: { message?: string; preventDefault?(): void }) => void) | null;
  terminate(): void;
}

export interface StoreDeps {
  makeWorker(): WorkerLike;
  /** Where jobs are kept; default IndexedDB ('mfmb-playground' / 'jobs'), in memory if unavailable. */
  db?: JobDb;
  /** Minimum time between two saves of one job while it runs (epochs); default 2000 ms. */
  saveIntervalMs?: number;
  /** Debounce of 'describe' after config edits; default 250 ms (0 = at once). */
  describeDelayMs?: number;
  /** Give up on an 'export-weights' answer after this long; default 60 s. */
  weightsTimeoutMs?: number;
  now?(): number;
}

export type SetState = StoreApi<AppState>['setState'];
export type GetState = StoreApi<AppState>['getState'];
type WeightsMsg = Extract<FromWorker, { type: 'weights' }>;

export class Runtime {
  worker: WorkerLike | null = null;
  initPromise: Promise<void> | null = null;
  /** A backend died mid-job: send 'init' again once the job has ended. */
  reinitAfterJob = false;
  private lastSave = new Map<string, number>();
  private saveTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private writes = new Set<Promise<void>>();
  private describeTimer: ReturnType<typeof setTimeout> | null = null;
  private describedKey: string | null = null;
  private saveErrorShown = false;
  private nextRequestId = 1;
  private weightRequests = new Map<
    number,
    { resolve(m: WeightsMsg | null): void; timer: ReturnType<typeof setTimeout> }
  >();
  onMessage: (msg: FromWorker) => void = () => undefined;
  onCrash: (message: string) => void = () => undefined;

  constructor(
    readonly deps: StoreDeps,
    readonly db: JobDb,
    private readonly set: SetState,
    private readonly get: GetState,
  ) {}

  now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  // ------------------------------------------------------------------------- worker

  /** The worker, started (and told which backend to use) on first use; null if it cannot start. */
  ensureWorker(): WorkerLike | null {
    if (this.worker) return this.worker;
    let w: WorkerLike;
    try {
      w = this.deps.makeWorker();
    } catch (e) {
      this.set({
        notice: {
          kind: 'error',
          text: `The training worker could not be started: ${(e as Error)?.message ?? String(e)}`,
        },
      });
      return null;
    }
    this.worker = w;
    w.onmessage = (e) => {
      if (this.worker !== w) return; // a worker we already dropped
      this.onMessage(e.data);
    };
    w.onerror = (e) => {
      e.preventDefault?.();
      if (this.worker !== w) return;
      this.dropWorker();
      this.onCrash(e.message || 'the worker script failed (see the browser console)');
    };
    w.postMessage({ type: 'init', backend: this.get().backend.requested });
    return w;
  }

  /** Posts to the worker (starting it if needed); false when there is no worker. */
  post(msg: ToWorker, transfer?: Transferable[]): boolean {
    const w = this.ensureWorker();
    if (!w) return false;
    if (transfer?.length) w.postMessage(msg, transfer);
    else w.postMessage(msg);
    return true;
  }

  dropWorker(): void {
    const w = this.worker;
    this.worker = null;
    this.describedKey = null;
    try {
      w?.terminate();
    } catch {
      // already gone
    }
    for (const [id, r] of this.weightRequests) {
      clearTimeout(r.timer);
      r.resolve(null);
      this.weightRequests.delete(id);
    }
  }

  // ------------------------------------------------------------------------- describe

  /** Asks the worker for the dataset summary and parameter counts when data or model changed. */
  scheduleDescribe(force = false): void {
    const key = JSON.stringify([this.get().config.data, this.get().config.model]);
    if (!force && key === this.describedKey) return;
    if (this.describeTimer) clearTimeout(this.describeTimer);
    this.describeTimer = null;
    const send = () => {
      this.describeTimer = null;
      const cfg = this.get().config;
      this.describedKey = JSON.stringify([cfg.data, cfg.model]);
      this.post({ type: 'describe', config: cfg });
    };
    const delay = this.deps.describeDelayMs ?? 250;
    if (delay <= 0) send();
    else this.describeTimer = setTimeout(send, delay);
  }

  // ------------------------------------------------------------------------- persistence

  /** Saves a job now (`force`) or at most once per saveIntervalMs (a trailing save is scheduled). */
  saveJob(id: string, force = false): void {
    const interval = this.deps.saveIntervalMs ?? 2000;
    const since = this.now() - (this.lastSave.get(id) ?? -Infinity);
    if (force || since >= interval) {
      this.writeJob(id);
      return;
    }
    if (!this.saveTimers.has(id))
      this.saveTimers.set(
        id,
        setTimeout(() => this.writeJob(id), interval - since),
      );
  }

  private writeJob(id: string): void {
    const t = this.saveTimers.get(id);
    if (t) clearTimeout(t);
    this.saveTimers.delete(id);
    const job = this.get().jobs.find((j) => j.id === id);
    if (!job) return;
    this.lastSave.set(id, this.now());
    this.track(this.db.put(job));
  }

  removeJob(id: string): void {
    const t = this.saveTimers.get(id);
    if (t) clearTimeout(t);
    this.saveTimers.delete(id);
    this.lastSave.delete(id);
    this.track(this.db.remove(id));
  }

  private track(p: Promise<void>): void {
    const w = p.catch((e: unknown) => {
      if (this.saveErrorShown) return;
      this.saveErrorShown = true;
      this.set({
        notice: {
          kind: 'error',
          text: `Runs could not be saved in this browser's storage (${(e as Error)?.message ?? String(e)}); they stay available until the page is closed.`,
        },
      });
    });
    this.writes.add(w);
    void w.finally(() => this.writes.delete(w));
  }

  async flush(): Promise<void> {
    for (const id of [...this.saveTimers.keys()]) this.writeJob(id);
    while (this.writes.size) await Promise.all([...this.writes]);
  }

  // ------------------------------------------------------------------------- weights

  requestWeights(jobId: string, index?: number): Promise<WeightsMsg | null> {
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.weightRequests.delete(requestId);
        this.set({
          notice: {
            kind: 'error',
            text: 'The worker did not hand over the weights in time; try again when training is idle.',
          },
        });
        resolve(null);
      }, this.deps.weightsTimeoutMs ?? 60_000);
      this.weightRequests.set(requestId, { resolve, timer });
      if (!this.post({ type: 'export-weights', requestId, jobId, index })) this.answerWeights(requestId, null);
    });
  }

  answerWeights(requestId: number | undefined, msg: WeightsMsg | null): void {
    if (requestId === undefined) return;
    const r = this.weightRequests.get(requestId);
    if (!r) return;
    clearTimeout(r.timer);
    this.weightRequests.delete(requestId);
    r.resolve(msg);
  }
}
