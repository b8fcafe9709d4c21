/**
 * A Python pickle reader that can never run code.
 *
 * Python's own unpickler imports and calls whatever globals a file names, so loading a hostile
 * pickle runs its author's code. This reader is a plain stack machine over the opcodes: a GLOBAL
 * is only a name looked up in a small allow-list (numpy arrays, dtypes and scalars, builtin
 * containers, _codecs.encode), and each allowed name maps to a JS function that builds a PyValue.
 * Anything else is refused by name before it could be used; nothing is ever imported or called.
 *
 * Speed and size: the source is read through a buffer refilled 1 MiB at a time; the parser is
 * synchronous inside the buffer and only awaits to refill. Byte/str payloads of lazyThreshold bytes
 * or more are not read at all — they become ByteRegions (offset + length into the source) — so
 * the structure of a 340 MB MOSI pickle parses after reading a few hundred kilobytes.
 *
 * Hostile input: every declared length is checked against the bytes left in the source before
 * anything is read or allocated; the parser has no recursion (the result check is an explicit
 * stack); derived work (latin1 re-encoding, container copies) is charged to a budget proportional
 * to the file size, so a small file cannot make the reader loop or allocate without bound. Every
 * failure is a FileFormatError naming the file and the byte offset (or ReadCancelled).
 */
import type { ByteRegion, NdArray, NpDType, NpDTypeValue, NpScalar, PyKey, PyTuple, PyValue } from './pyvalue.ts';
import { FileFormatError, ReadCancelled, type ByteSource } from './source.ts';

export interface PickleOptions {
  signal?: AbortSignal; // checked at every buffer refill
  onProgress?: (bytesRead: number) => void; // called at most every ~1 MB of progress
  lazyThreshold?: number; // bytes/str payloads >= this many bytes become ByteRegions (default 65536)
}

const CHUNK = 1 << 20; // refill size
const PROGRESS_STEP = 1 << 20;
const DEFAULT_LAZY = 65536;
const MAX_LONG_BYTES = 4096; // LONG1/LONG4 integers: real files never need more than a few bytes
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// ---- opcodes (Lib/pickle.py names) ----
const MARK = 0x28, STOP = 0x2e, POP = 0x30, POP_MARK = 0x31, DUP = 0x32, FLOAT = 0x46, INT = 0x49;
const BININT = 0x4a, BININT1 = 0x4b, LONG = 0x4c, BININT2 = 0x4d, NONE = 0x4e, PERSID = 0x50;
const BINPERSID = 0x51, REDUCE = 0x52, STRING = 0x53, BINSTRING = 0x54, SHORT_BINSTRING = 0x55;
const UNICODE = 0x56, BINUNICODE = 0x58, APPEND = 0x61, BUILD = 0x62, GLOBAL = 0x63, DICT = 0x64;
const EMPTY_DICT = 0x7d, APPENDS = 0x65, GET = 0x67, BINGET = 0x68, INST = 0x69, LONG_BINGET = 0x6a;
const LIST = 0x6c, EMPTY_LIST = 0x5d, OBJ = 0x6f, PUT = 0x70, BINPUT = 0x71, LONG_BINPUT = 0x72;
const SETITEM = 0x73, TUPLE = 0x74, EMPTY_TUPLE = 0x29, SETITEMS = 0x75, BINFLOAT = 0x47;
const PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85, TUPLE2 = 0x86;
const TUPLE3 = 0x87, NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b;
const BINBYTES = 0x42, SHORT_BINBYTES = 0x43, SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d;
const BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92;
const STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97;
const READONLY_BUFFER = 0x98;

const OP_NAMES: Record<number, string> = {
  [MARK]: 'MARK', [STOP]: 'STOP', [POP]: 'POP', [POP_MARK]: 'POP_MARK', [DUP]: 'DUP', [FLOAT]: 'FLOAT',
  [INT]: 'INT', [BININT]: 'BININT', [BININT1]: 'BININT1', [LONG]: 'LONG', [BININT2]: 'BININT2',
  [NONE]: 'NONE', [PERSID]: 'PERSID', [BINPERSID]: 'BINPERSID', [REDUCE]: 'REDUCE', [STRING]: 'STRING',
  [BINSTRING]: 'BINSTRING', [SHORT_BINSTRING]: 'SHORT_BINSTRING', [UNICODE]: 'UNICODE',
  [BINUNICODE]: 'BINUNICODE', [APPEND]: 'APPEND', [BUILD]: 'BUILD', [GLOBAL]: 'GLOBAL', [DICT]: 'DICT',
  [EMPTY_DICT]: 'EMPTY_DICT', [APPENDS]: 'APPENDS', [GET]: 'GET', [BINGET]: 'BINGET', [INST]: 'INST',
  [LONG_BINGET]: 'LONG_BINGET', [LIST]: 'LIST', [EMPTY_LIST]: 'EMPTY_LIST', [OBJ]: 'OBJ', [PUT]: 'PUT',
  [BINPUT]: 'BINPUT', [LONG_BINPUT]: 'LONG_BINPUT', [SETITEM]: 'SETITEM', [TUPLE]: 'TUPLE',
  [EMPTY_TUPLE]: 'EMPTY_TUPLE', [SETITEMS]: 'SETITEMS', [BINFLOAT]: 'BINFLOAT', [PROTO]: 'PROTO',
  [NEWOBJ]: 'NEWOBJ', [EXT1]: 'EXT1', [EXT2]: 'EXT2', [EXT4]: 'EXT4', [TUPLE1]: 'TUPLE1',
  [TUPLE2]: 'TUPLE2', [TUPLE3]: 'TUPLE3', [NEWTRUE]: 'NEWTRUE', [NEWFALSE]: 'NEWFALSE', [LONG1]: 'LONG1',
  [LONG4]: 'LONG4', [BINBYTES]: 'BINBYTES', [SHORT_BINBYTES]: 'SHORT_BINBYTES',
  [SHORT_BINUNICODE]: 'SHORT_BINUNICODE', [BINUNICODE8]: 'BINUNICODE8', [BINBYTES8]: 'BINBYTES8',
  [EMPTY_SET]: 'EMPTY_SET', [ADDITEMS]: 'ADDITEMS', [FROZENSET]: 'FROZENSET', [NEWOBJ_EX]: 'NEWOBJ_EX',
  [STACK_GLOBAL]: 'STACK_GLOBAL', [MEMOIZE]: 'MEMOIZE', [FRAME]: 'FRAME', [BYTEARRAY8]: 'BYTEARRAY8',
  [NEXT_BUFFER]: 'NEXT_BUFFER', [READONLY_BUFFER]: 'READONLY_BUFFER',
};

/** Opcodes a protocol 0/1 pickle (no PROTO header) can plausibly start with. */
const PROTO01_START = new Set([MARK, EMPTY_TUPLE, EMPTY_LIST, EMPTY_DICT, GLOBAL, NONE, INT, LONG, FLOAT,
  STRING, UNICODE, BININT, BININT1, BININT2, BINFLOAT, BINSTRING, SHORT_BINSTRING, BINUNICODE]);

// ---- the allow-list: every global the reader will name, and the JS builder it maps to ----
type Builtin = 'reconstruct' | 'ndarray' | 'dtype' | 'scalar' | 'frombuffer' | 'encode' | 'reconstructor'
  | 'dict' | 'list' | 'tuple' | 'set' | 'frozenset' | 'bytearray' | 'bytes';
const ALLOWED = new Map<string, Builtin>([
  ['numpy.ndarray', 'ndarray'], ['numpy.dtype', 'dtype'], ['_codecs.encode', 'encode'],
  ['collections.OrderedDict', 'dict'], ['copy_reg._reconstructor', 'reconstructor'],
  ['copyreg._reconstructor', 'reconstructor'],
]);
for (const core of ['numpy.core', 'numpy._core']) {
  ALLOWED.set(`${core}.multiarray._reconstruct`, 'reconstruct');
  ALLOWED.set(`${core}.multiarray.scalar`, 'scalar');
  ALLOWED.set(`${core}.numeric._frombuffer`, 'frombuffer');
}
for (const mod of ['builtins', '__builtin__']) {
  for (const name of ['set', 'frozenset', 'bytearray', 'bytes', 'list', 'tuple', 'dict'] as const) ALLOWED.set(`${mod}.${name}`, name);
}
/** Classes whose instances are plain containers (what NEWOBJ, INST/OBJ and copyreg may build). */
const CONTAINERS = new Set<Builtin>(['dict', 'list', 'tuple', 'set', 'frozenset', 'bytearray', 'bytes']);

/** The file ended before the pickle did (kept apart so it is never reported as 'not a pickle'). */
class Truncated extends FileFormatError {}

/** An allowed global on the stack: a name and the builder it stands for, never a Python object. */
class GlobalRef {
  constructor(readonly module: string, readonly name: string, readonly fn: Builtin) {}
  get label(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What the stack holds while parsing: values, plus allowed globals (checked out of the result). */
type Item = PyValue | GlobalRef;

const INT8: NpDType = { kind: 'i', itemsize: 1, littleEndian: true, str: '|i1' };

function dtypeStr(kind: NpDType['kind'], itemsize: number, little: boolean): string {
  if (kind === 'O') return '|O';
  const order = kind === 'S' || kind === 'b' || (itemsize === 1 && kind !== 'U') ? '|' : little ? '<' : '>';
  return kind === 'U' ? `${order}U${itemsize / 4}` : `${order}${kind}${itemsize}`;
}

/** numpy one-letter type codes without a size ('d', '?', 'B', …) → kind + itemsize. */
const CHAR_CODES: Record<string, [NpDType['kind'], number]> = {
  '?': ['b', 1], b: ['i', 1], B: ['u', 1], h: ['i', 2], H: ['u', 2], i: ['i', 4], I: ['u', 4], l: ['i', 8],
  L: ['u', 8], q: ['i', 8], Q: ['u', 8], e: ['f', 2], f: ['f', 4], d: ['f', 8], O: ['O', 8], U: ['U', 0],
  S: ['S', 0], a: ['S', 0],
};
const SIZES: Record<string, number[]> = { f: [2, 4, 8], i: [1, 2, 4, 8], u: [1, 2, 4, 8], b: [1], O: [4, 8] };

function isObj(v: unknown, kind: string): boolean {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === kind && !Array.isArray(v);
}

function typeName(v: Item | undefined): string {
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

function normInt(v: bigint): number | bigint {
  return v >= -BigInt(MAX_SAFE) && v <= BigInt(MAX_SAFE) ? Number(v) : v;
}

/** Little-endian two's-complement integer (LONG1/LONG4 payloads). */
function longFromBytes(b: Uint8Array): number | bigint {
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

function latin1Decode(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function float16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

/** Bytes shown the way Python would write them, for 'starts with …' messages. */
function showBytes(b: Uint8Array): string {
  let s = '';
  const named: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x5c: '\\\\', 0x27: "\\'" };
  for (const c of b) s += named[c] ?? (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`);
  return `b'${s}'`;
}

/** Control characters in names from the file, escaped so a message stays one readable line. */
function clean(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const SIGNATURES: [number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive; .npz files go through the .npz reader'],
  [[0x50, 0x4b, 0x05, 0x06], 'an empty zip archive'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a single .npy array'],
  [[0x1f, 0x8b], 'gzip-compressed; decompress it first'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (.csd / .h5)'],
];

class Parser {
  private readonly name: string;
  private readonly size: number;
  private readonly lazy: number;
  private buf: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));
  private bufStart = 0; // absolute offset of buf[0]
  private bufEnd = 0; // absolute offset just past the buffered bytes
  private pos = 0; // next opcode
  private at = 0; // start of the opcode being decoded (for messages)
  private needWhat = 'the next opcode';
  private lastProgress = 0;
  private proto = 0; // 0 until PROTO is seen
  private done = false;
  private result: Item = null;
  private budget: number;
  private readonly stack: Item[] = [];
  private readonly marks: number[] = []; // stack lengths at each MARK
  private readonly memo = new Map<number, Item>();
  /** Lazy regions that hold a str (UTF-8 in the file), not bytes: _codecs.encode turns them into bytes. */
  private readonly textRegions = new WeakSet<ByteRegion>();

  constructor(private readonly src: ByteSource, private readonly opts: PickleOptions) {
    this.name = src.name;
    this.size = src.size;
    this.lazy = Math.max(1, opts.lazyThreshold ?? DEFAULT_LAZY);
    // Work and memory a file may cause beyond reading its own bytes once (see spend()).
    this.budget = 64 * CHUNK + 4 * src.size;
  }

  async run(): Promise<PyValue> {
    await this.fill(Math.min(16, this.size));
    this.checkHeader();
    for (;;) {
      let need: number;
      try {
        need = this.runSync();
      } catch (e) {
        throw this.wrap(e);
      }
      if (this.done) break;
      try {
        await this.fill(need);
      } catch (e) {
        throw e instanceof FileFormatError ? this.wrap(e) : e; // I/O errors of the source pass through
      }
    }
    this.opts.onProgress?.(this.pos);
    try {
      this.checkResult(this.result);
    } catch (e) {
      throw this.wrap(e);
    }
    return this.result as PyValue;
  }

  private wrap(e: unknown): Error {
    if (e instanceof ReadCancelled) return e;
    // A file without a PROTO header that fails within its first bytes is most likely not a pickle
    // at all (text, CSV, …): say so rather than report a pickle error at byte 3.
    if (!this.proto && this.at < 16 && !(e instanceof Truncated) && !(e instanceof FileFormatError && e.message.includes(': refused '))) return this.notPickle();
    if (e instanceof FileFormatError) return e;
    // Anything else (an allocation failure, a bug) still must reach the user as a file error.
    return this.bad(`cannot read this pickle (${e instanceof Error ? e.message : String(e)})`);
  }

  // ---------------- input ----------------

  /** Makes bytes [pos, pos + need) available in buf. */
  private async fill(need: number): Promise<void> {
    if (this.opts.signal?.aborted) throw new ReadCancelled();
    if (need > this.size - this.pos) throw this.truncated(this.pos + need);
    const want = Math.min(Math.max(need, CHUNK), this.size - this.pos);
    const data = await this.src.read(this.pos, want);
    if (this.opts.signal?.aborted) throw new ReadCancelled();
    if (data.length < need) throw this.truncated(this.pos + need, this.pos + data.length);
    this.buf = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.bufStart = this.pos;
    this.bufEnd = this.pos + data.length;
  }

  private truncated(needEnd: number, fileEnd = this.size): FileFormatError {
    if (this.pos >= fileEnd) return new Truncated(`${this.name}: file ends early at byte ${fileEnd} without the pickle's STOP opcode (truncated?)`);
    return new Truncated(`${this.name}: file ends early (truncated?): ${this.needWhat} at byte ${this.at} needs the file up to byte ${needEnd}, but it ends at byte ${fileEnd}`);
  }

  private checkHeader(): void {
    if (this.size === 0) throw this.fail('not a Python pickle (the file is empty)');
    const b = this.buf;
    if (b[0] === PROTO) {
      if (b.length >= 2 && b[1] > 5) throw this.notPickle(` — or a pickle protocol (${b[1]}) newer than 5`);
      return;
    }
    if (!PROTO01_START.has(b[0])) throw this.notPickle();
  }

  private notPickle(extra = ''): FileFormatError {
    const head = this.buf.subarray(0, Math.min(8, this.bufEnd - this.bufStart));
    const sig = this.bufStart === 0 ? SIGNATURES.find(([s]) => s.every((c, i) => head[i] === c)) : undefined;
    return this.fail(`not a Python pickle (starts with ${showBytes(head)}${sig ? `: ${sig[1]}` : ''})${extra}`);
  }

  private fail(msg: string): FileFormatError {
    return new FileFormatError(`${this.name}: ${msg}`);
  }

  /** A structural error at the current opcode. */
  private bad(msg: string): FileFormatError {
    const op = this.bufStart <= this.at && this.at < this.bufEnd ? this.buf[this.at - this.bufStart] : -1;
    const opName = OP_NAMES[op] ?? 'opcode';
    return this.fail(`bad pickle at byte ${this.at} (${opName}): ${msg}`);
  }

  /** Charges derived work (bytes re-encoded, items copied); a file may not cause more than its budget. */
  private spend(n: number): void {
    this.budget -= n;
    if (this.budget < 0) throw this.bad('the pickle expands to far more data than its size allows; refusing to go on');
  }

  // ---------------- the opcode loop ----------------

  /** Runs opcodes until STOP or until more bytes are needed; returns how many (from pos). */
  private runSync(): number {
    const progress = this.opts.onProgress;
    while (!this.done) {
      const need = this.step();
      if (need > 0) return need;
      if (progress && this.pos - this.lastProgress >= PROGRESS_STEP) {
        this.lastProgress = this.pos;
        progress(this.pos);
      }
    }
    return 0;
  }

  private push(v: Item): void {
    this.stack.push(v);
  }

  private fence(): number {
    return this.marks.length ? this.marks[this.marks.length - 1] : 0;
  }

  private pop(): Item {
    if (this.stack.length <= this.fence()) throw this.bad('stack underflow (nothing to take here)');
    return this.stack.pop() as Item;
  }

  private top(): Item {
    if (this.stack.length <= this.fence()) throw this.bad('stack underflow (nothing to work on here)');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): Item[] {
    const k = this.marks.pop();
    if (k === undefined) throw this.bad('no MARK before this opcode');
    return this.stack.splice(k);
  }

  private tuple(items: Item[]): PyTuple {
    return { kind: 'tuple', items: items as PyValue[] };
  }

  /**
   * Decodes one opcode at pos. Returns 0 when done, or the number of bytes (from pos) it needs
   * buffered; in that case nothing was changed, so the opcode is simply decoded again after refill.
   */
  private step(): number {
    const at = this.pos;
    this.at = at;
    const avail = this.bufEnd - at;
    if (avail < 1) {
      this.needWhat = 'the next opcode';
      return 1;
    }
    const b = this.buf, i = at - this.bufStart, v = this.view;
    const op = b[i];
    this.needWhat = OP_NAMES[op] ?? 'opcode';
    switch (op) {
      case PROTO:
        if (avail <= 1) return 2;
        if (b[i + 1] > 5) throw this.bad(`unsupported pickle protocol ${b[i + 1]}`);
        this.proto = Math.max(b[i + 1], 2);
        this.pos = at + 2;
        return 0;
      case FRAME: // frames only group opcodes for Python's buffering: transparent here
        if (avail <= 8) return 9;
        this.pos = at + 9;
        return 0;
      case STOP:
        this.result = this.pop();
        this.done = true;
        this.pos = at + 1;
        return 0;
      case MARK:
        this.marks.push(this.stack.length);
        break;
      case POP:
        // Python pops a MARK when one sits on top of the stack.
        if (this.marks.length && this.marks[this.marks.length - 1] === this.stack.length) this.marks.pop();
        else this.pop();
        break;
      case POP_MARK:
        this.popMark();
        break;
      case DUP:
        this.push(this.top());
        break;
      case NONE:
        this.push(null);
        break;
      case NEWTRUE:
        this.push(true);
        break;
      case NEWFALSE:
        this.push(false);
        break;
      case BININT:
        if (avail <= 4) return 5;
        this.push(v.getInt32(i + 1, true));
        this.pos = at + 5;
        return 0;
      case BININT1:
        if (avail <= 1) return 2;
        this.push(b[i + 1]);
        this.pos = at + 2;
        return 0;
      case BININT2:
        if (avail <= 2) return 3;
        this.push(v.getUint16(i + 1, true));
        this.pos = at + 3;
        return 0;
      case LONG1: {
        if (avail <= 1) return 2;
        const n = b[i + 1];
        if (avail <= 1 + n) return 2 + n;
        this.push(longFromBytes(b.subarray(i + 2, i + 2 + n)));
        this.pos = at + 2 + n;
        return 0;
      }
      case LONG4: {
        if (avail <= 4) return 5;
        const n = v.getInt32(i + 1, true);
        if (n < 0) throw this.bad(`negative byte count ${n}`);
        if (n > MAX_LONG_BYTES) throw this.bad(`an integer of ${n} bytes is too large`);
        if (at + 5 + n > this.size) throw this.truncated(at + 5 + n);
        if (avail <= 4 + n) return 5 + n;
        this.push(longFromBytes(b.subarray(i + 5, i + 5 + n)));
        this.pos = at + 5 + n;
        return 0;
      }
      case BINFLOAT:
        if (avail <= 8) return 9;
        this.push(v.getFloat64(i + 1, false));
        this.pos = at + 9;
        return 0;
      case INT: case LONG: case FLOAT: case PUT: case GET: case STRING: case UNICODE:
      case GLOBAL: case INST: case PERSID:
        return this.lineOp(op);
      case SHORT_BINSTRING:
        if (avail <= 1) return 2;
        return this.payload(1, b[i + 1], 'py2str');
      case BINSTRING: {
        if (avail <= 4) return 5;
        const n = v.getInt32(i + 1, true);
        if (n < 0) throw this.bad(`negative byte count ${n}`);
        return this.payload(4, n, 'py2str');
      }
      case SHORT_BINUNICODE:
        if (avail <= 1) return 2;
        return this.payload(1, b[i + 1], 'str');
      case BINUNICODE:
        if (avail <= 4) return 5;
        return this.payload(4, v.getUint32(i + 1, true), 'str');
      case BINUNICODE8:
        if (avail <= 8) return 9;
        return this.payload(8, this.u64(i + 1), 'str');
      case SHORT_BINBYTES:
        if (avail <= 1) return 2;
        return this.payload(1, b[i + 1], 'bytes');
      case BINBYTES:
        if (avail <= 4) return 5;
        return this.payload(4, v.getUint32(i + 1, true), 'bytes');
      case BINBYTES8: case BYTEARRAY8:
        if (avail <= 8) return 9;
        return this.payload(8, this.u64(i + 1), 'bytes');
      case EMPTY_LIST:
        this.push([]);
        break;
      case EMPTY_TUPLE:
        this.push(this.tuple([]));
        break;
      case EMPTY_DICT:
        this.push(new Map());
        break;
      case EMPTY_SET:
        this.push(new Set());
        break;
      case LIST:
        this.push(this.popMark() as PyValue[]);
        break;
      case TUPLE:
        this.push(this.tuple(this.popMark()));
        break;
      case TUPLE1: case TUPLE2: case TUPLE3: {
        const n = op - TUPLE1 + 1;
        if (this.stack.length - this.fence() < n) throw this.bad(`stack underflow (needs ${n} items)`);
        this.push(this.tuple(this.stack.splice(this.stack.length - n)));
        break;
      }
      case DICT: {
        const items = this.popMark();
        if (items.length % 2) throw this.bad('odd number of items for a dict');
        const d = new Map<PyKey, PyValue>();
        for (let k = 0; k < items.length; k += 2) d.set(this.key(items[k]), items[k + 1] as PyValue);
        this.push(d);
        break;
      }
      case FROZENSET: {
        const items = this.popMark();
        const s = new Set<PyKey>();
        for (const x of items) s.add(this.key(x));
        this.push(s);
        break;
      }
      case APPEND: {
        const x = this.pop();
        this.listAt('APPEND').push(x as PyValue);
        break;
      }
      case APPENDS: {
        const items = this.popMark();
        const list = this.listAt('APPENDS');
        for (const x of items) list.push(x as PyValue);
        break;
      }
      case SETITEM: {
        const value = this.pop(), key = this.pop();
        this.dictAt('SETITEM').set(this.key(key), value as PyValue);
        break;
      }
      case SETITEMS: {
        const items = this.popMark();
        if (items.length % 2) throw this.bad('odd number of items for SETITEMS');
        const d = this.dictAt('SETITEMS');
        for (let k = 0; k < items.length; k += 2) d.set(this.key(items[k]), items[k + 1] as PyValue);
        break;
      }
      case ADDITEMS: {
        const items = this.popMark();
        const s = this.top();
        if (!(s instanceof Set)) throw this.bad(`ADDITEMS needs a set, found ${typeName(s)}`);
        for (const x of items) s.add(this.key(x));
        break;
      }
      case BINPUT:
        if (avail <= 1) return 2;
        this.memo.set(b[i + 1], this.top());
        this.pos = at + 2;
        return 0;
      case LONG_BINPUT:
        if (avail <= 4) return 5;
        this.memo.set(v.getUint32(i + 1, true), this.top());
        this.pos = at + 5;
        return 0;
      case MEMOIZE:
        this.memo.set(this.memo.size, this.top());
        break;
      case BINGET:
        if (avail <= 1) return 2;
        this.push(this.memoGet(b[i + 1]));
        this.pos = at + 2;
        return 0;
      case LONG_BINGET:
        if (avail <= 4) return 5;
        this.push(this.memoGet(v.getUint32(i + 1, true)));
        this.pos = at + 5;
        return 0;
      case STACK_GLOBAL: {
        const name = this.pop(), module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.bad(`STACK_GLOBAL needs two str, found ${typeName(module)} and ${typeName(name)}`);
        this.push(this.global(module, name));
        break;
      }
      case REDUCE: {
        const args = this.pop(), fn = this.pop();
        if (!isObj(args, 'tuple')) throw this.bad(`REDUCE arguments must be a tuple, found ${typeName(args)}`);
        this.push(this.call(fn, (args as PyTuple).items));
        break;
      }
      case BUILD: {
        const state = this.pop();
        this.build(this.top(), state);
        break;
      }
      case NEWOBJ: {
        const args = this.pop(), cls = this.pop();
        if (!isObj(args, 'tuple')) throw this.bad(`NEWOBJ arguments must be a tuple, found ${typeName(args)}`);
        this.push(this.newContainer(cls, (args as PyTuple).items, 'NEWOBJ'));
        break;
      }
      case NEWOBJ_EX: {
        const kwargs = this.pop(), args = this.pop(), cls = this.pop();
        if (!isObj(args, 'tuple')) throw this.bad(`NEWOBJ_EX arguments must be a tuple, found ${typeName(args)}`);
        if (!(kwargs instanceof Map) || kwargs.size) throw this.bad('NEWOBJ_EX with keyword arguments is not supported');
        this.push(this.newContainer(cls, (args as PyTuple).items, 'NEWOBJ_EX'));
        break;
      }
      case OBJ: {
        const items = this.popMark();
        if (!items.length) throw this.bad('OBJ without a class');
        this.push(this.newContainer(items[0], items.slice(1), 'OBJ'));
        break;
      }
      case BINPERSID:
        throw this.bad('persistent IDs (references to objects outside the file) are not supported');
      case EXT1: case EXT2: case EXT4:
        throw this.bad('extension-registry codes (copyreg.add_extension) are not supported');
      case NEXT_BUFFER: case READONLY_BUFFER:
        throw this.bad('out-of-band buffers (pickle protocol 5 buffer_callback) are not supported: write the file with plain pickle.dump so array data is inside it');
      default:
        throw this.bad(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
    this.pos = at + 1;
    return 0;
  }

  /** An 8-byte little-endian length. Values beyond 2^53 stay approximate: they exceed any file anyway. */
  private u64(i: number): number {
    return this.view.getUint32(i + 4, true) * 4294967296 + this.view.getUint32(i, true);
  }

  /**
   * A length-prefixed payload after an opcode with a hdr-byte length field. The declared length is
   * checked against the file before anything else; big ones are skipped and become ByteRegions.
   */
  private payload(hdr: number, n: number, kind: 'bytes' | 'str' | 'py2str'): number {
    const start = this.at + 1 + hdr;
    if (n > this.size - start) throw this.truncated(start + n);
    if (n >= this.lazy) {
      const region: ByteRegion = { kind: 'region', offset: start, length: n, encoding: 'raw' };
      if (kind === 'str') this.textRegions.add(region);
      this.push(region);
      this.pos = start + n;
      return 0;
    }
    if (start + n > this.bufEnd) return 1 + hdr + n;
    const s = start - this.bufStart;
    const bytes = this.buf.subarray(s, s + n);
    if (kind === 'bytes') this.push(bytes.slice()); // copy: buf is a view the source may reuse
    else if (kind === 'py2str') this.push(latin1Decode(bytes)); // Python 2 str, read as encoding='latin1' does
    else {
      try {
        this.push(UTF8.decode(bytes));
      } catch {
        throw this.bad('str payload is not valid UTF-8');
      }
    }
    this.pos = start + n;
    return 0;
  }

  /** Protocol 0 opcodes whose arguments are newline-terminated text. */
  private lineOp(op: number): number {
    const lines = op === GLOBAL || op === INST ? 2 : 1;
    const i0 = this.at + 1 - this.bufStart;
    const b = this.buf, end = this.bufEnd - this.bufStart;
    const nl: number[] = [];
    let from = i0;
    for (let k = 0; k < lines; k++) {
      const j = b.indexOf(0x0a, from);
      if (j < 0 || j >= end) {
        if (this.bufEnd >= this.size) throw new Truncated(`${this.name}: file ends early (truncated?): the text argument of ${OP_NAMES[op]} at byte ${this.at} has no end of line`);
        const have = this.bufEnd - this.at;
        return Math.min(Math.max(2 * have, have + CHUNK), this.size - this.at);
      }
      nl.push(j);
      from = j + 1;
    }
    const raw = b.subarray(i0, nl[0]);
    const text = latin1Decode(raw);
    switch (op) {
      case INT: {
        if (text === '00' || text === '01') this.push(text === '01'); // protocol 0 booleans
        else this.push(this.parseInt(text));
        break;
      }
      case LONG:
        this.push(this.parseInt(text.endsWith('L') ? text.slice(0, -1) : text));
        break;
      case FLOAT: {
        const t = text.trim();
        const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
        const x = special ? (special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t) ? Number(t) : NaN;
        if (!special && Number.isNaN(x)) throw this.bad(`not a float: ${JSON.stringify(clean(t.slice(0, 40)))}`);
        this.push(x);
        break;
      }
      case PUT: case GET: {
        if (!/^\d{1,15}$/.test(text)) throw this.bad(`bad memo key ${JSON.stringify(clean(text.slice(0, 40)))}`);
        if (op === PUT) this.memo.set(Number(text), this.top());
        else this.push(this.memoGet(Number(text)));
        break;
      }
      case STRING:
        this.push(this.stringLiteral(text));
        break;
      case UNICODE:
        this.push(this.rawUnicodeEscape(text));
        break;
      case GLOBAL: case INST: {
        const module = this.utf8(raw), name = this.utf8(b.subarray(nl[0] + 1, nl[1]));
        const g = this.global(module, name);
        if (op === GLOBAL) this.push(g);
        else this.push(this.newContainer(g, this.popMark(), 'INST'));
        break;
      }
      case PERSID:
        throw this.bad('persistent IDs (references to objects outside the file) are not supported');
    }
    this.pos = nl[lines - 1] + 1 + this.bufStart;
    return 0;
  }

  private utf8(b: Uint8Array): string {
    try {
      return UTF8.decode(b);
    } catch {
      throw this.bad('name is not valid UTF-8');
    }
  }

  private parseInt(text: string): number | bigint {
    const t = text.trim();
    if (!/^[+-]?\d+$/.test(t) || t.length > MAX_LONG_BYTES) throw this.bad(`not an integer: ${JSON.stringify(clean(t.slice(0, 40)))}`);
    return normInt(BigInt(t));
  }

  /** A protocol 0 STRING argument: a quoted Python 2 str literal with backslash escapes. */
  private stringLiteral(text: string): string {
    const q = text[0];
    if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q) throw this.bad('STRING argument is not quoted');
    const s = text.slice(1, -1);
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };
    let out = '';
    for (let k = 0; k < s.length; k++) {
      const c = s[k];
      if (c !== '\\') {
        out += c;
        continue;
      }
      const d = s[++k] ?? '';
      if (d in simple) out += simple[d];
      else if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(k + 1, k + 3))) {
        out += String.fromCharCode(parseInt(s.slice(k + 1, k + 3), 16));
        k += 2;
      } else if (/[0-7]/.test(d)) {
        const m = /^[0-7]{1,3}/.exec(s.slice(k))![0];
        out += String.fromCharCode(parseInt(m, 8) & 0xff);
        k += m.length - 1;
      } else out += '\\' + d;
    }
    return out;
  }

  /** A protocol 0 UNICODE argument: latin1 text with \uXXXX / \UXXXXXXXX escapes (pickle escapes every backslash). */
  private rawUnicodeEscape(text: string): string {
    return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4: string | undefined, u8: string | undefined) => {
      const cp = parseInt((u4 ?? u8)!, 16);
      if (cp > 0x10ffff) throw this.bad('UNICODE escape beyond U+10FFFF');
      return String.fromCodePoint(cp);
    });
  }

  private memoGet(k: number): Item {
    if (!this.memo.has(k)) throw this.bad(`memo key ${k} was never stored`);
    return this.memo.get(k) as Item;
  }

  private listAt(op: string): PyValue[] {
    const l = this.top();
    if (!Array.isArray(l)) throw this.bad(`${op} needs a list, found ${typeName(l)}`);
    return l;
  }

  private dictAt(op: string): Map<PyKey, PyValue> {
    const d = this.top();
    if (!(d instanceof Map)) throw this.bad(`${op} needs a dict, found ${typeName(d)}`);
    return d;
  }

  /** A dict key or set item. Python 3 bytes keys are read as latin1 text. */
  private key(v: Item): PyKey {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v;
    if (v instanceof Uint8Array) {
      this.spend(v.length);
      return latin1Decode(v);
    }
    if (isObj(v, 'npscalar')) return (v as NpScalar).value;
    throw this.bad(`unsupported dict key or set item of type ${typeName(v)} (str, bytes, int, float, bool and None are supported)`);
  }

  private global(module: string, name: string): GlobalRef {
    const fn = ALLOWED.get(`${module}.${name}`);
    if (!fn) {
      throw this.fail(`refused global ${clean(module)}.${clean(name)} — the reader only rebuilds numpy arrays, dtypes, scalars and builtin containers; nothing in the file was run`);
    }
    return new GlobalRef(module, name, fn);
  }

  // ---------------- what the allowed globals build ----------------

  private call(fn: Item, args: Item[]): Item {
    if (!(fn instanceof GlobalRef)) throw this.bad(`cannot call a ${typeName(fn)}`);
    const arity = (lo: number, hi = lo): void => {
      if (args.length < lo || args.length > hi) throw this.bad(`${fn.label} takes ${lo === hi ? lo : `${lo}–${hi}`} arguments, found ${args.length}`);
    };
    switch (fn.fn) {
      case 'reconstruct': {
        // _reconstruct(ndarray, (0,), b'b') makes an empty array; BUILD then sets its real state.
        arity(3);
        const cls = args[0];
        if (!(cls instanceof GlobalRef) || cls.fn !== 'ndarray') throw this.bad(`only numpy.ndarray can be rebuilt, not ${typeName(cls)}`);
        const arr: NdArray = { kind: 'ndarray', dtype: INT8, shape: [0], fortran: false, data: new Uint8Array(0) };
        return arr;
      }
      case 'ndarray':
        throw this.bad('calling numpy.ndarray directly is not supported (numpy pickles arrays through _reconstruct)');
      case 'dtype': {
        arity(1, 3);
        const dt: NpDTypeValue = { kind: 'dtype', dtype: this.dtypeSpec(args[0]) };
        return dt;
      }
      case 'scalar':
        arity(1, 2);
        return this.scalar(args[0], args[1]);
      case 'frombuffer':
        arity(4, 5);
        return this.frombuffer(args);
      case 'encode':
        arity(1, 2);
        return this.encode(args[0], args.length > 1 ? args[1] : 'utf-8');
      case 'reconstructor': {
        // copyreg._reconstructor(cls, base, state) = base.__new__(cls, state), then base.__init__(obj, state)
        // when state is given: only for our containers.
        arity(3);
        const [cls, base, state] = args;
        if (!(cls instanceof GlobalRef) || !CONTAINERS.has(cls.fn) || !(base instanceof GlobalRef) || base.fn !== cls.fn) {
          throw this.fail(`refused ${fn.label}(${typeName(cls)}, ${typeName(base)}) — the reader only rebuilds numpy arrays, dtypes, scalars and builtin containers; nothing in the file was run`);
        }
        return this.container(cls.fn, state === null ? [] : [state]);
      }
      default:
        arity(0, 2);
        return this.container(fn.fn, args);
    }
  }

  /** cls.__new__(cls, *args) for NEWOBJ, INST and OBJ: containers only (never a numpy object). */
  private newContainer(cls: Item, args: Item[], op: string): Item {
    if (!(cls instanceof GlobalRef) || !CONTAINERS.has(cls.fn)) {
      throw this.bad(`${op} of ${typeName(cls)} is not supported (only builtin containers)`);
    }
    // __new__ of a mutable container ignores its arguments (they go to __init__, which NEWOBJ skips).
    if (op.startsWith('NEWOBJ') && cls.fn !== 'tuple' && cls.fn !== 'frozenset' && cls.fn !== 'bytes') return this.container(cls.fn, []);
    return this.container(cls.fn, args);
  }

  /** set(x), list(x), dict(x), bytes(x), … with x a list, tuple, set or dict (or bytes for bytes types). */
  private container(kind: Builtin, args: Item[]): Item {
    const [x, enc] = args;
    if (kind === 'bytes' || kind === 'bytearray') {
      if (x === undefined) return new Uint8Array(0);
      if (typeof x === 'string' || this.textRegions.has(x as ByteRegion)) return this.encode(x, enc ?? 'utf-8');
      if (x instanceof Uint8Array) {
        this.spend(x.length);
        return x.slice();
      }
      if (isObj(x, 'region')) return { ...(x as ByteRegion) };
      const items = this.iterate(x);
      const out = new Uint8Array(items.length);
      items.forEach((c, k) => {
        if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 255) throw this.bad(`${kind}() item ${k} is not a byte value`);
        out[k] = c;
      });
      return out;
    }
    if (args.length > 1) throw this.bad(`${kind}() takes at most 1 argument here`);
    const items = x === undefined ? [] : this.iterate(x);
    switch (kind) {
      case 'list':
        return items as PyValue[];
      case 'tuple':
        return this.tuple(items);
      case 'set': case 'frozenset':
        return new Set(items.map((y) => this.key(y)));
      case 'dict': {
        if (x instanceof Map) return new Map(x);
        const d = new Map<PyKey, PyValue>();
        for (const pair of items) {
          const kv = Array.isArray(pair) ? pair : isObj(pair, 'tuple') ? (pair as PyTuple).items : null;
          if (!kv || kv.length !== 2) throw this.bad(`dict() needs (key, value) pairs, found a ${typeName(pair)}`);
          d.set(this.key(kv[0]), kv[1]);
        }
        return d;
      }
      default:
        throw this.bad(`cannot build ${kind} here`);
    }
  }

  /** The items of a list / tuple / set / dict (keys), copied (charged to the budget). */
  private iterate(x: Item): Item[] {
    let items: Item[];
    if (Array.isArray(x)) items = x.slice();
    else if (isObj(x, 'tuple')) items = (x as PyTuple).items.slice();
    else if (x instanceof Set || x instanceof Map) items = [...x.keys()];
    else throw this.bad(`cannot iterate over a ${typeName(x)}`);
    this.spend(8 * items.length);
    return items;
  }

  /** _codecs.encode(str, encoding): how protocol 2 writes bytes (latin1) — a lazy str stays lazy. */
  private encode(s: Item, enc: Item): Item {
    const e = typeof enc === 'string' ? enc.toLowerCase().replace(/_/g, '-') : '';
    const latin1 = ['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'l1'].includes(e);
    const utf8 = ['utf-8', 'utf8'].includes(e);
    if (!latin1 && !utf8) throw this.bad(`_codecs.encode with encoding ${typeName(enc) === 'str' ? JSON.stringify(enc) : typeName(enc)} is not supported (latin1 and utf-8 are)`);
    if (isObj(s, 'region') && this.textRegions.has(s as ByteRegion)) {
      const r = s as ByteRegion;
      return { kind: 'region', offset: r.offset, length: r.length, encoding: latin1 ? 'latin1-utf8' : 'raw' } satisfies ByteRegion;
    }
    if (typeof s !== 'string') throw this.bad(`_codecs.encode needs a str, found ${typeName(s)}`);
    this.spend(s.length);
    if (utf8) return new TextEncoder().encode(s);
    return this.latin1Encode(s);
  }

  private latin1Encode(s: string): Uint8Array {
    const out = new Uint8Array(s.length);
    for (let k = 0; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c > 255) throw this.bad(`character U+${c.toString(16).padStart(4, '0')} cannot be latin1-encoded bytes`);
      out[k] = c;
    }
    return out;
  }

  /** numpy.dtype('f8', False, True): the kind and size; byte order and flexible sizes come with BUILD. */
  private dtypeSpec(spec: Item): NpDType {
    if (typeof spec !== 'string') throw this.bad(`numpy.dtype of a ${typeName(spec)} is not supported`);
    const m = /^([<>|=]?)([A-Za-z?])(\d*)$/.exec(spec);
    if (!m) throw this.bad(`unsupported numpy dtype ${JSON.stringify(clean(spec.slice(0, 40)))}`);
    const [, order, code, digits] = m;
    let kind: NpDType['kind'];
    let size: number;
    if (digits === '' && code in CHAR_CODES) [kind, size] = CHAR_CODES[code];
    else if ('fiubUSOa'.includes(code) && digits !== '') {
      kind = (code === 'a' ? 'S' : code) as NpDType['kind'];
      size = Number(digits);
      if (!Number.isSafeInteger(size) || size > 2 ** 31) throw this.bad(`dtype size ${digits} is too large`);
      if (kind === 'U') size *= 4;
    } else if (code === 'V') throw this.bad(`structured (record) dtypes are not supported (${spec})`);
    else if (code === 'M' || code === 'm') throw this.bad(`datetime dtypes are not supported (${spec})`);
    else if (code === 'c' || code === 'F' || code === 'D' || code === 'G') throw this.bad(`complex dtypes are not supported (${spec})`);
    else throw this.bad(`unsupported numpy dtype ${JSON.stringify(clean(spec))}`);
    if (SIZES[kind] && !SIZES[kind].includes(size)) throw this.bad(`unsupported numpy dtype ${JSON.stringify(clean(spec))} (no ${size}-byte ${kind} type)`);
    const little = order !== '>';
    return { kind, itemsize: size, littleEndian: little, str: dtypeStr(kind, size, little) };
  }

  /** BUILD: numpy sets an array's or a dtype's state; nothing else is built in place. */
  private build(obj: Item, state: Item): void {
    if (isObj(obj, 'ndarray')) return this.arrayState(obj as NdArray, state);
    if (isObj(obj, 'dtype')) return this.dtypeState(obj as NpDTypeValue, state);
    if (obj instanceof Map && state === null) return;
    throw this.bad(`BUILD on a ${typeName(obj)} is not supported`);
  }

  /** dtype state: (version, endian, subarray, names, fields, elsize, alignment, flags[, metadata]) and older forms. */
  private dtypeState(d: NpDTypeValue, state: Item): void {
    if (!isObj(state, 'tuple')) throw this.bad(`dtype state must be a tuple, found ${typeName(state)}`);
    const s = (state as PyTuple).items;
    let endian: Item, sub: Item, names: Item = null, fields: Item, elsize: Item;
    if (s.length >= 7 && s.length <= 9) [, endian, sub, names, fields, elsize] = s;
    else if (s.length === 6) [, endian, sub, fields, elsize] = s;
    else if (s.length === 5) [endian, sub, fields, elsize] = s;
    else throw this.bad(`dtype state has ${s.length} items (expected 5 to 9)`);
    if (sub !== null || names !== null || fields !== null) throw this.bad('structured (record) and sub-array dtypes are not supported');
    if (endian !== '<' && endian !== '>' && endian !== '|' && endian !== '=') throw this.bad(`bad dtype byte order ${typeName(endian) === 'str' ? JSON.stringify(endian) : typeName(endian)}`);
    const t = d.dtype;
    let size = t.itemsize;
    if (t.kind === 'U' || t.kind === 'S') {
      if (typeof elsize !== 'number' || !Number.isSafeInteger(elsize) || elsize < 0 || elsize > 2 ** 31) throw this.bad(`bad dtype element size ${typeName(elsize)} ${String(elsize)}`);
      if (t.kind === 'U' && elsize % 4) throw this.bad(`unicode dtype element size ${elsize} is not a multiple of 4`);
      size = elsize;
    }
    const little = endian !== '>';
    d.dtype = { kind: t.kind, itemsize: size, littleEndian: little, str: dtypeStr(t.kind, size, little) };
  }

  private shape(v: Item): number[] {
    const items = Array.isArray(v) ? v : isObj(v, 'tuple') ? (v as PyTuple).items : isObj(v, 'npscalar') || typeof v === 'number' ? [v] : null;
    if (!items) throw this.bad(`array shape must be a tuple, found ${typeName(v)}`);
    if (items.length > 64) throw this.bad(`array has ${items.length} dimensions (numpy allows 64)`);
    return items.map((x) => {
      const n = isObj(x, 'npscalar') ? (x as NpScalar).value : x;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw this.bad(`array shape entry ${typeof n === 'bigint' ? String(n) : typeName(x) === 'int' ? String(n) : typeName(x)} is not a non-negative integer`);
      return n;
    });
  }

  /** Number of elements; refuses products beyond 2^53 (no file holds that many). */
  private count(shape: number[]): number {
    let p = 1;
    for (const s of shape) {
      p *= s;
      if (p > MAX_SAFE) throw this.bad(`array shape [${shape.join(', ')}] has too many elements`);
    }
    return p;
  }

  /** Array state (version, shape, dtype, is_fortran, rawdata), or the older 4-tuple without version. */
  private arrayState(arr: NdArray, state: Item): void {
    if (!isObj(state, 'tuple')) throw this.bad(`array state must be a tuple, found ${typeName(state)}`);
    const s = (state as PyTuple).items;
    if (s.length !== 4 && s.length !== 5) throw this.bad(`array state has ${s.length} items (expected 4 or 5)`);
    const [shapeV, dtypeV, fortranV, raw] = s.length === 5 ? s.slice(1) : s;
    if (!isObj(dtypeV, 'dtype')) throw this.bad(`array state has a ${typeName(dtypeV)} where the dtype belongs`);
    if (typeof fortranV !== 'boolean' && fortranV !== 0 && fortranV !== 1) throw this.bad('array fortran-order flag must be a bool');
    this.fillArray(arr, this.shape(shapeV), (dtypeV as NpDTypeValue).dtype, !!fortranV, raw);
  }

  /** Sets an array's contents after checking that the data holds exactly shape × itemsize bytes. */
  private fillArray(arr: NdArray, shape: number[], dtype: NpDType, fortran: boolean, raw: Item): void {
    const n = this.count(shape);
    const where = `array of shape [${shape.join(', ')}] ${dtype.str}`;
    let data: NdArray['data'];
    if (dtype.kind === 'O') {
      if (!Array.isArray(raw)) throw this.bad(`object ${where}: data must be a list of items, found ${typeName(raw)}`);
      if (raw.length !== n) throw this.bad(`object ${where}: found ${raw.length} items, expected ${n}`);
      data = raw;
    } else {
      const expected = n * dtype.itemsize;
      if (expected > MAX_SAFE) throw this.bad(`${where} is too large`);
      const found = raw instanceof Uint8Array ? raw.length : typeof raw === 'string' ? raw.length : isObj(raw, 'region') ? (raw as ByteRegion).length : -1;
      if (found < 0) throw this.bad(`${where}: data must be bytes, found ${typeName(raw)}`);
      let region = isObj(raw, 'region') ? (raw as ByteRegion) : null;
      // A lazy str used directly as data (numpy latin1-encodes a str) is UTF-8 of latin1 code points.
      if (region && this.textRegions.has(region)) region = { ...region, encoding: 'latin1-utf8' };
      if (region?.encoding === 'latin1-utf8') {
        // The UTF-8 form of n latin1 code points takes n to 2n bytes; the exact count needs the bytes.
        if (found < expected || found > 2 * expected) throw this.bad(`${where}: data is ${found} bytes of latin1 text, but ${expected} bytes need ${expected}–${2 * expected}`);
      } else if (found !== expected) {
        throw this.bad(`${where}: data is ${found} bytes, expected ${n} × ${dtype.itemsize} = ${expected}`);
      }
      data = typeof raw === 'string' ? (this.spend(raw.length), this.latin1Encode(raw)) : region ?? (raw as Uint8Array);
    }
    arr.dtype = dtype;
    arr.shape = shape;
    arr.fortran = fortran;
    arr.data = data;
  }

  /** Protocol 5 in-band: _frombuffer(bytearray, dtype, shape, order[, axis_order]). */
  private frombuffer(args: Item[]): NdArray {
    const [buf, dtypeV, shapeV, order, axisOrder] = args;
    if (!isObj(dtypeV, 'dtype')) throw this.bad(`_frombuffer needs a dtype, found ${typeName(dtypeV)}`);
    const dtype = (dtypeV as NpDTypeValue).dtype;
    if (dtype.kind === 'O') throw this.bad('_frombuffer of an object array is not possible');
    const shape = this.shape(shapeV);
    if (typeof buf === 'string') throw this.bad('_frombuffer needs bytes, found a str');
    const arr: NdArray = { kind: 'ndarray', dtype: INT8, shape: [0], fortran: false, data: new Uint8Array(0) };
    if (order === 'K' && axisOrder !== undefined && axisOrder !== null) {
      // numpy 2 writes an array stored in a permuted axis order as reshape(shape, 'C').transpose(axis_order).
      const ax = this.shape(axisOrder);
      if (ax.length !== shape.length || [...ax].sort((x, y) => x - y).some((a, k) => a !== k)) throw this.bad('_frombuffer axis order is not a permutation of the axes');
      this.fillArray(arr, shape, dtype, false, buf);
      const out = ax.map((a) => shape[a]);
      if (ax.every((a, k) => a === k)) return arr;
      if (ax.every((a, k) => a === ax.length - 1 - k)) {
        arr.shape = out; // the transpose of a C-order array is the Fortran-order array of the reversed shape
        arr.fortran = true;
        return arr;
      }
      if (!(arr.data instanceof Uint8Array)) throw this.bad(`array stored in axis order (${ax.join(', ')}) is too large to rearrange while reading; save it with numpy.ascontiguousarray`);
      arr.data = this.transpose(arr.data, shape, ax, dtype.itemsize);
      arr.shape = out;
      return arr;
    }
    if (order !== 'C' && order !== 'F' && order !== 'A' && order !== 'K') throw this.bad(`_frombuffer order ${typeName(order)} is not supported`);
    this.fillArray(arr, shape, dtype, order === 'F', buf);
    return arr;
  }

  /** C-order bytes of x.transpose(ax), x being C-order data of the given shape. */
  private transpose(src: Uint8Array, shape: number[], ax: number[], itemsize: number): Uint8Array {
    this.spend(src.length);
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
      for (let k = nd - 1; k >= 0; k--) { // odometer over the output index
        from += stride[k];
        if (++idx[k] < outShape[k]) break;
        from -= stride[k] * outShape[k];
        idx[k] = 0;
      }
    }
    return out;
  }

  /** numpy scalar(dtype, bytes): the value decoded (for an object dtype numpy returns the item itself). */
  private scalar(dtypeV: Item, raw: Item): Item {
    if (!isObj(dtypeV, 'dtype')) throw this.bad(`numpy scalar needs a dtype, found ${typeName(dtypeV)}`);
    const dt = (dtypeV as NpDTypeValue).dtype;
    if (dt.kind === 'O') return raw === undefined ? null : raw;
    let bytes: Uint8Array;
    if (raw instanceof Uint8Array) bytes = raw;
    else if (typeof raw === 'string') {
      this.spend(raw.length);
      bytes = this.latin1Encode(raw);
    } else if (isObj(raw, 'region')) throw this.bad(`numpy ${dt.str} scalar: data of ${(raw as ByteRegion).length} bytes is too large`);
    else throw this.bad(`numpy scalar data must be bytes, found ${typeName(raw)}`);
    if (bytes.length !== dt.itemsize) throw this.bad(`numpy ${dt.str} scalar: data is ${bytes.length} bytes, expected ${dt.itemsize}`);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = dt.littleEndian;
    let value: NpScalar['value'];
    switch (dt.kind) {
      case 'f':
        value = dt.itemsize === 2 ? float16(v.getUint16(0, le)) : dt.itemsize === 4 ? v.getFloat32(0, le) : v.getFloat64(0, le);
        break;
      case 'i':
        value = dt.itemsize === 1 ? v.getInt8(0) : dt.itemsize === 2 ? v.getInt16(0, le) : dt.itemsize === 4 ? v.getInt32(0, le) : normInt(v.getBigInt64(0, le));
        break;
      case 'u':
        value = dt.itemsize === 1 ? v.getUint8(0) : dt.itemsize === 2 ? v.getUint16(0, le) : dt.itemsize === 4 ? v.getUint32(0, le) : normInt(v.getBigUint64(0, le));
        break;
      case 'b':
        value = bytes[0] !== 0;
        break;
      case 'U': {
        let s = '';
        for (let k = 0; k < bytes.length; k += 4) {
          const cp = v.getUint32(k, le);
          if (cp > 0x10ffff) throw this.bad(`numpy str scalar holds an invalid code point 0x${cp.toString(16)}`);
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

  /**
   * The result must be data only: an allowed global (a class or function) left as a value is
   * refused. Walks with an explicit stack, visiting shared (memoised) objects once.
   */
  private checkResult(root: Item): void {
    const seen = new Set<object>();
    const todo: Item[] = [root];
    while (todo.length) {
      const v = todo.pop()!;
      if (v === null || typeof v !== 'object' || v instanceof Uint8Array || v instanceof Set) continue;
      if (v instanceof GlobalRef) throw this.fail(`the pickle holds ${v.label} itself as a value; only data (arrays, containers, numbers, strings) is supported`);
      if (seen.has(v)) continue;
      seen.add(v);
      // (loops, not push(...items): spreading a million-item list would overflow the call stack)
      const items: Iterable<Item> = Array.isArray(v) ? v : v instanceof Map ? v.values() : isObj(v, 'tuple') ? (v as PyTuple).items : isObj(v, 'ndarray') && Array.isArray((v as NdArray).data) ? ((v as NdArray).data as PyValue[]) : [];
      for (const x of items) todo.push(x);
    }
  }
}

/**
 * Reads a Python pickle into PyValues without running anything in it. Throws FileFormatError for
 * anything it will not or cannot read (the message names the file and, where useful, the byte),
 * and ReadCancelled when opts.signal aborts.
 *
 * What comes back, where Python types have no exact JS twin:
 * - ints within ±2^53 are numbers, larger ones bigints; tuples are PyTuple; dict and OrderedDict are
 *   Maps (bytes keys become latin1 strings); set and frozenset are Sets.
 * - Python 2 str (STRING/BINSTRING/SHORT_BINSTRING) is read as Python 3 does with encoding='latin1':
 *   a JS string, which numpy (and this reader) latin1-encode back to bytes when it is array data.
 * - Payloads of lazyThreshold bytes or more are ByteRegions: 'raw' holds the bytes themselves (for a
 *   lazy str: its UTF-8); 'latin1-utf8' is a protocol-2 _codecs.encode(str, 'latin1') payload or a
 *   lazy str used as array data. For 'latin1-utf8' array data only length ≤ 2 × decoded holds here:
 *   whoever decodes the region must check it yields exactly shape × itemsize bytes.
 */
export async function readPickle(src: ByteSource, opts: PickleOptions = {}): Promise<PyValue> {
  return new Parser(src, opts).run();
}
