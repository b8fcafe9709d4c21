/** Backend slice: which tfjs backend was asked for, which one the worker uses, and why others failed. */
import { BACKEND_ORDER, type BackendName, type RememberedChoices, type ToWorker } from '../../worker/protocol.ts';
import type { AppState } from '../types.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';
import { errorNotice } from './notice.ts';
import { isActive } from './job.ts';

export type BackendSlice = Pick<AppState, 'backend' | 'selectBackend' | 'remeasureBackend'>;

/** localStorage key of auto's past choices, by browser+GPU fingerprint (src/worker/autoBackend.ts). */
export const AUTO_CHOICES_KEY = 'mfmb.autoBackend.v1';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled (some privacy modes throw on access)
  }
}

/** Auto's remembered choices; anything unreadable or malformed counts as none. */
export function loadRememberedChoices(): RememberedChoices {
  const out: RememberedChoices = {};
  try {
    const raw = storage()?.getItem(AUTO_CHOICES_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : null;
    if (parsed && typeof parsed === 'object') {
      for (const [fp, v] of Object.entries(parsed as Record<string, unknown>)) {
        const c = v as { name?: unknown; reason?: unknown } | null;
        if (c && BACKEND_ORDER.includes(c.name as BackendName) && typeof c.reason === 'string')
          out[fp] = { name: c.name as BackendName, reason: c.reason };
      }
    }
  } catch {
    // a broken entry is as good as none
  }
  return out;
}

export function rememberChoice(fingerprint: string, name: BackendName, reason: string): void {
  try {
    const all = loadRememberedChoices();
    all[fingerprint] = { name, reason };
    storage()?.setItem(AUTO_CHOICES_KEY, JSON.stringify(all));
  } catch {
    // not remembered: the next visit measures again
  }
}

/** The 'init' message for `backend` (auto gets the remembered choices along). */
export function initMessage(backend: BackendName | 'auto', remeasure = false): ToWorker {
  return backend === 'auto'
    ? { type: 'init', backend, remembered: loadRememberedChoices(), ...(remeasure ? { remeasure } : {}) }
    : { type: 'init', backend };
}

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
      if (w && !fresh) w.postMessage(initMessage(b));
    },
    remeasureBackend() {
      if (isActive(get().status)) {
        set(errorNotice('Stop the running job before re-measuring the backends.'));
        return;
      }
      set((s) => ({ backend: { requested: 'auto', active: null, tried: s.backend.tried } }));
      // (A worker started by this call gets a plain init first; the measuring one follows it.)
      rt.ensureWorker()?.postMessage(initMessage('auto', true));
    },
  };
}
