import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPickle, type PickleOptions } from './pickle.ts';
import type { ByteRegion, NdArray, NpScalar, PyTuple, PyValue } from './pyvalue.ts';
import { bytesSource, FileFormatError, ReadCancelled, type ByteSource } from './source.ts';

const DIR = fileURLToPath(new URL('./__fixtures__/pickle/', import.meta.url));

interface Entry {
  name: string;
  protocol: number;
  numpy: string | null;
  expect?: unknown;
  refused?: string;
  creates?: string | null;
}
const manifest = JSON.parse(readFileSync(DIR + 'manifest.json', 'utf8')) as { files: Entry[] };
const entries = manifest.files;
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(DIR + name));

async function load(name: string, opts?: PickleOptions): Promise<{ value: PyValue; bytes: Uint8Array }> {
  const bytes = fixture(name);
  return { value: await readPickle(bytesSource(bytes, name), opts), bytes };
}

/** The error readPickle rejects with (fails the test if it resolves). */
async function failure(bytes: Uint8Array, name = 'x.pkl', opts?: PickleOptions): Promise<Error> {
  try {
    await readPickle(bytesSource(bytes, name), opts);
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected readPickle to reject');
}

// ---- building pickles by hand ----
type Part = number | string | Uint8Array | number[];
/** Concatenates opcodes: numbers are bytes, strings latin1 text, arrays byte lists. */
function pk(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (typeof p === 'string') for (const c of p) out.push(c.charCodeAt(0));
    else for (const x of p) out.push(x); // (no spread: parts can be long)
  }
  return new Uint8Array(out);
}
const u32 = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
const u64 = (n: bigint): number[] => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 255n));
const sbu = (s: string): Part[] => [0x8c, s.length, s]; // SHORT_BINUNICODE (ASCII)
const PROTO4 = [0x80, 4];

// ---- decoding array data the way numpy would, for comparison with manifest values ----
function regionBytes(file: Uint8Array, r: ByteRegion): Uint8Array {
  const raw = file.subarray(r.offset, r.offset + r.length);
  if (r.encoding === 'raw') return raw;
  const s = new TextDecoder().decode(raw); // latin1-utf8: each code point is one byte
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function dataBytes(file: Uint8Array, a: NdArray): Uint8Array {
  if (a.data instanceof Uint8Array) return a.data;
  if (Array.isArray(a.data)) throw new Error('object array has no bytes');
  return regionBytes(file, a.data);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function jsonNum(x: number | bigint): unknown {
  if (typeof x === 'bigint') return x >= -(2n ** 53n) + 1n && x <= 2n ** 53n - 1n ? Number(x) : { int: x.toString() };
  if (Number.isNaN(x)) return { float: 'nan' };
  if (!Number.isFinite(x)) return { float: x > 0 ? 'inf' : '-inf' };
  return x;
}

/** Flat element values in memory order, in the manifest's JSON form. */
function elements(bytes: Uint8Array, a: NdArray, count: number): unknown[] {
  const { kind, itemsize, littleEndian: le } = a.dtype;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: unknown[] = [];
  for (let k = 0; k < count; k++) {
    const o = k * itemsize;
    if (kind === 'f') {
      if (itemsize === 8) out.push(jsonNum(v.getFloat64(o, le)));
      else if (itemsize === 4) out.push(jsonNum(v.getFloat32(o, le)));
      else {
        const h = v.getUint16(o, le),
          e = (h >> 10) & 31,
          f = h & 1023,
          s = h >> 15 ? -1 : 1;
        out.push(
          jsonNum(
            e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15),
          ),
        );
      }
    } else if (kind === 'i' || kind === 'u') {
      const big = kind === 'i' ? v.getBigInt64.bind(v) : v.getBigUint64.bind(v);
      const x =
        itemsize === 8
          ? big(o, le)
          : itemsize === 4
            ? BigInt(kind === 'i' ? v.getInt32(o, le) : v.getUint32(o, le))
            : itemsize === 2
              ? BigInt(kind === 'i' ? v.getInt16(o, le) : v.getUint16(o, le))
              : BigInt(kind === 'i' ? v.getInt8(o) : v.getUint8(o));
      out.push(jsonNum(x));
    } else if (kind === 'b') out.push(bytes[o] !== 0);
    else if (kind === 'U') {
      let s = '';
      for (let c = 0; c < itemsize; c += 4) s += String.fromCodePoint(v.getUint32(o + c, le));
      out.push(s.replace(/\0+$/, ''));
    } else {
      let e = o + itemsize;
      while (e > o && bytes[e - 1] === 0) e--;
      out.push({ bytes: hex(bytes.subarray(o, e)) });
    }
  }
  return out;
}

/** Compares a value read by the reader with the tagged JSON Python wrote (see manifest 'about'). */
function match(file: Uint8Array, actual: PyValue, exp: unknown, path: string): void {
  const at = `at ${path || '<top>'}`;
  if (exp === null || typeof exp === 'boolean' || typeof exp === 'string') return void expect(actual, at).toBe(exp);
  if (typeof exp === 'number')
    return void expect(Object.is(actual, exp), `${at}: ${String(actual)} vs ${exp}`).toBe(true);
  if (Array.isArray(exp)) {
    expect(Array.isArray(actual), `${at} is a list`).toBe(true);
    const a = actual as PyValue[];
    expect(a.length, at).toBe(exp.length);
    exp.forEach((x, i) => match(file, a[i], x, `${path}[${i}]`));
    return;
  }
  const e = exp as Record<string, unknown>;
  if ('int' in e) return void expect(actual, at).toBe(BigInt(e.int as string));
  if ('float' in e) return void expect(jsonNum(actual as number), at).toEqual(e);
  if ('bytes' in e) {
    const b = actual instanceof Uint8Array ? actual : regionBytes(file, actual as ByteRegion);
    return void expect(hex(b), at).toBe(e.bytes);
  }
  if ('tuple' in e) {
    expect((actual as PyTuple).kind, at).toBe('tuple');
    return match(file, (actual as PyTuple).items, e.tuple, path);
  }
  if ('dict' in e) {
    expect(actual, at).toBeInstanceOf(Map);
    const m = actual as Map<unknown, PyValue>;
    const pairs = e.dict as [unknown, unknown][];
    expect([...m.keys()].map(keyJson), `${at} keys`).toEqual(pairs.map(([k]) => k));
    for (const [k, x] of pairs) match(file, m.get(k as string)!, x, `${path}/${String(k)}`);
    return;
  }
  if ('set' in e) {
    expect(actual, at).toBeInstanceOf(Set);
    return void expect([...(actual as Set<unknown>)].sort(), at).toEqual([...(e.set as unknown[])].sort());
  }
  if ('npscalar' in e) {
    const s = actual as NpScalar,
      x = e.npscalar as { dtype: string; value: unknown };
    expect(s.kind, at).toBe('npscalar');
    expect(s.dtype.str, at).toBe(x.dtype);
    return void expect(
      typeof s.value === 'number' || typeof s.value === 'bigint' ? jsonNum(s.value) : s.value,
      at,
    ).toEqual(x.value);
  }
  if ('ndarray' in e) {
    const a = actual as NdArray,
      x = e.ndarray as {
        dtype: string;
        shape: number[];
        fortran: boolean;
        nbytes?: number;
        sha256?: string;
        values?: unknown[];
        head?: unknown[];
      };
    expect(a.kind, at).toBe('ndarray');
    expect(a.dtype.str, `${at} dtype`).toBe(x.dtype);
    expect(a.shape, `${at} shape`).toEqual(x.shape);
    expect(a.fortran, `${at} fortran`).toBe(x.fortran);
    if (x.dtype === '|O') return match(file, a.data as PyValue[], x.values, path);
    const bytes = dataBytes(file, a);
    expect(bytes.length, `${at} nbytes`).toBe(x.nbytes);
    expect(sha256(bytes), `${at} sha256`).toBe(x.sha256);
    const want = x.values ?? x.head!;
    expect(elements(bytes, a, want.length), `${at} values`).toEqual(want);
    return;
  }
  throw new Error(`unknown expectation ${JSON.stringify(exp).slice(0, 80)} ${at}`);
}

const get = (v: PyValue, ...keys: string[]): PyValue =>
  keys.reduce((x, k) => (x as Map<string, PyValue>).get(k) as PyValue, v);
/** The manifest expectation under dict keys. */
function expected(exp: unknown, ...keys: string[]): { ndarray: { sha256: string } } {
  return keys.reduce((x, k) => (x as { dict: [string, unknown][] }).dict.find(([key]) => key === k)![1], exp) as {
    ndarray: { sha256: string };
  };
}
const keyJson = (k: unknown): unknown => (typeof k === 'number' || typeof k === 'bigint' ? jsonNum(k) : k);

describe('readPickle: fixtures written by Python', () => {
  const good = entries.filter((e) => e.expect !== undefined);
  it('the manifest lists the fixtures (both numpy majors, protocols 0/2/4/5)', () => {
    expect(good.length).toBeGreaterThanOrEqual(25);
    for (const tag of ['np1', 'np2'])
      for (const p of [0, 2, 4, 5])
        expect(
          good.some((e) => e.name.includes(tag) && e.protocol === p),
          `${tag} p${p}`,
        ).toBe(true);
  });

  it.each(good.map((e) => [e.name, e] as const))('%s reads as Python loads it', async (name, e) => {
    const { value, bytes } = await load(name);
    match(bytes, value, e.expect, '');
  });

  it('numpy 1.x and 2.x spellings read to the same arrays', async () => {
    const one = await load('mmsa_aligned_p4_np1.pkl'),
      two = await load('mmsa_aligned_p4_np2.pkl');
    expect(Buffer.from(one.bytes).includes('numpy.core.multiarray')).toBe(true);
    expect(Buffer.from(two.bytes).includes('numpy._core.multiarray')).toBe(true);
    const a = get(one.value, 'valid', 'vision') as NdArray,
      b = get(two.value, 'valid', 'vision') as NdArray;
    expect(a.shape).toEqual([4, 5, 5]);
    expect(hex(a.data as Uint8Array)).toBe(hex(b.data as Uint8Array));
  });

  it('MMSA aligned p4: shapes, dtypes, -inf in audio, unicode ids and object raw_text', async () => {
    const { value } = await load('mmsa_aligned_p4_np2.pkl');
    expect([...(value as Map<string, PyValue>).keys()]).toEqual(['train', 'valid', 'test']);
    const text = get(value, 'train', 'text') as NdArray;
    expect([text.dtype.str, text.shape]).toEqual(['<f4', [6, 5, 6]]);
    expect((get(value, 'train', 'text_bert') as NdArray).dtype.str).toBe('<i8');
    const audio = get(value, 'train', 'audio') as NdArray;
    const f = new Float32Array((audio.data as Uint8Array).slice().buffer);
    expect(f[0 * 20 + 1 * 4 + 2]).toBe(-Infinity); // audio[0, 1, 2]
    expect(f.filter((x) => x === -Infinity).length).toBe(5);
    const raw = get(value, 'train', 'raw_text') as NdArray;
    expect(raw.dtype.kind).toBe('O');
    expect(raw.data).toContain('café ☺');
    const id = get(value, 'test', 'id') as NdArray;
    expect(id.dtype.kind).toBe('U');
    expect(id.dtype.itemsize % 4).toBe(0);
  });

  it('protocol 2 array bytes come through _codecs.encode and equal the protocol 4 ones', async () => {
    const p2 = await load('mmsa_aligned_p2_np2.pkl'),
      p4 = await load('mmsa_aligned_p4_np2.pkl');
    expect(Buffer.from(p2.bytes).includes('_codecs')).toBe(true);
    for (const split of ['train', 'valid', 'test']) {
      for (const f of ['text', 'audio', 'vision', 'regression_labels']) {
        expect(hex((get(p2.value, split, f) as NdArray).data as Uint8Array), `${split}/${f}`).toBe(
          hex((get(p4.value, split, f) as NdArray).data as Uint8Array),
        );
      }
    }
  });

  it('protocol 5 in-band buffers (_frombuffer) and unaligned lengths', async () => {
    const { value, bytes } = await load('mmsa_unaligned_p5_np2.pkl');
    expect(Buffer.from(bytes).includes('_frombuffer')).toBe(true);
    expect((get(value, 'train', 'text') as NdArray).dtype.str).toBe('<f8');
    expect((get(value, 'valid', 'vision') as NdArray).shape).toEqual([4, 8, 5]);
    expect((get(value, 'test', 'audio_lengths') as NdArray).shape).toEqual([5]);
  });

  it('big payloads stay in the file as ByteRegions whose bytes are the array', async () => {
    for (const [name, encoding] of [
      ['large_p4_np2.pkl', 'raw'],
      ['large_p4_np1.pkl', 'raw'],
      ['large_p2_np1.pkl', 'latin1-utf8'],
      ['large_p2_np2.pkl', 'latin1-utf8'],
    ] as const) {
      const { value, bytes } = await load(name);
      const a = get(value, 'train', 'text') as NdArray;
      const r = a.data as ByteRegion;
      expect(r.kind, name).toBe('region');
      expect(r.encoding, name).toBe(encoding);
      const data = regionBytes(bytes, r);
      expect(data.length).toBe(16 * 8 * 129 * 4);
      const e = entries.find((x) => x.name === name)!;
      expect(sha256(data), name).toBe(expected(e.expect, 'train', 'text').ndarray.sha256);
    }
    // a higher threshold reads the same bytes into memory instead
    const { value, bytes } = await load('large_p4_np2.pkl', { lazyThreshold: 1 << 20 });
    const inMem = get(value, 'train', 'text') as NdArray;
    expect(inMem.data).toBeInstanceOf(Uint8Array);
    const lazy = get((await load('large_p4_np2.pkl')).value, 'train', 'text') as NdArray;
    expect(hex(inMem.data as Uint8Array)).toBe(hex(regionBytes(bytes, lazy.data as ByteRegion)));
  });

  it('Python-2-style pickle: py2 str keys and array bytes, copy_reg OrderedDict, __builtin__ set, LONG1', async () => {
    const { value, bytes } = await load('py2_style_p2.pkl');
    expect([...(value as Map<string, PyValue>).keys()]).toEqual(['train', 'valid', 'meta']);
    const vision = get(value, 'train', 'vision') as NdArray;
    expect((vision.data as ByteRegion).encoding).toBe('raw'); // BINSTRING left in the file
    expect(bytes[(vision.data as ByteRegion).offset - 5]).toBe(0x54); // 'T' BINSTRING
    expect((get(value, 'train', 'raw_text') as NdArray).data).toEqual(['cafÃ© (utf-8 bytes in a py2 str)', 'café ☺']);
    const meta = (get(value, 'meta') as PyTuple).items;
    expect(meta[0]).toEqual(new Set(['a', 'b']));
    expect(meta[3]).toBe(2n ** 70n);
    expect(get(value, 'valid')).toBeInstanceOf(Map);
  });

  it('numpy scalars decode to their values', async () => {
    for (const name of ['scalars_p4_np2.pkl', 'scalars_p2_np1.pkl']) {
      const { value } = await load(name);
      const s = (k: string): NpScalar => get(value, k) as NpScalar;
      expect(s('f32').value).toBe(1.5);
      expect(s('f32').dtype.str).toBe('<f4');
      expect(s('i64').value).toBe(-3);
      expect(s('u64').value).toBe(2n ** 63n + 5n);
      expect(s('bool').value).toBe(true);
      expect(s('str').value).toBe('héllo ☺');
      expect(s('f16').value).toBeCloseTo(0.1, 3);
    }
    // numpy.str_ of dtype U3 holding 'a': the trailing NULs are padding, as numpy strips them
    const u3 = pk(
      PROTO4,
      ...sbu('numpy.core.multiarray'),
      ...sbu('scalar'),
      0x93,
      ...sbu('numpy'),
      ...sbu('dtype'),
      0x93,
      ...sbu('U3'),
      0x89,
      0x88,
      0x87,
      0x52,
      0x28,
      0x4b,
      3,
      ...sbu('<'),
      0x4e,
      0x4e,
      0x4e,
      0x4b,
      12,
      0x4b,
      4,
      0x4b,
      8,
      0x74,
      0x62,
      0x43,
      12,
      'a',
      Array(11).fill(0),
      0x86,
      0x52,
      0x2e,
    );
    expect(await readPickle(bytesSource(u3))).toEqual({
      kind: 'npscalar',
      dtype: { kind: 'U', itemsize: 12, littleEndian: true, str: '<U3' },
      value: 'a',
    });
  });

  it('a list shared through the memo is one object; a self-containing list does not loop', async () => {
    const { value } = await load('misc_p4.pkl');
    expect(get(value, 'shared_a')).toBe(get(value, 'shared_b'));
    // ] q0 h0 a .  : l = []; l.append(l)
    const v = (await readPickle(bytesSource(pk(PROTO4, 0x5d, 0x94, 0x68, 0, 0x61, 0x2e)))) as PyValue[];
    expect(v[0]).toBe(v);
  });

  it('reports progress and honours cancellation', async () => {
    const seen: number[] = [];
    const src = virtualBig(300 * 2 ** 20);
    await readPickle(src.source, { onProgress: (n) => seen.push(n) });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length - 1; i++) expect(seen[i] - seen[i - 1]).toBeGreaterThanOrEqual(2 ** 20);
    expect(seen[seen.length - 1]).toBe(src.source.size);
    const ac = new AbortController();
    ac.abort();
    await expect(readPickle(bytesSource(fixture('misc_p2.pkl')), { signal: ac.signal })).rejects.toBeInstanceOf(
      ReadCancelled,
    );
  });

  it('a MOSI-sized structure parses without reading its arrays', async () => {
    const src = virtualBig(340 * 2 ** 20);
    const t = performance.now();
    const v = await readPickle(src.source);
    const ms = performance.now() - t;
    expect(ms).toBeLessThan(1000);
    expect(src.bytesRead()).toBeLessThan(8 * 2 ** 20);
    const text = get(v, 'train', 'text') as NdArray;
    expect(text.shape).toEqual([1284, 50, 768]);
    expect((text.data as ByteRegion).length).toBe(1284 * 50 * 768 * 4);
  });
});

/**
 * A virtual pickle shaped like MMSA MOSI (protocol 4) whose array payloads are never materialised:
 * the source synthesises zeros for them. Returns the source and how many bytes were read.
 */
function virtualBig(total: number): { source: ByteSource; bytesRead: () => number } {
  const parts: (Uint8Array | number)[] = [pk(PROTO4, 0x7d, 0x28)]; // {  MARK
  const arr = (shape: number[], bytes: number): void => {
    parts.push(
      pk(
        ...sbu('numpy._core.multiarray'),
        ...sbu('_reconstruct'),
        0x93,
        ...sbu('numpy'),
        ...sbu('ndarray'),
        0x93,
        0x4b,
        0,
        0x85,
        0x43,
        1,
        'b',
        0x87,
        0x52,
        0x28,
        0x4b,
        1,
        0x28,
        ...shape.flatMap((s) => [0x4a, ...u32(s)]),
        0x74,
        ...sbu('numpy'),
        ...sbu('dtype'),
        0x93,
        ...sbu('f4'),
        0x89,
        0x88,
        0x87,
        0x52,
        0x28,
        0x4b,
        3,
        ...sbu('<'),
        0x4e,
        0x4e,
        0x4e,
        0x4a,
        ...u32(-1 >>> 0),
        0x4a,
        ...u32(-1 >>> 0),
        0x4b,
        0,
        0x74,
        0x62,
        0x89,
        0x8e,
        ...u64(BigInt(bytes)),
      ),
    );
    parts.push(bytes); // the payload: virtual
    parts.push(pk(0x74, 0x62));
  };
  const sizes = { train: 1284, valid: 229, test: 686 };
  const per = (n: number): number => n * 50 * (768 + 5 + 20) * 4;
  const scale = total / (per(1284) + per(229) + per(686));
  for (const [split, n0] of Object.entries(sizes)) {
    const n = split === 'train' ? n0 : Math.max(1, Math.floor(n0 * scale));
    parts.push(pk(...sbu(split), 0x7d, 0x28));
    for (const [f, d] of [
      ['text', 768],
      ['audio', 5],
      ['vision', 20],
    ] as const) {
      parts.push(pk(...sbu(f)));
      arr([n, 50, d], n * 50 * d * 4);
    }
    parts.push(pk(0x75)); // SETITEMS
  }
  parts.push(pk(0x75, 0x2e));
  const starts: number[] = [];
  let size = 0;
  for (const p of parts) {
    starts.push(size);
    size += typeof p === 'number' ? p : p.length;
  }
  let read = 0;
  const source: ByteSource = {
    name: 'virtual_mosi.pkl',
    size,
    read: async (offset, length) => {
      const end = Math.min(size, offset + length);
      const out = new Uint8Array(Math.max(0, end - offset));
      read += out.length;
      parts.forEach((p, i) => {
        if (typeof p === 'number') return;
        const s = starts[i],
          e = s + p.length;
        if (e <= offset || s >= end) return;
        const from = Math.max(s, offset);
        out.set(p.subarray(from - s, Math.min(e, end) - s), from - offset);
      });
      return out;
    },
  };
  return { source, bytesRead: () => read };
}

describe('readPickle: hostile pickles are refused and nothing runs', () => {
  const hostile = entries.filter((e) => e.refused);
  it('the manifest has the hostile fixtures', () => {
    expect(hostile.map((e) => e.refused)).toEqual(
      expect.arrayContaining([
        'posix.system',
        'builtins.eval',
        'subprocess.Popen',
        'subprocess.check_output',
        '__builtin__.getattr',
      ]),
    );
  });

  it.each(hostile.map((e) => [e.name, e] as const))('%s', async (name, e) => {
    if (e.creates) rmSync(e.creates, { force: true });
    const err = await failure(fixture(name), name);
    expect(err).toBeInstanceOf(FileFormatError);
    expect(err.message).toBe(
      `${name}: refused global ${e.refused} — the reader only rebuilds numpy arrays, dtypes, scalars and builtin containers; nothing in the file was run`,
    );
    if (e.creates) expect(existsSync(e.creates), `${e.creates} must not exist`).toBe(false);
  });

  it('refuses a global even when nothing calls it, and names STACK_GLOBAL / INST / protocol 0 globals exactly', async () => {
    expect((await failure(pk(PROTO4, ...sbu('os'), ...sbu('system'), 0x93, 0x2e))).message).toContain(
      'refused global os.system —',
    );
    expect((await failure(pk('cnt\nsystem\n.'))).message).toContain('refused global nt.system —');
    expect((await failure(pk("(S'ls'\nisubprocess\ncall\n."))).message).toContain('refused global subprocess.call —');
    expect((await failure(pk(PROTO4, ...sbu('numpy'), ...sbu('load'), 0x93, 0x2e))).message).toContain(
      'refused global numpy.load —',
    );
  });

  it('copyreg._reconstructor only for builtin containers; numpy classes never via NEWOBJ / OBJ', async () => {
    const rc = (cls: string, base: string): Uint8Array =>
      pk(0x80, 2, 'ccopy_reg\n_reconstructor\n(', cls, base, 'NtR.');
    expect(await readPickle(bytesSource(rc('ccollections\nOrderedDict\n', 'c__builtin__\ndict\n')))).toEqual(new Map());
    const e1 = await failure(rc('c__builtin__\nlist\n', 'c__builtin__\ndict\n'));
    expect(e1.message).toContain('refused copy_reg._reconstructor(__builtin__.list, __builtin__.dict)');
    expect((await failure(rc('cnumpy\nndarray\n', 'cnumpy\nndarray\n'))).message).toContain(
      'refused copy_reg._reconstructor(numpy.ndarray',
    );
    expect((await failure(pk(0x80, 2, 'cnumpy\nndarray\n)\x81.'))).message).toMatch(
      /NEWOBJ of numpy\.ndarray is not supported/,
    );
    expect((await failure(pk(0x80, 2, '(cnumpy\ndtype\no.'))).message).toMatch(/OBJ of numpy\.dtype is not supported/);
    expect((await failure(pk(0x80, 2, 'cnumpy\nndarray\n.'))).message).toMatch(
      /holds numpy\.ndarray itself as a value/,
    );
  });
});

describe('readPickle: broken and forged files', () => {
  it('every cut of small fixtures throws FileFormatError "ends early"', async () => {
    for (const name of [
      'misc_p0.pkl',
      'misc_p2.pkl',
      'misc_p4.pkl',
      'misc_p5.pkl',
      'scalars_p2_np1.pkl',
      'dtypes_p5_np2.pkl',
      'dtypes_p4_np1.pkl',
      'hostile_nested_p4.pkl',
    ]) {
      const b = fixture(name);
      for (let cut = 1; cut < b.length; cut++) {
        const e = await failure(b.subarray(0, cut), name);
        expect(e, `${name} cut at ${cut}: ${e.message}`).toBeInstanceOf(FileFormatError);
        if (!name.startsWith('hostile')) expect(e.message, `${name} cut at ${cut}`).toMatch(/ends early/);
      }
    }
  });

  it('cuts of bigger fixtures (lazy payloads included) also throw', async () => {
    for (const name of ['mmsa_aligned_p2_np1.pkl', 'py2_style_p2.pkl', 'large_p2_np2.pkl', 'mmsa_aligned_p0_np2.pkl']) {
      const b = fixture(name);
      for (let cut = 1; cut < b.length; cut += cut < 600 ? 1 : 331) {
        const e = await failure(b.subarray(0, cut), name);
        expect(e.message, `${name} cut at ${cut}`).toMatch(/ends early/);
      }
    }
  });

  it('the truncation message says where and how much', async () => {
    const b = fixture('large_p4_np2.pkl');
    const r = get((await load('large_p4_np2.pkl')).value, 'train', 'text') as NdArray;
    const { offset, length } = r.data as ByteRegion;
    const e = await failure(b.subarray(0, 5000), 'large.pkl');
    const [op, hdr] = b[offset - 5] === 0x42 ? ['BINBYTES', 5] : ['BINBYTES8', 9]; // numpy 2.4 writes BINBYTES below 4 GB
    expect(e.message).toBe(
      `large.pkl: file ends early (truncated?): ${op} at byte ${offset - hdr} needs the file up to byte ${offset + length}, but it ends at byte 5000`,
    );
    expect((await failure(b.subarray(0, b.length - 1), 'large.pkl')).message).toBe(
      `large.pkl: file ends early at byte ${b.length - 1} without the pickle's STOP opcode (truncated?)`,
    );
  });

  it('files that are not pickles say what they start with', async () => {
    const cases: [Uint8Array, RegExp][] = [
      [
        pk(0x89, 'PNG\r\n\x1a\n', 0, 0, 0, 13),
        /^a\.pkl: not a Python pickle \(starts with b'\\x89PNG\\r\\n\\x1a\\n': a PNG image\)$/,
      ],
      [pk('PK\x03\x04\x14\0\0\0\0\0'), /not a Python pickle \(starts with b'PK\\x03\\x04.*zip archive/],
      [pk(0x93, 'NUMPY\x01\0v\0{"descr"'), /not a Python pickle .*\.npy/],
      [pk('hello world\n'), /^a\.pkl: not a Python pickle \(starts with b'hello wo'\)$/],
      [pk('id,label\n1,2\n'), /not a Python pickle/],
      [pk('Name,score\n'), /not a Python pickle/],
      [pk('{"train": 1}'), /not a Python pickle/],
      [pk(0x80, 9, 0x2e), /not a Python pickle .*protocol \(9\) newer than 5/],
      [new Uint8Array(0), /not a Python pickle \(the file is empty\)/],
    ];
    for (const [b, re] of cases) {
      const e = await failure(b, 'a.pkl');
      expect(e).toBeInstanceOf(FileFormatError);
      expect(e.message).toMatch(re);
    }
  });

  it('forged huge lengths fail fast without allocating', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const t = performance.now();
    const forged = [
      pk(PROTO4, 0x8e, ...u64(2n ** 60n), 'abc'), // BINBYTES8
      pk(PROTO4, 0x8d, ...u64(2n ** 63n + 12345n), 'abc'), // BINUNICODE8
      pk(PROTO4, 0x96, ...u64(2n ** 64n - 1n)), // BYTEARRAY8
      pk(PROTO4, 0x42, ...u32(0xffffffff), 'x'), // BINBYTES
      pk(PROTO4, 0x58, ...u32(0x7fffffff), 'x'), // BINUNICODE
      pk(0x80, 2, 0x54, ...u32(0x7ffffff0), 'x'), // BINSTRING
      pk(PROTO4, 0x8b, ...u32(0x7fffffff)), // LONG4
    ];
    for (const b of forged) {
      const e = await failure(b);
      expect(e).toBeInstanceOf(FileFormatError);
      expect(e.message).toMatch(/ends early|too large/);
    }
    expect(performance.now() - t).toBeLessThan(500);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(50 * 2 ** 20);
    expect((await failure(pk(PROTO4, 0x8e, ...u64(2n ** 60n)), 'f.pkl')).message).toBe(
      `f.pkl: file ends early (truncated?): BINBYTES8 at byte 2 needs the file up to byte ${2 ** 60 + 11}, but it ends at byte 11`,
    );
  });

  it('forged array shapes are checked against the data', async () => {
    // _reconstruct + BUILD with shape (1000, 1000) but 8 bytes of float32 data
    const arr = (shape: number[], dtype: string, data: Part[], version = true): Uint8Array =>
      pk(
        PROTO4,
        ...sbu('numpy.core.multiarray'),
        ...sbu('_reconstruct'),
        0x93,
        ...sbu('numpy'),
        ...sbu('ndarray'),
        0x93,
        0x4b,
        0,
        0x85,
        0x43,
        1,
        'b',
        0x87,
        0x52,
        0x28,
        ...(version ? [0x4b, 1] : []),
        0x28,
        ...shape.flatMap((s) => [0x4a, ...u32(s)]),
        0x74,
        ...sbu('numpy'),
        ...sbu('dtype'),
        0x93,
        ...sbu(dtype),
        0x89,
        0x88,
        0x87,
        0x52,
        0x28,
        0x4b,
        3,
        ...sbu('<'),
        0x4e,
        0x4e,
        0x4e,
        0x4a,
        ...u32(0xffffffff),
        0x4a,
        ...u32(0xffffffff),
        0x4b,
        0,
        0x74,
        0x62,
        0x89,
        ...data,
        0x74,
        0x62,
        0x2e,
      );
    const ok = (await readPickle(bytesSource(arr([2], 'f4', [0x43, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40])))) as NdArray;
    expect(new Float32Array((ok.data as Uint8Array).slice().buffer)).toEqual(new Float32Array([1, 2]));
    const old = (await readPickle(
      bytesSource(arr([2], 'f4', [0x43, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40], false)),
    )) as NdArray;
    expect(old.shape).toEqual([2]);
    expect((await failure(arr([1000, 1000], 'f4', [0x43, 8, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]))).message).toMatch(
      /array of shape \[1000, 1000\] <f4: data is 8 bytes, expected 1000000 × 4 = 4000000/,
    );
    expect((await failure(arr([0xffffffff, 0xffffffff, 0xffffffff], 'f4', [0x43, 0]))).message).toMatch(
      /shape entry|too many elements/,
    );
    expect((await failure(arr([3], 'O8', [0x5d, 0x4b, 1, 0x61]))).message).toMatch(/found 1 items, expected 3/);
    expect((await failure(arr([3], 'V8', [0x43, 0]))).message).toMatch(
      /structured \(record\) dtypes are not supported/,
    );
    expect((await failure(arr([3], 'M8', [0x43, 0]))).message).toMatch(/datetime dtypes are not supported/);
    expect((await failure(arr([3], 'c16', [0x43, 0]))).message).toMatch(/complex dtypes are not supported/);
  });

  it('structural errors name the problem and the byte', async () => {
    const cases: [Uint8Array, string][] = [
      [pk(PROTO4, 0xff), 'x.pkl: bad pickle at byte 2 (opcode): unknown opcode 0xff'],
      [pk(PROTO4, 0x61, 0x2e), 'x.pkl: bad pickle at byte 2 (APPEND): stack underflow (nothing to take here)'],
      [pk(PROTO4, 0x5d, 0x65, 0x2e), 'x.pkl: bad pickle at byte 3 (APPENDS): no MARK before this opcode'],
      [pk(PROTO4, 0x68, 7, 0x2e), 'x.pkl: bad pickle at byte 2 (BINGET): memo key 7 was never stored'],
      [
        pk(PROTO4, 0x7d, 0x5d, 0x4b, 1, 0x73, 0x2e),
        'x.pkl: bad pickle at byte 6 (SETITEM): unsupported dict key or set item of type list (str, bytes, int, float, bool and None are supported)',
      ],
      [
        pk(PROTO4, 0x4b, 1, 0x4b, 2, 0x61, 0x2e),
        'x.pkl: bad pickle at byte 6 (APPEND): APPEND needs a list, found int',
      ],
      [pk(PROTO4, 0x2e), 'x.pkl: bad pickle at byte 2 (STOP): stack underflow (nothing to take here)'],
      [
        pk(PROTO4, 0x97, 0x2e),
        'x.pkl: bad pickle at byte 2 (NEXT_BUFFER): out-of-band buffers (pickle protocol 5 buffer_callback) are not supported: write the file with plain pickle.dump so array data is inside it',
      ],
      [
        pk(PROTO4, 0x4e, 0x51, 0x2e),
        'x.pkl: bad pickle at byte 3 (BINPERSID): persistent IDs (references to objects outside the file) are not supported',
      ],
      [
        pk(PROTO4, 0x82, 1, 0x2e),
        'x.pkl: bad pickle at byte 2 (EXT1): extension-registry codes (copyreg.add_extension) are not supported',
      ],
      [
        pk(PROTO4, 0x4b, 1, 0x4b, 2, 0x52, 0x2e),
        'x.pkl: bad pickle at byte 6 (REDUCE): REDUCE arguments must be a tuple, found int',
      ],
      [
        pk(PROTO4, 0x8c, 2, 0xc3, 0x28, 0x2e),
        'x.pkl: bad pickle at byte 2 (SHORT_BINUNICODE): str payload is not valid UTF-8',
      ],
    ];
    for (const [b, msg] of cases) {
      const e = await failure(b);
      expect(e).toBeInstanceOf(FileFormatError);
      expect(e.message).toBe(msg);
    }
  });

  it('derived work is bounded: re-encoding one str many times is refused, not done', async () => {
    // _codecs.encode(s, 'latin1') of a 60 KB str memoised once, then called 50 000 times through BINGET
    const s = 'x'.repeat(60000);
    const call = [0x68, 0, 0x68, 1, 0x68, 2, 0x86, 0x52, 0x30]; // encode(s, 'latin1'); POP
    const parts: Part[] = [
      PROTO4,
      ...sbu('_codecs'),
      ...sbu('encode'),
      0x93,
      0x94,
      0x58,
      ...u32(s.length),
      s,
      0x94,
      ...sbu('latin1'),
      0x94,
    ];
    const b = pk(...parts, Array.from({ length: 50000 }, () => call).flat(), 0x4e, 0x2e);
    const t = performance.now();
    const e = await failure(b);
    expect(e.message).toMatch(/expands to far more data than its size allows/);
    expect(performance.now() - t).toBeLessThan(3000);
  });
});
