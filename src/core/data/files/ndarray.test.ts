import { describe, expect, it } from 'vitest';
import { fixtureSource, flatIndex, manifest } from './__fixtures__/npzFixtures.ts';
import { readFloat32 } from './ndarray.ts';
import { readNpy } from './npy.ts';
import { openNpz } from './npz.ts';

// Conversion of every numeric dtype, byte order and memory order to float32, checked against the
// values numpy printed (npz/manifest.json), as the loader sees them: flat C order, Math.fround'd.
const cIndex = (idx: number[], shape: number[]) => flatIndex(idx, shape, false);

describe('readFloat32', () => {
  for (const name of ['bigendian.npy', 'bigendian_i8.npy', 'fortran.npy', 'single.npy']) {
    it(`${name}: every sample numpy recorded`, async () => {
      const s = fixtureSource(name);
      const { data } = await readFloat32(s, await readNpy(s));
      const a = manifest.files[name].arrays[''];
      expect(data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
      for (const [idx, v] of a.samples!) expect(data[cIndex(idx, a.shape)]).toBe(Math.fround(Number(v)));
    });
  }

  it('dtypes.npz: f2, f8, i1–i8, u1–u8, bool and a 0-d array', async () => {
    const s = fixtureSource('dtypes.npz');
    const npz = await openNpz(s);
    for (const key of ['f2', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1', 'scalar']) {
      const a = manifest.files['dtypes.npz'].arrays[key];
      const { data } = await readFloat32(s, await npz.array(key));
      for (const [idx, v] of a.samples!) {
        const want = typeof v === 'boolean' ? Number(v) : Math.fround(Number(v));
        expect(data[idx.length ? cIndex(idx, a.shape) : 0], `${key}[${idx}]`).toBe(want);
      }
    }
  });

  it('reads only the first rows of a subset, and counts non-finite values (−inf → 0 when asked)', async () => {
    const s = fixtureSource('audio_inf.npz');
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
    const s = fixtureSource('dtypes.npz');
    const npz = await openNpz(s);
    await expect(readFloat32(s, await npz.array('U'))).rejects.toThrow(/not numeric/);
  });
});
