import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../source.ts';
import { ALLOWED_GLOBALS, resolveGlobal } from './allowlist.ts';
import type { Reader } from './values.ts';

// The allow-list is the reader's whole security boundary: any change to it must show up here.
const EXPECTED: Record<string, string> = {
  'numpy.core.multiarray._reconstruct': 'reconstruct',
  'numpy._core.multiarray._reconstruct': 'reconstruct',
  'numpy.ndarray': 'ndarray',
  'numpy.dtype': 'dtype',
  'numpy.core.multiarray.scalar': 'scalar',
  'numpy._core.multiarray.scalar': 'scalar',
  'numpy.core.numeric._frombuffer': 'frombuffer',
  'numpy._core.numeric._frombuffer': 'frombuffer',
  '_codecs.encode': 'encode',
  'copy_reg._reconstructor': 'reconstructor',
  'copyreg._reconstructor': 'reconstructor',
  'collections.OrderedDict': 'dict',
  ...Object.fromEntries(
    ['dict', 'list', 'tuple', 'set', 'frozenset', 'bytearray', 'bytes'].flatMap((n) => [
      [`builtins.${n}`, n],
      [`__builtin__.${n}`, n],
    ]),
  ),
};

const reader: Reader = {
  bad: (m) => new FileFormatError(m),
  fail: (m) => new FileFormatError(m),
  spend: () => {},
  isText: () => false,
};

describe('pickle allow-list', () => {
  it('lists exactly the expected globals, each with its builder', () => {
    expect(Object.fromEntries(ALLOWED_GLOBALS)).toEqual(EXPECTED);
    expect(ALLOWED_GLOBALS.length).toBe(Object.keys(EXPECTED).length);
    expect(Object.isFrozen(ALLOWED_GLOBALS)).toBe(true);
  });

  it('resolves every listed global and refuses anything else by name', () => {
    for (const [full, builder] of ALLOWED_GLOBALS) {
      const dot = full.lastIndexOf('.');
      expect(resolveGlobal(full.slice(0, dot), full.slice(dot + 1), reader).fn).toBe(builder);
    }
    for (const [m, n] of [
      ['posix', 'system'],
      ['os', 'system'],
      ['builtins', 'eval'],
      ['builtins', 'getattr'],
      ['numpy', 'load'],
      ['__proto__', 'constructor'],
      ['builtins', '__proto__'],
    ]) {
      expect(() => resolveGlobal(m, n, reader)).toThrow(`refused global ${m}.${n}`);
    }
  });
});
