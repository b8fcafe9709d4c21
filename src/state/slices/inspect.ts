/**
 * Inspect slice: the "Look inside" views' data. Asks the worker ('inspect') about one test sample of
 * the most recent job trained in this page and keeps the answer (plain typed arrays); the page
 * never computes a model value itself. Only the latest request's answer is taken, so quick clicks
 * through samples never show an older sample under a newer choice.
 */
import { MT19937 } from '../../core/random.ts';
import type { FromWorker, InspectResult } from '../../worker/protocol.ts';
import type { AppState } from '../types.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';

/** Mask seeds per rate in the per-sample robustness curve (seed 0 is the protocol's mask). */
export const INSPECT_SEEDS = 5;
/** The rate whose shift from r = 0 measures a sample's sensitivity to missing data. */
export const SENSITIVITY_RATE = 0.7;

export interface InspectState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  requestId: number;
  /** The job whose model is inspected (the most recent job that finished in this page). */
  jobId: string | null;
  sample: number;
  rate: number;
  result: InspectResult | null;
  error: string | null;
  requestedAt: number; // performance.now() when the request left
  /** Page time from request to answer, ms (what the user waits for). */
  waitedMs: number | null;
}

export interface InspectSlice {
  inspect: InspectState;
  /** Asks the worker about `sample` at missing rate `rate` (defaults: the current choice). */
  requestInspect(opts?: { sample?: number; rate?: number }): void;
  /** Picks a test sample: the next largest error / sensitivity after the current one, or a seeded random one. */
  pickSample(by: 'error' | 'sensitivity' | 'random'): void;
}

const IDLE: InspectState = {
  status: 'idle',
  requestId: 0,
  jobId: null,
  sample: 0,
  rate: 0.5,
  result: null,
  error: null,
  requestedAt: 0,
  waitedMs: null,
};

/** The job the views can look inside: the one this page ran last, once it has finished. */
export function inspectableJob(s: AppState): AppState['jobs'][number] | null {
  if (!s.currentJobId || s.status !== 'done') return null;
  const job = s.jobs.find((j) => j.id === s.currentJobId);
  return job && job.runs.length > 0 ? job : null;
}

export function inspectSlice(set: SetState, get: GetState, rt: Runtime): InspectSlice {
  let nextId = 1;
  // Seeded, so "at random" walks the same samples in every session (reproducible screenshots, tests).
  const rng = new MT19937(20240611);

  const request = (sample: number, rate: number) => {
    const s = get();
    const job = inspectableJob(s);
    if (!job) {
      set({
        inspect: {
          ...s.inspect,
          status: 'error',
          error: 'Train a model first: the views look inside the last finished run of this page.',
        },
      });
      return;
    }
    const prev = s.inspect.result;
    const sameJob = s.inspect.jobId === job.id && prev !== null;
    const requestId = nextId++;
    set({
      inspect: {
        ...s.inspect,
        status: 'loading',
        requestId,
        requestedAt: performance.now(),
        jobId: job.id,
        sample,
        rate,
        error: null,
        result: sameJob ? prev : null,
      },
    });
    const sent = rt.post({
      type: 'inspect',
      requestId,
      jobId: job.id,
      config: job.config,
      sample,
      rate,
      seeds: INSPECT_SEEDS,
      rateHigh: SENSITIVITY_RATE,
      // The ranking is the same for every sample of a run: asked for once, then kept here.
      ranking: !(sameJob && prev?.ranking),
    });
    if (!sent)
      set({ inspect: { ...get().inspect, status: 'error', error: 'the training worker could not be started' } });
  };

  return {
    inspect: IDLE,

    requestInspect(opts = {}) {
      const cur = get().inspect;
      const n = cur.result?.n ?? Infinity;
      const sample = opts.sample ?? cur.sample;
      if (!(Number.isInteger(sample) && sample >= 0 && sample < n)) {
        set({
          inspect: {
            ...cur,
            status: 'error',
            error: `Pick a test sample between 0 and ${Number.isFinite(n) ? n - 1 : '…'}.`,
          },
        });
        return;
      }
      request(sample, opts.rate ?? cur.rate);
    },

    pickSample(by) {
      const cur = get().inspect;
      const r = cur.result;
      if (!r) return request(cur.sample, cur.rate);
      let sample: number;
      if (by === 'random' || !r.ranking) sample = Math.floor(rng.random() * r.n);
      else {
        const order = by === 'error' ? r.ranking.byError : r.ranking.bySensitivity;
        const at = order.indexOf(cur.sample);
        // From a sample outside the top of the list, start at the top; else step down it.
        sample = order[at >= 0 && at < order.length - 1 && at < 20 ? at + 1 : 0];
      }
      request(sample, cur.rate);
    },
  };
}

/** Routes the worker's 'inspected' answers; older requests' answers are dropped. */
export function onInspected(msg: Extract<FromWorker, { type: 'inspected' }>, set: SetState, get: GetState): void {
  const cur = get().inspect;
  if (msg.requestId !== cur.requestId) return;
  const waitedMs = performance.now() - cur.requestedAt;
  if (!msg.result) {
    set({
      inspect: { ...cur, status: 'error', error: msg.error ?? 'the worker could not inspect the model', waitedMs },
    });
    return;
  }
  // Keep the ranking of this run when the answer did not repeat it.
  const ranking =
    msg.result.ranking ??
    (cur.result?.jobId === msg.result.jobId && cur.result.run === msg.result.run ? cur.result.ranking : null);
  set({ inspect: { ...cur, status: 'ready', result: { ...msg.result, ranking }, error: null, waitedMs } });
}
