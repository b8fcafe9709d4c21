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

export type FileSlice = Pick<AppState, 'fileLoad' | 'loadFile' | 'cancelFileLoad'>;

const IDLE: FileLoadState = { status: 'idle', name: null, requestId: 0, progress: null, error: null, summary: null, file: null, activeFile: null, standardize: false, startedAt: 0, seconds: null };

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
          startedAt: rt.now(),
          seconds: null,
        },
      }));
      const sent = rt.post({ type: 'load-file', requestId, file, name, subset, maxBytes: BROWSER_MAX_FEATURE_BYTES, standardize });
      if (!sent) set((s) => ({ fileLoad: { ...s.fileLoad, status: 'failed', progress: null, error: { message: `${name}: the worker could not be started`, kind: 'format', maxSubset: null } } }));
    },

    cancelFileLoad() {
      const f = get().fileLoad;
      if (f.status !== 'reading') return;
      rt.post({ type: 'cancel-load', requestId: f.requestId });
    },
  };
}
