/**
 * Turning a file's numpy arrays (NdArray, whose bytes usually still sit in the file) into the float32
 * rows the model trains on — chunk by chunk, so reading a 340 MB MOSI array never holds more than
 * the result and one chunk, and a subset (the first N samples) reads only its prefix.
 */
import type { ByteRegion, NdArray, NpDType, PyValue } from './pyvalue.ts';
import { FileFormatError, ReadCancelled, type ByteSource } from './source.ts';

const CHUNK = 4 << 20; // bytes per read; big enough to amortise Blob.slice, small next to the data

export const NUMERIC_KINDS = new Set(['f', 'i', 'u', 'b']);

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Non-finite values met while converting one array. */
export interface NonFinite {
  nan: number;
  posInf: number;
  negInf: number;
  firstNaN: number; // flat index in the result, −1 if none
  maxAbs: number; // largest |x| among the finite values (the features' scale, for the summary)
}

export interface ReadFloatOptions {
  rows?: number; // only the first `rows` entries of axis 0 (default: all)
  negInfToZero?: boolean; // MMSA's treatment of audio: −inf → 0 (counted, not an error)
  signal?: AbortSignal;
  onBytes?: (bytes: number) => void; // bytes of the source consumed since the last call
}

/**
 * The first `rows` rows of a numeric (or object-of-numbers) array as float32, row-major, with its
 * non-finite values counted. Fortran-order arrays are streamed and scattered: only the result is
 * allocated, whatever the subset.
 */
export async function readFloat32(
  src: ByteSource,
  arr: NdArray,
  opts: ReadFloatOptions = {},
): Promise<{ data: Float32Array; nonFinite: NonFinite }> {
  const shape = arr.shape.length === 0 ? [1] : arr.shape;
  const rows = Math.min(opts.rows ?? shape[0], shape[0]);
  const rowElems = elementCount(shape.slice(1));
  const count = rows * rowElems;
  const out = new Float32Array(count);
  const dt = arr.dtype;

  if (Array.isArray(arr.data)) {
    objectNumbers(arr.data, out, shape, arr.fortran);
  } else if (!NUMERIC_KINDS.has(dt.kind)) {
    throw new FileFormatError(`dtype ${dt.str} is not numeric`);
  } else if (arr.fortran && shape.length > 1) {
    await convertFortran(src, arr, out, shape, rows, opts);
  } else {
    await convertStream(src, arr, out, count, opts);
  }
  return { data: out, nonFinite: scanNonFinite(out, opts.negInfToZero ?? false) };
}

/** Streams `count` elements of the array's bytes into `out`, converting from its dtype. */
async function convertStream(
  src: ByteSource,
  arr: NdArray,
  out: Float32Array,
  count: number,
  opts: ReadFloatOptions,
): Promise<void> {
  const dt = arr.dtype;
  const need = count * dt.itemsize;
  const data = arr.data as ByteRegion | Uint8Array;
  const available = data instanceof Uint8Array ? data.length : data.encoding === 'raw' ? data.length : Infinity;
  if (need > available)
    throw new FileFormatError(`array data has ${available} bytes, expected ${need} for ${count} × ${dt.str}`);
  // f4 in machine order (little-endian everywhere we run): copy bytes straight into the result.
  const direct = dt.kind === 'f' && dt.itemsize === 4 && dt.littleEndian;
  const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  let done = 0; // bytes converted
  let carry: Uint8Array | null = null; // a partial element from the previous chunk
  const sink = (chunk: Uint8Array) => {
    if (direct) {
      outBytes.set(chunk, done);
      done += chunk.length;
      return;
    }
    let bytes = chunk;
    if (carry) {
      bytes = new Uint8Array(carry.length + chunk.length);
      bytes.set(carry);
      bytes.set(chunk, carry.length);
      carry = null;
    }
    const whole = bytes.length - (bytes.length % dt.itemsize);
    if (whole < bytes.length) carry = bytes.slice(whole);
    convertElements(bytes.subarray(0, whole), dt, out, done / dt.itemsize);
    done += whole;
  };
  for await (const chunk of byteChunks(src, data, need, opts)) sink(chunk);
  if (done !== need) throw new FileFormatError(`array data ends after ${done} of ${need} bytes`);
}

/**
 * A Fortran-order array (first index fastest) streamed chunk by chunk; each element whose row is
 * among the first `rows` goes to its C-order place in `out`. Nothing the size of the array is held.
 */
async function convertFortran(
  src: ByteSource,
  arr: NdArray,
  out: Float32Array,
  shape: number[],
  rows: number,
  opts: ReadFloatOptions,
): Promise<void> {
  const dt = arr.dtype;
  const total = elementCount(shape);
  const need = total * dt.itemsize;
  const data = arr.data as ByteRegion | Uint8Array;
  const available = data instanceof Uint8Array ? data.length : data.encoding === 'raw' ? data.length : Infinity;
  if (need > available)
    throw new FileFormatError(`array data has ${available} bytes, expected ${need} for ${total} × ${dt.str}`);
  const N = shape[0];
  const rank = shape.length;
  // C strides of axes 1… within a row; Fortran walks axis 1 fastest after axis 0.
  const cStride = new Array<number>(rank).fill(1);
  for (let k = rank - 2; k >= 1; k--) cStride[k] = cStride[k + 1] * shape[k + 1];
  const rowElems = elementCount(shape.slice(1));
  const idx = new Array<number>(rank).fill(0);
  let i = 0; // index along axis 0
  let coff = 0; // C offset within a row of the current (axis 1…) position
  let tmp = new Float32Array(0);
  let carry: Uint8Array | null = null;
  let done = 0;
  for await (const chunk of byteChunks(src, data, need, opts)) {
    let bytes = chunk;
    if (carry) {
      bytes = new Uint8Array(carry.length + chunk.length);
      bytes.set(carry);
      bytes.set(chunk, carry.length);
      carry = null;
    }
    const whole = bytes.length - (bytes.length % dt.itemsize);
    if (whole < bytes.length) carry = bytes.slice(whole);
    const n = whole / dt.itemsize;
    if (tmp.length < n) tmp = new Float32Array(n);
    convertElements(bytes.subarray(0, whole), dt, tmp, 0);
    for (let e = 0; e < n; e++) {
      if (i < rows) out[i * rowElems + coff] = tmp[e];
      if (++i === N) {
        i = 0;
        for (let k = 1; k < rank; k++) {
          coff += cStride[k];
          if (++idx[k] < shape[k]) break;
          coff -= cStride[k] * shape[k];
          idx[k] = 0;
        }
      }
    }
    done += whole;
  }
  if (done !== need) throw new FileFormatError(`array data ends after ${done} of ${need} bytes`);
}

/** The array's bytes, `need` of them, in chunks (decoding protocol-2 latin1 text on the way). */
async function* byteChunks(
  src: ByteSource,
  data: ByteRegion | Uint8Array,
  need: number,
  opts: ReadFloatOptions,
): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    opts.onBytes?.(need);
    yield data.subarray(0, need);
    return;
  }
  if (data.encoding === 'raw') {
    for (let off = 0; off < need; off += CHUNK) {
      if (opts.signal?.aborted) throw new ReadCancelled();
      const len = Math.min(CHUNK, need - off);
      const chunk = await src.read(data.offset + off, len);
      if (chunk.length < len)
        throw new FileFormatError(
          `the file ends inside an array (at byte ${data.offset + off + chunk.length} of ${src.size})`,
        );
      opts.onBytes?.(len);
      yield chunk;
    }
    return;
  }
  // latin1-utf8: each output byte is one code point < 256, written as 1 or 2 UTF-8 bytes.
  let produced = 0;
  let pending = -1; // lead byte of a 2-byte sequence split across chunks
  for (let off = 0; off < data.length && produced < need; off += CHUNK) {
    if (opts.signal?.aborted) throw new ReadCancelled();
    const len = Math.min(CHUNK, data.length - off);
    const chunk = await src.read(data.offset + off, len);
    if (chunk.length < len)
      throw new FileFormatError(
        `the file ends inside an array (at byte ${data.offset + off + chunk.length} of ${src.size})`,
      );
    opts.onBytes?.(len);
    const bytes = new Uint8Array(Math.min(chunk.length, need - produced));
    let k = 0;
    for (let i = 0; i < chunk.length && k < bytes.length; i++) {
      const b = chunk[i];
      if (pending >= 0) {
        bytes[k++] = ((pending & 0x1f) << 6) | (b & 0x3f);
        pending = -1;
      } else if (b < 0x80) bytes[k++] = b;
      else if (b === 0xc2 || b === 0xc3) pending = b;
      else
        throw new FileFormatError(
          `array bytes (latin-1 text) hold a character above U+00FF at byte ${data.offset + off + i}`,
        );
    }
    produced += k;
    yield bytes.subarray(0, k);
  }
}

let scratch = new ArrayBuffer(1 << 16);

/** Converts whole elements of any numeric dtype to float32 at out[at…]. */
function convertElements(bytes: Uint8Array, dt: NpDType, out: Float32Array, at: number): void {
  const n = bytes.length / dt.itemsize;
  if (!dt.littleEndian && dt.itemsize > 1) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) out[at + i] = readBigEndian(view, i * dt.itemsize, dt);
    return;
  }
  // Copy into an aligned scratch buffer so typed-array views work whatever the chunk's offset.
  if (scratch.byteLength < bytes.length) scratch = new ArrayBuffer(bytes.length);
  new Uint8Array(scratch, 0, bytes.length).set(bytes);
  if (dt.kind === 'f' && dt.itemsize === 2) {
    const half = new Uint16Array(scratch, 0, n);
    for (let i = 0; i < n; i++) out[at + i] = halfToFloat(half[i]);
    return;
  }
  const view = typedView(scratch, dt, n);
  if (view instanceof BigInt64Array || view instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) out[at + i] = Number(view[i]);
  } else {
    for (let i = 0; i < n; i++) out[at + i] = view[i];
  }
}

function typedView(buf: ArrayBuffer, dt: NpDType, n: number) {
  const key = `${dt.kind}${dt.itemsize}`;
  switch (key) {
    case 'f4':
      return new Float32Array(buf, 0, n);
    case 'f8':
      return new Float64Array(buf, 0, n);
    case 'i1':
      return new Int8Array(buf, 0, n);
    case 'i2':
      return new Int16Array(buf, 0, n);
    case 'i4':
      return new Int32Array(buf, 0, n);
    case 'i8':
      return new BigInt64Array(buf, 0, n);
    case 'u1':
    case 'b1':
      return new Uint8Array(buf, 0, n);
    case 'u2':
      return new Uint16Array(buf, 0, n);
    case 'u4':
      return new Uint32Array(buf, 0, n);
    case 'u8':
      return new BigUint64Array(buf, 0, n);
  }
  throw new FileFormatError(`dtype ${dt.str} is not supported`);
}

function readBigEndian(view: DataView, off: number, dt: NpDType): number {
  switch (`${dt.kind}${dt.itemsize}`) {
    case 'f2':
      return halfToFloat(view.getUint16(off));
    case 'f4':
      return view.getFloat32(off);
    case 'f8':
      return view.getFloat64(off);
    case 'i2':
      return view.getInt16(off);
    case 'i4':
      return view.getInt32(off);
    case 'i8':
      return Number(view.getBigInt64(off));
    case 'u2':
      return view.getUint16(off);
    case 'u4':
      return view.getUint32(off);
    case 'u8':
      return Number(view.getBigUint64(off));
  }
  throw new FileFormatError(`dtype ${dt.str} is not supported`);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

function objectNumbers(items: PyValue[], out: Float32Array, shape: number[], fortran: boolean): void {
  const all = fortran ? new Float32Array(items.length) : out;
  const n = fortran ? items.length : out.length;
  for (let i = 0; i < n; i++) {
    const v = items[i];
    if (typeof v === 'number' || typeof v === 'boolean') all[i] = Number(v);
    else if (typeof v === 'bigint') all[i] = Number(v);
    else if (v && typeof v === 'object' && 'kind' in v && v.kind === 'npscalar' && typeof v.value !== 'string')
      all[i] = Number(v.value);
    else throw new FileFormatError(`object array holds a ${describe(v)} at index ${i}, expected numbers`);
  }
  if (fortran) fortranToC(all, shape, out, out.length / elementCount(shape.slice(1)));
}

function fortranToC(src: Float32Array, shape: number[], out: Float32Array, rows: number): void {
  // Fortran order: the first index varies fastest. Walk the C-order result and compute each source index.
  const rank = shape.length;
  const strides = new Array<number>(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    strides[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(rank).fill(0);
  const count = rows * elementCount(shape.slice(1));
  for (let i = 0; i < count; i++) {
    let off = 0;
    for (let k = 0; k < rank; k++) off += idx[k] * strides[k];
    out[i] = src[off];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
}

/** Counts NaN / ±inf; with negInfToZero, −inf becomes 0 in place. */
function scanNonFinite(a: Float32Array, negInfToZero: boolean): NonFinite {
  const r: NonFinite = { nan: 0, posInf: 0, negInf: 0, firstNaN: -1, maxAbs: 0 };
  let maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x - x === 0) {
      // finite: one cheap test per value
      const ax = x < 0 ? -x : x;
      if (ax > maxAbs) maxAbs = ax;
      continue;
    }
    if (x !== x) {
      if (r.nan++ === 0) r.firstNaN = i;
    } else if (x > 0) r.posInf++;
    else {
      r.negInf++;
      if (negInfToZero) a[i] = 0;
    }
  }
  r.maxAbs = maxAbs;
  return r;
}

/** A short name for a value's type in messages. */
export function describe(v: PyValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'number';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  switch (v.kind) {
    case 'ndarray':
      return `array ${v.dtype.str} [${v.shape.join(', ')}]`;
    case 'npscalar':
      return `numpy scalar ${v.dtype.str}`;
    case 'tuple':
      return 'tuple';
    case 'region':
      return 'bytes';
    case 'dtype':
      return 'dtype';
  }
  return 'value';
}
