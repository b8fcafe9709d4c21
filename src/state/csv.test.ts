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
    // Cut off by Stop: exported with its status, left out of the summary.
    {
      ...run({
        seed: 11111,
        test: [
          [0, metricsOf(0.1)],
          [1, metricsOf(0.1)],
        ],
      }),
      stopReason: 'aborted',
    },
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
      'status',
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
    expect(rows).toHaveLength(1 + 4 * 2);
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
      'finished',
      '0',
      ...Array(8).fill('0.5'),
    ]);
    expect(rows[2][14]).toBe(''); // corr null → empty cell
    expect(rows[5].slice(0, 6)).toEqual(['3', 'mfmb', 'false', 'true', 'true', '111']);
    expect(rows[7].slice(10, 12)).toEqual(['aborted', 'stopped']);
  });

  it('writes a per-rate summary with mean and std over seeds, and the AUILC table', () => {
    const rows = parse(summaryCsv(file));
    expect(rows[0].slice(0, 10)).toEqual([
      'arch',
      'macro',
      'micro',
      'recon',
      'trainRate',
      'seeds',
      'cutOff',
      'rate',
      'mae_mean',
      'mae_std',
    ]);
    expect(rows).toHaveLength(1 + 2 * 2);
    // The stopped seed 11111 (MAE 0.1) is not in the mean: (0.5 + 0.75) / 2.
    expect(rows[1].slice(0, 10)).toEqual([
      'mfmb',
      'true',
      'true',
      'true',
      '0.3',
      '111 1111',
      '11111:stopped',
      '0',
      '0.625',
      '0.125',
    ]);
    expect(rows[3][6]).toBe(''); // nothing cut off in the w/o-macro row
    const au = parse(auilcCsv(file));
    expect(au).toHaveLength(3);
    expect(au[0][7]).toBe('mae_auilc_mean');
    expect(au[1][6]).toBe('11111:stopped');
    expect(Number(au[2][7])).toBeCloseTo(0.5);
    const ep = parse(epochsCsv(file));
    expect(ep).toHaveLength(1 + 4 * 2);
    expect(ep[0][6]).toBe('status');
    expect(ep[7][6]).toBe('stopped');
  });

  it('quotes cells that need it', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell(null)).toBe('');
    expect(csvCell(NaN)).toBe('');
    expect(csvCell(0.1)).toBe('0.1');
  });
});
