/**
 * 'inspect': the "Look inside" views, computed here so the page never runs tfjs. The model of a
 * finished run is rebuilt from the weights weights.ts keeps for the most recent job, used for one
 * answer and disposed (no tensors outlive a request); the test-set ranking, the costly part, is
 * kept as plain arrays for the next sample of the same run.
 */
import type { RunConfig } from '../core/config/config.ts';
import { modelConfigFor } from '../core/eval/experiment.ts';
import { Inspector, type ReconErrorCurve, type SplitRanking } from '../core/eval/inspect.ts';
import { buildModel } from '../core/model/build.ts';
import { errorText } from './backend.ts';
import { datasetFor, datasetKey } from './datasets.ts';
import { ensureBackend } from './device.ts';
import { post } from './port.ts';
import type { InspectResult, ToWorker } from './protocol.ts';
import { heldWeights } from './weights.ts';

/** Fixed subset for the error-vs-rate curve: enough dropped positions at every rate, still one batch. */
const CURVE_SAMPLES = 128;

/** The last run's per-split results that do not depend on the sample. */
let cache: { key: string; ranking: Map<number, SplitRanking>; curve: ReconErrorCurve | null | undefined } | null = null;

export async function inspect(msg: Extract<ToWorker, { type: 'inspect' }>, jobRunning: boolean): Promise<void> {
  const fail = (error: string) =>
    post({ type: 'inspected', requestId: msg.requestId, jobId: msg.jobId, result: null, error });
  if (jobRunning) return fail('a job is running: the views open once it has finished');
  const held = heldWeights(msg.jobId, msg.run);
  if (!held)
    return fail(
      'no trained model to look inside: the worker keeps the weights of the most recent job trained since the page loaded',
    );
  const t0 = performance.now();
  try {
    const values = await held.weights.ready;
    await ensureBackend();
    const config: RunConfig = msg.config;
    const ds = datasetFor(config.data);
    const { setting, seed } = held.weights;
    const model = buildModel(modelConfigFor(config.model, setting, ds), seed);
    try {
      held.weights.names.forEach((name, i) => model.params.load(name, held.weights.shapes[i], values[i], false));
      const ins = new Inspector(model, ds, ds.test, config);
      const key = JSON.stringify([held.jobId, held.index, datasetKey(config.data), config.missing]);
      if (cache?.key !== key) cache = { key, ranking: new Map(), curve: undefined };
      const c = cache;
      const rates = config.missing.testRates;
      const reconstruction = await ins.reconstruction(msg.sample, msg.rate);
      const attention = await ins.hubAttention(msg.sample, msg.rate);
      const robustness = await ins.robustness(msg.sample, rates, Math.max(1, Math.min(16, Math.round(msg.seeds))));
      if (c.curve === undefined) c.curve = await ins.reconErrorCurve(rates, CURVE_SAMPLES);
      let ranking: SplitRanking | null = null;
      if (msg.ranking) {
        ranking = c.ranking.get(msg.rateHigh) ?? (await ins.ranking(msg.rateHigh));
        c.ranking.set(msg.rateHigh, ranking);
      }
      const result: InspectResult = {
        jobId: held.jobId,
        run: held.index,
        setting,
        n: ds.test.n,
        sample: msg.sample,
        rate: msg.rate,
        reconstruction,
        curve: c.curve,
        attention,
        robustness,
        ranking,
        transcript: ds.test.rawText?.[msg.sample] ?? null,
        ms: performance.now() - t0,
      };
      post({ type: 'inspected', requestId: msg.requestId, jobId: msg.jobId, result });
    } finally {
      model.params.dispose();
    }
  } catch (e) {
    fail(`could not look inside the model: ${errorText(e)}`);
  }
}
