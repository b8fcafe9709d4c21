import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { parseResultsFile } from '../core/eval/results.ts';
import { metricsOf, run } from '../core/eval/__fixtures__/runs.ts';
import { exportFileName, jobResults } from './jobResults.ts';
import type { StoredJob } from './types.ts';

const job = (over: Partial<StoredJob> = {}): StoredJob => ({
  id: 'x',
  name: 'Ablation · tiny model · small · 20:15',
  kind: 'train',
  createdAt: '2026-11-26T12:00:00.000Z',
  status: 'interrupted',
  config: defaultRunConfig(),
  settings: [],
  epochs: [],
  runs: [],
  results: null,
  backend: 'wasm',
  ...over,
});

describe('job results for export', () => {
  it('assembles a valid results file from the finished runs of an interrupted job', () => {
    const file = jobResults(
      job({
        runs: [
          run({
            seed: 111,
            test: [
              [0, metricsOf(0.5)],
              [1, metricsOf(0.25)],
            ],
          }),
        ],
      }),
    )!;
    expect(parseResultsFile(JSON.parse(JSON.stringify(file)))).toEqual(file);
    expect(file.backend).toBe('wasm');
    expect(file.dataset.sizes).toEqual({ train: 600, valid: 120, test: 240 });
    expect(file.summary).toHaveLength(1);
  });

  it('is null when nothing finished; safe file names', () => {
    expect(jobResults(job())).toBeNull();
    expect(exportFileName(job(), '.results.json')).toBe('Ablation_tiny_model_small_20_15.results.json');
  });
});
