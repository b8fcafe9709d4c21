/**
 * Which tfjs backend the worker computes on: inits run one after another (tf.setBackend calls must
 * not interleave), and every computing handler waits for them through ensureBackend().
 */
import { selectBackend } from './backend.ts';
import { post } from './port.ts';
import type { BackendName, RememberedChoices } from './protocol.ts';

let backendName: BackendName | null = null;
let requestedBackend: BackendName | 'auto' = 'auto';
let rememberedChoices: RememberedChoices | undefined;
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

export function initBackend(
  requested: BackendName | 'auto',
  opts: { remembered?: RememberedChoices; remeasure?: boolean } = {},
): Promise<BackendName> {
  requestedBackend = requested;
  if (opts.remembered) rememberedChoices = opts.remembered;
  pendingInits++;
  const run = backendChain
    .catch(() => undefined)
    .then(async () => {
      try {
        const choice = await selectBackend(requested, deviceLost, {
          remembered: rememberedChoices,
          remeasure: opts.remeasure,
        });
        backendName = choice.name;
        post({
          type: 'backend',
          name: choice.name,
          tried: choice.tried,
          ...(choice.wasm ? { wasm: choice.wasm } : {}),
          ...(choice.auto ? { auto: choice.auto } : {}),
        });
        // Later inits (after a device loss, say) reuse what this one decided.
        if (choice.auto && !choice.auto.remembered)
          rememberedChoices = {
            ...rememberedChoices,
            [choice.auto.fingerprint]: { name: choice.name, reason: choice.auto.reason },
          };
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
