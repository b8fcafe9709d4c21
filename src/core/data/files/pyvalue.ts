/**
 * The values the safe pickle reader and the .npy reader produce. Only data: no Python object ever
 * exists here, so nothing in a file can make the reader run code.
 */

/** Raw bytes left in the source (large payloads are not read while parsing the structure). */
export interface ByteRegion {
  kind: 'region';
  offset: number; // into the ByteSource
  length: number;
  /**
   * 'raw': the bytes themselves. 'latin1-utf8': the payload is a UTF-8 string whose code points
   * (all < 256) are the bytes — protocol-2 pickles write bytes as _codecs.encode(str, 'latin1').
   */
  encoding: 'raw' | 'latin1-utf8';
}

/** A numpy dtype, as far as we support one. */
export interface NpDType {
  kind: 'f' | 'i' | 'u' | 'b' | 'U' | 'S' | 'O'; // float, int, uint, bool, unicode, bytes, object
  itemsize: number; // bytes per element (U: 4 per char; O: 8)
  littleEndian: boolean; // '|' (no byte order) counts as little
  str: string; // numpy's dtype.str, e.g. '<f4', '<U12', '|O'
}

/** A numpy array. data is raw element bytes (C or Fortran order) or, for object arrays, the items. */
export interface NdArray {
  kind: 'ndarray';
  dtype: NpDType;
  shape: number[];
  fortran: boolean;
  data: ByteRegion | Uint8Array | PyValue[];
}

/** A numpy scalar (numpy.float32(1.5) and friends). */
export interface NpScalar {
  kind: 'npscalar';
  dtype: NpDType;
  value: number | bigint | boolean | string;
}

/** A Python tuple (kept apart from lists only because MMSA code never cares; messages might). */
export interface PyTuple {
  kind: 'tuple';
  items: PyValue[];
}

export type PyKey = string | number | bigint | boolean | null;

export type PyValue =
  | null
  | boolean
  | number // int within ±2^53, float
  | bigint // larger ints
  | string
  | Uint8Array // bytes / bytearray read into memory
  | ByteRegion // bytes / bytearray left in the source
  | PyValue[] // list
  | PyTuple
  | Map<PyKey, PyValue> // dict (and OrderedDict)
  | Set<PyKey> // set / frozenset
  | NdArray
  | NpScalar
  | NpDTypeValue;

/** A numpy.dtype object itself (appears inside array states). */
export interface NpDTypeValue {
  kind: 'dtype';
  dtype: NpDType;
}

export function isNdArray(v: PyValue | undefined): v is NdArray {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Map) &&
    !(v instanceof Set) &&
    (v as { kind?: string }).kind === 'ndarray'
  );
}
