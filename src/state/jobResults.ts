/**
 * The results file of any job, for export: the worker's own file when the job finished (or was
 * stopped), otherwise (interrupted by a reload, failed) one assembled from the runs that finished,
 * with makeResultsFile so it reads back like any other. null when no run finished.
 */
import pkg from '../../package.json';
import type { SyntheticPresetName } from '../core/config/config.ts';
import { SYNTHETIC_PRESETS } from '../core/data/synthetic.ts';
import { datasetBlock, makeResultsFile, type DatasetInfo, type ResultsFile } from '../core/eval/results.ts';
import type { StoredJob } from './types.ts';

const TOOL_VERSION: string = (pkg as { version: string }).version;

export function datasetInfoFor(source: string): DatasetInfo | null {
  const name = source.startsWith('synthetic:') ? (source.slice('synthetic:'.length) as SyntheticPresetName) : null;
  const p = name && name in SYNTHETIC_PRESETS ? SYNTHETIC_PRESETS[name] : null;
  if (!p) return null;
  return datasetBlock({ source, sizes: { train: p.train, valid: p.valid, test: p.test }, dims: p.dims, lens: p.lens });
}

export function jobResults(job: StoredJob): ResultsFile | null {
  if (job.results) return job.results;
  if (job.runs.length === 0) return null;
  const dataset = job.dataset ?? datasetInfoFor(job.config.data.source);
  if (!dataset) return null;
  try {
    return makeResultsFile({
      backend: job.backend ?? 'unknown',
      dataset,
      config: job.config,
      runs: job.runs,
      toolVersion: TOOL_VERSION,
      createdAt: job.createdAt,
    });
  } catch {
    return null;
  }
}

/** A file name for downloads: the job's name made safe, plus a suffix. */
export function exportFileName(job: Pick<StoredJob, 'name' | 'createdAt'>, suffix: string): string {
  const base =
    job.name
      .replace(/[^\w.-]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 80) || 'mfmb-run';
  return `${base}${suffix}`;
}
