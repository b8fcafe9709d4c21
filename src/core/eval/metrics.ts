/**
 * The paper's regression metrics, computed exactly as MMSA's `metricsTop.py` does (PROTOCOL.md,
 * "Metrics"), so numbers from this app can sit beside numbers from the Python world digit for digit.
 * Everything runs in float64 whatever the input array type.
 */

export const METRIC_KEYS = ['mae', 'corr', 'acc7', 'acc5', 'acc2_has0', 'acc2_non0', 'f1_has0', 'f1_non0'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
/** Accuracies and F1 are fractions in [0, 1]; `null` = undefined for this input (never NaN). */
export type Metrics = Record<MetricKey, number | null>;

export type F1Order = 'truth-first' | 'pred-first';

/**
 * numpy's `round` (rint): ties go to the even neighbour and the sign of zero is kept. It decides on
 * the exact double, so 0.5000000001 → 1 and 2.4999999999999996 → 2; `Math.round` would send 2.5 to 3
 * and MOSI labels contain exact .5 values.
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const floor = Math.floor(x);
  // Exact (Sterbenz) except for -0.5 < x < 0, where 1 + x may round up to 0.5 or 1; every such x
  // rounds to -0 whichever branch then runs, so the answer is still numpy's.
  const frac = x - floor;
  let r: number;
  if (frac < 0.5) r = floor;
  else if (frac > 0.5) r = floor + 1;
  else r = floor % 2 === 0 ? floor : floor + 1;
  // -0.3 and -0.5 round to -0 in numpy; keep that so results compare bit for bit.
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

/**
 * Neumaier-compensated sum: numpy's pairwise summation and a naive loop differ in the last bits on
 * long test sets; a compensated sum stays within an ulp or two of the exact value, hence of numpy's.
 */
function accurateSum(n: number, term: (i: number) => number): number {
  let sum = 0;
  let comp = 0;
  for (let i = 0; i < n; i++) {
    const v = term(i);
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + comp;
}

/** Pearson r as `np.corrcoef(p, y)[0, 1]`; null where numpy would divide by zero (a constant side). */
function pearson(p: Float64Array, y: Float64Array): number | null {
  const n = p.length;
  if (n < 2) return null;
  // Test constancy on the values themselves: the mean of n copies of 0.1 need not equal 0.1, so a
  // centred sum can leave rounding noise that would otherwise pass for a tiny, meaningless variance.
  if (p.every((v) => v === p[0]) || y.every((v) => v === y[0])) return null;
  const mp = accurateSum(n, (i) => p[i]) / n;
  const my = accurateSum(n, (i) => y[i]) / n;
  const sxy = accurateSum(n, (i) => (p[i] - mp) * (y[i] - my));
  const sxx = accurateSum(n, (i) => (p[i] - mp) ** 2);
  const syy = accurateSum(n, (i) => (y[i] - my) ** 2);
  if (!(sxx > 0) || !(syy > 0)) return null;
  const r = sxy / Math.sqrt(sxx) / Math.sqrt(syy);
  if (!Number.isFinite(r)) return null;
  // numpy clips too: rounding can push |r| a hair past 1 for perfectly correlated inputs.
  return Math.max(-1, Math.min(1, r));
}

/**
 * scikit-learn `f1_score(first, second, average='weighted')` for boolean labels: per-class F1 over the
 * classes that occur in either argument, weighted by each class's support in the FIRST argument —
 * which is why swapping truth and prediction changes the number.
 */
function weightedF1(first: boolean[], second: boolean[]): number {
  const n = first.length;
  let total = 0;
  for (const cls of [false, true]) {
    let support = 0;
    let predicted = 0;
    let tp = 0;
    for (let i = 0; i < n; i++) {
      const a = first[i] === cls;
      const b = second[i] === cls;
      if (a) support++;
      if (b) predicted++;
      if (a && b) tp++;
    }
    if (support === 0 && predicted === 0) continue;
    // 2TP + FP + FN = support + predicted, and it is > 0 because the class occurs somewhere.
    total += ((2 * tp) / (support + predicted)) * support;
  }
  return total / n;
}

function toFloat64(values: ArrayLike<number>, what: string): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      // A NaN prediction means training diverged; a metric over it would be silently meaningless.
      throw new Error(`computeMetrics: ${what}[${i}] is ${String(v)}; every ${what} value must be a finite number`);
    }
    out[i] = v;
  }
  return out;
}

function fractionEqual(n: number, equal: (i: number) => boolean): number {
  let hits = 0;
  for (let i = 0; i < n; i++) if (equal(i)) hits++;
  return hits / n;
}

/** MAE, Pearson r, Acc-7, Acc-5, Acc-2 and weighted F1 (has0 / non0) of predictions against labels. */
export function computeMetrics(
  pred: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { f1Order?: F1Order } = {},
): Metrics {
  const f1Order = opts.f1Order ?? 'truth-first';
  if (f1Order !== 'truth-first' && f1Order !== 'pred-first') {
    throw new Error(`computeMetrics: f1Order must be 'truth-first' or 'pred-first', got ${String(f1Order)}`);
  }
  if (pred.length !== y.length) {
    throw new Error(`computeMetrics: ${pred.length} predictions but ${y.length} labels; they must pair up one to one`);
  }
  if (pred.length === 0) throw new Error('computeMetrics: no samples (empty predictions and labels)');
  const p = toFloat64(pred, 'prediction');
  const t = toFloat64(y, 'label');
  const n = p.length;

  const clipRound = (v: number, lim: number) => roundHalfEven(Math.min(lim, Math.max(-lim, v)));
  const accClass = (lim: number) => fractionEqual(n, (i) => clipRound(p[i], lim) === clipRound(t[i], lim));

  const f1 = (truth: boolean[], guess: boolean[]) =>
    f1Order === 'truth-first' ? weightedF1(truth, guess) : weightedF1(guess, truth);

  const truthHas0 = Array.from(t, (v) => v >= 0);
  const predHas0 = Array.from(p, (v) => v >= 0);

  // non0 drops labels that are exactly zero (MOSI has many), then asks "positive?" of the rest.
  const truthNon0: boolean[] = [];
  const predNon0: boolean[] = [];
  for (let i = 0; i < n; i++) {
    if (t[i] !== 0) {
      truthNon0.push(t[i] > 0);
      predNon0.push(p[i] > 0);
    }
  }
  const m = truthNon0.length;

  return {
    mae: accurateSum(n, (i) => Math.abs(p[i] - t[i])) / n,
    corr: pearson(p, t),
    acc7: accClass(3),
    acc5: accClass(2),
    acc2_has0: fractionEqual(n, (i) => predHas0[i] === truthHas0[i]),
    acc2_non0: m === 0 ? null : fractionEqual(m, (i) => predNon0[i] === truthNon0[i]),
    f1_has0: f1(truthHas0, predHas0),
    f1_non0: m === 0 ? null : f1(truthNon0, predNon0),
  };
}
