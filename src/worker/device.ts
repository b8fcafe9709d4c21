/**
 * Which tfjs backend the worker computes on: inits run one after another (tf.setBackend calls must
 * not interleave), and every computing handler waits for them through ensureBackend().
 */
import { selectBackend } from './backend.ts';
import { post } from './port.ts';
import type { BackendName } from './protocol.ts';

let backendName: BackendName | null = null;
let requestedBackend: BackendName | 'auto' = 'auto';
let backendChain: Promise<unknown> = Promise.resolve();
let pendingInits = 0;
let onLost: (message: string) => void = () => {};

/** Who hears of a lost device (WebGPU device loss); the backend is forgotten before it is called. */
export function setDeviceLostHandler(handler: (message: string) => void): void {
  onLost = handler;
}

function deviceLost(message: string): void {
  backendName = null;
  onLost(message);
}

export function initBackend(requested: BackendName | 'auto'): Promise<BackendName> {
  requestedBackend = requested;
  pendingInits++;
  const run = backendChain
    .catch(() => undefined)
    .then(async () => {
      try {
        const choice = await selectBackend(requested, deviceLost);
        backendName = choice.name;
        post({ type: 'backend', name: choice.name, tried: choice.tried });
        return choice.name;
      } catch (e) {
        backendName = null;
        throw e;
      }
    })
    .finally(() => {
      pendingInits--;
    });
  backendChain = run;
  return run;
}

/** The backend to compute on: waits for pending inits, or selects one if none is active. */
export async function ensureBackend(): Promise<BackendName> {
  if (pendingInits > 0) await backendChain.catch(() => undefined);
  if (backendName) return backendName;
  return initBackend(requestedBackend);
}
