import { describe, expect, it } from 'vitest';
import { ALL, metricsOf, NO_MACRO, run } from './__fixtures__/runs.ts';
import { meanStd, rowStatusNote, runStatus, seedCount, summarizeRuns } from './summary.ts';

const close = (a: number | null, b: number) => {
  expect(a).not.toBeNull();
  expect(Math.abs(a! - b), `got ${a}, want ${b}`).toBeLessThanOrEqual(1e-12);
};

describe('meanStd', () => {
  it('population std, nulls ignored', () => {
    const s = meanStd([1, 2, 3, null]);
    close(s.mean, 2);
    close(s.std, Math.sqrt(2 / 3)); // ((1 + 0 + 1) / 3)^½, not / 2
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
    expect(meanStd([null, null])).toEqual({ mean: null, std: null });
    expect(meanStd([])).toEqual({ mean: null, std: null });
    expect(() => meanStd([1, NaN])).toThrow(/use null/);
  });
});

describe('summarizeRuns', () => {
  // Two seeds of the full model over r = 0, 0.5, 1.0; Corr is undefined at r = 1.0 for both.
  //   seed 111 mae: 0.6, 0.8, 1.0 → AUILC ½(0.6+0.8)·0.5 + ½(0.8+1.0)·0.5 = 0.35 + 0.45 = 0.8
  //   seed 222 mae: 0.8, 1.0, 1.2 → 0.45 + 0.55 = 1.0           → mean 0.9, std 0.1
  //   corr seed 111: 0.6, 0.4, null → 0.25 + 0.1 = 0.35; seed 222: 0.8, 0.4, null → 0.3 + 0.1 = 0.4
  const runs = [
    run({
      seed: 111,
      test: [
        [0, metricsOf(0.6)],
        [0.5, metricsOf(0.8, { corr: 0.4 })],
        [1, metricsOf(1.0, { corr: null })],
      ],
    }),
    run({
      seed: 222,
      test: [
        [0, metricsOf(0.8)],
        [0.5, metricsOf(1.0, { corr: 0.4 })],
        [1, metricsOf(1.2, { corr: null })],
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
    run({
      seed: 111,
      arch: 'fc-t',
      test: [
        [0, metricsOf(0.2)],
        [1, metricsOf(0.4)],
      ],
    }),
  ];
  const summary = summarizeRuns(runs, true);

  it('groups by architecture and branch setting, in order of appearance', () => {
    expect(summary.map((r) => [r.arch, r.branches, r.seeds])).toEqual([
      ['mfmb', ALL, [111, 222]],
      ['mfmb', NO_MACRO, [111]],
      ['fc-t', ALL, [111]],
    ]);
    expect(summary[0].trainRate).toBe(0.3);
  });

  it('per rate: mean and population std over seeds, nulls stay null', () => {
    const full = summary[0];
    expect(full.perRate.map((p) => p.rate)).toEqual([0, 0.5, 1]);
    close(full.perRate[0].mean.mae, 0.7);
    close(full.perRate[0].std.mae, 0.1);
    close(full.perRate[1].mean.corr, 0.4);
    expect(full.perRate[1].std.corr).toBe(0);
    expect(full.perRate[2].mean.corr).toBeNull();
    expect(full.perRate[2].std.corr).toBeNull();
  });

  it('AUILC per seed, then mean/std; nulls counted as 0 are flagged and summed', () => {
    const a = summary[0].auilc;
    close(a.mae.mean, 0.9);
    close(a.mae.std, 0.1);
    expect(a.mae.nullsAsZero).toBe(0);
    close(a.corr.mean, 0.375);
    close(a.corr.std, 0.025);
    expect(a.corr.nullsAsZero).toBe(2);
    close(summary[1].auilc.acc7.mean, 0.5);
    expect(summary[1].auilc.acc7.std).toBe(0);
  });

  it('includeOne = false drops r = 1.0 before integrating', () => {
    const a = summarizeRuns(runs, false)[0].auilc;
    close(a.mae.mean, 0.4); // seeds: 0.35 and 0.45
    expect(a.corr.nullsAsZero).toBe(0);
    // two points [0, 1] minus r = 1.0 leave one point: no area
    expect(summarizeRuns(runs, false)[1].auilc.mae).toEqual({ mean: null, std: null, nullsAsZero: 0 });
  });

  it('per-rate protocol: one run per (seed, rate) forms one curve', () => {
    const perRate = [0, 0.5, 1].flatMap((r) =>
      [111, 222].map((seed) => run({ seed, trainRate: r, test: [[r, metricsOf(seed === 111 ? 1 : 0.5)]] })),
    );
    const rows = summarizeRuns(perRate, true);
    expect(rows).toHaveLength(1);
    expect(rows[0].trainRate).toBe('per-rate');
    expect(rows[0].perRate.map((p) => p.rate)).toEqual([0, 0.5, 1]);
    close(rows[0].auilc.acc5.mean, 0.75);
    close(rows[0].auilc.acc5.std, 0.25);
  });

  it('keeps a sweep over training rates apart and rejects a seed tested twice at one rate', () => {
    const sweep = [
      run({
        seed: 1,
        trainRate: 0.1,
        test: [
          [0, metricsOf(1)],
          [1, metricsOf(1)],
        ],
      }),
      run({
        seed: 1,
        trainRate: 'random',
        test: [
          [0, metricsOf(1)],
          [1, metricsOf(1)],
        ],
      }),
    ];
    expect(summarizeRuns(sweep, true).map((r) => r.trainRate)).toEqual([0.1, 'random']);
    const twice = [run({ seed: 1, test: [[0, metricsOf(1)]] }), run({ seed: 1, test: [[0, metricsOf(1)]] })];
    expect(() => summarizeRuns(twice, true)).toThrow(/two results for seed 1 at rate 0/);
  });

  it('runs without test results add no seed', () => {
    const rows = summarizeRuns([run({ seed: 5, test: [] })], true);
    expect(rows[0].seeds).toEqual([]);
    expect(rows[0].perRate).toEqual([]);
    expect(rows[0].auilc.mae).toEqual({ mean: null, std: null, nullsAsZero: 0 });
  });
});

describe('run status in summaries', () => {
  // Seeds 1 and 2 finished; seed 3 was stopped after a short training and tested anyway.
  //   mae at r = 0: 0.4, 0.6 (finished) and 2.0 (stopped); at r = 1: 0.6, 0.8 and 2.0
  //   finished only: mean(0.4, 0.6) = 0.5, std 0.1; AUILC per seed ½(0.4+0.6) = 0.5, ½(0.6+0.8) = 0.7
  //   → mean 0.6, std 0.1.  With the stopped seed: mean(0.4, 0.6, 2.0) = 1.0, AUILC (0.5+0.7+2.0)/3
  const sweep = () => {
    const r = [0.4, 0.6, 2.0].map((v, i) =>
      run({
        seed: i + 1,
        test: [
          [0, metricsOf(v)],
          [1, metricsOf(i === 2 ? v : v + 0.2)],
        ],
      }),
    );
    r[2].stopReason = 'aborted';
    return r;
  };

  it('derives the status from the stop reason unless the run says it', () => {
    const r = run({ seed: 1, test: [] });
    expect(runStatus(r)).toBe('finished');
    expect(runStatus({ ...r, stopReason: 'early-stop' })).toBe('finished');
    expect(runStatus({ ...r, stopReason: 'non-finite-loss' })).toBe('finished'); // a result, as in the CLI
    expect(runStatus({ ...r, stopReason: 'aborted' })).toBe('stopped');
    expect(runStatus({ ...r, status: 'interrupted' })).toBe('interrupted');
    expect(runStatus({ ...r, stopReason: 'aborted', status: 'failed' })).toBe('failed');
  });

  it('counts finished runs only by default and lists the cut-off one', () => {
    const [row] = summarizeRuns(sweep(), true);
    expect(row.seeds).toEqual([1, 2]);
    expect(row.cutOff).toEqual([{ seed: 3, status: 'stopped' }]);
    expect(row.partial).toBeUndefined();
    close(row.perRate[0].mean.mae, 0.5);
    close(row.perRate[0].std.mae, 0.1);
    close(row.auilc.mae.mean, 0.6);
    close(row.auilc.mae.std, 0.1);
    expect(seedCount(row)).toEqual({ n: 2, of: 3 });
    expect(rowStatusNote(row)).toBe('n = 2 of 3 seeds');
  });

  it('includes partial runs when asked, and marks the row', () => {
    const [row] = summarizeRuns(sweep(), true, { includePartial: true });
    expect(row.seeds).toEqual([1, 2, 3]);
    expect(row.partial).toBe(true);
    close(row.perRate[0].mean.mae, 1.0);
    close(row.auilc.mae.mean, (0.5 + 0.7 + 2.0) / 3);
    expect(rowStatusNote(row)).toBe('n = 3 of 3 seeds, incl. 1 stopped');
  });

  it('keeps a setting whose only run was cut off, with no figures', () => {
    const done = run({
      seed: 1,
      test: [
        [0, metricsOf(0.5)],
        [1, metricsOf(0.5)],
      ],
    });
    const cut = {
      ...run({ seed: 1, branches: NO_MACRO, test: [[0, metricsOf(0.9)]] }),
      stopReason: 'aborted' as const,
    };
    const rows = summarizeRuns([done, cut], true);
    expect(rows.map((r) => r.branches)).toEqual([ALL, NO_MACRO]);
    expect(rows[0].cutOff).toEqual([]);
    expect(rowStatusNote(rows[0])).toBe('');
    expect(rows[1].seeds).toEqual([]);
    expect(rows[1].perRate).toEqual([]);
    expect(rows[1].auilc.corr).toEqual({ mean: null, std: null, nullsAsZero: 0 });
    expect(rowStatusNote(rows[1])).toBe('stopped (n = 0 of 1)');
  });

  it('an interrupted or failed run is left out like a stopped one', () => {
    const r = sweep();
    r[2].stopReason = 'max-epochs';
    r[2].status = 'interrupted';
    r[1].status = 'failed';
    const [row] = summarizeRuns(r, true);
    expect(row.seeds).toEqual([1]);
    expect(row.cutOff).toEqual([
      { seed: 2, status: 'failed' },
      { seed: 3, status: 'interrupted' },
    ]);
    expect(rowStatusNote(row)).toBe('n = 1 of 3 seeds');
  });
});
