import { existsSync, readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  countingSource,
  dataBytes,
  elementAt,
  expectMatches,
  fixtureBytes,
  fixtureSource,
  flatIndex,
  formatError,
  manifest,
  sha256,
} from './__fixtures__/npzFixtures.ts';
import { crc32, isNpy, isZip, openNpz } from './npz.ts';
import type { NdArray } from './pyvalue.ts';
import { bytesSource, FileFormatError, ReadCancelled, type ByteSource } from './source.ts';

const hasPickle = existsSync(new URL('./pickle.ts', import.meta.url));
const MOSI = new URL('../../../../../shared/data/mosi-utterance/mosi_declare_features.npz', import.meta.url);
const hasMosi = existsSync(MOSI);

/** Opens an archive and reads every array; what a loader does. */
async function readAll(src: ByteSource): Promise<Map<string, NdArray>> {
  const z = await openNpz(src);
  const out = new Map<string, NdArray>();
  for (const n of z.names) out.set(n, await z.array(n));
  return out;
}

/** The outcome of a read that must either work or fail with a FileFormatError, nothing else. */
async function outcome(p: Promise<unknown>): Promise<'ok' | 'format'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof FileFormatError) return 'format';
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// A minimal zip writer for archives numpy cannot be made to write (zip64 directories, comments,
// other methods, encryption flags, non-.npy entries).

interface ZipEntry {
  name: string;
  data: Uint8Array;
  method?: number; // 0 stored (default), 8 deflate; others are written stored but labelled
  flags?: number;
  localExtra?: Uint8Array;
}

function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}
function u64(n: number): number[] {
  return [...u32(n % 2 ** 32), ...u32(Math.floor(n / 2 ** 32))];
}

function buildZip(
  entries: ZipEntry[],
  opts: { zip64Cd?: boolean; zip64Eocd?: boolean; comment?: string } = {},
): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  for (const e of entries) {
    const name = [...new TextEncoder().encode(e.name)];
    const body = e.method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data);
    const lho = out.length;
    const extra = [...(e.localExtra ?? [])];
    const common = [...u16(e.flags ?? 0x800), ...u16(e.method ?? 0), ...u16(0), ...u16(0x21), ...u32(crc)];
    out.push(
      ...u32(0x04034b50),
      ...u16(45),
      ...common,
      ...u32(body.length),
      ...u32(e.data.length),
      ...u16(name.length),
      ...u16(extra.length),
      ...name,
      ...extra,
      ...body,
    );
    const big = opts.zip64Cd;
    const cdExtra = big ? [...u16(1), ...u16(24), ...u64(e.data.length), ...u64(body.length), ...u64(lho)] : [];
    central.push(
      ...u32(0x02014b50),
      ...u16(45),
      ...u16(45),
      ...common,
      ...u32(big ? 0xffffffff : body.length),
      ...u32(big ? 0xffffffff : e.data.length),
      ...u16(name.length),
      ...u16(cdExtra.length),
      ...u16(0),
      ...u16(0),
      ...u16(0),
      ...u32(0),
      ...u32(big ? 0xffffffff : lho),
      ...name,
      ...cdExtra,
    );
  }
  const cdOffset = out.length;
  out.push(...central);
  if (opts.zip64Eocd) {
    const rec = out.length;
    out.push(
      ...u32(0x06064b50),
      ...u64(44),
      ...u16(45),
      ...u16(45),
      ...u32(0),
      ...u32(0),
      ...u64(entries.length),
      ...u64(entries.length),
      ...u64(central.length),
      ...u64(cdOffset),
    );
    out.push(...u32(0x07064b50), ...u32(0), ...u64(rec), ...u32(1));
  }
  const comment = [...new TextEncoder().encode(opts.comment ?? '')];
  const z = opts.zip64Eocd;
  out.push(
    ...u32(0x06054b50),
    ...u16(0),
    ...u16(0),
    ...u16(z ? 0xffff : entries.length),
    ...u16(z ? 0xffff : entries.length),
    ...u32(z ? 0xffffffff : central.length),
    ...u32(z ? 0xffffffff : cdOffset),
    ...u16(comment.length),
    ...comment,
  );
  return Uint8Array.from(out);
}

/** Offsets of the central directory entries of a zip (read independently of the reader under test). */
function centralEntries(b: Uint8Array): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const eocd = b.length - 22;
  expect(v.getUint32(eocd, true)).toBe(0x06054b50);
  const out: number[] = [];
  let p = v.getUint32(eocd + 16, true);
  for (let k = 0; k < v.getUint16(eocd + 10, true); k++) {
    out.push(p);
    p += 46 + v.getUint16(p + 28, true) + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
  }
  return out;
}

/** A source that claims the whole size but whose reads stop at `cut`, as when a file is cut short underneath. */
function shortSource(bytes: Uint8Array, cut: number, name = 'short.npz'): ByteSource {
  return {
    name,
    size: bytes.length,
    read: async (o, l) => bytes.subarray(Math.min(o, cut), Math.max(Math.min(o, cut), Math.min(o + l, cut))),
  };
}

// ---------------------------------------------------------------------------------------------

describe('openNpz on archives numpy wrote', () => {
  const npzFiles = Object.entries(manifest.files).filter(([name]) => name.endsWith('.npz'));
  for (const [file, entry] of npzFiles) {
    const objectArrays = Object.values(entry.arrays).some((a) => a.items);
    it.skipIf(objectArrays && !hasPickle)(`${file}: names, dtypes, shapes, bytes and values`, async () => {
      const src = fixtureSource(file);
      const z = await openNpz(src);
      expect(z.names).toEqual(entry.names);
      expect(z.entries.map((e) => e.fileName)).toEqual(entry.names!.map((k) => `${k}.npy`));
      for (const [name, info] of Object.entries(entry.arrays)) {
        const arr = await z.array(name);
        if (!info.items) {
          // Stored entries stay in the file; deflated ones come back inflated.
          if (file === 'mmsa_compressed.npz') expect(arr.data).toBeInstanceOf(Uint8Array);
          else expect(arr.data).toMatchObject({ kind: 'region', encoding: 'raw' });
        }
        await expectMatches(arr, info, src);
        expect(await z.header(name)).toMatchObject({ dtype: arr.dtype, shape: arr.shape, fortran: arr.fortran });
      }
    });
  }

  it('accepts names with or without .npy', async () => {
    const z = await openNpz(fixtureSource('mmsa_slash.npz'));
    expect((await z.array('train/text.npy')).shape).toEqual([6, 5, 8]);
    expect((await z.array('train/text')).shape).toEqual([6, 5, 8]);
    expect(await formatError(z.array('train/nope'))).toMatch(
      /no array 'train\/nope' in the archive \(it has 'train\/text', /,
    );
  });

  it('keeps both key styles as they are ({split}/{field} and {split}_{field})', async () => {
    expect((await openNpz(fixtureSource('mmsa_slash.npz'))).names.slice(0, 2)).toEqual(['train/text', 'train/audio']);
    expect((await openNpz(fixtureSource('mmsa_underscore.npz'))).names.slice(0, 2)).toEqual([
      'train_text',
      'train_audio',
    ]);
  });

  it('stored and deflated archives of the same arrays give the same bytes', async () => {
    const stored = fixtureSource('mmsa_slash.npz');
    const a = await readAll(stored);
    const b = await readAll(fixtureSource('mmsa_compressed.npz'));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, arr] of a) expect(await dataBytes(b.get(name)!, stored)).toEqual(await dataBytes(arr, stored));
  });

  it('keeps -inf in audio as it is (the loader decides what to do with it)', async () => {
    const src = fixtureSource('audio_inf.npz');
    const arr = await (await openNpz(src)).array('train/audio');
    const bytes = await dataBytes(arr, src);
    expect(elementAt(arr, bytes, flatIndex([0, 1, 0], arr.shape, false))).toBe('-inf');
  });

  it('does not read a stored entry bigger than 64 KiB, only its header', async () => {
    const bytes = fixtureBytes('large_entry.npz');
    const src = countingSource(bytes);
    const z = await openNpz(src);
    const before = src.bytesRead;
    const arr = await z.array('text');
    expect(arr.data).toMatchObject({ kind: 'region', length: 2 * 50 * 200 * 4 });
    expect(src.bytesRead - before).toBeLessThan(300);
    expect(bytes.length).toBeGreaterThan(65536 + 22); // the EOCD search reads a 64 KiB tail, not the whole file
  });

  it('header() of a deflated entry inflates only its start', async () => {
    const bytes = fixtureBytes('mmsa_compressed.npz');
    const src = countingSource(bytes);
    const z = await openNpz(src);
    const before = src.bytesRead;
    const h = await z.header('train/text');
    expect(h).toMatchObject({ shape: [6, 5, 8], fortran: false, dtype: { str: '<f4' } });
    expect(src.bytesRead - before).toBeLessThan(z.entries[0].compressedSize + 100);
  });

  it('reports progress and honours an aborted signal', async () => {
    const z = await openNpz(fixtureSource('mmsa_compressed.npz'));
    const seen: number[] = [];
    await z.array('train/text', { onProgress: (n) => seen.push(n) });
    expect(seen.at(-1)).toBe(z.entries[0].compressedSize);
    const ac = new AbortController();
    ac.abort();
    await expect(z.array('train/text', { signal: ac.signal })).rejects.toBeInstanceOf(ReadCancelled);
    await expect(openNpz(fixtureSource('mmsa_compressed.npz'), { signal: ac.signal })).rejects.toBeInstanceOf(
      ReadCancelled,
    );
  });

  it('an abort during inflation stops it with ReadCancelled', async () => {
    const ac = new AbortController();
    const bytes = buildZip([{ name: 'x.npy', data: fixtureBytes('v2.npy'), method: 8 }]);
    const src: ByteSource = {
      name: 'x.npz',
      size: bytes.length,
      read: async (o, l) => (o > 30 && ac.abort(), bytes.subarray(o, o + l)),
    };
    const z = await openNpz(src);
    await expect(z.array('x', { signal: ac.signal })).rejects.toBeInstanceOf(ReadCancelled);
  });
});

describe.skipIf(!hasPickle)('object arrays in an archive', () => {
  it('reads raw_text (an object array of str) through the pickle reader', async () => {
    const z = await openNpz(fixtureSource('object_rawtext.npz'));
    const arr = await z.array('train/raw_text');
    expect(arr.dtype.str).toBe('|O');
    expect(arr.data).toEqual(['a good film', 'bad', "it's ok, I guess"]);
  });

  it('reads an object array from a deflated entry too', async () => {
    const z = await openNpz(
      bytesSource(buildZip([{ name: 'raw_text.npy', data: fixtureBytes('object.npy'), method: 8 }])),
    );
    expect((await z.array('raw_text')).data).toEqual(['p', 'q']);
  });

  it('object_rawtext.npz with a byte changed at many points: works or FileFormatError', async () => {
    const bytes = fixtureBytes('object_rawtext.npz');
    for (let p = 0; p < bytes.length; p++) {
      const b = bytes.slice();
      b[p] ^= 0xff;
      await outcome(readAll(bytesSource(b, 'object_rawtext.npz')));
    }
  }, 60_000);
});

describe('zip structures numpy does not write', () => {
  const a = fixtureBytes('single.npy');
  const b = fixtureBytes('v2.npy');

  it.each([
    ['zip64 central directory and end records', { zip64Cd: true, zip64Eocd: true }],
    ['zip64 central directory only', { zip64Cd: true }],
    ['an archive comment', { comment: 'written by hand; PK\x05\x06 inside a comment' }],
  ])('%s', async (_, opts) => {
    const bytes = buildZip(
      [
        { name: 'train/a.npy', data: a },
        { name: 'b.npy', data: b, method: 8, localExtra: Uint8Array.from([0x99, 0x99, 4, 0, 1, 2, 3, 4]) },
      ],
      opts,
    );
    const src = bytesSource(bytes, 'hand.npz');
    const z = await openNpz(src);
    expect(z.names).toEqual(['train/a', 'b']);
    const ra = await z.array('train/a');
    expect(sha256(await dataBytes(ra, src))).toBe(manifest.files['single.npy'].arrays[''].sha256);
    const rb = await z.array('b');
    expect(sha256(await dataBytes(rb, src))).toBe(manifest.files['v2.npy'].arrays[''].sha256);
  });

  it('an empty archive has no names', async () => {
    const z = await openNpz(bytesSource(buildZip([]), 'empty.npz'));
    expect(z.names).toEqual([]);
    expect(await formatError(z.array('x'))).toMatch(/no array 'x'.*it has none/);
  });

  it('lists entries that are not .npy but leaves them out of names; reading one is a clear error', async () => {
    const z = await openNpz(
      bytesSource(
        buildZip([
          { name: 'README.txt', data: new TextEncoder().encode('hi') },
          { name: 'dir/', data: new Uint8Array(0) },
          { name: 'x.npy', data: a },
        ]),
        'mixed.npz',
      ),
    );
    expect(z.entries.map((e) => [e.fileName, e.arrayName])).toEqual([
      ['README.txt', null],
      ['dir/', null],
      ['x.npy', 'x'],
    ]);
    expect(z.names).toEqual(['x']);
    expect(await formatError(z.array('README.txt'))).toMatch(/entry 'README\.txt' is not a \.npy array/);
  });

  it('a .npy-named entry that is not a .npy is a FileFormatError', async () => {
    const z = await openNpz(
      bytesSource(
        buildZip([
          { name: 'x.npy', data: new TextEncoder().encode('not numpy') },
          { name: 'y.npy', data: new TextEncoder().encode('not numpy'), method: 8 },
        ]),
      ),
    );
    expect(await formatError(z.array('x'))).toMatch(/not a \.npy array/);
    expect(await formatError(z.array('y'))).toMatch(/not a \.npy array/);
  });

  it('names other compression methods and refuses encryption', async () => {
    const z = await openNpz(
      bytesSource(
        buildZip([
          { name: 'bz.npy', data: a, method: 12 },
          { name: 'lz.npy', data: a, method: 14 },
          { name: 'm77.npy', data: a, method: 77 },
          { name: 'enc.npy', data: a, flags: 1 },
        ]),
        'odd.npz',
      ),
    );
    expect(await formatError(z.array('bz'))).toMatch(
      /odd\.npz: 'bz' is compressed with bzip2 \(method 12\); only stored/,
    );
    expect(await formatError(z.array('lz'))).toMatch(/LZMA \(method 14\)/);
    expect(await formatError(z.array('m77'))).toMatch(/method 77/);
    expect(await formatError(z.header('enc'))).toMatch(/encrypted/);
  });

  it('refuses two entries with the same name', async () => {
    expect(
      await formatError(
        openNpz(
          bytesSource(
            buildZip([
              { name: 'x.npy', data: a },
              { name: 'x.npy', data: b },
            ]),
          ),
        ),
      ),
    ).toMatch(/two entries named 'x\.npy'/);
  });

  it('decodes code page 437 names when the UTF-8 flag is off', async () => {
    const z = await openNpz(bytesSource(buildZip([{ name: 'caf\u00e9.npy', data: a, flags: 0x800 }])));
    expect(z.names).toEqual(['café']);
    const raw = buildZip([{ name: 'cafX.npy', data: a, flags: 0 }]);
    raw.forEach((c, i) => c === 0x58 && (raw[i] = 0x82)); // 'X' → 0x82 = 'é' in CP437
    expect((await openNpz(bytesSource(raw))).names).toEqual(['café']);
  });

  it('crc32 is the IEEE CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

describe('damaged and forged archives', () => {
  it('non-zip input is "not a .npz (zip) archive"', async () => {
    for (const bytes of [
      new Uint8Array(0),
      new TextEncoder().encode('hello world, not a zip'),
      fixtureBytes('single.npy'),
      new Uint8Array([0x50, 0x4b]),
    ]) {
      expect(await formatError(openNpz(bytesSource(bytes, 'x.npz')))).toMatch(/x\.npz: not a \.npz \(zip\) archive/);
    }
  });

  it('isZip / isNpy tell the formats apart', () => {
    expect(isZip(fixtureBytes('mmsa_slash.npz').subarray(0, 8))).toBe(true);
    expect(isZip(buildZip([]))).toBe(true);
    expect(isZip(fixtureBytes('single.npy'))).toBe(false);
    expect(isNpy(fixtureBytes('single.npy'))).toBe(true);
    expect(isZip(new Uint8Array([0x50, 0x4b, 3]))).toBe(false);
  });

  it.each(['mmsa_slash.npz', 'mmsa_compressed.npz'])(
    '%s truncated at many points: always FileFormatError',
    async (file) => {
      const bytes = fixtureBytes(file);
      const cuts = new Set<number>();
      for (let c = 0; c < bytes.length; c += 29) cuts.add(c);
      for (let c = Math.max(0, bytes.length - 200); c < bytes.length; c++) cuts.add(c); // every cut through the directory
      for (const cut of cuts) {
        // A file that really is shorter…
        expect(await outcome(readAll(bytesSource(bytes.slice(0, cut), file))), `cut at ${cut}`).toBe('format');
        // …and one whose reads come up short (the directory is intact, the data is not).
        const r = await outcome(readAll(shortSource(bytes, cut, file)));
        if (file === 'mmsa_compressed.npz') expect(r, `short reads from ${cut}`).toBe('format');
      }
    },
    60_000,
  );

  it.each(['mmsa_slash.npz', 'mmsa_compressed.npz', 'dtypes.npz'])(
    '%s with a byte changed at many points: works or FileFormatError',
    async (file) => {
      const bytes = fixtureBytes(file);
      const step = Math.max(1, Math.floor(bytes.length / 300));
      let failures = 0;
      for (let p = 0; p < bytes.length; p += step) {
        for (const x of [0xff, 0x01]) {
          const b = bytes.slice();
          b[p] ^= x;
          if ((await outcome(readAll(bytesSource(b, file)))) === 'format') failures++;
        }
      }
      expect(failures).toBeGreaterThan(0);
    },
    60_000,
  );

  it('a forged uncompressed size is refused before allocating (deflate cannot expand that much)', async () => {
    const bytes = fixtureBytes('mmsa_compressed.npz');
    const cd = centralEntries(bytes)[0];
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    v.setUint32(cd + 24, 0xfffffff0, true);
    const t0 = performance.now();
    const z = await openNpz(bytesSource(bytes, 'forged.npz'));
    expect(await formatError(z.array('train/text'))).toMatch(
      /declares 4294967280 bytes uncompressed from only \d+ compressed bytes/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a deflated entry must inflate to exactly its declared size, with the right CRC', async () => {
    for (const [delta, msg] of [
      [+10, /inflates to \d+ bytes, but its header declares/],
      [-10, /inflates to more than the \d+ bytes/],
    ] as const) {
      const bytes = fixtureBytes('mmsa_compressed.npz');
      const cd = centralEntries(bytes)[0];
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      v.setUint32(cd + 24, v.getUint32(cd + 24, true) + delta, true);
      expect(await formatError((await openNpz(bytesSource(bytes))).array('train/text'))).toMatch(msg);
    }
    const bytes = fixtureBytes('mmsa_compressed.npz');
    const cd = centralEntries(bytes)[0];
    bytes[cd + 16] ^= 1;
    expect(await formatError((await openNpz(bytesSource(bytes))).array('train/text'))).toMatch(/CRC-32 mismatch/);
  });

  it('a forged compressed size or offset is refused', async () => {
    let bytes = fixtureBytes('mmsa_slash.npz');
    let cd = centralEntries(bytes)[0];
    let v = new DataView(bytes.buffer, bytes.byteOffset);
    v.setUint32(cd + 20, 0x7ffffff0, true);
    v.setUint32(cd + 24, 0x7ffffff0, true);
    // Refused when the directory is read: the forged size would overlap the next entry.
    expect(await formatError(openNpz(bytesSource(bytes)).then((z) => z.array('train/text')))).toMatch(
      /entries 'train\/text.npy' and 'train\/audio.npy' overlap/,
    );

    bytes = fixtureBytes('mmsa_slash.npz');
    cd = centralEntries(bytes)[1];
    v = new DataView(bytes.buffer, bytes.byteOffset);
    v.setUint32(cd + 42, 3, true); // local header offset points into the middle of an entry
    expect(await formatError(openNpz(bytesSource(bytes)).then((z) => z.array('train/audio')))).toMatch(
      /no local file header at offset 3|overlap/,
    );

    bytes = fixtureBytes('mmsa_slash.npz');
    v = new DataView(bytes.buffer, bytes.byteOffset);
    v.setUint32(bytes.length - 22 + 12, 0x7fffffff, true); // central directory size
    expect(await formatError(openNpz(bytesSource(bytes)))).toMatch(/central directory .* runs past its end/);
  });

  it('a stored .npy whose shape needs more bytes than the entry holds is refused', async () => {
    const bytes = fixtureBytes('mmsa_slash.npz');
    const text = new TextDecoder('latin1').decode(bytes);
    const at = text.indexOf("'shape': (6, 5, 8)");
    expect(at).toBeGreaterThan(0);
    bytes.set(new TextEncoder().encode("'shape': (9, 5, 8)"), at);
    expect(await formatError((await openNpz(bytesSource(bytes, 'f.npz'))).array('train/text'))).toMatch(
      /'train\/text': shape \(9, 5, 8\) of <f4 needs 1440 bytes of data but only 960 bytes follow/,
    );
  });
});

describe.skipIf(!hasMosi)('the real MOSI features (../shared/data)', () => {
  it("reads every entry of mosi_declare_features.npz with numpy's values", async () => {
    const bytes = new Uint8Array(readFileSync(MOSI));
    const src = bytesSource(bytes, 'mosi_declare_features.npz');
    const z = await openNpz(src);
    expect(z.names).toEqual([
      'segment_id',
      'text',
      'audio',
      'video',
      'sentiment',
      'binary',
      'std_split',
      'declare_split',
    ]);
    expect(z.entries.every((e) => e.method === 8)).toBe(true);
    const shapes: Record<string, [string, number[]]> = {
      segment_id: ['<U14', [2199]],
      text: ['<f4', [2199, 100]],
      audio: ['<f4', [2199, 73]],
      video: ['<f4', [2199, 100]],
      sentiment: ['<f4', [2199]],
      binary: ['|i1', [2199]],
      std_split: ['<U5', [2199]],
      declare_split: ['<U5', [2199]],
    };
    const arrays = new Map<string, [NdArray, Uint8Array]>();
    for (const name of z.names) {
      expect(await z.header(name)).toMatchObject({ dtype: { str: shapes[name][0] }, shape: shapes[name][1] });
      const arr = await z.array(name);
      expect([arr.dtype.str, arr.shape]).toEqual(shapes[name]);
      arrays.set(name, [arr, await dataBytes(arr, src)]);
    }
    const at = (name: string, ...idx: number[]) => {
      const [arr, b] = arrays.get(name)!;
      return elementAt(arr, b, flatIndex(idx, arr.shape, arr.fortran));
    };
    // Values from numpy 2.4 (np.load(...)[name][idx], as Python floats).
    expect(at('text', 0, 0)).toBe(-0.5717840194702148);
    expect(at('text', 1000, 50)).toBe(-0.10933800041675568);
    expect(at('text', 2198, 99)).toBe(0.012288900092244148);
    expect(at('audio', 0, 0)).toBe(Math.fround(211.09)); // 211.08999633789062, float32;
    expect(at('audio', 2198, 72)).toBe(-0.010879999957978725);
    expect(at('video', 0, 1)).toBe(1.3862799406051636);
    expect(at('sentiment', 0)).toBe(2.4000000953674316);
    expect(at('sentiment', 2198)).toBe(0.6000000238418579);
    expect([0, 1, 2, 3, 4].map((i) => at('binary', i))).toEqual([1, 0, 0, 0, 1]);
    expect(at('segment_id', 0)).toBe('03bSnISJMiM_1');
    expect(at('segment_id', 2198)).toBe('zhpQhgha_KU_35');
    const count = (name: string, value: string) =>
      Array.from({ length: 2199 }, (_, i) => at(name, i)).filter((x) => x === value).length;
    expect(count('std_split', 'train')).toBe(1284);
    expect(count('declare_split', 'train')).toBe(1447);
    expect(Array.from({ length: 2199 }, (_, i) => at('binary', i) as number).reduce((s, x) => s + x, 0)).toBe(1176);
  });
});
