import { describe, expect, it } from 'vitest';
import { TABLE5_SETTINGS } from '../config/config.ts';
import { metricsOf, NO_MACRO, run } from './__fixtures__/runs.ts';
import type { Metrics } from './metrics.ts';
import { summarizeRuns } from './summary.ts';
import {
  defaultRowLabel,
  formatAblationTable,
  formatAuilcTable,
  formatMetric,
  formatMetricsTable,
  formatPerRateTable,
  formatRate,
  PAPER_FIGURES,
} from './tables.ts';

const ours: Metrics = {
  mae: 0.70912,
  corr: null,
  acc7: 0.4583,
  acc5: 0.537,
  acc2_has0: 0.8271,
  acc2_non0: null,
  f1_has0: 0.83249,
  f1_non0: 0.86,
};

// Two seeds of the full model (Corr undefined at r = 1.0), one of "w/o F-1", one text-only baseline.
const summary = summarizeRuns(
  [
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
  ],
  true,
);

describe('formatMetric', () => {
  it('×100 to 1 decimal for accuracies and F1, 3 decimals for MAE and Corr, — for null', () => {
    expect(formatMetric('acc7', 0.4583)).toBe('45.8');
    expect(formatMetric('f1_non0', 1)).toBe('100.0');
    expect(formatMetric('mae', 0.70912)).toBe('0.709');
    expect(formatMetric('corr', -0.12)).toBe('-0.120');
    expect(formatMetric('corr', -0.0001)).toBe('0.000');
    expect(formatMetric('acc2_has0', null)).toBe('—');
    expect(formatRate(0.30000000000000004)).toBe('0.3');
    expect(formatRate(1)).toBe('1.0');
  });
});

describe('formatMetricsTable', () => {
  const text = formatMetricsTable([
    { label: 'ours', metrics: ours },
    { label: 'paper (MOSI, BERT fine-tuned)', metrics: PAPER_FIGURES.table3.mosi },
  ]);
  const lines = text.split('\n');

  it('shows the paper-style columns and a/b pairs', () => {
    expect(lines[0]).toMatch(/MAE\s+Corr\s+Acc-7\s+Acc-5\s+Acc-2 \(has0\/non0\)\s+F1 \(has0\/non0\)$/);
    expect(lines[2]).toMatch(/^ours\s+0\.709\s+—\s+45\.8\s+53\.7\s+82\.7\/—\s+83\.2\/86\.0$/);
    expect(lines[3]).toMatch(/0\.709\s+0\.798\s+45\.8\s+53\.7\s+82\.7\/85\.7\s+83\.2\/86\.0$/);
  });

  it('right-aligns number columns under their headers', () => {
    const end = (line: string, s: string) => line.indexOf(s) + s.length;
    expect(end(lines[2], '0.709')).toBe(end(lines[0], 'MAE'));
    expect(end(lines[2], '45.8')).toBe(end(lines[0], 'Acc-7'));
    expect(end(lines[3], '0.798')).toBe(end(lines[0], 'Corr'));
    expect(lines[1]).toMatch(/^-+( {2}-+){6}$/);
  });
});

describe('formatAuilcTable (Table 4 shape)', () => {
  const text = formatAuilcTable(summary);

  it('one row per model / setting, mean ± std over several seeds, a single value otherwise', () => {
    expect(text).toMatch(/^MFMB-Net \(all\)\s+0\.900 ± 0\.100\s+0\.375 ± 0\.025\*\s+90\.0 ± 10\.0/m);
    expect(text).toContain('90.0 ± 10.0 / 90.0 ± 10.0');
    expect(text).toMatch(/^w\/o F-1 \(macro off\)\s+0\.500\s+0\.500\s+50\.0\s+50\.0\s+50\.0\/50\.0/m);
    expect(text).toMatch(/^FC \(text\)\s+0\.300/m);
  });

  it('footnotes nulls counted as 0 and the std convention', () => {
    expect(text).toContain('* 2 undefined point(s) counted as 0');
    expect(text).toContain('mean ± std over seeds (population std)');
    expect(formatAuilcTable(summary.slice(1))).not.toContain('*');
  });

  it('takes a custom label', () => {
    expect(formatAuilcTable(summary, (r) => `${r.arch}:${r.seeds.length}`)).toMatch(/^mfmb:2 /m);
  });
});

describe('formatAblationTable (Table 5 shape)', () => {
  const text = formatAblationTable(summary);
  const lines = text.split('\n');

  it('lists the four settings with the paper labels, Corr and Acc-7 first', () => {
    expect(lines[0]).toMatch(/^AUILC\s+Corr\s+Acc-7\s+MAE/);
    for (const s of TABLE5_SETTINGS) expect(text).toContain(s.label);
    expect(text).toMatch(/^MFMB-Net \(all\)\s+0\.375 ± 0\.025\*\s+90\.0 ± 10\.0/m);
    expect(text).toMatch(/^w\/o F-2 \(micro off\) \(not run\)\s+—/m);
    expect(text).not.toContain('FC (text)'); // baselines are not part of the ablation
  });

  it("sets the paper's figures apart as labelled reference rows", () => {
    const rule = lines.findIndex((l, i) => i > 1 && /^-+ /.test(l));
    const paperRows = lines.slice(rule + 1, rule + 5);
    expect(paperRows.every((l) => l.startsWith('paper (MOSI, BERT fine-tuned): '))).toBe(true);
    expect(text).toMatch(/^paper \(MOSI, BERT fine-tuned\): MFMB-Net \(all\)\s+0\.461\s+27\.5\s+—/m);
    expect(text).toMatch(/^paper \(MOSI, BERT fine-tuned\): w\/o F-1 \(macro off\)\s+0\.451\s+27\.1\s/m);
    expect(text).toMatch(/^paper \(MOSI, BERT fine-tuned\): w\/o F-2 \(micro off\)\s+0\.461\s+26\.3\s/m);
    expect(text).toMatch(/^paper \(MOSI, BERT fine-tuned\): w\/o Recon\s+0\.422\s+26\.1\s/m);
    expect(text).toContain("not this app's results");
  });
});

describe('formatPerRateTable', () => {
  it('rate vs metrics with mean ± std', () => {
    const text = formatPerRateTable(summary[0]);
    expect(text).toMatch(/^Rate\s+MAE/);
    expect(text).toMatch(/^0\.0\s+0\.700 ± 0\.100\s+0\.700 ± 0\.100\s+70\.0 ± 10\.0/m);
    expect(text).toMatch(/^1\.0\s+1\.100 ± 0\.100\s+—\s/m);
    expect(text).toContain('mean ± std over 2 seeds');
    expect(formatPerRateTable(summary[1])).toMatch(/^0\.0\s+0\.500\s+0\.500\s+50\.0/m);
  });
});

describe('PAPER_FIGURES', () => {
  it('holds PROTOCOL.md figures in file units (fractions for accuracies and F1)', () => {
    const t3 = PAPER_FIGURES.table3;
    expect(t3.mosi.mae).toBe(0.709);
    expect(t3.mosi.acc7).toBeCloseTo(0.458, 12);
    expect(t3.mosei.f1_has0).toBeCloseTo(0.85, 12);
    const t4 = PAPER_FIGURES.table4;
    expect(t4.mosi.mae).toBe(1.115);
    expect(t4.mosi.acc2_non0).toBeCloseTo(0.67, 12);
    expect(t4.mosei.f1_non0).toBeCloseTo(0.762, 12);
    expect(PAPER_FIGURES.table5.map((r) => [r.paperLabel, r.auilc.corr, formatMetric('acc7', r.auilc.acc7)])).toEqual([
      ['MFMB-Net', 0.461, '27.5'],
      ['w/o F-1', 0.451, '27.1'],
      ['w/o F-2', 0.461, '26.3'],
      ['w/o Recon', 0.422, '26.1'],
    ]);
    expect(PAPER_FIGURES.table5[0].auilc.mae).toBeNull();
  });

  it('default labels', () => {
    expect(defaultRowLabel({ arch: 'concat', branches: summary[0].branches })).toBe('Concat');
    expect(defaultRowLabel({ arch: 'mfmb', branches: { macro: true, micro: false, recon: false } })).toBe(
      'MFMB-Net (macro on, micro off, recon off)',
    );
  });
});

describe('tables with runs that did not finish', () => {
  it('a cut-off ablation setting reads "stopped (n = 0 of 1)", not a row of dashes under another label', () => {
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
    const text = formatAblationTable(summarizeRuns([done, cut], true));
    const row = text.split('\n').find((l) => l.includes(TABLE5_SETTINGS[1].label));
    expect(row).toContain(`${TABLE5_SETTINGS[1].label} [stopped (n = 0 of 1)]`);
    expect(text).toMatch(/left out: n = finished seeds/);
    const full = text.split('\n').find((l) => l.startsWith(TABLE5_SETTINGS[0].label));
    expect(full).not.toContain('[');
  });

  it('a sweep with a stopped seed says n = 2 of 3 seeds', () => {
    const runs = [1, 2, 3].map((seed) =>
      run({
        seed,
        test: [
          [0, metricsOf(0.5)],
          [1, metricsOf(0.5)],
        ],
      }),
    );
    runs[2].stopReason = 'aborted';
    const rows = summarizeRuns(runs, true);
    expect(formatAuilcTable(rows)).toContain('[n = 2 of 3 seeds]');
    expect(formatPerRateTable(rows[0])).toContain('mean ± std over 2 seeds');
    expect(formatPerRateTable(rows[0])).toContain('n = 2 of 3 seeds; runs that did not finish are left out');
  });
});
