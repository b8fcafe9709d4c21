/**
 * The one place the core imports tfjs from: tfjs-core plus the cpu backend (Node's fallback and the
 * worker's last resort), not the union `@tensorflow/tfjs` (layers, data and the converter are unused).
 *
 * tfjs-core registers no gradient by itself: src/core/gradients.ts registers the few that training
 * needs. It is not imported here because Node cannot load tfjs-core's ES-module files statically
 * (src/core/backend.ts, registerTfjsOps): the worker imports it statically (src/worker/backend.ts)
 * and Node loads it in initNodeBackend. Compute gradients only after one of the two has run.
 *
 * The chained ops (`x.reshape(...)`, `a.add(b)`) are never registered, and their types are not
 * declared either: write every op in the functional form (`tf.reshape(x, ...)`), which bundles only
 * the ops the code calls (registering the chained ops pulls every op of tfjs-core into the worker).
 */
export * from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { version_core } from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';

/** What the union package's `tf.version` held, for the parts this project loads. */
export const version = { tfjs: version_core, 'tfjs-core': version_core, 'tfjs-backend-cpu': version_cpu } as const;
