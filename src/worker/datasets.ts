/**
 * The worker's datasets: built from config.data (the synthetic presets; feature files are a later
 * issue) and cached by source, seed and knobs, so 'describe' and 'start' on the same data do not
 * regenerate it.
 */
import type { DataConfig, SyntheticPresetName } from '../core/config/config.ts';
import { labelHistogram, makeSynthetic, SYNTHETIC_PRESETS } from '../core/data/synthetic.ts';
import { validateDataset } from '../core/data/validate.ts';
import type { Dataset } from '../core/data/types.ts';
import type { DatasetInfo } from '../core/eval/results.ts';
import type { DatasetSummary } from './protocol.ts';

// One dataset: mosi-shape alone is ~340 MB of float32; a running job keeps its own reference anyway.
const CACHE_SIZE = 1;
const cache = new Map<string, Dataset>();

export function datasetKey(data: DataConfig): string {
  const k = data.knobs;
  return JSON.stringify([data.source, data.seed, k.textSignal, k.audioSignal, k.visionSignal, k.noise, k.interaction]);
}

export function datasetFor(data: DataConfig): Dataset {
  const key = datasetKey(data);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return hit;
  }
  if (!data.source.startsWith('synthetic:')) {
    throw new Error(`data source "${data.source}": reading feature files is not implemented yet; use a synthetic preset`);
  }
  const preset = data.source.slice('synthetic:'.length) as SyntheticPresetName;
  if (!(preset in SYNTHETIC_PRESETS)) {
    throw new Error(`unknown synthetic preset "${preset}" (${Object.keys(SYNTHETIC_PRESETS).join(' | ')})`);
  }
  const ds = makeSynthetic(preset, data.seed, data.knobs);
  validateDataset(ds);
  cache.set(key, ds);
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return ds;
}

/** The results file's dataset block. */
export function datasetInfo(ds: Dataset): DatasetInfo {
  return {
    source: ds.source,
    sizes: { train: ds.train.n, valid: ds.valid.n, test: ds.test.n },
    dims: { text: ds.dims[0], audio: ds.dims[1], vision: ds.dims[2] },
    lengths: { text: ds.lens[0], audio: ds.lens[1], vision: ds.lens[2] },
  };
}

/** What the Data panel shows: split sizes, feature sizes, and the train labels' class counts −3..3. */
export function summarize(ds: Dataset): DatasetSummary {
  return {
    source: ds.source,
    sizes: { train: ds.train.n, valid: ds.valid.n, test: ds.test.n },
    dims: [...ds.dims],
    lens: [...ds.lens],
    labelHistogram: Array.from(labelHistogram(ds.train.y, 7)),
  };
}
