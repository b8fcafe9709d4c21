/**
 * Estimates slice: how long each one-click preset takes on this device, from a step time the
 * worker measures ('estimate') on the active backend — not a figure written for another machine.
 * Presets that train the same model on the same data at the same batch share one measurement.
 * Measured once per backend, a few seconds after it is ready and only while no job runs (the
 * worker also makes a starting job wait for a running measurement).
 */
import { estimateDuration, type SplitSizes, type StepTiming } from '../../core/eval/estimate.ts';
import type { FromWorker } from '../../worker/protocol.ts';
import { PRESETS, type PresetId, type PresetRun } from '../presets.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';
import { isActive } from './job.ts';

export interface PresetEstimate {
  status: 'measuring' | 'ready' | 'unavailable';
  seconds?: number; // upper bound: every run trains all its epochs
  soonestSeconds?: number; // every run early-stopped at the first chance
  backend?: string;
  trainMs?: number; // the measured step
  error?: string;
}

export interface EstimatesSlice {
  estimates: Partial<Record<PresetId, PresetEstimate>>;
  /** Measures what is not measured yet for the active backend (no-op while a job runs). */
  measurePresets(): void;
}

/** What a preset's step time depends on. */
function timingKey(backend: string, p: PresetRun): string {
  const c = p.config;
  // Not the test rates or seeds: they change how many steps run, not how long one takes.
  return JSON.stringify([
    backend,
    c.model,
    c.data,
    c.train.batchSize,
    c.missing.trainRate,
    c.missing.level,
    p.settings[0],
  ]);
}

export function estimatesSlice(set: SetState, get: GetState, rt: Runtime) {
  let nextId = 1;
  // The presets are fixed: built once. Each estimate is derived (fill) from what is known per key.
  const presets = PRESETS.map((p) => ({ id: p.id, run: p.build() }));
  const measured = new Map<string, { timing: StepTiming; sizes: SplitSizes; backend: string }>();
  const failed = new Map<string, string>(); // key → why it was not measured (retried by measurePresets)
  const pending = new Map<number, string>(); // requestId → timing key
  let queue: { key: string; run: PresetRun }[] = [];
  const waiting = (key: string) => queue.some((q) => q.key === key) || [...pending.values()].includes(key);

  const fill = () => {
    const backend = get().backend.active;
    const out: Partial<Record<PresetId, PresetEstimate>> = {};
    for (const { id, run } of presets) {
      const key = backend ? timingKey(backend, run) : '';
      const m = measured.get(key);
      if (m) {
        const e = estimateDuration(run.config, run.settings.length, m.sizes, m.timing);
        out[id] = {
          status: 'ready',
          seconds: e.seconds,
          soonestSeconds: e.soonestSeconds,
          backend: m.backend,
          trainMs: m.timing.trainMs,
        };
      } else if (waiting(key)) out[id] = { status: 'measuring' };
      else if (failed.has(key)) out[id] = { status: 'unavailable', error: failed.get(key) };
    }
    set({ estimates: out });
  };

  const sendNext = () => {
    if (pending.size || !queue.length) return;
    if (isActive(get().status)) return; // resumed when the job ends (measurePresets again)
    if (get().fileLoad.status === 'reading') {
      // A file is being read in the worker: timing steps now would slow it (and its Cancel).
      setTimeout(sendNext, 2000);
      return;
    }
    const { key, run } = queue.shift()!;
    const requestId = nextId++;
    pending.set(requestId, key);
    if (!rt.post({ type: 'estimate', requestId, config: run.config, settings: run.settings })) {
      pending.delete(requestId);
      queue = [];
    }
    fill();
  };

  const slice: EstimatesSlice = {
    estimates: {},
    measurePresets() {
      const backend = get().backend.active;
      if (!backend || isActive(get().status)) return;
      for (const { run } of presets) {
        const key = timingKey(backend, run);
        if (measured.has(key) || waiting(key)) continue;
        failed.delete(key);
        queue.push({ key, run });
      }
      fill();
      sendNext();
    },
  };

  const onEstimated = (msg: Extract<FromWorker, { type: 'estimated' }>) => {
    const key = pending.get(msg.requestId);
    if (key === undefined) return;
    pending.delete(msg.requestId);
    if (msg.timing && msg.sizes && msg.backend) {
      measured.set(key, { timing: msg.timing, sizes: msg.sizes, backend: msg.backend });
    } else {
      // Refused (a job started) or failed: shown as unavailable, never as a number.
      failed.set(key, msg.error ?? 'not measured');
    }
    fill();
    sendNext();
  };

  return { slice, onEstimated };
}
