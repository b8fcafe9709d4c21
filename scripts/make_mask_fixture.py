#!/usr/bin/env python3
"""Writes src/core/data/__fixtures__/numpy_masks.json: uniforms and drop masks exactly as numpy
makes them, so the TypeScript missing-data simulation (src/core/data/masking.ts) is checked bit for
bit against numpy itself rather than against its own port.

Run from anywhere:  python3 scripts/make_mask_fixture.py
Needs numpy only (no torch). The masks follow shared/spec/PROTOCOL.md, written out independently here:
  u = numpy.random.RandomState(seed).random_sample(shape)      (legacy MT19937, 53-bit doubles)
  frame level:    drop[i, t] = u[i, t] <= r  and  t < len[i]
                  keep_ends (BERT text): drop[i, 0] = drop[i, len[i] - 1] = False
  modality level: u = random_sample((N,)); dropped[i] = u[i] <= r; all three dropped -> keep text
  noise (replace 'noise'): RandomState((mask_seed + 7919) % 2**32).standard_normal((N, L, D))
Doubles are written with Python's repr (shortest round-trip), so JSON.parse gives the same bits.
The output is deterministic (same bytes each run).
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'core', 'data', '__fixtures__',
                   'numpy_masks.json')

MASK_SEEDS = (111, 1111, 11111)
NOISE_OFFSET = 7919
N, L = 5, 7
LENGTHS = np.array([7, 3, 1, 5, 7])
RATES = (0.0, 0.3, 0.7, 1.0)


def uniforms(seed, shape):
    return np.random.RandomState(seed).random_sample(shape)


def frame_drop(seed, rate, keep_ends):
    u = uniforms(seed, (N, L))
    drop = (u <= rate) & (np.arange(L)[None, :] < LENGTHS[:, None])
    if keep_ends:
        for i, n in enumerate(LENGTHS):
            drop[i, 0] = False
            drop[i, n - 1] = False
    return drop


def modality_drop(rate):
    dropped = np.stack([uniforms(s, (N,)) <= rate for s in MASK_SEEDS])  # [3, N]
    all_three = dropped.all(axis=0)
    dropped[0, all_three] = False
    return dropped


def as_list(a):
    return [float(v) for v in np.asarray(a, np.float64).ravel()]


def as_bits(a):
    return [int(v) for v in np.asarray(a).ravel()]


def main():
    samples = []
    for seed in MASK_SEEDS:
        samples.append({'seed': seed, 'shape': [N, L], 'values': as_list(uniforms(seed, (N, L)))})
        samples.append({'seed': seed, 'shape': [N], 'values': as_list(uniforms(seed, (N,)))})
    for seed in (0, 4294967295):
        samples.append({'seed': seed, 'shape': [2, 3], 'values': as_list(uniforms(seed, (2, 3)))})

    # 700 doubles = 1400 draws: crosses two regenerations of the 624-word state.
    long_idx = [0, 1, 311, 312, 313, 623, 624, 699]
    long_draw = uniforms(11111, (700,))
    long_sample = {'seed': 11111, 'count': 700, 'indices': long_idx, 'values': as_list(long_draw[long_idx])}

    frame = []
    for rate in RATES:
        for seed in MASK_SEEDS:
            for keep_ends in (False, True):
                frame.append({'seed': seed, 'rate': rate, 'keepEnds': keep_ends,
                              'drop': as_bits(frame_drop(seed, rate, keep_ends))})

    modality = [{'rate': rate, 'dropped': as_bits(modality_drop(rate))} for rate in (0.3, 0.5, 0.7, 0.9)]

    noise = [{'seed': seed, 'noiseSeed': (seed + NOISE_OFFSET) % 2**32, 'shape': [2, 3, 4],
              'values': as_list(np.random.RandomState((seed + NOISE_OFFSET) % 2**32).standard_normal((2, 3, 4)))}
             for seed in MASK_SEEDS[1:]]

    fixture = {
        'numpy': np.__version__,
        'maskSeeds': list(MASK_SEEDS),
        'n': N, 'L': L, 'lengths': LENGTHS.tolist(),
        'samples': samples,
        'longSample': long_sample,
        'frame': frame,
        'modality': modality,
        'noise': noise,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w') as f:
        json.dump(fixture, f, separators=(',', ':'))
        f.write('\n')
    print(f'wrote {os.path.relpath(OUT)} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
