"""Writes a pickle with CMU-MOSI's (or MOSEI's) full MMSA sizes, to check that big files load and train.

Not the real dataset (its features cannot be fetched here): random float32 features in MMSA's exact
layout and sizes, with a learnable signal (the label is spread over a few text positions and, more
weakly, over audio and vision), text_bert with per-sample lengths, -inf in some audio frames as in
MMSA's audio, unicode ids and object-array raw_text. Nothing is written into the repository.

    python3 scripts/make_mosi_shaped.py /tmp/aligned_50.pkl              # ~340 MB, protocol 4
    python3 scripts/make_mosi_shaped.py /tmp/unaligned_50.pkl --unaligned   # ~450 MB
    python3 scripts/make_mosi_shaped.py /tmp/mosei_aligned_50.pkl --mosei   # ~4.1 GB: too big for a tab
"""
import argparse
import pickle

import numpy as np

SIZES = {'train': 1284, 'valid': 229, 'test': 686}
MOSEI_SIZES = {'train': 16326, 'valid': 1871, 'test': 4659}
D_T, D_A, D_V = 768, 5, 20


def split(rng, n, unaligned, d_a, d_v):
    L_t = 50
    L_a, L_v = (375, 500) if unaligned else (50, 50)
    y = np.clip(np.round(rng.normal(0, 1.5, n) * 2) / 2, -3, 3).astype(np.float32)
    lengths = rng.integers(8, L_t + 1, n)
    text = rng.normal(0, 1, (n, L_t, D_T)).astype(np.float32)
    direction = rng.normal(0, 1, D_T).astype(np.float32) / np.sqrt(D_T) * 8
    for i in range(n):
        text[i, lengths[i]:] = 0
        pos = rng.choice(np.arange(1, lengths[i] - 1), 3, replace=False)
        text[i, pos] += y[i] * direction
    a_len = rng.integers(L_a // 3, L_a + 1, n) if unaligned else lengths
    v_len = rng.integers(L_v // 3, L_v + 1, n) if unaligned else lengths
    audio = rng.normal(0, 1, (n, L_a, d_a)).astype(np.float32)
    vision = rng.normal(0, 1, (n, L_v, d_v)).astype(np.float32)
    audio[:, :, 0] += 0.3 * y[:, None]
    vision[:, :, 0] += 0.3 * y[:, None]
    for i in range(n):
        audio[i, a_len[i]:] = 0
        vision[i, v_len[i]:] = 0
    audio[rng.random((n, L_a)) < 0.002, 1] = -np.inf  # MMSA's audio has -inf (log of 0)
    text_bert = np.zeros((n, 3, L_t), dtype=np.int64)
    for i in range(n):
        ids = rng.integers(1000, 30000, lengths[i])
        ids[0], ids[-1] = 101, 102
        text_bert[i, 0, :lengths[i]] = ids
        text_bert[i, 1, :lengths[i]] = 1
    out = {
        'raw_text': np.array([f'utterance {i} with sentiment {v:+.1f}' for i, v in enumerate(y)], dtype=object),
        'audio': audio,
        'vision': vision,
        'id': np.array([f'video{i // 10:03d}$_${i % 10}' for i in range(n)]),
        'text': text,
        'text_bert': text_bert,
        'annotations': np.array(['Positive' if v > 0 else 'Negative' if v < 0 else 'Neutral' for v in y]),
        'classification_labels': np.sign(y).astype(np.float32) + 1,
        'regression_labels': y,
    }
    if unaligned:
        out['audio_lengths'] = a_len.astype(np.int64)
        out['vision_lengths'] = v_len.astype(np.int64)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--unaligned', action='store_true')
    ap.add_argument('--protocol', type=int, default=4)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--mosei', action='store_true', help="MOSEI's sizes (16326/1871/4659, D 768/74/35)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    sizes, d_a, d_v = (MOSEI_SIZES, 74, 35) if args.mosei else (SIZES, D_A, D_V)
    data = {k: split(rng, n, args.unaligned, d_a, d_v) for k, n in sizes.items()}
    with open(args.out, 'wb') as f:
        pickle.dump(data, f, protocol=args.protocol)
    print(f'wrote {args.out} (numpy {np.__version__}, protocol {args.protocol})')


if __name__ == '__main__':
    main()
