#!/usr/bin/env python3
"""Writes src/core/eval/__fixtures__/metrics_expected.json: inputs and the metrics MMSA's
metricsTop.py would report for them, computed here with numpy alone so that the TypeScript metrics
are checked against an independent implementation (not against themselves).

Run from the repository root:  python3 scripts/make_metrics_fixture.py
Needs numpy only (no scikit-learn, no torch): weighted F1 is rebuilt from confusion counts, which
is what scikit-learn's f1_score(average='weighted') computes for these binary labels.
"""
import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', 'src', 'core', 'eval', '__fixtures__', 'metrics_expected.json')


def weighted_f1_from_counts(first, second):
    """scikit-learn f1_score(first, second, average='weighted'): classes are the union of labels
    seen; each class's F1 = 2TP / (2TP + FP + FN); weights = the class's support in `first`."""
    first = np.asarray(first, bool)
    second = np.asarray(second, bool)
    n = first.size
    total = 0.0
    for cls in (False, True):
        support = int(np.count_nonzero(first == cls))
        predicted = int(np.count_nonzero(second == cls))
        if support == 0 and predicted == 0:
            continue  # class absent from both: scikit-learn does not list it
        tp = int(np.count_nonzero((first == cls) & (second == cls)))
        fp = predicted - tp
        fn = support - tp
        f1 = 2 * tp / (2 * tp + fp + fn)
        total += f1 * support
    return total / n


def pearson(p, y):
    # np.corrcoef divides by zero for a constant side; say "undefined" explicitly instead.
    if np.all(p == p[0]) or np.all(y == y[0]):
        return None
    r = float(np.corrcoef(p, y)[0, 1])
    assert math.isfinite(r)
    return r


def expected_metrics(pred, y):
    p = np.asarray(pred, np.float64)
    y = np.asarray(y, np.float64)

    def acc(lim):
        return float(np.mean(np.round(np.clip(p, -lim, lim)) == np.round(np.clip(y, -lim, lim))))

    nz = y != 0
    has_non0 = bool(np.any(nz))
    truth_first = {
        'mae': float(np.mean(np.abs(p - y))),
        'corr': pearson(p, y),
        'acc7': acc(3.0),
        'acc5': acc(2.0),
        'acc2_has0': float(np.mean((p >= 0) == (y >= 0))),
        'acc2_non0': float(np.mean((p[nz] > 0) == (y[nz] > 0))) if has_non0 else None,
        'f1_has0': weighted_f1_from_counts(y >= 0, p >= 0),
        'f1_non0': weighted_f1_from_counts(y[nz] > 0, p[nz] > 0) if has_non0 else None,
    }
    pred_first = dict(truth_first)
    pred_first['f1_has0'] = weighted_f1_from_counts(p >= 0, y >= 0)
    pred_first['f1_non0'] = weighted_f1_from_counts(p[nz] > 0, y[nz] > 0) if has_non0 else None
    return truth_first, pred_first


def mosi_like_labels(rng, n):
    """MOSI labels are means of annotator scores: thirds, fifths and halves in [-3, 3], many exact
    .5 ties and some exact zeros."""
    grid = sorted({round(k / 3, 15) for k in range(-9, 10)} | {k / 5 for k in range(-15, 16)}
                  | {k / 2 for k in range(-6, 7)})
    y = rng.choice(np.array(grid), size=n)
    forced = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.0, 0.0, 0.0, 3.0, -3.0]
    y[: len(forced)] = forced
    rng.shuffle(y)
    return y


def main():
    rng = np.random.default_rng(20250401)
    cases = []

    def add(name, pred, y, note):
        pred = [float(v) for v in pred]
        y = [float(v) for v in y]
        tf, pf = expected_metrics(pred, y)
        cases.append({'name': name, 'note': note, 'pred': pred, 'y': y,
                      'truthFirst': tf, 'predFirst': pf})
        return tf, pf

    y = mosi_like_labels(rng, 240)
    pred = rng.normal(0.6 * y, 0.9)
    add('random-mosi', pred, y, 'random predictions vs MOSI-like labels with exact .5 ties and zeros')

    y = mosi_like_labels(rng, 60)
    ties = np.array([0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 0.0, -0.0, 2.0, -1.0])
    pred = np.resize(ties, 60)
    add('pred-ties', pred, y, 'predictions exactly on .5 ties (half-to-even decides Acc-7/Acc-5)')

    y = mosi_like_labels(rng, 80)
    pred = rng.uniform(-6.0, 6.0, 80)
    pred[:4] = [3.0000001, -3.0000001, 7.5, -9.25]
    add('outside-range', pred, y, 'predictions outside [-3, 3] (clipped for Acc-7 / Acc-5)')

    # Mostly-positive truth with a predictor that says "negative" often: per-class F1 is symmetric,
    # but the weights are the first argument's supports, so swapping the arguments changes F1.
    y = np.concatenate([rng.uniform(0.1, 3.0, 30), rng.uniform(-3.0, -0.1, 6), [0.0, 0.0]])
    pred = np.concatenate([rng.uniform(-2.0, 2.0, 30), rng.uniform(-3.0, 0.5, 6), [-0.4, 0.7]])
    tf, pf = add('f1-order', pred, y, 'F1 truth-first differs from pred-first')
    assert abs(tf['f1_has0'] - pf['f1_has0']) > 1e-3 and abs(tf['f1_non0'] - pf['f1_non0']) > 1e-3

    y = np.zeros(12)
    pred = rng.normal(0.0, 1.0, 12)
    add('all-zero-labels', pred, y, 'every label is 0: the non0 subset is empty, so its metrics are null')

    y = mosi_like_labels(rng, 20)
    pred = np.full(20, 0.25)
    add('constant-pred', pred, y, 'constant prediction: Pearson r undefined (null)')

    add('hand', [0.5, -0.5, 1.2, -2.6, 0.0, 3.4], [0.4, -0.6, 2.0, -2.5, 1.0, 0.0],
        'six samples, small enough to check by hand')

    round_inputs = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.5000000001, 0.49999999999999994, -0.49999999999999994,
                    -0.3, 0.0, -0.0, 2.675, 1e300, -1e300, 4503599627370495.5, -4503599627370495.5,
                    4503599627370497.0, 2.4999999999999996, 3.5, -3.5, 1 / 3, -2 / 3]
    rounds = [{'x': v, 'expected': float(np.round(np.float64(v))),
               'negative': bool(np.signbit(np.round(np.float64(v))))} for v in round_inputs]

    with open(OUT, 'w') as f:
        json.dump({'generator': 'scripts/make_metrics_fixture.py', 'numpy': np.__version__,
                   'roundHalfEven': rounds, 'cases': cases}, f, indent=1)
        f.write('\n')
    print(f'wrote {os.path.relpath(OUT)}: {len(cases)} cases, {len(rounds)} rounding values')


if __name__ == '__main__':
    main()
