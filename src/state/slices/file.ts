/**
 * File slice: loading a feature file (MMSA .pkl / .npz) in the worker. The File goes to the worker
 * by reference; the page only ever sees progress and the summary. A failed or cancelled load changes
 * nothing else: the previous dataset (file or synthetic) stays selected and trainable.
 */
import type { AppState, FileLoadState } from '../types.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';
import { errorNotice } from './notice.ts';
import { isActive } from './job.ts';

/**
 * Features above this many float32 bytes are refused before the arrays are read, with an offer to
 * load the first N samples per split. MOSI (aligned ~340 MB, unaligned ~450 MB) fits; MOSEI (4 GB
 * aligned) does not fit a browser tab.
 */
export const BROWSER_MAX_FEATURE_BYTES = 1.5e9;

export type FileSlice = Pick<
  AppState,
  'fileLoad' | 'loadFile' | 'cancelFileLoad' | 'selectLoadedFile' | 'setStandardize'
>;

const IDLE: FileLoadState = {
  status: 'idle',
  name: null,
  requestId: 0,
  progress: null,
  error: null,
  summary: null,
  file: null,
  activeFile: null,
  standardize: false,
};

export function fileSlice(set: SetState, get: GetState, rt: Runtime): FileSlice {
  let nextId = 1;
  return {
    fileLoad: IDLE,

    loadFile(file, name, subset = null, standardize = get().fileLoad.standardize) {
      if (isActive(get().status)) {
        set(errorNotice('Stop the running job before loading a file.'));
        return;
      }
      const requestId = nextId++;
      set((s) => ({
        fileLoad: {
          ...s.fileLoad,
          status: 'reading',
          name,
          requestId,
          progress: { bytesRead: 0, totalBytes: file.size, stage: 'structure' },
          error: null,
          file,
          standardize,
        },
      }));
      const sent = rt.post({
        type: 'load-file',
        requestId,
        file,
        name,
        subset,
        maxBytes: BROWSER_MAX_FEATURE_BYTES,
        standardize,
      });
      if (!sent)
        set((s) => ({
          fileLoad: {
            ...s.fileLoad,
            status: 'failed',
            progress: null,
            error: { message: `${name}: the worker could not be started`, kind: 'format', maxSubset: null },
          },
        }));
    },

    selectLoadedFile() {
      const s = get().fileLoad.summary;
      if (!s) return;
      // The model's input sizes and time maps follow the file (MOSI 5/20, MOSEI 74/35, unaligned 375/500),
      // and the config says truthfully how its features were read.
      get().setConfig((c) => {
        c.data.source = `file:${s.file}`;
        c.data.standardize = s.standardized;
        c.model.dims = [...s.dims];
        c.model.lens = [...s.lens];
      });
    },

    setStandardize(on) {
      const f = get().fileLoad;
      // With a file loaded the option re-reads it (the features in memory are not kept raw).
      if (f.activeFile && f.summary) get().loadFile(f.activeFile, f.summary.file, f.summary.subset, on);
      else set((s) => ({ fileLoad: { ...s.fileLoad, standardize: on } }));
    },

    cancelFileLoad() {
      const f = get().fileLoad;
      if (f.status !== 'reading') return;
      rt.post({ type: 'cancel-load', requestId: f.requestId });
    },
  };
}
