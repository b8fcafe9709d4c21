import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readFloat32 } from './ndarray.ts';
import { readNpy } from './npy.ts';
import { openNpz } from './npz.ts';
import { bytesSource } from './source.ts';

// Conversion of every numeric dtype, byte order and memory order to float32, checked against the
// values numpy printed (npz/manifest.json), as the loader sees them: flat C order, Math.fround'd.
const FIX = new URL('./__fixtures__/npz/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIX), 'utf8')).files;
const src = (name: string) => bytesSource(new Uint8Array(readFileSync(new URL(name, FIX))), name);

function flatIndex(idx: number[], shape: number[]): number {
  return idx.reduce((off, i, k) => off * shape[k] + i, 0);
}

describe('readFloat32', () => {
  for (const name of ['bigendian.npy', 'bigendian_i8.npy', 'fortran.npy', 'single.npy']) {
    it(`${name}: every sample numpy recorded`, async () => {
      const s = src(name);
      const { data } = await readFloat32(s, await readNpy(s));
      const a = manifest[name].arrays[''];
      expect(data.length).toBe(a.shape.reduce((x: number, y: number) => x * y, 1));
      for (const [idx, v] of a.samples) expect(data[flatIndex(idx, a.shape)]).toBe(Math.fround(Number(v)));
    });
  }

  it('dtypes.npz: f2, f8, i1–i8, u1–u8, bool and a 0-d array', async () => {
    const s = src('dtypes.npz');
    const npz = await openNpz(s);
    for (const key of ['f2', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1', 'scalar']) {
      const a = manifest['dtypes.npz'].arrays[key];
      const { data } = await readFloat32(s, await npz.array(key));
      for (const [idx, v] of a.samples) {
        const want = typeof v === 'boolean' ? Number(v) : Math.fround(Number(v));
        expect(data[idx.length ? flatIndex(idx, a.shape) : 0], `${key}[${idx}]`).toBe(want);
      }
    }
  });

  it('reads only the first rows of a subset, and counts non-finite values (−inf → 0 when asked)', async () => {
    const s = src('audio_inf.npz');
    const npz = await openNpz(s);
    const arr = await npz.array('train/audio');
    const all = await readFloat32(s, arr);
    expect(all.nonFinite.negInf).toBeGreaterThan(0);
    expect(all.data.some((v) => v === -Infinity)).toBe(true);
    const zeroed = await readFloat32(s, arr, { negInfToZero: true });
    expect(zeroed.nonFinite.negInf).toBe(all.nonFinite.negInf);
    expect(zeroed.data.every((v) => Number.isFinite(v))).toBe(true);
    const first = await readFloat32(s, arr, { rows: 1 });
    expect(Array.from(first.data)).toEqual(Array.from(all.data.subarray(0, arr.shape[1] * arr.shape[2])));
  });

  it('refuses strings', async () => {
    const s = src('dtypes.npz');
    const npz = await openNpz(s);
    await expect(readFloat32(s, await npz.array('U'))).rejects.toThrow(/not numeric/);
  });
});
