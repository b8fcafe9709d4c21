/**
 * The app's one zustand store, built from slices (config, backend, job, runs, notice) plus the
 * lifecycle additions of types.ts. The worker is created on first use through `deps.makeWorker`,
 * so tests inject a fake; `useAppStore` is the app's instance with the real module worker and
 * IndexedDB.
 *
 *   const useAppStore = createAppStore({ makeWorker: () => new Worker(...) });
 *   useAppStore.getState().init();            // once, on mount
 *   const status = useAppStore((s) => s.status);
 */
import { create } from 'zustand';
import pkg from '../../package.json';
import { TOOL_NAME } from '../core/eval/results.ts';
import { defaultOwners, memoryJobDb, loadJobs, openJobDb, sortJobs, type JobDb } from './persist.ts';
import { presetById } from './presets.ts';
import { Runtime, type StoreDeps, type WorkerLike } from './runtime.ts';
import { backendSlice } from './slices/backend.ts';
import { configSlice } from './slices/config.ts';
import { beginJob, failJob, initialProgress, isActive, jobSlice } from './slices/job.ts';
import {
  bestOf,
  DEFAULT_CHECKPOINT_CAP_BYTES,
  fileIdentity,
  fileMismatch,
  infoOf,
  memoryCheckpointDb,
  openCheckpointDb,
  type CheckpointDb,
  type StoredCheckpoint,
} from './checkpoints.ts';
import type { FromWorker } from '../worker/protocol.ts';
import type { StoredJob } from './types.ts';
import { errorNotice, infoNotice, noticeSlice } from './slices/notice.ts';
import { runsSlice } from './slices/runs.ts';
import { fileSlice } from './slices/file.ts';
import { inspectSlice, onInspected } from './slices/inspect.ts';
import { estimatesSlice } from './slices/estimates.ts';
import type { AppState } from './types.ts';
import { readUrlState } from './urlCodec.ts';
import { configError, mergeOntoDefaults, normalizeConfig } from '../core/config/validateConfig.ts';
import { decodeWeightsFile, encodeWeightsFile } from './weightsFile.ts';
import { handleWorkerCrash, handleWorkerMessage } from './workerEvents.ts';

export type { WorkerLike } from './runtime.ts';

/** The runtime's dependencies plus where epoch checkpoints go (default IndexedDB) and their cap. */
export interface AppStoreDeps extends StoreDeps {
  checkpoints?: CheckpointDb;
  checkpointCapBytes?: number;
}
export type { AppStoreDeps as StoreDeps };

const TOOL_VERSION: string = (pkg as { version: string }).version;

function defaultDb(): JobDb {
  return typeof indexedDB !== 'undefined' ? openJobDb(indexedDB) : memoryJobDb();
}

function defaultCheckpointDb(): CheckpointDb {
  return typeof indexedDB !== 'undefined' ? openCheckpointDb(indexedDB) : memoryCheckpointDb();
}

const MB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MB`;

export function createAppStore(deps: AppStoreDeps) {
  return create<AppState>()((set, get) => {
    const rt = new Runtime(deps, deps.db ?? defaultDb(), deps.owners ?? defaultOwners(), set, get);
    const estimates = estimatesSlice(set, get, rt);
    const ck = deps.checkpoints ?? defaultCheckpointDb();
    const capBytes = deps.checkpointCapBytes ?? DEFAULT_CHECKPOINT_CAP_BYTES;
    // Checkpoint writes, one chain per job; a checkpoint superseded before its turn is skipped.
    const ckChains = new Map<string, Promise<void>>();
    const ckLatest = new Map<string, StoredCheckpoint>();
    const ckRefused = new Set<string>();
    let ckErrorShown = false;
    const ckEnqueue = (jobId: string, op: () => Promise<void>): void => {
      const next = (ckChains.get(jobId) ?? Promise.resolve()).then(op).catch((e: unknown) => {
        if (ckErrorShown) return;
        ckErrorShown = true;
        set(
          errorNotice(
            `Checkpoints could not be saved in this browser's storage (${(e as Error)?.message ?? String(e)}); a reload will lose the run in progress.`,
          ),
        );
      });
      ckChains.set(jobId, next);
      void next.finally(() => {
        if (ckChains.get(jobId) === next) ckChains.delete(jobId);
      });
    };
    const ckSetInfo = (jobId: string, info: AppState['checkpoints'][string] | null) =>
      set((s) => {
        const next = { ...s.checkpoints };
        if (info) next[jobId] = info;
        else delete next[jobId];
        return { checkpoints: next };
      });
    const saveCheckpoint = (msg: Extract<FromWorker, { type: 'checkpoint' }>): void => {
      if (!get().jobs.some((j) => j.id === msg.jobId)) return;
      const rec: StoredCheckpoint = {
        jobId: msg.jobId,
        savedAt: rt.now(),
        runIndex: msg.index,
        setting: msg.setting,
        seed: msg.seed,
        checkpoint: msg.checkpoint,
        best: null,
      };
      ckLatest.set(msg.jobId, rec);
      ckEnqueue(msg.jobId, async () => {
        if (ckLatest.get(msg.jobId) !== rec) return;
        const out = await ck.save(rec, capBytes);
        if (ckLatest.get(msg.jobId) === rec) ckLatest.delete(msg.jobId);
        if (!out.stored) {
          if (!ckRefused.has(msg.jobId) && out.reason) set(errorNotice(`Checkpoint not stored: ${out.reason}.`));
          ckRefused.add(msg.jobId);
          return;
        }
        ckSetInfo(msg.jobId, out.info);
        if (out.dropped.length) {
          const names = out.dropped.map((id) => get().jobs.find((j) => j.id === id)?.name ?? 'a deleted run');
          set((s) => {
            const next = { ...s.checkpoints };
            for (const id of out.dropped) delete next[id];
            return { checkpoints: next };
          });
          set(
            infoNotice(
              `Checkpoints are kept up to ${MB(capBytes)}: dropped the stored checkpoint${out.dropped.length === 1 ? '' : 's'} of ${names.map((n) => `"${n}"`).join(', ')} (saved longest ago) to make room.`,
            ),
          );
        }
      });
    };
    const removeCheckpoint = (jobId: string): void => {
      ckLatest.delete(jobId);
      ckSetInfo(jobId, null);
      ckEnqueue(jobId, () => ck.remove(jobId));
    };
    const runs = runsSlice(set, get, rt);

    rt.onMessage = (msg) => {
      if (msg.type === 'inspected') return onInspected(msg, set, get);
      if (msg.type === 'estimated') return estimates.onEstimated(msg);
      if (msg.type === 'checkpoint') return saveCheckpoint(msg);
      // An ended job has nothing to resume: keep its best weights only (after its pending saves).
      if (msg.type === 'done' && get().jobs.some((j) => j.id === msg.jobId))
        ckEnqueue(msg.jobId, async () => {
          if (get().checkpoints[msg.jobId] || (await ck.get(msg.jobId)))
            ckSetInfo(msg.jobId, await ck.keepBestOnly(msg.jobId));
        });
      const wasActive = isActive(get().status);
      handleWorkerMessage(msg, set, get, rt);
      // Preset estimates: measured once a backend is up, and again after a job if one was refused.
      // (A file load stops a measurement in the worker: retried once the read is over.)
      const fileDone = msg.type === 'file-loaded' || msg.type === 'file-error';
      if (msg.type === 'backend' || fileDone || (wasActive && !isActive(get().status))) scheduleEstimates();
    };
    let estimateTimer: ReturnType<typeof setTimeout> | null = null;
    const scheduleEstimates = () => {
      if (deps.estimateDelayMs === null) return; // tests that count the worker's messages
      if (estimateTimer) clearTimeout(estimateTimer);
      // A moment after the backend is ready, so the page's first action is not slowed by it.
      estimateTimer = setTimeout(() => {
        estimateTimer = null;
        get().measurePresets();
      }, deps.estimateDelayMs ?? 1500);
    };
    rt.onCrash = (message) => handleWorkerCrash(message, set, get, rt);

    return {
      ...estimates.slice,
      ...configSlice(set, get, rt),
      ...backendSlice(set, get, rt),
      ...jobSlice(set, get, rt),
      ...runs,
      deleteJob(id) {
        runs.deleteJob(id);
        if (!get().jobs.some((j) => j.id === id)) removeCheckpoint(id);
      },
      checkpoints: {},
      checkpointCapBytes: capBytes,
      deleteCheckpoint(jobId) {
        const s = get();
        if (s.currentJobId === jobId && isActive(s.status)) {
          set(errorNotice('This job is running: its next epoch would store a checkpoint again. Stop it first.'));
          return;
        }
        removeCheckpoint(jobId);
      },
      deleteAllCheckpoints() {
        const s = get();
        const running = s.currentJobId && isActive(s.status) ? s.currentJobId : null;
        for (const id of Object.keys(s.checkpoints)) if (id !== running) removeCheckpoint(id);
        // Records this tab does not list (a job deleted elsewhere) go too.
        ckEnqueue('*all*', async () => {
          for (const info of await ck.list()) if (info.jobId !== running) await ck.remove(info.jobId);
        });
      },

      async resumeInterrupted(jobId) {
        const s = get();
        const job = s.jobs.find((j) => j.id === jobId);
        if (!job) return void set(errorNotice('That run no longer exists.'));
        if (isActive(s.status)) return void set(errorNotice('A job is running; stop it before resuming another.'));
        if (job.status !== 'interrupted')
          return void set(errorNotice(`Only a run cut off by a reload can be resumed (this one is ${job.status}).`));
        if (job.config.data.source.startsWith('file:') && s.config.data.source !== job.config.data.source)
          return void set(
            errorNotice(
              `This run trained on ${job.config.data.source.slice(5)}. Load that file in the Data panel, then press Resume.`,
            ),
          );
        if (job.file) {
          const active = s.fileLoad.activeFile;
          const want = job.file;
          if (!active || s.config.data.source !== job.config.data.source)
            return void set(
              errorNotice(
                `This run trained on the file ${want.name} (${want.size.toLocaleString('en-US')} bytes). Load that file in the Data panel, then press Resume.`,
              ),
            );
          const why = fileMismatch(want, await fileIdentity(active, s.fileLoad.summary?.file ?? want.name));
          if (why) return void set(errorNotice(`Cannot resume: ${why}. Load that file, then press Resume.`));
        }
        let rec: StoredCheckpoint | null;
        try {
          await ckChains.get(jobId);
          rec = await ck.get(jobId);
          // A write the reloaded page had under way may have landed after the list was read.
          ckSetInfo(jobId, rec ? infoOf(rec) : null);
        } catch (e) {
          return void set(errorNotice(`Could not read the stored checkpoint: ${(e as Error)?.message ?? String(e)}`));
        }
        const finished = job.runs.slice();
        const runIndex = finished.length;
        const checkpoint = rec?.checkpoint && rec.runIndex === runIndex ? rec.checkpoint : null;
        const epochs = [
          ...job.epochs.filter((e) => e.index < runIndex),
          ...(checkpoint ? checkpoint.epochs.map((record) => ({ index: runIndex, record })) : []),
        ];
        const resumed: StoredJob = {
          ...job,
          status: 'running',
          epochs,
          tests: (job.tests ?? []).filter((t) => t.index < runIndex),
          results: null,
          ...(s.backend.active ? { backend: s.backend.active } : {}),
        };
        delete resumed.message;
        const progress = initialProgress(job.config, job.settings);
        set((st) => ({
          jobs: st.jobs.map((j) => (j.id === jobId ? resumed : j)),
          currentJobId: jobId,
          status: 'running',
          progress: {
            ...progress,
            runIndex,
            epoch: checkpoint?.epoch ?? 0,
            bestEpoch: checkpoint?.bestEpoch ?? null,
            stage: 'starting-backend',
          },
          notice: null,
        }));
        rt.adopt(jobId, true);
        rt.saveJob(jobId, true);
        const transfer: ArrayBuffer[] = [];
        if (checkpoint) {
          for (const a of [checkpoint.params, checkpoint.best, checkpoint.adam.m, checkpoint.adam.v, checkpoint.rng.mt])
            if (a) transfer.push(a.buffer as ArrayBuffer);
        }
        const sent = rt.post(
          {
            type: 'start',
            jobId,
            kind: job.kind,
            config: job.config,
            settings: job.settings,
            resume: { runIndex, finished, checkpoint },
          },
          transfer,
        );
        if (!sent) failJob(set, rt, jobId, 'the training worker could not be started');
      },
      ...noticeSlice(set, get),
      ...fileSlice(set, get, rt),
      ...inspectSlice(set, get, rt),

      jobsLoaded: false,
      memory: null,

      init(opts) {
        if (rt.initPromise) return rt.initPromise;
        rt.initPromise = (async () => {
          const url = opts?.url ?? (typeof location !== 'undefined' ? location.href : '');
          if (url) {
            const u = readUrlState(url);
            if (u.config?.data.source.startsWith('file:')) {
              // A shared link can name a file but never carry it: files stay in the browser that loaded them.
              const name = u.config.data.source.slice('file:'.length);
              u.config.data.source = 'synthetic:small';
              set({
                config: normalizeConfig(u.config),
                ...infoNotice(
                  `This link was made with the file ${name}, which is not loaded here: showing synthetic: small. Load ${name} in the Data panel to use it.`,
                ),
              });
            } else if (u.config) set({ config: u.config });
            if (u.backend) set((s) => ({ backend: { ...s.backend, requested: u.backend! } }));
            if (u.error) set(errorNotice(u.error));
          }
          rt.ensureWorker();
          rt.scheduleDescribe(true);
          rt.startSync();
          void ck.list().then(
            (infos) =>
              set((st) => ({
                checkpoints: { ...Object.fromEntries(infos.map((i) => [i.jobId, i])), ...st.checkpoints },
              })),
            () => undefined, // no checkpoint storage: the jobs' own notice says so when it matters
          );
          try {
            const loaded = await loadJobs(rt.db, rt.owners);
            set((s) => {
              const mine = new Set(s.jobs.map((j) => j.id));
              return { jobs: sortJobs([...s.jobs, ...loaded.filter((j) => !mine.has(j.id))]), jobsLoaded: true };
            });
          } catch (e) {
            set({
              jobsLoaded: true,
              ...errorNotice(
                `Saved runs could not be loaded from this browser's storage: ${(e as Error)?.message ?? String(e)}`,
              ),
            });
          }
        })();
        return rt.initPromise;
      },

      refreshMemory() {
        rt.post({ type: 'memory' });
      },

      applyPreset(id, start = false) {
        let preset;
        try {
          preset = presetById(id).build();
        } catch (e) {
          set(errorNotice((e as Error).message));
          return;
        }
        if (start && isActive(get().status)) {
          set(errorNotice('A job is already running; stop it before starting a preset.'));
          return;
        }
        // A preset the config checks reject must not start a job on the previous config.
        if (get().loadConfig(preset.config) && start) get().startJob(preset.kind, preset.settings);
      },

      async exportWeights(jobId, runIndex) {
        const job = get().jobs.find((j) => j.id === jobId);
        if (!job) {
          set(errorNotice('That run no longer exists.'));
          return null;
        }
        // The worker holds the weights of the job this page ran last; any other job's best weights
        // come from its stored checkpoint (they survive a reload).
        let msg: Pick<
          Extract<FromWorker, { type: 'weights' }>,
          'setting' | 'seed' | 'names' | 'shapes' | 'data'
        > | null;
        if (jobId === get().currentJobId) msg = await rt.requestWeights(jobId, runIndex);
        else {
          let rec: StoredCheckpoint | null;
          try {
            await ckChains.get(jobId);
            rec = await ck.get(jobId);
          } catch (e) {
            set(errorNotice(`Could not read the stored weights: ${(e as Error)?.message ?? String(e)}`));
            return null;
          }
          const best = rec ? bestOf(rec) : null;
          if (!best) {
            set(
              errorNotice(
                'No weights are stored for this run: its checkpoints were deleted, dropped to stay under the storage cap, or it never finished an epoch.',
              ),
            );
            return null;
          }
          if (runIndex !== undefined && runIndex !== best.runIndex) {
            set(
              errorNotice(
                `Only run ${best.runIndex + 1}'s weights are stored for this job, not run ${runIndex + 1}'s.`,
              ),
            );
            return null;
          }
          msg = {
            setting: best.setting,
            seed: best.seed,
            names: best.names,
            shapes: best.shapes,
            data: best.data.buffer as ArrayBuffer,
          };
        }
        if (!msg) return null;
        const bytes = encodeWeightsFile({
          createdAt: new Date(rt.now()).toISOString(),
          tool: { name: TOOL_NAME, version: TOOL_VERSION },
          config: job.config,
          setting: msg.setting,
          seed: msg.seed,
          names: msg.names,
          shapes: msg.shapes,
          data: new Float32Array(msg.data),
        });
        return new Blob([bytes], { type: 'application/octet-stream' });
      },

      importWeights(file, name) {
        if (isActive(get().status)) {
          set(errorNotice('A job is running; stop it before importing weights.'));
          return;
        }
        let w;
        try {
          w = decodeWeightsFile(file);
        } catch (e) {
          set(errorNotice(`Could not import the weights: ${(e as Error).message}`));
          return;
        }
        const merged = mergeOntoDefaults(w.config);
        const problem = merged.errors.length ? merged.errors.slice(0, 3).join('; ') : configError(merged.config);
        if (problem) {
          set(errorNotice(`Could not import the weights: their config is not usable here (${problem})`));
          return;
        }
        const config = normalizeConfig(merged.config);
        const setting = { arch: w.setting.arch, branches: { ...w.setting.branches } };
        const job = beginJob(set, get, rt, {
          kind: 'train',
          config,
          settings: [setting],
          name:
            name?.trim() ||
            `Imported weights · ${config.model.preset} model · ${config.data.source.replace(/^synthetic:/, '')}`,
        });
        const data = w.data.buffer as ArrayBuffer;
        const sent = rt.post(
          {
            type: 'evaluate-weights',
            jobId: job.id,
            config,
            setting,
            seed: w.seed,
            names: w.names,
            shapes: w.shapes,
            data,
          },
          [data],
        );
        if (!sent) failJob(set, rt, job.id, 'the training worker could not be started');
      },

      flush: async () => {
        await rt.flush();
        while (ckChains.size) await Promise.all([...ckChains.values()]);
      },
    };
  });
}

export type AppStore = ReturnType<typeof createAppStore>;

function browserWorker(): WorkerLike {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' }) as unknown as WorkerLike;
}

/** The app's store: the real module worker, IndexedDB. Nothing starts until init() or a first action. */
export const useAppStore = createAppStore({ makeWorker: browserWorker });
