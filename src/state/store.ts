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
import { beginJob, failJob, isActive, jobSlice } from './slices/job.ts';
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

export type { StoreDeps, WorkerLike } from './runtime.ts';

const TOOL_VERSION: string = (pkg as { version: string }).version;

function defaultDb(): JobDb {
  return typeof indexedDB !== 'undefined' ? openJobDb(indexedDB) : memoryJobDb();
}

export function createAppStore(deps: StoreDeps) {
  return create<AppState>()((set, get) => {
    const rt = new Runtime(deps, deps.db ?? defaultDb(), deps.owners ?? defaultOwners(), set, get);
    const estimates = estimatesSlice(set, get, rt);
    rt.onMessage = (msg) => {
      if (msg.type === 'inspected') return onInspected(msg, set, get);
      if (msg.type === 'estimated') return estimates.onEstimated(msg);
      const wasActive = isActive(get().status);
      handleWorkerMessage(msg, set, get, rt);
      // Preset estimates: measured once a backend is up, and again after a job if one was refused.
      if (msg.type === 'backend' || (wasActive && !isActive(get().status))) scheduleEstimates();
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
      ...runsSlice(set, get, rt),
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
        const msg = await rt.requestWeights(jobId, runIndex);
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

      flush: () => rt.flush(),
    };
  });
}

export type AppStore = ReturnType<typeof createAppStore>;

function browserWorker(): WorkerLike {
  return new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' }) as unknown as WorkerLike;
}

/** The app's store: the real module worker, IndexedDB. Nothing starts until init() or a first action. */
export const useAppStore = createAppStore({ makeWorker: browserWorker });
