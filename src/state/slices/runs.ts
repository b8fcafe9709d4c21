/** Runs slice: the jobs kept in IndexedDB — list, rename, delete, select for comparison, import. */
import type { ResultsFile } from '../../core/eval/results.ts';
import { checkResultsFile } from '../../core/eval/resultsSchema.ts';
import type { ModelSetting } from '../../core/eval/experiment.ts';
import type { JobKind } from '../../worker/protocol.ts';
import { mergeOntoDefaults } from '../../core/config/validateConfig.ts';
import type { AppState, StoredJob } from '../types.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';
import { errorNotice, infoNotice } from './notice.ts';
import { isActive, newJobId } from './job.ts';

export type RunsSlice = Pick<
  AppState,
  'jobs' | 'selectedJobIds' | 'renameJob' | 'deleteJob' | 'toggleSelected' | 'importResults'
>;

const settingKey = (r: { arch: string; branches: { macro: boolean; micro: boolean; recon: boolean } }) =>
  `${r.arch}:${+r.branches.macro}${+r.branches.micro}${+r.branches.recon}`;

/** What kind of experiment a results file holds, judged from its runs. */
export function inferKind(file: ResultsFile): JobKind {
  const settings = new Set(file.runs.map(settingKey));
  if (settings.size > 1) return 'ablation';
  const seeds = new Set(file.runs.map((r) => r.seed));
  if (file.config.missing?.protocol === 'per-rate' || seeds.size > 1) return 'sweep';
  return 'train';
}

/** A finished job built from a results file (CLI output or an earlier export) that checkResultsFile passed. */
export function jobFromResults(file: ResultsFile, id: string, name?: string): StoredJob {
  const merged = mergeOntoDefaults(file.config);
  const settingsSeen = new Map<string, ModelSetting>();
  for (const r of file.runs)
    if (!settingsSeen.has(settingKey(r)))
      settingsSeen.set(settingKey(r), { arch: r.arch, branches: { ...r.branches } });
  const stopped = file.runs.some((r) => r.stopReason === 'aborted');
  return {
    id,
    name: name?.trim() || `Imported · ${file.dataset.source} · ${file.createdAt.slice(0, 16).replace('T', ' ')}`,
    kind: inferKind(file),
    createdAt: new Date().toISOString(),
    status: stopped ? 'aborted' : 'done',
    // A file from another version may lack newer fields: the defaults fill them in. A config that
    // does not merge is never stored as it is (checkResultsFile refuses it before this point).
    config: merged.errors.length ? structuredClone(file.config) : merged.config,
    settings: [...settingsSeen.values()],
    epochs: file.runs.flatMap((r, index) => r.epochs.map((record) => ({ index, record }))),
    runs: file.runs,
    results: file,
    message: `imported from a results file made by ${file.tool.name} ${file.tool.version} on ${file.backend}`,
  };
}

export function runsSlice(set: SetState, get: GetState, rt: Runtime): RunsSlice {
  return {
    jobs: [],
    selectedJobIds: [],

    renameJob(id, name) {
      const clean = name.trim();
      if (!clean) {
        set(errorNotice('A run name cannot be empty.'));
        return;
      }
      if (!get().jobs.some((j) => j.id === id)) return;
      const short = clean.slice(0, 200);
      set((s) => ({ jobs: s.jobs.map((j) => (j.id === id ? { ...j, name: short } : j)) }));
      // Only the name is written: this tab's copy of the rest may be stale (another tab may run it).
      rt.patchJob(id, { name: short });
    },

    deleteJob(id) {
      const s = get();
      if (s.currentJobId === id && isActive(s.status)) {
        set(errorNotice('Stop this job before deleting it.'));
        return;
      }
      set((st) => ({
        jobs: st.jobs.filter((j) => j.id !== id),
        selectedJobIds: st.selectedJobIds.filter((x) => x !== id),
        ...(st.currentJobId === id ? { currentJobId: null, progress: null, status: 'idle' as const } : {}),
      }));
      rt.removeJob(id);
    },

    toggleSelected(id) {
      set((s) => ({
        selectedJobIds: s.selectedJobIds.includes(id)
          ? s.selectedJobIds.filter((x) => x !== id)
          : s.jobs.some((j) => j.id === id)
            ? [...s.selectedJobIds, id]
            : s.selectedJobIds,
      }));
    },

    importResults(file, name) {
      let parsed: ResultsFile;
      try {
        // Types, ranges, sizes, nesting and prototype keys: nothing the runs list cannot show is stored.
        parsed = checkResultsFile(file as unknown);
      } catch (e) {
        set(errorNotice(`Could not import the results: ${(e as Error)?.message ?? String(e)}`));
        return;
      }
      const job = jobFromResults(parsed, newJobId(), name);
      set((s) => ({
        jobs: [job, ...s.jobs],
        selectedJobIds: [...s.selectedJobIds, job.id],
        ...infoNotice(`Imported "${job.name}": ${parsed.runs.length} run${parsed.runs.length === 1 ? '' : 's'}.`),
      }));
      rt.adopt(job.id, false);
      rt.saveJob(job.id, true);
    },
  };
}
