/**
 * How numpy's pieces are rebuilt from their pickled form: dtypes, array state (BUILD), protocol-5
 * _frombuffer arrays and scalars. Pure data decoding with every size checked against the bytes
 * actually present; which globals may reach these builders is decided in allowlist.ts.
 */
import type { ByteRegion, NdArray, NpDType, NpDTypeValue, NpScalar, PyTuple } from '../pyvalue.ts';
import {
  clean,
  float16,
  isObj,
  latin1Decode,
  latin1Encode,
  MAX_SAFE,
  normInt,
  typeName,
  type Item,
  type Reader,
} from './values.ts';

const INT8: NpDType = { kind: 'i', itemsize: 1, littleEndian: true, str: '|i1' };

/** The empty array numpy's _reconstruct makes; BUILD (arrayState) then sets its real state. */
export function emptyArray(): NdArray {
  return { kind: 'ndarray', dtype: INT8, shape: [0], fortran: false, data: new Uint8Array(0) };
}

function dtypeStr(kind: NpDType['kind'], itemsize: number, little: boolean): string {
  if (kind === 'O') return '|O';
  const order = kind === 'S' || kind === 'b' || (itemsize === 1 && kind !== 'U') ? '|' : little ? '<' : '>';
  return kind === 'U' ? `${order}U${itemsize / 4}` : `${order}${kind}${itemsize}`;
}

/** numpy one-letter type codes without a size ('d', '?', 'B', …) → kind + itemsize. */
const CHAR_CODES: Record<string, [NpDType['kind'], number]> = {
  '?': ['b', 1],
  b: ['i', 1],
  B: ['u', 1],
  h: ['i', 2],
  H: ['u', 2],
  i: ['i', 4],
  I: ['u', 4],
  l: ['i', 8],
  L: ['u', 8],
  q: ['i', 8],
  Q: ['u', 8],
  e: ['f', 2],
  f: ['f', 4],
  d: ['f', 8],
  O: ['O', 8],
  U: ['U', 0],
  S: ['S', 0],
  a: ['S', 0],
};
const SIZES: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1], O: [4, 8] };

/** numpy.dtype('f8', False, True): the kind and size; byte order and flexible sizes come with BUILD. */
export function dtypeSpec(spec: Item, r: Reader): NpDType {
  if (typeof spec !== 'string') throw r.bad(`numpy.dtype of a ${typeName(spec)} is not supported`);
  const m = /^([<>|=]?)([A-Za-z?])(\d*)$/.exec(spec);
  if (!m) throw r.bad(`unsupported numpy dtype ${JSON.stringify(clean(spec.slice(0, 40)))}`);
  const [, order, code, digits] = m;
  let kind: NpDType['kind'];
  let size: number;
  if (digits === '' && code in CHAR_CODES) [kind, size] = CHAR_CODES[code];
  else if ('fiubUSOa'.includes(code) && digits !== '') {
    kind = (code === 'a' ? 'S' : code) as NpDType['kind'];
    size = Number(digits);
    if (!Number.isSafeInteger(size) || size > 2 ** 31) throw r.bad(`dtype size ${digits} is too large`);
    if (kind === 'U') size *= 4;
  } else if (code === 'V') throw r.bad(`structured (record) dtypes are not supported (${spec})`);
  else if (code === 'M' || code === 'm') throw r.bad(`datetime dtypes are not supported (${spec})`);
  else if (code === 'c' || code === 'F' || code === 'D' || code === 'G')
    throw r.bad(`complex dtypes are not supported (${spec})`);
  else throw r.bad(`unsupported numpy dtype ${JSON.stringify(clean(spec))}`);
  if (SIZES[kind] && !SIZES[kind].includes(size))
    throw r.bad(`unsupported numpy dtype ${JSON.stringify(clean(spec))} (no ${size}-byte ${kind} type)`);
  const little = order !== '>';
  return { kind, itemsize: size, littleEndian: little, str: dtypeStr(kind, size, little) };
}

/** dtype state: (version, endian, subarray, names, fields, elsize, alignment, flags[, metadata]) and older forms. */
export function dtypeState(d: NpDTypeValue, state: Item, r: Reader): void {
  if (!isObj(state, 'tuple')) throw r.bad(`dtype state must be a tuple, found ${typeName(state)}`);
  const s = (state as PyTuple).items;
  let endian: Item,
    sub: Item,
    names: Item = null,
    fields: Item,
    elsize: Item;
  if (s.length >= 7 && s.length <= 9) [, endian, sub, names, fields, elsize] = s;
  else if (s.length === 6) [, endian, sub, fields, elsize] = s;
  else if (s.length === 5) [endian, sub, fields, elsize] = s;
  else throw r.bad(`dtype state has ${s.length} items (expected 5 to 9)`);
  if (sub !== null || names !== null || fields !== null)
    throw r.bad('structured (record) and sub-array dtypes are not supported');
  if (endian !== '<' && endian !== '>' && endian !== '|' && endian !== '=')
    throw r.bad(`bad dtype byte order ${typeName(endian) === 'str' ? JSON.stringify(endian) : typeName(endian)}`);
  const t = d.dtype;
  let size = t.itemsize;
  if (t.kind === 'U' || t.kind === 'S') {
    if (typeof elsize !== 'number' || !Number.isSafeInteger(elsize) || elsize < 0 || elsize > 2 ** 31)
      throw r.bad(`bad dtype element size ${typeName(elsize)} ${String(elsize)}`);
    if (t.kind === 'U' && elsize % 4) throw r.bad(`unicode dtype element size ${elsize} is not a multiple of 4`);
    size = elsize;
  }
  const little = endian !== '>';
  d.dtype = { kind: t.kind, itemsize: size, littleEndian: little, str: dtypeStr(t.kind, size, little) };
}

function shapeOf(v: Item, r: Reader): number[] {
  const items = Array.isArray(v)
    ? v
    : isObj(v, 'tuple')
      ? (v as PyTuple).items
      : isObj(v, 'npscalar') || typeof v === 'number'
        ? [v]
        : null;
  if (!items) throw r.bad(`array shape must be a tuple, found ${typeName(v)}`);
  if (items.length > 64) throw r.bad(`array has ${items.length} dimensions (numpy allows 64)`);
  return items.map((x) => {
    const n = isObj(x, 'npscalar') ? (x as NpScalar).value : x;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw r.bad(
        `array shape entry ${typeof n === 'bigint' ? String(n) : typeName(x) === 'int' ? String(n) : typeName(x)} is not a non-negative integer`,
      );
    return n;
  });
}

/** Number of elements; refuses products beyond 2^53 (no file holds that many). */
function count(shape: number[], r: Reader): number {
  let p = 1;
  for (const s of shape) {
    p *= s;
    if (p > MAX_SAFE) throw r.bad(`array shape [${shape.join(', ')}] has too many elements`);
  }
  return p;
}

/** Array state (version, shape, dtype, is_fortran, rawdata), or the older 4-tuple without version. */
export function arrayState(arr: NdArray, state: Item, r: Reader): void {
  if (!isObj(state, 'tuple')) throw r.bad(`array state must be a tuple, found ${typeName(state)}`);
  const s = (state as PyTuple).items;
  if (s.length !== 4 && s.length !== 5) throw r.bad(`array state has ${s.length} items (expected 4 or 5)`);
  const [shapeV, dtypeV, fortranV, raw] = s.length === 5 ? s.slice(1) : s;
  if (!isObj(dtypeV, 'dtype')) throw r.bad(`array state has a ${typeName(dtypeV)} where the dtype belongs`);
  if (typeof fortranV !== 'boolean' && fortranV !== 0 && fortranV !== 1)
    throw r.bad('array fortran-order flag must be a bool');
  fillArray(arr, shapeOf(shapeV, r), (dtypeV as NpDTypeValue).dtype, !!fortranV, raw, r);
}

/** Sets an array's contents after checking that the data holds exactly shape × itemsize bytes. */
function fillArray(arr: NdArray, shape: number[], dtype: NpDType, fortran: boolean, raw: Item, r: Reader): void {
  const n = count(shape, r);
  const where = `array of shape [${shape.join(', ')}] ${dtype.str}`;
  let data: NdArray['data'];
  if (dtype.kind === 'O') {
    if (!Array.isArray(raw)) throw r.bad(`object ${where}: data must be a list of items, found ${typeName(raw)}`);
    if (raw.length !== n) throw r.bad(`object ${where}: found ${raw.length} items, expected ${n}`);
    data = raw;
  } else {
    const expected = n * dtype.itemsize;
    if (expected > MAX_SAFE) throw r.bad(`${where} is too large`);
    const found =
      raw instanceof Uint8Array
        ? raw.length
        : typeof raw === 'string'
          ? raw.length
          : isObj(raw, 'region')
            ? (raw as ByteRegion).length
            : -1;
    if (found < 0) throw r.bad(`${where}: data must be bytes, found ${typeName(raw)}`);
    let region = isObj(raw, 'region') ? (raw as ByteRegion) : null;
    // A lazy str used directly as data (numpy latin1-encodes a str) is UTF-8 of latin1 code points.
    if (region && r.isText(region)) region = { ...region, encoding: 'latin1-utf8' };
    if (region?.encoding === 'latin1-utf8') {
      // The UTF-8 form of n latin1 code points takes n to 2n bytes; the exact count needs the bytes.
      if (found < expected || found > 2 * expected)
        throw r.bad(
          `${where}: data is ${found} bytes of latin1 text, but ${expected} bytes need ${expected}–${2 * expected}`,
        );
    } else if (found !== expected) {
      throw r.bad(`${where}: data is ${found} bytes, expected ${n} × ${dtype.itemsize} = ${expected}`);
    }
    data = typeof raw === 'string' ? (r.spend(raw.length), latin1Encode(raw, r)) : (region ?? (raw as Uint8Array));
  }
  arr.dtype = dtype;
  arr.shape = shape;
  arr.fortran = fortran;
  arr.data = data;
}

/** Protocol 5 in-band: _frombuffer(bytearray, dtype, shape, order[, axis_order]). */
export function frombuffer(args: Item[], r: Reader): NdArray {
  const [buf, dtypeV, shapeV, order, axisOrder] = args;
  if (!isObj(dtypeV, 'dtype')) throw r.bad(`_frombuffer needs a dtype, found ${typeName(dtypeV)}`);
  const dtype = (dtypeV as NpDTypeValue).dtype;
  if (dtype.kind === 'O') throw r.bad('_frombuffer of an object array is not possible');
  const shape = shapeOf(shapeV, r);
  if (typeof buf === 'string') throw r.bad('_frombuffer needs bytes, found a str');
  const arr = emptyArray();
  if (order === 'K' && axisOrder !== undefined && axisOrder !== null) {
    // numpy 2 writes an array stored in a permuted axis order as reshape(shape, 'C').transpose(axis_order).
    const ax = shapeOf(axisOrder, r);
    if (ax.length !== shape.length || [...ax].sort((x, y) => x - y).some((a, k) => a !== k))
      throw r.bad('_frombuffer axis order is not a permutation of the axes');
    fillArray(arr, shape, dtype, false, buf, r);
    const out = ax.map((a) => shape[a]);
    if (ax.every((a, k) => a === k)) return arr;
    if (ax.every((a, k) => a === ax.length - 1 - k)) {
      arr.shape = out; // the transpose of a C-order array is the Fortran-order array of the reversed shape
      arr.fortran = true;
      return arr;
    }
    if (!(arr.data instanceof Uint8Array))
      throw r.bad(
        `array stored in axis order (${ax.join(', ')}) is too large to rearrange while reading; save it with numpy.ascontiguousarray`,
      );
    arr.data = transpose(arr.data, shape, ax, dtype.itemsize, r);
    arr.shape = out;
    return arr;
  }
  if (order !== 'C' && order !== 'F' && order !== 'A' && order !== 'K')
    throw r.bad(`_frombuffer order ${typeName(order)} is not supported`);
  fillArray(arr, shape, dtype, order === 'F', buf, r);
  return arr;
}

/** C-order bytes of x.transpose(ax), x being C-order data of the given shape. */
function transpose(src: Uint8Array, shape: number[], ax: number[], itemsize: number, r: Reader): Uint8Array {
  r.spend(src.length);
  const nd = shape.length;
  const cStride = new Array<number>(nd);
  for (let k = nd - 1, s = itemsize; k >= 0; k--) {
    cStride[k] = s;
    s *= shape[k];
  }
  const outShape = ax.map((a) => shape[a]);
  const stride = ax.map((a) => cStride[a]); // source step for each output axis
  const out = new Uint8Array(src.length);
  const idx = new Array<number>(nd).fill(0);
  let from = 0;
  for (let o = 0; o < out.length; o += itemsize) {
    out.set(src.subarray(from, from + itemsize), o);
    for (let k = nd - 1; k >= 0; k--) {
      // odometer over the output index
      from += stride[k];
      if (++idx[k] < outShape[k]) break;
      from -= stride[k] * outShape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** numpy scalar(dtype, bytes): the value decoded (for an object dtype numpy returns the item itself). */
export function scalar(dtypeV: Item, raw: Item, r: Reader): Item {
  if (!isObj(dtypeV, 'dtype')) throw r.bad(`numpy scalar needs a dtype, found ${typeName(dtypeV)}`);
  const dt = (dtypeV as NpDTypeValue).dtype;
  if (dt.kind === 'O') return raw === undefined ? null : raw;
  let bytes: Uint8Array;
  if (raw instanceof Uint8Array) bytes = raw;
  else if (typeof raw === 'string') {
    r.spend(raw.length);
    bytes = latin1Encode(raw, r);
  } else if (isObj(raw, 'region'))
    throw r.bad(`numpy ${dt.str} scalar: data of ${(raw as ByteRegion).length} bytes is too large`);
  else throw r.bad(`numpy scalar data must be bytes, found ${typeName(raw)}`);
  if (bytes.length !== dt.itemsize)
    throw r.bad(`numpy ${dt.str} scalar: data is ${bytes.length} bytes, expected ${dt.itemsize}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dt.littleEndian;
  let value: NpScalar['value'];
  switch (dt.kind) {
    case 'f':
      value =
        dt.itemsize === 2 ? float16(v.getUint16(0, le)) : dt.itemsize === 4 ? v.getFloat32(0, le) : v.getFloat64(0, le);
      break;
    case 'i':
      value =
        dt.itemsize === 1
          ? v.getInt8(0)
          : dt.itemsize === 2
            ? v.getInt16(0, le)
            : dt.itemsize === 4
              ? v.getInt32(0, le)
              : normInt(v.getBigInt64(0, le));
      break;
    case 'u':
      value =
        dt.itemsize === 1
          ? v.getUint8(0)
          : dt.itemsize === 2
            ? v.getUint16(0, le)
            : dt.itemsize === 4
              ? v.getUint32(0, le)
              : normInt(v.getBigUint64(0, le));
      break;
    case 'b':
      value = bytes[0] !== 0;
      break;
    case 'U': {
      let s = '';
      for (let k = 0; k < bytes.length; k += 4) {
        const cp = v.getUint32(k, le);
        if (cp > 0x10ffff) throw r.bad(`numpy str scalar holds an invalid code point 0x${cp.toString(16)}`);
        s += String.fromCodePoint(cp);
      }
      value = s.replace(/\0+$/, ''); // numpy strips trailing NULs
      break;
    }
    default: // 'S'
      value = latin1Decode(bytes).replace(/\0+$/, '');
  }
  return { kind: 'npscalar', dtype: dt, value } satisfies NpScalar;
}
