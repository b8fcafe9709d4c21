/**
 * Hostile and oversized inputs for limits.test.ts, generated in memory (or not at all: a VirtualSource
 * makes up its bytes when they are read, so a 400 MB array or a 200 MB pickle line costs nothing
 * until a reader asks for it). Small writers for .npy, zip (with the lies hostile archives tell:
 * declared sizes, names and offsets) and protocol-4 pickles of MMSA dicts.
 */
import { constants, deflateRawSync } from 'node:zlib';
import { crc32 } from '../npz.ts';
import type { ByteSource } from '../source.ts';

const enc = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Sources whose bytes are made up on demand

/** A piece of a virtual file: real bytes, or `length` bytes of one value. */
export type Segment = Uint8Array | { length: number; fill: number };

/** A ByteSource over segments; filled segments are never allocated beyond the range asked for. */
export function virtualSource(segments: Segment[], name = 'virtual'): ByteSource & { bytesRead: () => number } {
  const starts: number[] = [];
  let size = 0;
  for (const s of segments) {
    starts.push(size);
    size += s.length;
  }
  let bytesRead = 0;
  return {
    name,
    size,
    bytesRead: () => bytesRead,
    read: async (offset, length) => {
      const start = Math.max(0, Math.min(offset, size));
      const end = Math.max(start, Math.min(offset + length, size));
      const out = new Uint8Array(end - start);
      bytesRead += out.length;
      for (let k = 0; k < segments.length; k++) {
        const s0 = starts[k];
        const s = segments[k];
        const a = Math.max(start, s0);
        const b = Math.min(end, s0 + s.length);
        if (a >= b) continue;
        if (s instanceof Uint8Array) out.set(s.subarray(a - s0, b - s0), a - start);
        else out.fill(s.fill, a - start, b - start);
      }
      return out;
    },
  };
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// .npy

/** A .npy header (version 1.0 unless it needs 2.0), padded with spaces to `pad` bytes in all. */
export function npyHeader(descr: string, shape: number[], opts: { fortran?: boolean; pad?: number } = {}): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const want = opts.pad ?? Math.ceil((dict.length + 11) / 64) * 64;
  const v2 = want - 10 > 0xffff;
  const pre = v2 ? 12 : 10;
  dict = dict.padEnd(want - pre - 1, ' ') + '\n';
  const out = new Uint8Array(pre + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, v2 ? 2 : 1, 0]);
  const n = dict.length;
  if (v2) out.set([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24], 8);
  else out.set([n & 255, n >>> 8], 8);
  out.set(enc.encode(dict), pre);
  return out;
}

export function f32(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

export function npy(descr: string, shape: number[], data: Uint8Array, fortran = false): Uint8Array {
  return concat([npyHeader(descr, shape, { fortran }), data]);
}

// ---------------------------------------------------------------------------------------------
// A small valid MMSA dataset (aligned, L 5; D 8/3/4; N 6/3/4), as named float32 arrays.

export interface Arr {
  shape: number[];
  values: Float32Array;
}

export function mmsaArrays(scale = 1): Record<string, Record<string, Arr>> {
  const sizes = { train: 6, valid: 3, test: 4 };
  let seed = 1;
  const rnd = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647 - 0.5;
  };
  const arr = (shape: number[], f: (i: number) => number): Arr => {
    const n = shape.reduce((a, b) => a * b, 1);
    return { shape, values: Float32Array.from({ length: n }, (_, i) => f(i)) };
  };
  const out: Record<string, Record<string, Arr>> = {};
  for (const [split, n] of Object.entries(sizes)) {
    out[split] = {
      text: arr([n, 5, 8], () => rnd()),
      audio: arr([n, 5, 3], () => rnd() * scale),
      vision: arr([n, 5, 4], () => rnd()),
      regression_labels: arr([n], (i) => ((i % 7) - 3) * 0.5),
    };
  }
  return out;
}

/** Entries 'train/text.npy' … of a dataset, as stored .npy bytes. */
export function mmsaEntries(arrays = mmsaArrays(), sep = '/'): ZipEntry[] {
  const out: ZipEntry[] = [];
  for (const [split, fields] of Object.entries(arrays))
    for (const [field, a] of Object.entries(fields))
      out.push({ name: `${split}${sep}${field}.npy`, data: npy('<f4', a.shape, f32(a.values)) });
  return out;
}

// ---------------------------------------------------------------------------------------------
// zip

export interface ZipEntry {
  name: string;
  /** The entry's bytes (stored, or deflated here when method is 8), or a made-up run of one byte. */
  data?: Segment;
  method?: 0 | 8;
  /** Already-deflated bytes (method 8); `size` is then the declared uncompressed size. */
  deflated?: Uint8Array;
  size?: number;
  crc?: number;
  /** Name in the local header, when it should differ from the directory's. */
  localName?: string;
  /** Point the directory entry at another entry's local header (by index) instead of its own. */
  sameDataAs?: number;
}

function u16(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** A zip (zip64 sizes where needed) as segments, so made-up data stays virtual. */
export function zipSegments(entries: ZipEntry[]): Segment[] {
  const segs: Segment[] = [];
  let pos = 0;
  const push = (s: Segment) => {
    segs.push(s);
    pos += s.length;
  };
  const central: number[] = [];
  const offsets: number[] = [];
  for (const e of entries) {
    const name = [...enc.encode(e.name)];
    let body: Segment;
    let size: number;
    let crc = 0;
    const method = e.deflated || e.method === 8 ? 8 : 0;
    if (e.deflated) {
      body = e.deflated;
      size = e.size ?? 0;
      crc = e.crc ?? 0;
    } else if (method === 8) {
      const raw = (e.data ?? new Uint8Array(0)) as Uint8Array;
      body = new Uint8Array(deflateRawSync(raw));
      size = raw.length;
      crc = crc32(raw);
    } else {
      body = e.data ?? new Uint8Array(0);
      size = body.length;
      crc = body instanceof Uint8Array ? crc32(body) : 0;
    }
    const csize = body.length;
    const big = size >= 0xffffffff || csize >= 0xffffffff;
    const zip64 = [...u16(1), ...u16(16), ...u32(size % 2 ** 32), ...u32(Math.floor(size / 2 ** 32))];
    zip64.push(...u32(csize % 2 ** 32), ...u32(Math.floor(csize / 2 ** 32)));
    const lho = pos;
    offsets.push(lho);
    if (e.sameDataAs === undefined) {
      const lname = [...enc.encode(e.localName ?? e.name)];
      const lextra = big ? zip64 : [];
      push(
        new Uint8Array([
          ...u32(0x04034b50),
          ...u16(45),
          ...u16(0x800),
          ...u16(method),
          ...u16(0),
          ...u16(0x21),
          ...u32(crc),
          ...u32(big ? 0xffffffff : csize),
          ...u32(big ? 0xffffffff : size),
          ...u16(lname.length),
          ...u16(lextra.length),
          ...lname,
          ...lextra,
        ]),
      );
      push(body);
    }
    const cextra = big ? zip64 : [];
    central.push(
      ...u32(0x02014b50),
      ...u16(45),
      ...u16(45),
      ...u16(0x800),
      ...u16(method),
      ...u16(0),
      ...u16(0x21),
      ...u32(crc),
      ...u32(big ? 0xffffffff : csize),
      ...u32(big ? 0xffffffff : size),
      ...u16(name.length),
      ...u16(cextra.length),
      ...u16(0),
      ...u16(0),
      ...u16(0),
      ...u32(0),
      ...u32(e.sameDataAs === undefined ? lho : offsets[e.sameDataAs]),
      ...name,
      ...cextra,
    );
  }
  const cdOffset = pos;
  push(new Uint8Array(central));
  push(
    new Uint8Array([
      ...u32(0x06054b50),
      ...u16(0),
      ...u16(0),
      ...u16(entries.length),
      ...u16(entries.length),
      ...u32(central.length),
      ...u32(cdOffset),
      ...u16(0),
    ]),
  );
  return segs;
}

export function zipSource(entries: ZipEntry[], name = 'hostile.npz') {
  return virtualSource(zipSegments(entries), name);
}

/**
 * A raw deflate stream of `head` followed by `zeros` zero bytes, built from one compressed MiB
 * repeated (sync-flushed blocks can be concatenated): a 1 GiB entry costs about 1 MB here.
 */
export function deflatedZeros(head: Uint8Array, zeros: number): Uint8Array {
  const MiB = 1 << 20;
  if (zeros % MiB) throw new Error('zeros must be whole MiB');
  const flush = { finishFlush: constants.Z_SYNC_FLUSH };
  const first = new Uint8Array(deflateRawSync(head, flush));
  const block = new Uint8Array(deflateRawSync(new Uint8Array(MiB), flush));
  const last = new Uint8Array([0x03, 0x00]); // an empty final block
  const parts = [first];
  for (let k = 0; k < zeros / MiB; k++) parts.push(block);
  parts.push(last);
  return concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Protocol-4 pickles of MMSA-shaped dicts

type PkValue = number | string | Arr | Map<string, PkValue>;

/** pickle.dumps(value, protocol=4) of dicts, strs, small ints and float32 arrays (no FRAME, no memo). */
export function pickle4(value: PkValue): Uint8Array {
  const out: number[] = [0x80, 4];
  const parts: Uint8Array[] = [];
  const flush = () => {
    parts.push(new Uint8Array(out));
    out.length = 0;
  };
  const str = (s: string) => {
    const b = enc.encode(s);
    if (b.length < 256) out.push(0x8c, b.length, ...b);
    else {
      out.push(0x58, ...u32(b.length));
      flush();
      parts.push(b);
    }
  };
  const write = (v: PkValue) => {
    if (typeof v === 'number') out.push(0x4b, v); // BININT1
    else if (typeof v === 'string') str(v);
    else if (v instanceof Map) {
      out.push(0x7d); // EMPTY_DICT
      const items = [...v];
      for (let k = 0; k < items.length; k += 1000) {
        out.push(0x28); // MARK
        for (const [key, val] of items.slice(k, k + 1000)) {
          str(key);
          write(val);
        }
        out.push(0x75); // SETITEMS
      }
    } else {
      str('numpy.core.multiarray');
      str('_reconstruct');
      out.push(0x93);
      str('numpy');
      str('ndarray');
      out.push(0x93, 0x4b, 0, 0x85, 0x43, 1, 0x62, 0x87, 0x52, 0x28, 0x4b, 1, 0x28);
      for (const d of v.shape) out.push(0x4a, ...u32(d));
      out.push(0x74);
      str('numpy');
      str('dtype');
      out.push(0x93);
      str('f4');
      out.push(0x89, 0x88, 0x87, 0x52, 0x28, 0x4b, 3);
      str('<');
      out.push(0x4e, 0x4e, 0x4e, 0x4a, ...u32(0xffffffff), 0x4a, ...u32(0xffffffff), 0x4b, 0, 0x74, 0x62, 0x89);
      const data = new Uint8Array(v.values.buffer, v.values.byteOffset, v.values.byteLength);
      out.push(0x42, ...u32(data.length)); // BINBYTES
      flush();
      parts.push(data);
      out.push(0x74, 0x62);
    }
  };
  write(value);
  out.push(0x2e);
  flush();
  return concat(parts);
}

/** The MMSA dict of mmsaArrays() as a pickle, with `extra` more fields in the train split. */
export function mmsaPickle(extra: Map<string, PkValue> = new Map(), arrays = mmsaArrays()): Uint8Array {
  const root = new Map<string, PkValue>();
  for (const [split, fields] of Object.entries(arrays)) {
    const m = new Map<string, PkValue>(Object.entries(fields));
    if (split === 'train') for (const [k, v] of extra) m.set(k, v);
    root.set(split, m);
  }
  return pickle4(root);
}
