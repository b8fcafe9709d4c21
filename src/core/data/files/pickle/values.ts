/**
 * What the pickle stack machine holds, and the small decoders its parts share. Nothing here decides
 * which globals a file may name: that is allowlist.ts alone.
 */
import type { NpScalar, PyKey, PyTuple, PyValue } from '../pyvalue.ts';
import { FileFormatError } from '../source.ts';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The JS builders an allowed global can stand for. Only allowlist.ts assigns one to a name, so a
 * builder is reachable from a file only through a name listed there.
 */
export type Builder =
  | 'reconstruct'
  | 'ndarray'
  | 'dtype'
  | 'scalar'
  | 'frombuffer'
  | 'encode'
  | 'reconstructor'
  | 'dict'
  | 'list'
  | 'tuple'
  | 'set'
  | 'frozenset'
  | 'bytearray'
  | 'bytes';

/** An allowed global on the stack: a name and the builder it stands for, never a Python object. */
export class GlobalRef {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly fn: Builder,
  ) {}
  get label(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What the stack holds while parsing: values, plus allowed globals (checked out of the result). */
export type Item = PyValue | GlobalRef;

/**
 * What builders need from the running machine: errors that name the file and the opcode, the
 * work budget that bounds what a small file can make us do, and which lazy regions hold a str.
 */
export interface Reader {
  /** A structural error at the current opcode. */
  bad(msg: string): FileFormatError;
  /** An error about the file as a whole (no opcode named). */
  fail(msg: string): FileFormatError;
  /** Charges derived work (bytes re-encoded, items copied); throws once the file's budget is spent. */
  spend(n: number): void;
  /** Whether a lazy region holds a str (UTF-8 in the file) rather than bytes. */
  isText(v: unknown): boolean;
}

/** The file ended before the pickle did (kept apart so it is never reported as 'not a pickle'). */
export class Truncated extends FileFormatError {}

export function isObj(v: unknown, kind: string): boolean {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === kind && !Array.isArray(v);
}

export function typeName(v: Item | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GlobalRef) return v.label;
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Set) return 'set';
  const kind = (v as { kind: string }).kind;
  return kind === 'region' ? 'bytes' : kind === 'dtype' ? 'numpy.dtype' : kind === 'npscalar' ? 'numpy scalar' : kind;
}

export function tuple(items: Item[]): PyTuple {
  return { kind: 'tuple', items: items as PyValue[] };
}

export function normInt(v: bigint): number | bigint {
  return v >= -BigInt(MAX_SAFE) && v <= BigInt(MAX_SAFE) ? Number(v) : v;
}

/** Little-endian two's-complement integer (LONG1/LONG4 payloads). */
export function longFromBytes(b: Uint8Array): number | bigint {
  const n = b.length;
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
    return b[n - 1] & 0x80 ? v - 2 ** (8 * n) : v;
  }
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += b[i].toString(16).padStart(2, '0');
  let v = BigInt('0x' + hex);
  if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return normInt(v);
}

export function latin1Decode(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

export function latin1Encode(s: string, r: Reader): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c > 255) throw r.bad(`character U+${c.toString(16).padStart(4, '0')} cannot be latin1-encoded bytes`);
    out[k] = c;
  }
  return out;
}

export function float16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 31,
    f = h & 1023;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Control characters in names from the file, escaped so a message stays one readable line. */
export function clean(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A dict key or set item. Python 3 bytes keys are read as latin1 text. */
export function key(v: Item, r: Reader): PyKey {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean')
    return v;
  if (v instanceof Uint8Array) {
    r.spend(v.length);
    return latin1Decode(v);
  }
  if (isObj(v, 'npscalar')) return (v as NpScalar).value;
  throw r.bad(
    `unsupported dict key or set item of type ${typeName(v)} (str, bytes, int, float, bool and None are supported)`,
  );
}
