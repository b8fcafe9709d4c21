/**
 * What the store needs besides state: the worker (created on first use, replaceable by a fake in
 * tests), the IndexedDB writer with its per-job throttle, the describe debounce and the pending
 * weight requests. One Runtime per store; the slices reach it through their creator's argument.
 */
import type { StoreApi } from 'zustand';
import type { FromWorker, ToWorker } from '../worker/protocol.ts';
import { HEARTBEAT_MS, sortJobs, type JobDb, type JobOwners } from './persist.ts';
import type { AppState, StoredJob } from './types.ts';
import { initMessage } from './slices/backend.ts';

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
  /** Delay before the presets' step times are measured once a backend is ready; default 1500 ms, null = never (unit tests). */
  estimateDelayMs?: number | null;
  /** Give up on an 'export-weights' answer after this long; default 60 s. */
  weightsTimeoutMs?: number;
  /** Who owns running jobs across tabs; default Web Locks (navigator.locks), else heartbeats. */
  owners?: JobOwners;
  /**
   * Tell other tabs about every job written or deleted and follow theirs (BroadcastChannel
   * 'mfmb-jobs'); default true where BroadcastChannel exists. A channel-like object may be passed.
   */
  sync?: boolean | ChannelLike;
  now?(): number;
}

/** The part of a BroadcastChannel the store uses. */
export interface ChannelLike {
  postMessage(msg: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  close?(): void;
}

export const SYNC_CHANNEL = 'mfmb-jobs';

/** The fields the owner of a job writes; the name is the user's, written only by a rename. */
function ownerFields(job: StoredJob): Partial<StoredJob> {
  const rest: Partial<StoredJob> = { ...job };
  delete rest.name;
  delete rest.id;
  delete rest.createdAt;
  return rest;
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
  /** Jobs this tab created (it writes their progress fields); a release function while it runs them. */
  private owned = new Map<string, (() => void) | null>();
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private channel: ChannelLike | null = null;
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
    readonly owners: JobOwners,
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
    w.postMessage(initMessage(this.get().backend.requested));
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

  /**
   * This tab created the job: it writes the job's progress fields from now on, and while the job
   * runs it owns it (a Web Lock, or heartbeats), so other tabs never mark it interrupted.
   */
  adopt(id: string, running: boolean): void {
    if (this.owned.get(id)) return;
    this.owned.set(id, running ? this.owners.claim(id) : null);
    if (running && this.owners.heartbeat) this.startHeartbeat();
  }

  owns(id: string): boolean {
    return this.owned.has(id);
  }

  private release(id: string): void {
    const r = this.owned.get(id);
    if (r) {
      r();
      this.owned.set(id, null);
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      const running = [...this.owned].filter(([, r]) => r !== null).map(([id]) => id);
      if (running.length === 0) {
        clearInterval(this.heartbeatTimer!);
        this.heartbeatTimer = null;
        return;
      }
      for (const id of running)
        this.track(
          this.db
            .update(id, { heartbeatAt: this.now() }, { onlyIf: (j) => j.status === 'running' })
            .then(() => undefined),
        );
    }, HEARTBEAT_MS);
    (this.heartbeatTimer as { unref?(): void }).unref?.();
  }

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

  /**
   * The owner's write: every field but the name (a rename in another tab survives), created whole
   * if the record is not there yet. A job this tab did not create is never written whole.
   */
  private writeJob(id: string): void {
    const t = this.saveTimers.get(id);
    if (t) clearTimeout(t);
    this.saveTimers.delete(id);
    const job = this.get().jobs.find((j) => j.id === id);
    if (!job || !this.owned.has(id)) return;
    this.lastSave.set(id, this.now());
    const stamped: StoredJob =
      job.status === 'running' && this.owners.heartbeat ? { ...job, heartbeatAt: this.now() } : job;
    const write = this.db.update(id, ownerFields(stamped), { create: stamped }).then(() => {
      if (job.status !== 'running') this.release(id); // only once the final state has landed
      this.announce(id, false);
    });
    this.track(write);
  }

  /** Writes some fields of a job (a rename): only those fields, whoever owns it. */
  patchJob(id: string, patch: Partial<StoredJob>): void {
    this.track(
      this.db.update(id, patch).then(() => {
        this.announce(id, false);
      }),
    );
  }

  removeJob(id: string): void {
    const t = this.saveTimers.get(id);
    if (t) clearTimeout(t);
    this.saveTimers.delete(id);
    this.lastSave.delete(id);
    this.release(id);
    this.owned.delete(id);
    this.track(this.db.remove(id).then(() => this.announce(id, true)));
  }

  // ------------------------------------------------------------------------- other tabs

  /** Starts listening to other tabs' job writes (once; no-op without BroadcastChannel). */
  startSync(): void {
    if (this.channel) return;
    const opt = this.deps.sync ?? true;
    if (opt === false) return;
    try {
      if (opt === true) {
        if (typeof BroadcastChannel === 'undefined') return;
        const ch = new BroadcastChannel(SYNC_CHANNEL);
        (ch as unknown as { unref?(): void }).unref?.();
        this.channel = ch as unknown as ChannelLike;
      } else this.channel = opt;
    } catch {
      return;
    }
    this.channel.onmessage = (e) => {
      const m = e.data as { id?: unknown; removed?: unknown } | null;
      if (!m || typeof m !== 'object' || typeof m.id !== 'string') return;
      void this.follow(m.id, m.removed === true);
    };
  }

  private announce(id: string, removed: boolean): void {
    try {
      this.channel?.postMessage({ id, removed });
    } catch {
      // the other tabs see it on their next load
    }
  }

  /** Another tab wrote or deleted a job: show what is stored (never for a job this tab runs). */
  private async follow(id: string, removed: boolean): Promise<void> {
    if (this.owned.get(id)) return;
    if (removed) {
      if (this.get().currentJobId === id) return;
      this.set((s) => ({
        jobs: s.jobs.filter((j) => j.id !== id),
        selectedJobIds: s.selectedJobIds.filter((x) => x !== id),
      }));
      return;
    }
    let stored: StoredJob | null;
    try {
      stored = await this.db.get(id);
    } catch {
      return;
    }
    if (!stored || this.owned.get(id)) return;
    const fresh = stored;
    this.set((s) =>
      s.jobs.some((j) => j.id === id)
        ? { jobs: s.jobs.map((j) => (j.id === id ? fresh : j)) }
        : { jobs: sortJobs([...s.jobs, fresh]) },
    );
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
