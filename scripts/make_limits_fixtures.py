#!/usr/bin/env python3
"""Writes the small Python-made fixtures of src/core/data/files/limits.test.ts into
src/core/data/files/__fixtures__/limits/ (every other hostile input of that suite is generated in
TypeScript, in memory).

object_float.npz: one entry 'x.npy' whose .npy header says dtype object ('|O') and whose pickle
(protocol 4) holds a float64 array of 8,200 values (65,600 bytes, above the pickle reader's 64 KiB
lazy threshold), stored and, as 'y.npy', deflated. np.load(allow_pickle=True) returns that float
array; object_float.json holds its first, middle and last values and their sum.

Run from anywhere:  python3 scripts/make_limits_fixtures.py   (numpy only)
"""
import io
import json
import os
import pickle
import zipfile

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'core', 'data', 'files', '__fixtures__',
                   'limits')


def object_header_npy(payload_array):
    buf = io.BytesIO()
    # The header numpy writes for an object array of this shape, then the pickle of the array itself.
    np.lib.format.write_array_header_1_0(buf, {'descr': '|O', 'fortran_order': False,
                                               'shape': payload_array.shape})
    buf.write(pickle.dumps(payload_array, protocol=4))
    return buf.getvalue()


def main():
    os.makedirs(OUT, exist_ok=True)
    x = (np.arange(8200, dtype=np.float64) * 0.5 - 1000.25)
    data = object_header_npy(x)
    path = os.path.join(OUT, 'object_float.npz')
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr(zipfile.ZipInfo('x.npy', (2020, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_STORED)
        z.writestr(zipfile.ZipInfo('y.npy', (2020, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    loaded = np.load(path, allow_pickle=True)
    out = {}
    for k in ('x', 'y'):
        a = np.asarray(loaded[k], dtype=np.float64)
        out[k] = {'shape': list(a.shape), 'first': float(a[0]), 'middle': float(a[4100]), 'last': float(a[-1]),
                  'sum': float(a.sum())}
    with open(os.path.join(OUT, 'object_float.json'), 'w') as f:
        json.dump(out, f, indent=1)
    print(path, os.path.getsize(path))


if __name__ == '__main__':
    main()
