/**
 * Test helpers for the .npy/.npz readers: the fixture manifest written by
 * scripts/make_npz_fixtures.py, and an element decoder written independently of the app's own
 * conversion code, so a test compares file bytes against numpy's values and nothing else.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { NdArray } from '../pyvalue.ts';
import { bytesSource, FileFormatError, type ByteSource } from '../source.ts';

export const FIXTURE_DIR = fileURLToPath(new URL('./npz', import.meta.url));

export type JsonValue = number | string | boolean;
export interface ArrayInfo {
  dtype: string;
  shape: number[];
  fortran: boolean;
  nbytes?: number;
  sha256?: string;
  samples?: [number[], JsonValue][];
  items?: JsonValue[];
}
export interface Manifest {
  numpy: string;
  files: Record<string, { kind: 'npz' | 'npy'; names?: string[]; arrays: Record<string, ArrayInfo> }>;
}

export const manifest: Manifest = JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8'));

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURE_DIR, name)));
}
export function fixtureSource(name: string): ByteSource {
  return bytesSource(fixtureBytes(name), name);
}

/** A source that counts the bytes it hands out (to prove that regions are not read). */
export function countingSource(bytes: Uint8Array, name = 'counted'): ByteSource & { bytesRead: number } {
  const inner = bytesSource(bytes, name);
  const s = {
    name,
    size: bytes.length,
    bytesRead: 0,
    read: async (offset: number, length: number) => {
      const r = await inner.read(offset, length);
      s.bytesRead += r.length;
      return r;
    },
  };
  return s;
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The element bytes of an array, wherever they are. */
export async function dataBytes(arr: NdArray, src: ByteSource): Promise<Uint8Array> {
  const d = arr.data;
  if (d instanceof Uint8Array) return d;
  if (Array.isArray(d)) throw new Error('object array has no bytes');
  return (await src.read(d.offset, d.length)).slice();
}

/** Offset (in elements) of a multi-index in C or Fortran order. */
export function flatIndex(idx: number[], shape: number[], fortran: boolean): number {
  let off = 0;
  if (fortran) for (let k = shape.length - 1; k >= 0; k--) off = off * shape[k] + idx[k];
  else for (let k = 0; k < shape.length; k++) off = off * shape[k] + idx[k];
  return off;
}

function half(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const f = bits & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** One element, as the manifest writes it (non-finite floats and big integers as strings). */
export function elementAt(arr: NdArray, bytes: Uint8Array, i: number): JsonValue {
  const { kind, itemsize, littleEndian: le } = arr.dtype;
  const at = i * itemsize;
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, itemsize);
  const num = (x: number): JsonValue => (Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : x);
  const big = (x: bigint): JsonValue => (x <= 2n ** 53n && x >= -(2n ** 53n) ? Number(x) : x.toString());
  switch (kind) {
    case 'f':
      return num(itemsize === 2 ? half(v.getUint16(0, le)) : itemsize === 4 ? v.getFloat32(0, le) : v.getFloat64(0, le));
    case 'i':
      return itemsize === 1 ? v.getInt8(0) : itemsize === 2 ? v.getInt16(0, le) : itemsize === 4 ? v.getInt32(0, le) : big(v.getBigInt64(0, le));
    case 'u':
      return itemsize === 1 ? v.getUint8(0) : itemsize === 2 ? v.getUint16(0, le) : itemsize === 4 ? v.getUint32(0, le) : big(v.getBigUint64(0, le));
    case 'b':
      return v.getUint8(0) !== 0;
    case 'U': {
      let s = '';
      for (let k = 0; k < itemsize; k += 4) {
        const c = v.getUint32(k, le);
        if (c === 0) break; // numpy pads with NULs
        s += String.fromCodePoint(c);
      }
      return s;
    }
    case 'S': {
      let s = '';
      for (let k = 0; k < itemsize && v.getUint8(k) !== 0; k++) s += String.fromCharCode(v.getUint8(k));
      return s;
    }
    default:
      throw new Error(`no element decoding for ${arr.dtype.str}`);
  }
}

/** Checks dtype, shape, order, the exact bytes and the sample values of an array against the manifest. */
export async function expectMatches(arr: NdArray, info: ArrayInfo, src: ByteSource): Promise<void> {
  expect(arr.kind).toBe('ndarray');
  expect(arr.dtype.str).toBe(info.dtype);
  expect(arr.shape).toEqual(info.shape);
  expect(arr.fortran).toBe(info.fortran);
  if (info.items) {
    expect(arr.data).toEqual(info.items);
    return;
  }
  const bytes = await dataBytes(arr, src);
  expect(bytes.length).toBe(info.nbytes);
  expect(sha256(bytes)).toBe(info.sha256);
  for (const [idx, value] of info.samples ?? []) {
    expect(elementAt(arr, bytes, flatIndex(idx, info.shape, info.fortran)), `${info.dtype}[${idx}]`).toEqual(value);
  }
}

/** The message of the FileFormatError a promise rejects with (fails the test on anything else). */
export async function formatError(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, 'expected a FileFormatError').toBeInstanceOf(FileFormatError);
  return (e as Error).message;
}
