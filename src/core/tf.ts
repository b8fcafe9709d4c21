/**
 * The one place the core imports tfjs from: tfjs-core plus the cpu backend (Node's fallback and the
 * worker's last resort), not the union `@tensorflow/tfjs` (layers, data and the converter are unused).
 *
 * tfjs-core registers neither the chained ops (`x.reshape(...)`) nor any gradient by itself, in
 * either build; REGISTRATIONS (below) does. They are not imported here because tsx cannot load
 * those ES-module files statically: `dist/base.js` imports './gradients', and tsx resolves that to
 * the directory `dist/gradients/` instead of `dist/gradients.js` (ERR_UNSUPPORTED_DIR_IMPORT). So
 * the worker imports them statically (src/worker/backend.ts) and Node loads them in
 * initNodeBackend (src/core/backend.ts) after a resolve hook that appends '.js'. Use tfjs only
 * after one of the two has run.
 */
export * from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { Tensor, version_core } from '@tensorflow/tfjs-core';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';

/** What the union package's `tf.version` held, for the parts this project loads. */
export const version = { tfjs: version_core, 'tfjs-core': version_core, 'tfjs-backend-cpu': version_cpu } as const;

/** The side-effect modules that register every chained op and gradient (see above). */
export const REGISTRATIONS = [
  '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js',
  '@tensorflow/tfjs-core/dist/register_all_gradients.js',
] as const;

// Types only (erased at run time): the chained ops' `declare module` augmentations of Tensor.
import type {} from '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

/** True once the chained ops are on the Tensor class (i.e. REGISTRATIONS have been loaded). */
export function opsRegistered(): boolean {
  return typeof (Tensor.prototype as { reshape?: unknown }).reshape === 'function';
}
