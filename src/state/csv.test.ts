import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { makeResultsFile } from '../core/eval/results.ts';
import { metricsOf, NO_MACRO, run } from '../core/eval/__fixtures__/runs.ts';
import { auilcCsv, csvCell, epochsCsv, runsCsv, summaryCsv } from './csv.ts';

const file = makeResultsFile({
  backend: 'wasm',
  dataset: {
    source: 'synthetic:tiny',
    sizes: { train: 120, valid: 30, test: 60 },
    dims: { text: 32, audio: 5, vision: 20 },
    lengths: { text: 8, audio: 12, vision: 10 },
  },
  config: defaultRunConfig(),
  toolVersion: '0.1.0',
  createdAt: '2026-11-26T12:00:00Z',
  runs: [
    run({
      seed: 111,
      test: [
        [0, metricsOf(0.5)],
        [1, metricsOf(0.25, { corr: null })],
      ],
    }),
    run({
      seed: 1111,
      test: [
        [0, metricsOf(0.75)],
        [1, metricsOf(0.25)],
      ],
    }),
    run({
      seed: 111,
      branches: NO_MACRO,
      test: [
        [0, metricsOf(0.5)],
        [1, metricsOf(0.5)],
      ],
    }),
  ],
});

const parse = (csv: string) =>
  csv
    .trimEnd()
    .split('\r\n')
    .map((l) => l.split(','));

describe('CSV export', () => {
  it('writes one row per run × rate with every metric', () => {
    const rows = parse(runsCsv(file));
    expect(rows[0]).toEqual([
      'run',
      'arch',
      'macro',
      'micro',
      'recon',
      'seed',
      'trainRate',
      'params',
      'epochs',
      'bestEpoch',
      'stopReason',
      'rate',
      'mae',
      'corr',
      'acc7',
      'acc5',
      'acc2_has0',
      'acc2_non0',
      'f1_has0',
      'f1_non0',
    ]);
    expect(rows).toHaveLength(1 + 3 * 2);
    expect(rows[1]).toEqual([
      '1',
      'mfmb',
      'true',
      'true',
      'true',
      '111',
      '0.3',
      '1234',
      '2',
      '2',
      'max-epochs',
      '0',
      ...Array(8).fill('0.5'),
    ]);
    expect(rows[2][13]).toBe(''); // corr null → empty cell
    expect(rows[5].slice(0, 6)).toEqual(['3', 'mfmb', 'false', 'true', 'true', '111']);
  });

  it('writes a per-rate summary with mean and std over seeds, and the AUILC table', () => {
    const rows = parse(summaryCsv(file));
    expect(rows[0].slice(0, 9)).toEqual([
      'arch',
      'macro',
      'micro',
      'recon',
      'trainRate',
      'seeds',
      'rate',
      'mae_mean',
      'mae_std',
    ]);
    expect(rows).toHaveLength(1 + 2 * 2);
    expect(rows[1].slice(0, 9)).toEqual(['mfmb', 'true', 'true', 'true', '0.3', '111 1111', '0', '0.625', '0.125']);
    const au = parse(auilcCsv(file));
    expect(au).toHaveLength(3);
    expect(au[0][6]).toBe('mae_auilc_mean');
    expect(Number(au[2][6])).toBeCloseTo(0.5);
    const ep = parse(epochsCsv(file));
    expect(ep).toHaveLength(1 + 3 * 2);
  });

  it('quotes cells that need it', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
    expect(csvCell(NaN)).toBe('');
    expect(csvCell(0.1)).toBe('0.1');
  });
});
