/**
 * Reader for numpy's .npy format (a single array), standalone or as an entry of a .npz archive.
 *
 * Layout (numpy/lib/format.py): the magic `\x93NUMPY`, a major and minor version byte, the header
 * length (uint16 LE in version 1.0, uint32 LE in 2.0 and 3.0), then the header: a Python dict
 * literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2199, 50, 768), }` padded with
 * spaces and a final '\n' (latin1 in 1.0/2.0, UTF-8 in 3.0). The element bytes follow immediately.
 *
 * Plain arrays are not read: the result points at their bytes (a ByteRegion), so a caller can
 * convert a 4 GB array one chunk at a time. The header is parsed by a small strict literal parser,
 * never evaluated. Object arrays (`|O`) are a pickle of the whole array after the header; only
 * those go through the safe pickle reader.
 */

import { readPickle } from './pickle.ts';
import { isNdArray, type ByteRegion, type NdArray, type NpDType, type PyValue } from './pyvalue.ts';
import { FileFormatError, ReadCancelled, type ByteSource } from './source.ts';

export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Does this look like the start of a .npy file? (Needs the first 6 bytes.) */
export function isNpy(head: Uint8Array): boolean {
  return head.length >= NPY_MAGIC.length && NPY_MAGIC.every((b, i) => head[i] === b);
}

/**
 * Headers numpy writes are a few hundred bytes (it pads to a multiple of 64); version 2.0 exists
 * only for huge structured dtypes, which we refuse anyway. A forged length must not make us read
 * or parse megabytes: an archive of 1,000 entries with 1 MiB headers would otherwise cost minutes.
 */
export const MAX_NPY_HEADER = 16384; // numpy's own np.load refuses more than 10,000 by default

export interface NpyHeader {
  dtype: NpDType;
  shape: number[];
  fortran: boolean;
  /** Offset of the first element byte from the start of the .npy (magic + length field + header). */
  headerEnd: number;
  version: [number, number];
}

export interface ReadNpyOptions {
  signal?: AbortSignal;
  /** Bytes of the source consumed so far (only object arrays read more than the header). */
  onProgress?: (bytesRead: number) => void;
  /** What to call the array in messages ('train/text' in an archive); default: the source name. */
  label?: string;
}

/**
 * Reads the .npy that occupies bytes [base, base + length) of src. Plain dtypes come back with
 * `data` as a ByteRegion of src (not read); object arrays come back with their items.
 */
export async function readNpy(
  src: ByteSource,
  base = 0,
  length = src.size - base,
  opts: ReadNpyOptions = {},
): Promise<NdArray> {
  const label = opts.label ?? src.name;
  const header = await readNpyHeader(src, base, length, opts);
  const { dtype, shape, fortran, headerEnd } = header;
  // A caller's length may overstate what the source holds; what is really there is what counts.
  const avail = Math.max(0, Math.min(length, src.size - base));

  if (dtype.kind === 'O') return readObjectArray(src, base, avail, header, label, opts);

  // Check the declared size against what is there before anyone allocates for it.
  const nbytes = byteCount(shape, dtype.itemsize, label);
  const found = avail - headerEnd;
  if (nbytes > found) {
    throw new FileFormatError(
      `${label}: shape (${shape.join(', ')}) of ${dtype.str} needs ${nbytes} bytes of data but only ${found} bytes follow the header (file truncated or damaged)`,
    );
  }
  const data: ByteRegion = { kind: 'region', offset: base + headerEnd, length: nbytes, encoding: 'raw' };
  return { kind: 'ndarray', dtype, shape, fortran, data };
}

/** Reads and parses only the header of the .npy at [base, base + length) of src. */
export async function readNpyHeader(
  src: ByteSource,
  base = 0,
  length = src.size - base,
  opts: ReadNpyOptions = {},
): Promise<NpyHeader> {
  const label = opts.label ?? src.name;
  checkSignal(opts.signal);
  const avail = Math.max(0, Math.min(length, src.size - base));

  // Magic, version and header length: 10 bytes in 1.0, 12 in 2.0/3.0.
  const pre = await src.read(base, Math.min(avail, 12));
  const { start, len, major, minor } = headerLength(pre, label);
  const headerEnd = start + len;
  if (headerEnd > avail) throw truncated(label, 'the .npy header', headerEnd, avail);
  const headerBytes = await src.read(base + start, len);
  if (headerBytes.length < len) throw truncated(label, 'the .npy header', headerEnd, start + headerBytes.length);
  opts.onProgress?.(headerEnd);
  const text = major === 3 ? decodeUtf8(headerBytes, label) : latin1(headerBytes);
  return { ...parseHeaderText(text, label), headerEnd, version: [major, minor] };
}

/** Version and header length from the first 10–12 bytes (magic, version, length field). */
function headerLength(pre: Uint8Array, label: string): { start: number; len: number; major: number; minor: number } {
  if (!isNpy(pre)) throw new FileFormatError(`${label}: not a .npy array (no \\x93NUMPY magic)`);
  if (pre.length < 10) throw truncated(label, 'the .npy header', 10, pre.length);
  const major = pre[6];
  const minor = pre[7];
  let start: number;
  let len: number;
  if (major === 1) {
    start = 10;
    len = pre[8] | (pre[9] << 8);
  } else if (major === 2 || major === 3) {
    if (pre.length < 12) throw truncated(label, 'the .npy header', 12, pre.length);
    start = 12;
    len = (pre[8] | (pre[9] << 8) | (pre[10] << 16)) + pre[11] * 2 ** 24;
  } else {
    throw new FileFormatError(`${label}: .npy format version ${major}.${minor} is not supported (only 1.0, 2.0, 3.0)`);
  }
  if (len > MAX_NPY_HEADER) {
    throw new FileFormatError(
      `${label}: .npy header claims ${len} bytes (more than ${MAX_NPY_HEADER}); the file is damaged`,
    );
  }
  return { start, len, major, minor };
}

/** Parses a whole .npy header from bytes in memory (tests; callers that already hold the bytes). */
export function parseNpyHeader(bytes: Uint8Array, label = 'array'): NpyHeader {
  const { start, len, major, minor } = headerLength(bytes.subarray(0, 12), label);
  if (start + len > bytes.length) throw truncated(label, 'the .npy header', start + len, bytes.length);
  const raw = bytes.subarray(start, start + len);
  const text = major === 3 ? decodeUtf8(raw, label) : latin1(raw);
  return { ...parseHeaderText(text, label), headerEnd: start + len, version: [major, minor] };
}

/** Total element bytes, refusing sizes that cannot be a real array (or exact in a JS number). */
function byteCount(shape: number[], itemsize: number, label: string): number {
  let n = itemsize;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n))
    throw new FileFormatError(`${label}: shape (${shape.join(', ')}) is impossibly large; the file is damaged`);
  return n;
}

/**
 * numpy writes an object array as `pickle.dump(array)` right after the header. The safe pickle
 * reader turns that into an NdArray of dtype O whose data is the item list.
 */
async function readObjectArray(
  src: ByteSource,
  base: number,
  avail: number,
  header: NpyHeader,
  label: string,
  opts: ReadNpyOptions,
): Promise<NdArray> {
  const payload = subSource(src, base + header.headerEnd, avail - header.headerEnd, src.name);
  const value = await readPickle(payload, {
    signal: opts.signal,
    onProgress: opts.onProgress ? (n: number) => opts.onProgress!(header.headerEnd + n) : undefined,
  });
  const isArray =
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    (value as { kind?: string }).kind === 'ndarray';
  if (!isArray) throw new FileFormatError(`${label}: the object array's pickle does not hold a numpy array`);
  const arr = value as NdArray;
  if (arr.shape.length !== header.shape.length || arr.shape.some((d, i) => d !== header.shape[i])) {
    throw new FileFormatError(
      `${label}: header says shape (${header.shape.join(', ')}) but the pickled array has shape (${arr.shape.join(', ')})`,
    );
  }
  // The pickle reader leaves big payloads (≥ 64 KiB) in the source as regions whose offsets count
  // from the start of the pickle; callers read them from `src`, so they must count from there.
  const shift = base + header.headerEnd;
  const moveRegion = (v: PyValue): void => {
    if (isNdArray(v) && isRegion(v.data)) v.data = { ...v.data, offset: v.data.offset + shift };
  };
  if (isRegion(arr.data)) arr.data = { ...arr.data, offset: arr.data.offset + shift };
  else if (Array.isArray(arr.data)) {
    arr.data = arr.data.map((item) => (isRegion(item) ? { ...item, offset: item.offset + shift } : item));
    arr.data.forEach(moveRegion);
  }
  return arr;
}

function isRegion(v: unknown): v is ByteRegion {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    (v as { kind?: string }).kind === 'region'
  );
}

/** Bytes [base, base + length) of src as a source of its own (offsets there start at 0). */
export function subSource(src: ByteSource, base: number, length: number, name = src.name): ByteSource {
  const size = Math.max(0, Math.min(length, src.size - base));
  return {
    name,
    size,
    read: (offset, len) => {
      const start = Math.min(Math.max(0, offset), size);
      return src.read(base + start, Math.max(0, Math.min(len, size - start)));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The header dict

/** Turns the header text into dtype, shape and order, with numpy's own rules on what is valid. */
function parseHeaderText(text: string, label: string): { dtype: NpDType; shape: number[]; fortran: boolean } {
  let value: Literal;
  try {
    value = new LiteralParser(text).parseAll();
  } catch (e) {
    if (e instanceof LiteralError)
      throw new FileFormatError(`${label}: .npy header is not a valid dict literal (${e.message}): ${clip(text)}`);
    throw e;
  }
  if (!(value instanceof Map)) throw new FileFormatError(`${label}: .npy header is not a dict: ${clip(text)}`);
  const keys = [...value.keys()].sort();
  // numpy refuses headers with missing or extra keys; so do we (an extra key is not something we understand).
  if (keys.join() !== 'descr,fortran_order,shape') {
    throw new FileFormatError(
      `${label}: .npy header must have exactly the keys 'descr', 'fortran_order', 'shape' (has ${keys.map((k) => `'${k}'`).join(', ')})`,
    );
  }
  const descr = value.get('descr')!;
  const fortran = value.get('fortran_order')!;
  const shape = value.get('shape')!;
  if (typeof fortran !== 'boolean')
    throw new FileFormatError(`${label}: .npy header 'fortran_order' is not True/False: ${clip(text)}`);
  if (
    !(shape instanceof Tuple) ||
    !shape.items.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new FileFormatError(`${label}: .npy header 'shape' is not a tuple of non-negative integers: ${clip(text)}`);
  }
  if (Array.isArray(descr) || descr instanceof Tuple)
    throw new FileFormatError(`${label}: structured dtypes are not supported`);
  if (typeof descr !== 'string')
    throw new FileFormatError(`${label}: .npy header 'descr' is not a dtype string: ${clip(text)}`);
  return { dtype: parseDescr(descr, label), shape: shape.items as number[], fortran };
}

/**
 * A dtype descr ('<f4', '>i8', '|b1', '<U14', '|S5', '|O') → NpDType. `str` is normalised the way
 * numpy's dtype.str is: one-byte types and bytes/objects get '|', everything else '<' or '>'.
 */
export function parseDescr(descr: string, label = 'array'): NpDType {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (!m) throw new FileFormatError(`${label}: dtype '${descr}' is not supported`);
  const [, order, kind, digits] = m;
  const n = digits === '' ? NaN : Number(digits);
  // '=' is the writer's native order; numpy never writes it, and every machine that matters is little-endian.
  const little = order !== '>';
  const make = (k: NpDType['kind'], itemsize: number, str: string): NpDType => ({
    kind: k,
    itemsize,
    littleEndian: little || str.startsWith('|'),
    str,
  });
  const ord = little ? '<' : '>';
  switch (kind) {
    case 'f':
      if (n === 2 || n === 4 || n === 8) return make('f', n, `${ord}f${n}`);
      break;
    case 'i':
    case 'u':
      if (n === 1) return make(kind, 1, `|${kind}1`);
      if (n === 2 || n === 4 || n === 8) return make(kind, n, `${ord}${kind}${n}`);
      break;
    case 'b':
      if (n === 1) return make('b', 1, '|b1');
      break;
    case 'U':
      if (Number.isSafeInteger(n * 4)) return make('U', n * 4, `${ord}U${n}`);
      break;
    case 'S':
      if (Number.isSafeInteger(n)) return make('S', n, `|S${n}`);
      break;
    case 'O':
      if (digits === '' || n === 8) return make('O', 8, '|O');
      break;
    case 'c':
      throw new FileFormatError(`${label}: complex dtype '${descr}' is not supported`);
    case 'M':
    case 'm':
      throw new FileFormatError(`${label}: datetime dtype '${descr}' is not supported`);
    case 'V':
      throw new FileFormatError(`${label}: structured dtypes are not supported ('${descr}')`);
  }
  throw new FileFormatError(`${label}: dtype '${descr}' is not supported`);
}

/** Values of the Python literal subset a .npy header can contain. */
type Literal = string | number | boolean | null | Literal[] | Tuple | Map<string, Literal>;
class Tuple {
  constructor(readonly items: Literal[]) {}
}
class LiteralError extends Error {}

/**
 * A strict recursive-descent parser for Python literals: dicts with string keys, tuples, lists,
 * strings, integers, True/False/None. Anything else (names, calls, operators, floats) is an error,
 * so a header can never mean more than data.
 */
class LiteralParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  parseAll(): Literal {
    const v = this.value();
    this.ws();
    if (this.pos !== this.s.length) this.fail('unexpected text after the value');
    return v;
  }

  private fail(msg: string): never {
    throw new LiteralError(`${msg} at character ${this.pos}`);
  }

  /** Skips spaces, tabs and newlines (numpy pads the header with spaces and ends it with '\n'). */
  private ws(): void {
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos])) this.pos++;
  }

  private value(): Literal {
    this.ws();
    const c = this.s[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{' || c === '(' || c === '[') {
      // A forged header of nested brackets must not overflow the stack.
      if (++this.depth > 32) this.fail('nesting too deep');
      const v = c === '{' ? this.dict() : this.sequence(c);
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.integer();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.s.startsWith(word, this.pos) && !/\w/.test(this.s[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail(`unexpected '${c}'`);
  }

  private dict(): Map<string, Literal> {
    this.pos++; // '{'
    const out = new Map<string, Literal>();
    for (;;) {
      this.ws();
      if (this.s[this.pos] === '}') break;
      const key = this.value();
      if (typeof key !== 'string') this.fail('dict keys must be strings');
      this.ws();
      if (this.s[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      if (out.has(key)) this.fail(`duplicate key '${key}'`);
      out.set(key, this.value());
      this.ws();
      if (this.s[this.pos] === ',') this.pos++;
      else if (this.s[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
    this.pos++; // '}'
    return out;
  }

  /** '(' … ')' or '[' … ']'. As in Python, '(x)' is just x; '(x,)' and '()' are tuples. */
  private sequence(open: '(' | '['): Literal {
    const close = open === '(' ? ')' : ']';
    this.pos++;
    const items: Literal[] = [];
    let sawComma = false;
    for (;;) {
      this.ws();
      if (this.s[this.pos] === close) break;
      items.push(this.value());
      this.ws();
      if (this.s[this.pos] === ',') {
        this.pos++;
        sawComma = true;
      } else if (this.s[this.pos] !== close) this.fail(`expected ',' or '${close}'`);
    }
    this.pos++;
    if (open === '[') return items;
    if (items.length === 1 && !sawComma) return items[0];
    return new Tuple(items);
  }

  private string(): string {
    const quote = this.s[this.pos++];
    let out = '';
    for (;;) {
      const c = this.s[this.pos++];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      // The escapes Python's repr() writes for field names; others are refused, not guessed.
      const e = this.s[this.pos++];
      const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };
      if (e in simple) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const hex = this.s.slice(this.pos, this.pos + (e === 'x' ? 2 : 4));
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== (e === 'x' ? 2 : 4)) this.fail('bad escape');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += hex.length;
      } else this.fail(`unsupported escape '\\${e ?? ''}'`);
    }
  }

  /** Integers, with Python 2's 'L' suffix that numpy < 1.x on Python 2 wrote into shapes. */
  private integer(): number {
    const m = /^-?\d+[lL]?/.exec(this.s.slice(this.pos, this.pos + 40));
    if (!m) this.fail('bad number');
    const next = this.s[this.pos + m[0].length];
    if (next !== undefined && /[\w.]/.test(next)) this.fail('only integers are allowed');
    this.pos += m[0].length;
    const v = Number(m[0].replace(/[lL]$/, ''));
    if (!Number.isSafeInteger(v)) this.fail('integer too large');
    return v;
  }
}

// ---------------------------------------------------------------------------------------------
// Small shared helpers

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ReadCancelled();
}

function truncated(label: string, what: string, expected: number, found: number): FileFormatError {
  return new FileFormatError(`${label}: file ends inside ${what} (expected ${expected} bytes, found ${found})`);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}

function decodeUtf8(bytes: Uint8Array, label: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FileFormatError(`${label}: .npy header is not valid UTF-8`);
  }
}

function clip(s: string): string {
  const t = s.trim();
  return t.length > 120 ? `${t.slice(0, 120)}…` : t;
}
