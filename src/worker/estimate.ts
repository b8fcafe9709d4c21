/**
 * 'estimate': how fast this device trains a preset's model, so its button can say "≈ 3 min here".
 * Times a throw-away copy of the model (core/train/timing.ts) on the active backend; refused while a
 * job runs (it would share the device and disturb both).
 */
import { modelConfigFor } from '../core/eval/experiment.ts';
import { buildModel } from '../core/model/build.ts';
import { measureStepTiming } from '../core/train/timing.ts';
import { errorText } from './backend.ts';
import { datasetFor } from './datasets.ts';
import { ensureBackend } from './device.ts';
import { post, yieldToEventLoop } from './port.ts';
import type { ToWorker } from './protocol.ts';

let running: Promise<void> | null = null;
// Bumped by abortEstimates(): a measurement of an older generation stops at its next step.
let generation = 0;

/** Stops the measurements running or queued (a job or a file load needs the device and the thread). */
export function abortEstimates(): void {
  generation++;
}

/** Resolves when no estimate is timing the device (a job waits for it, so the two never overlap). */
export function estimateIdle(): Promise<void> {
  return running ?? Promise.resolve();
}

/** Estimates run one at a time; `busy` is asked when this one's turn comes. */
export function estimate(msg: Extract<ToWorker, { type: 'estimate' }>, busy: () => boolean): Promise<void> {
  const gen = generation;
  const p = (running ?? Promise.resolve()).then(() => timeOne(msg, busy(), gen));
  const tail: Promise<void> = p.finally(() => {
    if (running === tail) running = null;
  });
  running = tail;
  return p;
}

async function timeOne(msg: Extract<ToWorker, { type: 'estimate' }>, busy: boolean, gen: number): Promise<void> {
  const fail = (error: string) =>
    post({ type: 'estimated', requestId: msg.requestId, backend: null, timing: null, sizes: null, error });
  if (busy) return fail('a job is running');
  if (gen !== generation) return fail('stopped for a job or a file load');
  const setting = msg.settings[0];
  if (!setting) return fail('nothing to time: no model setting');
  try {
    const backend = await ensureBackend();
    const ds = datasetFor(msg.config.data);
    const model = buildModel(modelConfigFor(msg.config.model, setting, ds), 111);
    try {
      const timing = await measureStepTiming(model, ds, msg.config, 2, async () => {
        await yieldToEventLoop();
        if (gen !== generation) throw new Error('stopped for a job or a file load');
      });
      post({
        type: 'estimated',
        requestId: msg.requestId,
        backend,
        timing,
        sizes: { train: ds.train.n, valid: ds.valid.n, test: ds.test.n },
      });
    } finally {
      model.params.dispose();
    }
  } catch (e) {
    fail(errorText(e));
  }
}
