/**
 * The worker's datasets: the synthetic presets, built from config.data and cached by source, seed
 * and knobs (so 'describe' and 'start' on the same data do not regenerate it), and the one feature
 * file loaded in this tab ('file:NAME'), which stays until another file loads successfully.
 */
import type { DataConfig, SyntheticPresetName } from '../core/config/config.ts';
import { labelHistogram, makeSynthetic, SYNTHETIC_PRESETS } from '../core/data/synthetic.ts';
import { validateDataset } from '../core/data/validate.ts';
import type { Dataset } from '../core/data/types.ts';
import type { DatasetSummary, FileSummary } from './protocol.ts';

// One dataset: mosi-shape alone is ~340 MB of float32; a running job keeps its own reference anyway.
const CACHE_SIZE = 1;
const cache = new Map<string, Dataset>();

export function datasetKey(data: DataConfig): string {
  const k = data.knobs;
  return JSON.stringify([
    data.source,
    data.seed,
    k.textSignal,
    k.audioSignal,
    k.visionSignal,
    k.noise,
    k.interaction,
    k.shared,
  ]);
}

/** The feature file loaded in this tab (only one: MOSI alone is ~340 MB of float32). */
let loadedFile: { dataset: Dataset; summary: FileSummary } | null = null;

export function setLoadedFile(file: { dataset: Dataset; summary: FileSummary }): void {
  loadedFile = file;
}

export function datasetFor(data: DataConfig): Dataset {
  if (data.source.startsWith('file:')) {
    if (loadedFile?.dataset.source === data.source) {
      // The config must say truthfully how the loaded features were read.
      if (Boolean(data.standardize) !== loadedFile.summary.standardized) {
        throw new Error(
          `${data.source.slice('file:'.length)} was loaded ${loadedFile.summary.standardized ? 'with' : 'without'} standardised features; load it again with the option ${data.standardize ? 'on' : 'off'}`,
        );
      }
      return loadedFile.dataset;
    }
    throw new Error(
      `the file ${data.source.slice('file:'.length)} is not loaded in this tab (files never leave your browser and are not stored); load it again in the Data panel`,
    );
  }
  const key = datasetKey(data);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit); // most recently used last
    return hit;
  }
  if (!data.source.startsWith('synthetic:')) {
    throw new Error(
      `data source "${data.source}": reading feature files is not implemented yet; use a synthetic preset`,
    );
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
