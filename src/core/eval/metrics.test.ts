import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeMetrics, METRIC_KEYS, roundHalfEven, type MetricKey, type Metrics } from './metrics.ts';

// Expected values come from scripts/make_metrics_fixture.py (numpy only, independent of this code).
interface Fixture {
  roundHalfEven: { x: number; expected: number; negative: boolean }[];
  cases: { name: string; pred: number[]; y: number[]; truthFirst: Metrics; predFirst: Metrics }[];
}
const fixture = JSON.parse(
  readFileSync(new URL('./__fixtures__/metrics_expected.json', import.meta.url), 'utf8'),
) as Fixture;

const EXACT: ReadonlySet<MetricKey> = new Set(['acc7', 'acc5', 'acc2_has0', 'acc2_non0']);

function expectMetrics(got: Metrics, want: Metrics, where: string): void {
  for (const k of METRIC_KEYS) {
    const g = got[k];
    const w = want[k];
    if (w === null || g === null) {
      expect(g, `${where} ${k}`).toBe(w);
    } else if (EXACT.has(k)) {
      expect(g, `${where} ${k}`).toBe(w); // a count over n: the same division in both languages
    } else {
      expect(Math.abs(g - w), `${where} ${k}: got ${g}, want ${w}`).toBeLessThanOrEqual(1e-12);
    }
  }
}

describe('roundHalfEven', () => {
  it('matches np.round on ties, near-ties, signed zeros and huge values', () => {
    expect(fixture.roundHalfEven.length).toBeGreaterThan(20);
    for (const { x, expected, negative } of fixture.roundHalfEven) {
      const got = roundHalfEven(x);
      expect(got, `round(${x})`).toBe(expected);
      expect(Object.is(got, -0) || got < 0, `sign of round(${x})`).toBe(negative);
    }
  });

  it('spells out the cases Math.round gets wrong', () => {
    expect(roundHalfEven(2.5)).toBe(2);
    expect(Object.is(roundHalfEven(-0.5), -0)).toBe(true);
    expect(roundHalfEven(0.5000000001)).toBe(1);
    expect(roundHalfEven(-2.5)).toBe(-2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(Infinity)).toBe(Infinity);
  });
});

describe('computeMetrics against numpy', () => {
  expect(fixture.cases.map((c) => c.name)).toEqual([
    'random-mosi',
    'pred-ties',
    'outside-range',
    'f1-order',
    'all-zero-labels',
    'constant-pred',
    'hand',
  ]);
  for (const c of fixture.cases) {
    it(`${c.name}: truth-first (default)`, () => {
      expectMetrics(computeMetrics(c.pred, c.y), c.truthFirst, c.name);
      expectMetrics(computeMetrics(c.pred, c.y, { f1Order: 'truth-first' }), c.truthFirst, c.name);
    });
    it(`${c.name}: pred-first`, () => {
      expectMetrics(computeMetrics(c.pred, c.y, { f1Order: 'pred-first' }), c.predFirst, c.name);
    });
  }

  it('the f1-order case really differs between argument orders', () => {
    const c = fixture.cases.find((x) => x.name === 'f1-order')!;
    const tf = computeMetrics(c.pred, c.y);
    const pf = computeMetrics(c.pred, c.y, { f1Order: 'pred-first' });
    expect(Math.abs(tf.f1_has0! - pf.f1_has0!)).toBeGreaterThan(1e-3);
    expect(Math.abs(tf.f1_non0! - pf.f1_non0!)).toBeGreaterThan(1e-3);
    expect(pf.acc2_has0).toBe(tf.acc2_has0);
  });

  it('null where undefined: empty non0 subset, constant prediction', () => {
    const zero = fixture.cases.find((x) => x.name === 'all-zero-labels')!;
    const m = computeMetrics(zero.pred, zero.y);
    expect(m.acc2_non0).toBeNull();
    expect(m.f1_non0).toBeNull();
    expect(m.corr).toBeNull(); // constant labels too
    const constant = fixture.cases.find((x) => x.name === 'constant-pred')!;
    expect(computeMetrics(constant.pred, constant.y).corr).toBeNull();
  });
});

describe('computeMetrics details', () => {
  it('accepts typed arrays and computes in float64', () => {
    const c = fixture.cases[0];
    const p32 = Float32Array.from(c.pred);
    const fromTyped = computeMetrics(p32, Float64Array.from(c.y));
    const fromPlain = computeMetrics(Array.from(p32), c.y);
    expect(fromTyped).toEqual(fromPlain);
  });

  it('a label of -0 counts as zero for non0', () => {
    const m = computeMetrics([1, 1, -1], [-0, 1, 2]);
    expect(m.acc2_non0).toBe(0.5);
    expect(m.acc2_has0).toBe(2 / 3);
  });

  it('a constant that is not exactly representable is still constant', () => {
    expect(computeMetrics([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [1, 2, 3, 4, 5, 6, 7]).corr).toBeNull();
  });

  it('perfect correlation stays within [-1, 1]', () => {
    const y = Array.from({ length: 101 }, (_, i) => (i - 50) / 17);
    expect(
      computeMetrics(
        y.map((v) => 3 * v + 0.1),
        y,
      ).corr,
    ).toBeCloseTo(1, 14);
    expect(
      computeMetrics(
        y.map((v) => 3 * v + 0.1),
        y,
      ).corr!,
    ).toBeLessThanOrEqual(1);
  });

  it('rejects unusable input with a clear message', () => {
    expect(() => computeMetrics([1, 2], [1])).toThrow(/2 predictions but 1 labels/);
    expect(() => computeMetrics([], [])).toThrow(/no samples/);
    expect(() => computeMetrics([0.1, NaN], [0, 1])).toThrow(/prediction\[1\] is NaN/);
    expect(() => computeMetrics([0.1, 0.2], [Infinity, 1])).toThrow(/label\[0\] is Infinity/);
    expect(() => computeMetrics([1], [1], { f1Order: 'sideways' as never })).toThrow(/f1Order/);
  });
});
