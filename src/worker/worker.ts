/**
 * The training worker: a dedicated module worker that owns tfjs and runs the same core as the CLI.
 * The page starts it with
 *   new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module' })
 * and talks to it only through the messages of ./protocol.ts. This file only routes them: jobs.ts
 * (training, describe), weights.ts (export and evaluate trained weights), fileLoad.ts (feature
 * files), device.ts (the backend). Every failure is answered with an 'error' message; the worker
 * stays usable afterwards.
 */
import * as tf from '../core/tf.ts';
import { errorText } from './backend.ts';
import { estimate } from './estimate.ts';
import { ensureBackend, initBackend, setDeviceLostHandler } from './device.ts';
import { cancelLoad, loadFile } from './fileLoad.ts';
import { describe, pauseJob, resumeJob, runningJob, startJob, stopJob } from './jobs.ts';
import { post, postError, scope } from './port.ts';
import type { ToWorker } from './protocol.ts';
import { evaluateWeights, exportWeights } from './weights.ts';
import { inspect } from './inspect.ts';

setDeviceLostHandler((message) => {
  const job = runningJob();
  postError(message, { jobId: job?.id, recoverable: true, backendLost: 'webgpu' });
  // The running job cannot continue on a dead device: stop it; it reports what finished.
  if (job) stopJob(job, `stopped: ${message}`);
});

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init':
      if (runningJob()) return postError('a job is running: stop it before switching the backend');
      try {
        await initBackend(msg.backend, msg);
      } catch (e) {
        postError(errorText(e), { recoverable: true });
      }
      return;
    case 'describe':
      try {
        await describe(msg.config);
      } catch (e) {
        postError(`could not describe the data and model: ${errorText(e)}`);
      }
      return;
    case 'start':
      return startJob(msg);
    case 'pause':
      return pauseJob();
    case 'resume':
      return resumeJob();
    case 'stop': {
      const job = runningJob();
      if (job) stopJob(job);
      return;
    }
    case 'memory': {
      await ensureBackend(); // tf.memory() on no backend would try to pick one itself
      const m = tf.memory();
      post({ type: 'memory', numTensors: m.numTensors, numBytes: m.numBytes });
      return;
    }
    case 'export-weights':
      return exportWeights(msg);
    case 'evaluate-weights':
      return evaluateWeights(msg, runningJob() !== null);
    case 'load-file':
      return loadFile(msg, runningJob() !== null);
    case 'cancel-load':
      return cancelLoad(msg);
    case 'inspect':
      return inspect(msg, runningJob() !== null);
    case 'estimate':
      return estimate(msg, () => runningJob() !== null);
    default:
      postError(`unknown message type ${JSON.stringify((msg as { type?: unknown }).type)}`);
  }
}

scope.onmessage = (e: MessageEvent<ToWorker>) => {
  const msg = e.data;
  if (typeof msg !== 'object' || msg === null || typeof (msg as { type?: unknown }).type !== 'string') {
    postError('the worker received a malformed message');
    return;
  }
  handle(msg).catch((err: unknown) =>
    postError(`worker error while handling "${msg.type}": ${errorText(err)}`, { recoverable: true }),
  );
};

// Errors that escape every handler (e.g. a rejected promise inside tfjs): report, stay alive.
(self as unknown as { addEventListener?: typeof addEventListener }).addEventListener?.(
  'unhandledrejection',
  (e: PromiseRejectionEvent) => {
    e.preventDefault();
    postError(`worker error: ${errorText(e.reason)}`, { recoverable: true });
  },
);
