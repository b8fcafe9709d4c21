#!/usr/bin/env python3
"""Writes the pickle fixtures for the safe pickle reader (src/core/data/files/pickle.ts) into
src/core/data/files/__fixtures__/pickle/, plus manifest.json describing each file and the value
Python itself loads from it, so the TypeScript reader is checked against Python, not against itself.

Run from anywhere, with each numpy major version (files written by numpy 1.x carry `np1` in their
name and pickle numpy as `numpy.core...`, numpy 2.x files carry `np2` and say `numpy._core...`):
    /usr/bin/python3 scripts/make_pickle_fixtures.py   # Debian python, numpy 1.24
    python3 scripts/make_pickle_fixtures.py            # numpy 2.x (run last: it writes the bad_* files)
Needs numpy only. The output is deterministic (fixed seeds; same bytes each run).

Files without a numpy tag (misc_*, hostile_*, py2_style_*) do not depend on numpy and come out the
same from either Python; bad_*.pkl (wrong MMSA content, for the dataset validator) are written by
whichever run comes last. The hostile pickles are made by pickling objects whose __reduce__ names
os.system / eval / subprocess: pickling only records the names, nothing is executed, and this script
never loads them. Every other file is loaded back here and compared with what was pickled.
"""
import collections
import hashlib
import json
import math
import os
import pickle
import struct
import subprocess
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'core', 'data', 'files', '__fixtures__',
                   'pickle')
NP_MAJOR = int(np.__version__.split('.')[0])
TAG = 'np%d' % NP_MAJOR
SMALL = 24  # arrays up to this many elements list every value in the manifest, bigger ones a head of 6
PWNED = '/tmp/mfmb_pickle_pwned_'  # what the hostile payloads would create if they ever ran

# ---------------------------------------------------------------- expected values, as JSON

def num(x):
    """A float or int as JSON: non-finite floats and ints beyond 2^53 become tagged objects."""
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return x if abs(x) <= 2 ** 53 - 1 else {'int': str(x)}
    x = float(x)
    if math.isnan(x):
        return {'float': 'nan'}
    if math.isinf(x):
        return {'float': 'inf' if x > 0 else '-inf'}
    return x


def describe_array(a):
    fortran = bool(a.flags.f_contiguous and not a.flags.c_contiguous)
    d = {'dtype': a.dtype.str, 'shape': list(a.shape), 'fortran': fortran}
    flat = a.ravel(order='F' if fortran else 'C')
    if a.dtype.kind == 'O':
        d['values'] = [describe(x) for x in flat]
        return {'ndarray': d}
    d['nbytes'] = int(a.nbytes)
    d['sha256'] = hashlib.sha256(a.tobytes(order='F' if fortran else 'C')).hexdigest()
    items = flat if flat.size <= SMALL else flat[:6]
    if a.dtype.kind in 'fiub':
        vals = [num(x.item()) for x in items]
    elif a.dtype.kind == 'U':
        vals = [str(x) for x in items]
    else:  # S
        vals = [{'bytes': bytes(x).hex()} for x in items]
    d['values' if flat.size <= SMALL else 'head'] = vals
    return {'ndarray': d}


def describe(v):
    """The loaded value in the tagged JSON form pickle.test.ts compares against."""
    if isinstance(v, np.ndarray):
        return describe_array(v)
    if isinstance(v, np.generic):  # before str: numpy.str_ is a str subclass

        val = v.item()
        if isinstance(val, bytes):
            val = val.decode('latin1')
        return {'npscalar': {'dtype': v.dtype.str, 'value': num(val) if not isinstance(val, str) else val}}
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, float)):
        return num(v)
    if isinstance(v, (bytes, bytearray)):
        return {'bytes': bytes(v).hex()}
    if isinstance(v, list):
        return [describe(x) for x in v]
    if isinstance(v, tuple):
        return {'tuple': [describe(x) for x in v]}
    if isinstance(v, dict):
        return {'dict': [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, (set, frozenset)):
        return {'set': sorted((describe(x) for x in v), key=json.dumps)}
    raise TypeError('cannot describe %r' % type(v))


def same(a, b):
    """Deep equality for the round-trip check (arrays by dtype, shape and bytes; NaN equals NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        # numpy loads non-native byte orders swapped to native (same values): compare in native order
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.shape != b.shape or \
                a.dtype.newbyteorder('=') != b.dtype.newbyteorder('='):
            return False
        if a.dtype.kind == 'O':
            return all(same(x, y) for x, y in zip(a.ravel(), b.ravel()))
        return a.astype(a.dtype.newbyteorder('=')).tobytes() == b.astype(b.dtype.newbyteorder('=')).tobytes()
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return type(a) is type(b) and a == b

# ---------------------------------------------------------------- content

def mmsa(seed, aligned=True, text_dtype=np.float32, neg_inf=False, sizes=(6, 4, 5), dims=(6, 4, 5)):
    """An MMSA-layout dict {train, valid, test}; unaligned adds audio/vision lengths and longer audio/vision."""
    rng = np.random.RandomState(seed)
    lt = 5
    la, lv = (5, 5) if aligned else (7, 8)
    dt, da, dv = dims
    texts = ['so good', 'not bad at all', 'caf\u00e9 \u263a', 'meh', 'I hated it', 'fine, I guess', 'wow!!', 'ok']
    moods = ['Positive', 'Negative', 'Neutral']
    data = {}
    for split, n in zip(('train', 'valid', 'test'), sizes):
        ids = rng.randint(1000, 30000, size=(n, lt)).astype(np.int64)
        bert = np.zeros((n, 3, lt), np.int64)
        for i in range(n):
            k = 2 + i % (lt - 1)  # tokens incl. [CLS]/[SEP]
            bert[i, 0, 0], bert[i, 0, 1:k - 1], bert[i, 0, k - 1] = 101, ids[i, 1:k - 1], 102
            bert[i, 1, :k] = 1
        y = np.round(rng.uniform(-3, 3, size=n) * 5) / 5
        d = {
            'raw_text': np.array([texts[(seed + i) % len(texts)] for i in range(n)], dtype=object),
            'audio': rng.standard_normal((n, la, da)).astype(np.float32),
            'vision': rng.standard_normal((n, lv, dv)).astype(np.float32),
            'id': np.array(['vid%02d$_$%d' % (seed % 7 + i, i + 1) for i in range(n)]),
            'text': rng.standard_normal((n, lt, dt)).astype(text_dtype),
            'text_bert': bert,
            'annotations': np.array([moods[i % 3] for i in range(n)]),
            'classification_labels': np.sign(y).astype(np.int64) + 1,
            'regression_labels': y.astype(np.float32),
        }
        if not aligned:
            d['audio_lengths'] = rng.randint(1, la + 1, size=n).astype(np.int64)
            d['vision_lengths'] = rng.randint(1, lv + 1, size=n).astype(np.int64)
        data[split] = d
    if neg_inf:
        data['train']['audio'][0, 1, 2] = -np.inf
        data['train']['audio'][3, 0, :] = -np.inf
    return data


def dtype_zoo(seed):
    """One array per dtype and layout the reader supports."""
    rng = np.random.RandomState(seed)
    c = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    return {
        'f2': np.array([0.1, -2.5, 65504, 6e-8], np.float16),
        'f4_big_endian': rng.standard_normal(5).astype('>f4'),
        'f8_fortran': np.asfortranarray(rng.standard_normal((2, 3))),
        'i1': np.array([-128, -1, 0, 127], np.int8),
        'u1': np.array([0, 1, 255], np.uint8),
        'i2': np.array([-32768, 7, 32767], np.int16),
        'u2': np.array([65535, 3], np.uint16),
        'i4': np.array([-2 ** 31, 2 ** 31 - 1], np.int32),
        'u4': np.array([2 ** 32 - 1, 9], np.uint32),
        'i8_big_endian': np.array([-2 ** 63, 2 ** 53 + 1, -5], '>i8'),
        'u8': np.array([2 ** 64 - 1, 42], np.uint64),
        'bool': np.array([[True, False], [False, True]]),
        'bytes_S3': np.array([b'ab', b'xyz', b''], 'S3'),
        'unicode_U4': np.array(['caf\u00e9', '\u263a', '\U0001d11e!', ''], '<U4'),
        'unicode_big_endian': np.array(['ab', 'c'], '>U2'),
        'object_mixed': np.array([None, 1, 'x', [1, 2], 2.5], dtype=object),
        'zero_d': np.array(3.25, np.float64),
        'empty_0x5': np.zeros((0, 5), np.float32),
        'transposed_copy': c[:, ::2, :],  # not contiguous: pickled as a C-order copy
        'permuted': c.transpose(1, 0, 2),  # numpy 2 protocol 5 writes _frombuffer(..., 'K', axis_order)
    }


def scalars():
    return {
        'f32': np.float32(1.5), 'f64': np.float64(-2.25), 'f16': np.float16(0.1), 'i64': np.int64(-3),
        'u64': np.uint64(2 ** 63 + 5), 'i8': np.int8(-7), 'u16': np.uint16(65000), 'bool': np.bool_(True),
        'str': np.str_('h\u00e9llo \u263a'), 'bytes': np.bytes_(b'ab\x00c'),
    }


def misc():
    shared = [1, 'two']
    return {
        'none': None, 'true': True, 'false': False,
        'ints': [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 40, -2 ** 53 + 1, 2 ** 64 + 1, -2 ** 100],
        'floats': [1.5, -0.0, float('inf'), float('-inf'), float('nan'), 1e-300],
        'text': 'caf\u00e9 \u263a \U0001d11e',
        'bytes': b'\x00\x01\xff', 'empty_bytes': b'', 'bytearray': bytearray(b'xy\x80'),
        'tuple': (1, (2, 3), ()), 'list': [[], [1, [2]]],
        'set': {1, 2, 3}, 'frozenset': frozenset(['a']),
        'ordered': collections.OrderedDict([('z', 1), ('a', 2)]),
        'int_keys': {1: 'one', -2: 'minus two'},
        'shared_a': shared, 'shared_b': shared,
    }

# ---------------------------------------------------------------- hand-written pickles

class Py2Writer:
    """Writes protocol 2 opcodes the way Python 2 pickled numpy arrays: py2 str (SHORT_BINSTRING /
    BINSTRING) for names, dtype codes and raw array bytes, __builtin__ and copy_reg globals."""

    def __init__(self):
        self.out = bytearray(b'\x80\x02')

    def op(self, b):
        self.out += b

    def s(self, x):  # a Python 2 str
        self.op((b'U' + bytes([len(x)]) if len(x) < 256 else b'T' + struct.pack('<i', len(x))) + x)

    def u(self, x):  # a Python 2 unicode
        b = x.encode('utf-8')
        self.op(b'X' + struct.pack('<I', len(b)) + b)

    def int(self, n):
        if 0 <= n < 256:
            self.op(b'K' + bytes([n]))
        elif -2 ** 31 <= n < 2 ** 31:
            self.op(b'J' + struct.pack('<i', n))
        else:
            b = n.to_bytes((n.bit_length() + 8) // 8, 'little', signed=True)
            self.op(b'\x8a' + bytes([len(b)]) + b)

    def glob(self, mod, name):
        self.op(b'c' + mod.encode() + b'\n' + name.encode() + b'\n')

    def array(self, a):
        kind = a.dtype.kind
        self.glob('numpy.core.multiarray', '_reconstruct')
        self.glob('numpy', 'ndarray')
        self.op(b'K\x00\x85')
        self.s(b'b')
        self.op(b'\x87R(K\x01(')
        for n in a.shape:
            self.int(n)
        self.op(b't')
        self.glob('numpy', 'dtype')
        code = {'O': 'O8', 'U': 'U%d' % (a.dtype.itemsize // 4), 'S': 'S%d' % a.dtype.itemsize}.get(
            kind, '%s%d' % (kind, a.dtype.itemsize))
        self.s(code.encode())
        self.op(b'K\x00K\x01\x87R(K\x03')  # Python 2 numpy passed the align/copy flags as ints
        self.s(a.dtype.str[0].encode())
        self.op(b'NNN')
        flexible = kind in 'US'
        self.int(a.dtype.itemsize if flexible else -1)
        self.int(4 if kind == 'U' else 1 if flexible else -1)
        self.int(63 if kind == 'O' else 8 if kind == 'U' else 0)
        self.op(b'tb\x89')
        if kind == 'O':
            self.op(b'](')
            for x in a.ravel():
                self.value(x)
            self.op(b'e')
        else:
            self.s(a.tobytes())
        self.op(b'tb')

    def value(self, v):
        if isinstance(v, np.ndarray):
            self.array(v)
        elif isinstance(v, bytes):
            self.s(v)
        elif isinstance(v, str):
            self.u(v)
        elif v is None:
            self.op(b'N')
        elif isinstance(v, bool):
            self.op(b'\x88' if v else b'\x89')
        elif isinstance(v, int):
            self.int(v)
        elif isinstance(v, float):
            self.op(b'G' + struct.pack('>d', v))
        elif isinstance(v, tuple):
            self.op(b'(')
            for x in v:
                self.value(x)
            self.op(b't')
        elif isinstance(v, set):
            self.glob('__builtin__', 'set')
            self.op(b'](')
            for x in sorted(v):
                self.value(x)
            self.op(b'e\x85R')
        elif isinstance(v, collections.OrderedDict):  # copy_reg._reconstructor(OrderedDict, dict, ())
            self.glob('copy_reg', '_reconstructor')
            self.op(b'(')
            self.glob('collections', 'OrderedDict')
            self.glob('__builtin__', 'dict')
            self.op(b')tR(')  # state () so that dict.__init__(obj, ()) leaves it empty
            for k, x in v.items():
                self.value(k)
                self.value(x)
            self.op(b'u')
        elif isinstance(v, dict):
            self.op(b'}(')
            for k, x in v.items():
                self.value(k)
                self.value(x)
            self.op(b'u')
        else:
            raise TypeError(type(v))


def py2_style():
    """A Python-2-era MMSA-like pickle. Returns (bytes, what Python 3 loads with encoding='latin1')."""
    rng = np.random.RandomState(7)
    big = rng.standard_normal((16, 8, 129)).astype(np.float32)  # 66 KB: a BINSTRING the reader leaves lazy
    content = {
        b'train': {
            b'text': rng.standard_normal((2, 3, 4)).astype(np.float32),
            b'vision': big,
            b'id': np.array([b'vid1$_$1', b'vid1$_$22'], 'S9'),
            b'raw_text': np.array([b'caf\xc3\xa9 (utf-8 bytes in a py2 str)', u'caf\u00e9 \u263a'], dtype=object),
            b'regression_labels': np.array([1.5, -0.25]),
        },
        b'valid': collections.OrderedDict([(b'audio_lengths', np.array([3, 1], np.int64))]),
        b'meta': ({b'a', b'b'}, True, None, 2 ** 70, -1.5),
    }
    w = Py2Writer()
    w.value(content)
    w.op(b'.')
    return bytes(w.out)


class Reduce:
    """Pickles as fn(*args) without ever calling it: pickle only records the two names."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args

    def __call__(self, *args):  # pickle wants the function of a reduce to be callable; never called
        raise RuntimeError('never called')


def hostile():
    """name -> (protocol, object, the global the reader must refuse, the file the payload would create)."""
    import builtins
    system = '%s.system' % os.system.__module__  # 'posix.system' on Linux: the name pickle records
    return {
        'hostile_os_system_p2.pkl': (2, Reduce(os.system, ('touch %ssystem' % PWNED,)), system, PWNED + 'system'),
        'hostile_os_system_p0.pkl': (0, Reduce(os.system, ('touch %ssystem0' % PWNED,)), system, PWNED + 'system0'),
        'hostile_eval_p4.pkl': (4, Reduce(builtins.eval, ("__import__('os').system('touch %seval')" % PWNED,)),
                                'builtins.eval', PWNED + 'eval'),
        'hostile_popen_p4.pkl': (4, Reduce(subprocess.Popen, (['touch', PWNED + 'popen'],)), 'subprocess.Popen',
                                 PWNED + 'popen'),
        'hostile_check_output_p5.pkl': (5, Reduce(subprocess.check_output, (['touch', PWNED + 'check_output'],)),
                                        'subprocess.check_output', PWNED + 'check_output'),
        # getattr(__import__('os'), 'system')('touch …'); protocol 2 spells builtins as __builtin__
        'hostile_getattr_p2.pkl': (2, Reduce(Reduce(getattr, (Reduce(builtins.__import__, ('os',)), 'system')),
                                             ('touch %sgetattr' % PWNED,)), '__builtin__.getattr', PWNED + 'getattr'),
        # An otherwise valid MMSA file with the payload deep inside: refused before anything is built.
        'hostile_nested_p4.pkl': (4, {'train': {'text': np.zeros((1, 2, 2), np.float32),
                                                'audio': Reduce(os.system, ('touch %snested' % PWNED,))}},
                                  system, PWNED + 'nested'),
    }

# ---------------------------------------------------------------- writing

manifest = []


def write(name, data, entry):
    assert len(data) < 100_000, '%s is %d bytes' % (name, len(data))
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    entry = dict(name=name, bytes=len(data), **entry)
    manifest.append(entry)


def write_obj(name, obj, protocol, contents, numpy_used=True, loads=pickle.loads, expect=True):
    data = pickle.dumps(obj, protocol=protocol)
    back = loads(data)
    assert same(obj, back), 'round trip failed for %s' % name
    # expect describes what the file holds (the pickled object: byte orders as written), checked equal to
    # what Python loads back
    write(name, data, {'protocol': protocol, 'numpy': np.__version__ if numpy_used else None,
                       'python': sys.version.split()[0], 'contents': contents, **({'expect': describe(obj)} if expect else {})})


def main():
    os.makedirs(OUT, exist_ok=True)
    w = write_obj
    w('mmsa_aligned_p4_%s.pkl' % TAG, mmsa(1, neg_inf=True), 4,
      'MMSA aligned {train 6, valid 4, test 5}: text [N,5,6] f32, text_bert [N,3,5] i8, audio [N,5,4] with -inf in train, '
      'vision [N,5,5], labels, id <U, raw_text object str, annotations <U')
    w('mmsa_aligned_p2_%s.pkl' % TAG, mmsa(1, neg_inf=True), 2,
      'same data as mmsa_aligned_p4, protocol 2 (array bytes through _codecs.encode(str, "latin1"))')
    w('mmsa_aligned_p0_%s.pkl' % TAG, mmsa(2, sizes=(2, 1, 1)), 0, 'small MMSA, protocol 0 (text opcodes)')
    w('mmsa_unaligned_p5_%s.pkl' % TAG, mmsa(3, aligned=False, text_dtype=np.float64), 5,
      'MMSA unaligned: text f64, audio [N,7,4], vision [N,8,5], audio_lengths/vision_lengths; protocol 5 in-band '
      '(_frombuffer + BYTEARRAY8)')
    for p in (2, 4, 5):
        w('dtypes_p%d_%s.pkl' % (p, TAG), dtype_zoo(4), p, 'every supported dtype and layout (big-endian, Fortran, 0-d, '
          'empty, U/S/object, non-contiguous, permuted)')
    for p in (2, 4):
        w('scalars_p%d_%s.pkl' % (p, TAG), scalars(), p, 'dict of numpy scalars (numpy.core.multiarray.scalar)')
    rng = np.random.RandomState(5)
    big = rng.standard_normal((16, 8, 129)).astype(np.float32)  # 66048 bytes >= 65536: a lazy ByteRegion
    w('large_p4_%s.pkl' % TAG, {'train': {'text': big, 'n': 16}}, 4,
      'train.text [16,8,129] f32 (66048 bytes, BINBYTES8 outside a frame): read back as a ByteRegion "raw"')
    # Values whose float32 bytes are mostly < 0x80, so the latin1 str stays well under 100 KB as UTF-8.
    halves = (rng.randint(0, 16, size=(16, 8, 129)) / 2).astype(np.float32)
    w('large_p2_%s.pkl' % TAG, {'train': {'text': halves}}, 2,
      'train.text [16,8,129] f32 as a protocol 2 BINUNICODE latin1 string: a ByteRegion "latin1-utf8"')

    for p in (0, 2, 4, 5):
        w('misc_p%d.pkl' % p, misc(), p, 'builtin values: None/bools, ints up to 2**100, floats incl. inf/nan/-0.0, '
          'unicode, bytes, bytearray, tuple, list, set, frozenset, OrderedDict, int keys, a shared list', numpy_used=False)

    data = py2_style()
    back = pickle.loads(data, encoding='latin1')
    write('py2_style_p2.pkl', data, {'protocol': 2, 'numpy': None, 'python': '2 (written opcode by opcode)',
                                     'contents': 'Python-2-era pickle: py2 str keys/dtype codes/array bytes '
                                     '(SHORT_BINSTRING, BINSTRING; train.vision 66048 bytes is lazy), numpy.core.multiarray, '
                                     '__builtin__.set, copy_reg._reconstructor(OrderedDict, dict), LONG1; expect is what '
                                     'Python 3 loads with encoding="latin1"', 'expect': describe(back)})

    for name, (p, obj, refused, creates) in hostile().items():
        data = pickle.dumps(obj, protocol=p)  # records names only; never loaded here
        assert refused.split('.')[-1].encode() in data
        write(name, data, {'protocol': p, 'numpy': np.__version__ if 'nested' in name else None,
                           'python': sys.version.split()[0], 'contents': 'hostile: would run %s' % refused,
                           'refused': refused, 'creates': creates})

    # Structurally valid pickles with wrong MMSA content (for the dataset validator).
    bad = {}
    d = mmsa(11)
    d['train']['audio'] = d['train']['audio'][:-1]
    bad['bad_mismatched_n.pkl'] = (d, 'train audio has N=5, the other train fields N=6')
    d = mmsa(12)
    d['valid']['vision'] = np.zeros((4, 5, 7), np.float32)
    bad['bad_dim_across_splits.pkl'] = (d, 'valid vision D=7, train/test vision D=5')
    d = mmsa(13)
    d['train']['regression_labels'][2] = 4.5
    bad['bad_labels_range.pkl'] = (d, 'train regression_labels[2] = 4.5, outside [-3, 3]')
    d = mmsa(14)
    d['train']['vision'][1, 2, 3] = np.nan
    bad['bad_nan.pkl'] = (d, 'train vision[1, 2, 3] is NaN')
    bad['bad_empty_split.pkl'] = (mmsa(15, sizes=(6, 4, 0)), 'test split has N=0')
    bad['bad_not_dict.pkl'] = ([mmsa(16)['train']], 'top level is a list holding one split dict')
    d = mmsa(17)
    del d['valid']
    bad['bad_missing_split.pkl'] = (d, "no 'valid' split")
    for name, (obj, what) in bad.items():
        w(name, obj, 4, 'bad MMSA content: ' + what, expect=False)

    # Lengths as plain Python lists (some MMSA versions) and a top-level text_unk vector [D_t].
    d = mmsa(18, aligned=False)
    for split in d.values():
        split['audio_lengths'] = [int(x) for x in split['audio_lengths']]
        split['vision_lengths'] = [int(x) for x in split['vision_lengths']]
    d['text_unk'] = np.linspace(-1, 1, 6).astype(np.float32)
    w('mmsa_listlengths_unk_p4_%s.pkl' % TAG, d, 4,
      'MMSA unaligned with audio_lengths/vision_lengths as Python lists of int and a top-level text_unk [6] f32')

    path = os.path.join(OUT, 'manifest.json')
    old = []
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)['files']
    mine = {e['name'] for e in manifest}
    files = sorted([e for e in old if e['name'] not in mine] + manifest, key=lambda e: e['name'])
    doc = {'about': 'Written by scripts/make_pickle_fixtures.py. expect: the value Python loads, in tagged JSON '
                    '({"int": "…"} beyond 2^53, {"float": "nan"}, {"bytes": hex}, {"tuple": […]}, {"dict": [[k, v]…]}, '
                    '{"set": […]}, {"npscalar": {dtype, value}}, {"ndarray": {dtype, shape, fortran, nbytes, sha256 of '
                    'the data bytes in memory order, values (or head for big arrays)}}). refused: the global a hostile '
                    'file names; creates: the file its payload would create.',
           'files': files}
    with open(path, 'w') as f:  # one line per file: small diffs when a fixture changes
        f.write('{"about": %s,\n "files": [\n' % json.dumps(doc['about'], ensure_ascii=False))
        f.write(',\n'.join('  ' + json.dumps(e, ensure_ascii=False, separators=(',', ':')) for e in files))
        f.write('\n]}\n')
    total = sum(os.path.getsize(os.path.join(OUT, e['name'])) for e in files)
    print('wrote %d files with numpy %s (%d fixtures, %d bytes in all)' % (len(manifest), np.__version__, len(files), total))


if __name__ == '__main__':
    main()
