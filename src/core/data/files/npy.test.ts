import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  countingSource,
  expectMatches,
  fixtureBytes,
  fixtureSource,
  formatError,
  manifest,
} from './__fixtures__/npzFixtures.ts';
import { isNpy, parseDescr, parseNpyHeader, readNpy, readNpyHeader } from './npy.ts';
import { bytesSource, FileFormatError, ReadCancelled } from './source.ts';

const hasPickle = existsSync(new URL('./pickle.ts', import.meta.url));

/** A .npy file with the given header text (padded like numpy: to 64 bytes, ending in '\n'). */
function npy(header: string, { version = 1, data = new Uint8Array(0), pad = true } = {}): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let text = header;
  if (pad) {
    const total = Math.ceil((pre + text.length + 1) / 64) * 64;
    text = text + ' '.repeat(total - pre - text.length - 1) + '\n';
  }
  const h = version === 3 ? new TextEncoder().encode(text) : Uint8Array.from(text, (c) => c.charCodeAt(0));
  const out = new Uint8Array(pre + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  if (version === 1) new DataView(out.buffer).setUint16(8, h.length, true);
  else new DataView(out.buffer).setUint32(8, h.length, true);
  out.set(h, pre);
  out.set(data, pre + h.length);
  return out;
}

const header = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

describe('readNpy on files numpy wrote', () => {
  const plain = Object.entries(manifest.files).filter(
    ([name]) => name.endsWith('.npy') && !['structured.npy', 'object.npy'].includes(name),
  );
  it.each(plain)('%s', async (name, entry) => {
    const src = fixtureSource(name);
    const arr = await readNpy(src);
    expect(arr.data).toMatchObject({ kind: 'region', encoding: 'raw' });
    await expectMatches(arr, entry.arrays[''], src);
  });

  it('marks big-endian arrays and keeps their bytes as they are', async () => {
    const arr = await readNpy(fixtureSource('bigendian.npy'));
    expect(arr.dtype).toEqual({ kind: 'f', itemsize: 4, littleEndian: false, str: '>f4' });
  });

  it('reads Fortran-order arrays (fortran flag set, data in column-major order)', async () => {
    const arr = await readNpy(fixtureSource('fortran.npy'));
    expect(arr.fortran).toBe(true);
    expect(arr.shape).toEqual([2, 3, 4]);
  });

  it('reads header versions 2.0 and 3.0', async () => {
    expect((await readNpyHeader(fixtureSource('v2.npy'))).version).toEqual([2, 0]);
    expect((await readNpyHeader(fixtureSource('v3.npy'))).version).toEqual([3, 0]);
  });

  it('refuses structured dtypes', async () => {
    expect(await formatError(readNpy(fixtureSource('structured.npy')))).toMatch(/structured dtypes are not supported/);
  });

  it.skipIf(!hasPickle)('reads object arrays through the pickle reader', async () => {
    const arr = await readNpy(fixtureSource('object.npy'));
    expect(arr.dtype.kind).toBe('O');
    expect(arr.shape).toEqual([2]);
    expect(arr.data).toEqual(['p', 'q']);
    const bytes = fixtureBytes('object.npy');
    for (let cut = 0; cut < bytes.length; cut++)
      await formatError(readNpy(bytesSource(bytes.subarray(0, cut), 'cut.npy')));
  });

  it('reads only the header: the data is a region of the source', async () => {
    const bytes = fixtureBytes('single.npy');
    const src = countingSource(bytes);
    const arr = await readNpy(src);
    expect(src.bytesRead).toBeLessThanOrEqual(130); // magic + header (numpy pads them to 128 here), not the data
    expect(arr.data).toEqual({ kind: 'region', offset: 128, length: 48, encoding: 'raw' });
  });

  it('reads a .npy that starts inside a bigger source (base offset)', async () => {
    const inner = fixtureBytes('single.npy');
    const outer = new Uint8Array(inner.length + 1000);
    outer.set(inner, 700);
    const arr = await readNpy(bytesSource(outer), 700, inner.length);
    expect(arr.data).toEqual({ kind: 'region', offset: 828, length: 48, encoding: 'raw' });
  });

  it('never throws anything but FileFormatError for a truncated file', async () => {
    const bytes = fixtureBytes('v2.npy');
    for (let cut = 0; cut < bytes.length; cut++) {
      const msg = await formatError(readNpy(bytesSource(bytes.subarray(0, cut), 'cut.npy')));
      expect(msg).toMatch(/cut\.npy/);
    }
  });

  it('stops at an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(readNpy(fixtureSource('single.npy'), 0, undefined, { signal: ac.signal })).rejects.toBeInstanceOf(
      ReadCancelled,
    );
  });
});

describe('.npy header parsing', () => {
  it.each([
    ['numpy 1.x/2.x style, trailing comma', header("'<f4'", '(2199, 50, 768)'), [2199, 50, 768]],
    ['no trailing comma', "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}", [3, 4]],
    ['shape ()', header("'<f4'", '()'), []],
    ['shape (5,)', header("'<f4'", '(5,)'), [5]],
    ['keys in another order, double quotes', '{"shape": (2, 1), "fortran_order": False, "descr": "<f4"}', [2, 1]],
    ['spaces and newlines inside', "{ 'descr' :'<f4' ,\n 'fortran_order':False,'shape':( 7 , ) , }", [7]],
    ['Python 2 long suffix', header("'<f4'", '(10L, 3L)'), [10, 3]],
    ['zero-length dimension', header("'<f4'", '(0, 3)'), [0, 3]],
  ])('%s', (_, text, shape) => {
    const h = parseNpyHeader(npy(text));
    expect(h.shape).toEqual(shape);
    expect(h.dtype.str).toBe('<f4');
    expect(h.fortran).toBe(false);
    expect(h.headerEnd % 64).toBe(0);
  });

  it('works without padding and with a v2 length field', () => {
    expect(parseNpyHeader(npy(header("'<i2'", '(1,)'), { pad: false })).headerEnd).toBe(
      10 + header("'<i2'", '(1,)').length,
    );
    const h = parseNpyHeader(npy(header("'<f8'", '(4, 2)', 'True'), { version: 2 }));
    expect(h).toMatchObject({ version: [2, 0], shape: [4, 2], fortran: true });
    expect(h.headerEnd % 64).toBe(0);
  });

  it('reads a UTF-8 (v3) header', () => {
    expect(() => parseNpyHeader(npy(header("'<é4'", '(2,)'), { version: 3 }))).toThrow(/dtype '<é4' is not supported/);
    const bad = npy(header("'<f4'", '(2,)'), { version: 3 });
    bad[14] = 0xff; // not UTF-8
    expect(() => parseNpyHeader(bad)).toThrow(/not valid UTF-8/);
    const h = parseNpyHeader(npy(header("'<U3'", '(2,)'), { version: 3 }));
    expect(h.dtype).toEqual({ kind: 'U', itemsize: 12, littleEndian: true, str: '<U3' });
  });

  it.each([
    ['(5)', /'shape' is not a tuple/], // parentheses without a comma are not a tuple, as in Python
    ['[5]', /'shape' is not a tuple/],
    ['(-1,)', /'shape' is not a tuple of non-negative integers/],
    ['(2.5,)', /only integers/],
    ['(99999999999999999999,)', /integer too large/],
    ["__import__('os')", /not a valid dict literal/],
    ['(1, 2', /not a valid dict literal/],
  ])('refuses shape %s', (shape, msg) => {
    expect(() => parseNpyHeader(npy(header("'<f4'", shape)))).toThrow(msg);
  });

  it.each([
    ["{'descr': '<f4', 'shape': (1,)}", /exactly the keys/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", /exactly the keys/],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", /'fortran_order' is not True\/False/],
    ["{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", /duplicate key/],
    ["{'descr': 1, 'fortran_order': False, 'shape': (1,)}", /'descr' is not a dtype string/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", /after the value/],
    ["['descr']", /not a dict/],
    ['', /not a valid dict literal/],
    ["{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", /not a valid dict literal/],
    ["{'descr': '<f4\\q', 'fortran_order': False, 'shape': (1,)}", /unsupported escape/],
    ['{'.repeat(100), /nesting too deep/],
  ])('refuses header %s', (text, msg) => {
    expect(() => parseNpyHeader(npy(text))).toThrow(msg);
  });

  it('refuses structured descr lists', () => {
    expect(() => parseNpyHeader(npy(header("[('a', '<f4'), ('b', '<i4')]", '(2,)')))).toThrow(
      /structured dtypes are not supported/,
    );
  });

  it('refuses bad magic, unknown versions and headers longer than the file', () => {
    expect(() => parseNpyHeader(new TextEncoder().encode('PK\x03\x04 not npy'))).toThrow(/not a \.npy array/);
    const v4 = npy(header("'<f4'", '(1,)'));
    v4[6] = 4;
    expect(() => parseNpyHeader(v4)).toThrow(/version 4\.0 is not supported/);
    const long = npy(header("'<f4'", '(1,)'));
    long[9] = 0x30; // header length ~12 KB (within MAX_NPY_HEADER), far past the end
    expect(() => parseNpyHeader(long)).toThrow(/file ends inside the \.npy header/);
  });

  it('refuses a forged huge header length without reading it', async () => {
    const b = npy(header("'<f4'", '(1,)'), { version: 2 });
    new DataView(b.buffer).setUint32(8, 0xfffffff0, true);
    const src = countingSource(b);
    expect(await formatError(readNpy(src))).toMatch(/header claims 4294967280 bytes/);
    expect(src.bytesRead).toBeLessThanOrEqual(12);
  });

  it('names expected and found bytes when the data is shorter than the shape says', async () => {
    const b = npy(header("'<f4'", '(1000000, 768)'), { data: new Uint8Array(40) });
    const msg = await formatError(readNpy(bytesSource(b, 'forged.npy')));
    expect(msg).toMatch(
      /forged\.npy: shape \(1000000, 768\) of <f4 needs 3072000000 bytes of data but only 40 bytes follow/,
    );
    const huge = npy(header("'<f8'", '(4294967296, 4294967296)'));
    expect(await formatError(readNpy(bytesSource(huge)))).toMatch(/impossibly large/);
  });

  it('reads exactly as many bytes as the shape needs, leaving trailing bytes alone', async () => {
    const b = npy(header("'<i2'", '(3,)'), { data: new Uint8Array(10) });
    const arr = await readNpy(bytesSource(b));
    expect(arr.data).toEqual({ kind: 'region', offset: parseNpyHeader(b).headerEnd, length: 6, encoding: 'raw' });
  });
});

describe('dtype descr', () => {
  it.each([
    ['<f2', 'f', 2, true, '<f2'],
    ['<f4', 'f', 4, true, '<f4'],
    ['>f8', 'f', 8, false, '>f8'],
    ['|i1', 'i', 1, true, '|i1'],
    ['<i2', 'i', 2, true, '<i2'],
    ['<i4', 'i', 4, true, '<i4'],
    ['>i8', 'i', 8, false, '>i8'],
    ['|u1', 'u', 1, true, '|u1'],
    ['>u1', 'u', 1, true, '|u1'], // one byte has no order
    ['<u2', 'u', 2, true, '<u2'],
    ['<u4', 'u', 4, true, '<u4'],
    ['<u8', 'u', 8, true, '<u8'],
    ['|b1', 'b', 1, true, '|b1'],
    ['<U14', 'U', 56, true, '<U14'],
    ['>U2', 'U', 8, false, '>U2'],
    ['|S5', 'S', 5, true, '|S5'],
    ['|O', 'O', 8, true, '|O'],
    ['|O8', 'O', 8, true, '|O'],
  ])('%s', (descr, kind, itemsize, littleEndian, str) => {
    expect(parseDescr(descr)).toEqual({ kind, itemsize, littleEndian, str });
  });

  it.each([
    ['<c8', /complex dtype/],
    ['<M8[ns]', /not supported/],
    ['<m8', /datetime dtype/],
    ['|V8', /structured dtypes are not supported/],
    ['<f16', /not supported/],
    ['<i3', /not supported/],
    ['float32', /not supported/],
    ['', /not supported/],
  ])('refuses %s', (descr, msg) => {
    expect(() => parseDescr(descr)).toThrow(FileFormatError);
    expect(() => parseDescr(descr)).toThrow(msg);
  });
});

describe('isNpy', () => {
  it('recognises the magic', () => {
    expect(isNpy(fixtureBytes('single.npy').subarray(0, 8))).toBe(true);
    expect(isNpy(fixtureBytes('mmsa_slash.npz').subarray(0, 8))).toBe(false);
    expect(isNpy(new Uint8Array([0x93, 0x4e]))).toBe(false);
  });
});
