/** Backend slice: which tfjs backend was asked for, which one the worker uses, and why others failed. */
import { BACKEND_ORDER } from '../../worker/protocol.ts';
import type { AppState } from '../types.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';
import { errorNotice } from './notice.ts';
import { isActive } from './job.ts';

export type BackendSlice = Pick<AppState, 'backend' | 'selectBackend'>;

export function backendSlice(set: SetState, get: GetState, rt: Runtime): BackendSlice {
  return {
    backend: { requested: 'auto', active: null, tried: [] },
    selectBackend(b) {
      if (b !== 'auto' && !BACKEND_ORDER.includes(b)) {
        set(errorNotice(`Unknown backend "${b}" (${BACKEND_ORDER.join(', ')} or auto)`));
        return;
      }
      if (isActive(get().status)) {
        set(errorNotice('Stop the running job before switching the backend.'));
        return;
      }
      set((s) => ({ backend: { ...s.backend, requested: b } }));
      // A fresh worker sends 'init' itself with the requested backend; an existing one is told.
      const fresh = !rt.worker;
      const w = rt.ensureWorker();
      if (w && !fresh) w.postMessage({ type: 'init', backend: b });
    },
  };
}
