#!/usr/bin/env python3
"""Writes small .npz / .npy files into src/core/data/files/__fixtures__/npz/ plus manifest.json, so the
TypeScript readers (src/core/data/files/npy.ts, npz.ts) are checked against files numpy itself wrote.

Run from anywhere:  python3 scripts/make_npz_fixtures.py
Needs numpy only (works with numpy 1.24 and 2.x). The arrays are deterministic (RandomState(0)); the
zip bytes carry timestamps, so the files differ run to run but the manifest does not.

manifest.json: {"files": {file name: {"kind": "npz" | "npy", "names": [array names in archive order] (npz
only), "arrays": {array name ('' for a .npy): info}}}}, where
info = {"dtype": dtype.str, "shape": [...], "fortran": bool, "nbytes": int, "sha256": hex of the raw
element bytes exactly as stored in the file (order 'F' for Fortran arrays; absent for object arrays),
"samples": [[[i, j, ...], value], ...]}. Values that JSON cannot hold are strings: "inf", "-inf",
"nan", and integers beyond 2^53 as decimal strings. Object arrays list all their items in "items".
"""
import hashlib
import json
import math
import os
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'core', 'data', 'files', '__fixtures__',
                   'npz')
rng = np.random.RandomState(0)

SPLITS = {'train': 6, 'valid': 3, 'test': 4}
L_T, L_A, L_V = 5, 5, 5
D_T, D_A, D_V = 8, 3, 4


def mmsa_split(split, n):
    """One MMSA split as flat arrays (aligned layout: the same L for every modality)."""
    reg = np.round(rng.uniform(-3, 3, n) * 2) / 2
    return {
        'text': rng.randn(n, L_T, D_T).astype(np.float32),
        'audio': rng.randn(n, L_A, D_A).astype(np.float32),
        'vision': rng.randn(n, L_V, D_V).astype(np.float32),
        'regression_labels': reg.astype(np.float32),
        'classification_labels': np.sign(reg).astype(np.float32) + 1,
        'id': np.array(['%s_clip%d$%d' % (split, i, i % 3) for i in range(n)]),  # <U
    }


MMSA = {split: mmsa_split(split, n) for split, n in SPLITS.items()}


def flat(sep):
    return {'%s%s%s' % (split, sep, field): arr for split, fields in MMSA.items() for field, arr in fields.items()}


def json_value(v):
    if isinstance(v, (np.floating, float)):
        f = float(v)
        if math.isnan(f):
            return 'nan'
        if math.isinf(f):
            return 'inf' if f > 0 else '-inf'
        return f
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        i = int(v)
        return i if abs(i) <= 2 ** 53 else str(i)
    if isinstance(v, bytes):
        return v.decode('latin1')
    return str(v)


def sample_indices(shape):
    """First, last and a middle element (multi-indices), without repeats."""
    if 0 in shape:
        return []
    out = []
    for idx in (tuple(0 for _ in shape), tuple(s // 2 for s in shape), tuple(s - 1 for s in shape)):
        if idx not in out:
            out.append(idx)
    return out


def info(arr):
    fortran = bool(arr.flags.f_contiguous and not arr.flags.c_contiguous)
    d = {'dtype': arr.dtype.str, 'shape': list(arr.shape), 'fortran': fortran}
    if arr.dtype.names is not None:  # structured: the reader refuses these, nothing to compare
        return d
    if arr.dtype.hasobject:
        d['items'] = [json_value(x) for x in arr.ravel(order='F' if fortran else 'C')]
        return d
    raw = arr.tobytes(order='F' if fortran else 'C')
    d['nbytes'] = len(raw)
    d['sha256'] = hashlib.sha256(raw).hexdigest()
    d['samples'] = [[list(idx), json_value(arr[idx])] for idx in sample_indices(arr.shape)]
    return d


manifest = {}


def save_npz(name, arrays, compressed=False):
    path = os.path.join(OUT, name)
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    with zipfile.ZipFile(path) as z:  # check that numpy kept the names we asked for ('/' included)
        assert [i.filename for i in z.infolist()] == [k + '.npy' for k in arrays], name
        assert all(i.compress_type == (zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED)
                   for i in z.infolist())
    manifest[name] = {'kind': 'npz', 'names': list(arrays),  # 'arrays' is sorted in the JSON, 'names' is zip order
                      'arrays': {k: info(np.asanyarray(v)) for k, v in arrays.items()}}


def save_npy(name, arr, version=None):
    path = os.path.join(OUT, name)
    with open(path, 'wb') as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=arr.dtype.hasobject)
    manifest[name] = {'kind': 'npy', 'arrays': {'': info(arr)}}


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):  # only what this script writes
        if f.endswith(('.npz', '.npy')) or f == 'manifest.json':
            os.remove(os.path.join(OUT, f))

    # MMSA layout, both key styles, stored and deflated.
    save_npz('mmsa_slash.npz', flat('/'))
    save_npz('mmsa_underscore.npz', flat('_'))
    save_npz('mmsa_compressed.npz', flat('/'), compressed=True)

    # Every plain dtype we support, including values float32/int32 cannot hold.
    save_npz('dtypes.npz', {
        'f8': np.array([[1 / 3, -2.5e300], [5e-324, -0.0]], dtype=np.float64),
        'i8': np.array([0, -1, 2 ** 53 + 1, -(2 ** 62), 2 ** 63 - 1], dtype=np.int64),
        'u8': np.array([0, 2 ** 64 - 1], dtype=np.uint64),
        'i1': np.array([-128, 0, 127], dtype=np.int8),
        'u1': np.array([0, 255], dtype=np.uint8),
        'i2': np.array([-32768, 7], dtype=np.int16),
        'u2': np.array([65535, 1], dtype=np.uint16),
        'i4': np.array([-2 ** 31, 123456], dtype=np.int32),
        'u4': np.array([2 ** 32 - 1, 9], dtype=np.uint32),
        'f2': np.array([1.5, -65504.0, 0.099975586], dtype=np.float16),
        'b1': np.array([True, False, True]),
        'S': np.array([b'ab', b'', b'xyz']),
        'U': np.array(['héllo', '', '日本']),
        'scalar': np.array(3.25, dtype=np.float32),  # shape ()
        'empty': np.zeros((0, 3), dtype=np.float32),
    })

    # Object array of str (what MMSA's raw_text often is) next to a plain array; numpy pickles it.
    save_npz('object_rawtext.npz', {
        'train/raw_text': np.array(['a good film', 'bad', "it's ok, I guess"], dtype=object),
        'train/regression_labels': np.array([2.0, -2.5, 0.0], dtype=np.float32),
    })

    # Audio with -inf (openSMILE log energies); MMSA replaces it with 0.
    audio = rng.randn(3, 4, 2).astype(np.float32)
    audio[0, 1, 0] = -np.inf
    audio[2, 3, 1] = -np.inf
    save_npz('audio_inf.npz', {'train/audio': audio})

    # An entry bigger than 64 KiB, stored: read lazily as a region of the file.
    save_npz('large_entry.npz', {'text': rng.randn(2, 50, 200).astype(np.float32),
                                 'id': np.array(['a', 'b'])})

    # Single .npy files: plain, Fortran order, big-endian, header versions 2.0 and 3.0, object, structured.
    save_npy('single.npy', rng.randn(4, 3).astype(np.float32))
    save_npy('fortran.npy', np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
    save_npy('bigendian.npy', np.array([[1.5, -2.0, 1e30], [0.0, 7.0, -1e-30]], dtype='>f4'))
    save_npy('bigendian_i8.npy', np.array([1, -2, 2 ** 40], dtype='>i8'))
    save_npy('v2.npy', np.arange(5, dtype=np.float64), version=(2, 0))
    save_npy('v3.npy', np.array(['x', 'yz']), version=(3, 0))
    save_npy('object.npy', np.array(['p', 'q'], dtype=object))
    save_npy('structured.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))

    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        # One line per file keeps it small and still diffable.
        f.write('{"numpy": %s, "files": {\n' % json.dumps(np.__version__))
        f.write(',\n'.join('%s: %s' % (json.dumps(k), json.dumps(v, sort_keys=True, ensure_ascii=False))
                           for k, v in sorted(manifest.items())))
        f.write('\n}}\n')
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print('wrote %d files, %d bytes, into %s' % (len(os.listdir(OUT)), total, os.path.normpath(OUT)))
    assert total < 300_000


if __name__ == '__main__':
    main()
