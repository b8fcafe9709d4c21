/**
 * The pickle stack machine: reads the source through a refilled buffer and runs the opcodes
 * (opcodes.ts) on a stack, a mark stack and a memo. Globals go through allowlist.ts and nothing
 * else; see ../pickle.ts for what the reader promises.
 */
import type { ByteRegion, NdArray, NpDTypeValue, PyKey, PyTuple, PyValue } from '../pyvalue.ts';
import { FileFormatError, ReadCancelled, type ByteSource } from '../source.ts';
import { callGlobal, newObject, resolveGlobal } from './allowlist.ts';
import { arrayState, dtypeState } from './numpy.ts';
import {
  ADDITEMS,
  APPEND,
  APPENDS,
  BINBYTES,
  BINBYTES8,
  BINFLOAT,
  BINGET,
  BININT,
  BININT1,
  BININT2,
  BINPERSID,
  BINPUT,
  BINSTRING,
  BINUNICODE,
  BINUNICODE8,
  BUILD,
  BYTEARRAY8,
  DICT,
  DUP,
  EMPTY_DICT,
  EMPTY_LIST,
  EMPTY_SET,
  EMPTY_TUPLE,
  EXT1,
  EXT2,
  EXT4,
  FLOAT,
  FRAME,
  FROZENSET,
  GET,
  GLOBAL,
  INST,
  INT,
  LIST,
  LONG,
  LONG1,
  LONG4,
  LONG_BINGET,
  LONG_BINPUT,
  MARK,
  MEMOIZE,
  NEWFALSE,
  NEWOBJ,
  NEWOBJ_EX,
  NEWTRUE,
  NEXT_BUFFER,
  NONE,
  OBJ,
  OP_NAMES,
  PERSID,
  POP,
  POP_MARK,
  PROTO,
  PROTO01_START,
  PUT,
  READONLY_BUFFER,
  REDUCE,
  SETITEM,
  SETITEMS,
  SHORT_BINBYTES,
  SHORT_BINSTRING,
  SHORT_BINUNICODE,
  STACK_GLOBAL,
  STOP,
  STRING,
  TUPLE,
  TUPLE1,
  TUPLE2,
  TUPLE3,
  UNICODE,
} from './opcodes.ts';
import {
  clean,
  GlobalRef,
  isObj,
  key,
  latin1Decode,
  longFromBytes,
  normInt,
  Truncated,
  tuple,
  typeName,
  type Item,
  type Reader,
} from './values.ts';

export interface PickleOptions {
  signal?: AbortSignal; // checked at every buffer refill
  onProgress?: (bytesRead: number) => void; // called at most every ~1 MB of progress
  lazyThreshold?: number; // bytes/str payloads >= this many bytes become ByteRegions (default 65536)
  /**
   * Longest newline-terminated argument of a protocol-0 opcode (default 64 MiB). Such a line is
   * buffered and decoded whole, so it costs about 3× its length in memory.
   */
  maxLineBytes?: number;
}

const CHUNK = 1 << 20; // refill size
const PROGRESS_STEP = 1 << 20;
const DEFAULT_LAZY = 65536;
const DEFAULT_MAX_LINE = 64 * CHUNK;
/** Protocol 0/1 files start with one of these when they hold a container or a global (MMSA's do). */
const P0_CONTAINER_START = new Set([0x28, 0x63, 0x5d, 0x7d, 0x29]); // ( c ] } )
const MAX_LONG_BYTES = 4096; // LONG1/LONG4 integers: real files never need more than a few bytes

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes shown the way Python would write them, for 'starts with …' messages. */
function showBytes(b: Uint8Array): string {
  let s = '';
  const named: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x5c: '\\\\', 0x27: "\\'" };
  for (const c of b)
    s += named[c] ?? (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`);
  return `b'${s}'`;
}

const SIGNATURES: [number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive; .npz files go through the .npz reader'],
  [[0x50, 0x4b, 0x05, 0x06], 'an empty zip archive'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a single .npy array'],
  [[0x1f, 0x8b], 'gzip-compressed; decompress it first'],
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (.csd / .h5)'],
];

class Parser implements Reader {
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
  private p0Start = false; // the first byte opens a protocol-0/1 container or global
  private done = false;
  private result: Item = null;
  private budget: number;
  private readonly stack: Item[] = [];
  private readonly marks: number[] = []; // stack lengths at each MARK
  private readonly memo = new Map<number, Item>();
  /** Lazy regions that hold a str (UTF-8 in the file), not bytes: _codecs.encode turns them into bytes. */
  private readonly textRegions = new WeakSet<ByteRegion>();

  constructor(
    private readonly src: ByteSource,
    private readonly opts: PickleOptions,
  ) {
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

  isText(v: unknown): boolean {
    return typeof v === 'object' && v !== null && this.textRegions.has(v as ByteRegion);
  }

  private wrap(e: unknown): Error {
    if (e instanceof ReadCancelled) return e;
    // A file without a PROTO header that fails within its first bytes is most likely not a pickle
    // at all (text, CSV, …): say so rather than report a pickle error at byte 3.
    // A file that starts like a protocol-0/1 pickle (a MARK, a container or a global) and got past its
    // first opcode is a damaged pickle: its own error says what is wrong.
    const p0 = this.at > 0 && this.p0Start;
    if (
      !this.proto &&
      !p0 &&
      this.at < 16 &&
      !(e instanceof Truncated) &&
      !(e instanceof FileFormatError && e.message.includes(': refused '))
    )
      return this.notPickle();
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
    if (this.pos >= fileEnd)
      return new Truncated(
        `${this.name}: file ends early at byte ${fileEnd} without the pickle's STOP opcode (truncated?)`,
      );
    return new Truncated(
      `${this.name}: file ends early (truncated?): ${this.needWhat} at byte ${this.at} needs the file up to byte ${needEnd}, but it ends at byte ${fileEnd}`,
    );
  }

  private checkHeader(): void {
    if (this.size === 0) throw this.fail('not a Python pickle (the file is empty)');
    const b = this.buf;
    if (b[0] === PROTO) {
      if (b.length >= 2 && b[1] > 5) throw this.notPickle(` — or a pickle protocol (${b[1]}) newer than 5`);
      return;
    }
    if (!PROTO01_START.has(b[0])) throw this.notPickle();
    this.p0Start = P0_CONTAINER_START.has(b[0]);
  }

  private notPickle(extra = ''): FileFormatError {
    const head = this.buf.subarray(0, Math.min(8, this.bufEnd - this.bufStart));
    const sig = this.bufStart === 0 ? SIGNATURES.find(([s]) => s.every((c, i) => head[i] === c)) : undefined;
    return this.fail(`not a Python pickle (starts with ${showBytes(head)}${sig ? `: ${sig[1]}` : ''})${extra}`);
  }

  fail(msg: string): FileFormatError {
    return new FileFormatError(`${this.name}: ${msg}`);
  }

  /** A structural error at the current opcode. */
  bad(msg: string): FileFormatError {
    const op = this.bufStart <= this.at && this.at < this.bufEnd ? this.buf[this.at - this.bufStart] : -1;
    const opName = OP_NAMES[op] ?? 'opcode';
    return this.fail(`bad pickle at byte ${this.at} (${opName}): ${msg}`);
  }

  /** Charges derived work (bytes re-encoded, items copied); a file may not cause more than its budget. */
  spend(n: number): void {
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
    const b = this.buf,
      i = at - this.bufStart,
      v = this.view;
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
      case INT:
      case LONG:
      case FLOAT:
      case PUT:
      case GET:
      case STRING:
      case UNICODE:
      case GLOBAL:
      case INST:
      case PERSID:
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
      case BINBYTES8:
      case BYTEARRAY8:
        if (avail <= 8) return 9;
        return this.payload(8, this.u64(i + 1), 'bytes');
      case EMPTY_LIST:
        this.push([]);
        break;
      case EMPTY_TUPLE:
        this.push(tuple([]));
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
        this.push(tuple(this.popMark()));
        break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const n = op - TUPLE1 + 1;
        if (this.stack.length - this.fence() < n) throw this.bad(`stack underflow (needs ${n} items)`);
        this.push(tuple(this.stack.splice(this.stack.length - n)));
        break;
      }
      case DICT: {
        const items = this.popMark();
        if (items.length % 2) throw this.bad('odd number of items for a dict');
        const d = new Map<PyKey, PyValue>();
        for (let k = 0; k < items.length; k += 2) d.set(key(items[k], this), items[k + 1] as PyValue);
        this.push(d);
        break;
      }
      case FROZENSET: {
        const items = this.popMark();
        const s = new Set<PyKey>();
        for (const x of items) s.add(key(x, this));
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
        const value = this.pop(),
          k = this.pop();
        this.dictAt('SETITEM').set(key(k, this), value as PyValue);
        break;
      }
      case SETITEMS: {
        const items = this.popMark();
        if (items.length % 2) throw this.bad('odd number of items for SETITEMS');
        const d = this.dictAt('SETITEMS');
        for (let k = 0; k < items.length; k += 2) d.set(key(items[k], this), items[k + 1] as PyValue);
        break;
      }
      case ADDITEMS: {
        const items = this.popMark();
        const s = this.top();
        if (!(s instanceof Set)) throw this.bad(`ADDITEMS needs a set, found ${typeName(s)}`);
        for (const x of items) s.add(key(x, this));
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
        const name = this.pop(),
          module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          throw this.bad(`STACK_GLOBAL needs two str, found ${typeName(module)} and ${typeName(name)}`);
        this.push(resolveGlobal(module, name, this));
        break;
      }
      case REDUCE: {
        const args = this.pop(),
          fn = this.pop();
        if (!isObj(args, 'tuple')) throw this.bad(`REDUCE arguments must be a tuple, found ${typeName(args)}`);
        this.push(callGlobal(fn, (args as PyTuple).items, this));
        break;
      }
      case BUILD: {
        const state = this.pop();
        this.build(this.top(), state);
        break;
      }
      case NEWOBJ: {
        const args = this.pop(),
          cls = this.pop();
        if (!isObj(args, 'tuple')) throw this.bad(`NEWOBJ arguments must be a tuple, found ${typeName(args)}`);
        this.push(newObject(cls, (args as PyTuple).items, 'NEWOBJ', this));
        break;
      }
      case NEWOBJ_EX: {
        const kwargs = this.pop(),
          args = this.pop(),
          cls = this.pop();
        if (!isObj(args, 'tuple')) throw this.bad(`NEWOBJ_EX arguments must be a tuple, found ${typeName(args)}`);
        if (!(kwargs instanceof Map) || kwargs.size)
          throw this.bad('NEWOBJ_EX with keyword arguments is not supported');
        this.push(newObject(cls, (args as PyTuple).items, 'NEWOBJ_EX', this));
        break;
      }
      case OBJ: {
        const items = this.popMark();
        if (!items.length) throw this.bad('OBJ without a class');
        this.push(newObject(items[0], items.slice(1), 'OBJ', this));
        break;
      }
      case BINPERSID:
        throw this.bad('persistent IDs (references to objects outside the file) are not supported');
      case EXT1:
      case EXT2:
      case EXT4:
        throw this.bad('extension-registry codes (copyreg.add_extension) are not supported');
      case NEXT_BUFFER:
      case READONLY_BUFFER:
        throw this.bad(
          'out-of-band buffers (pickle protocol 5 buffer_callback) are not supported: write the file with plain pickle.dump so array data is inside it',
        );
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
    if (kind === 'bytes')
      this.push(bytes.slice()); // copy: buf is a view the source may reuse
    else if (kind === 'py2str')
      this.push(latin1Decode(bytes)); // Python 2 str, read as encoding='latin1' does
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
    const b = this.buf,
      end = this.bufEnd - this.bufStart;
    const nl: number[] = [];
    let from = i0;
    for (let k = 0; k < lines; k++) {
      const j = b.indexOf(0x0a, from);
      if (j < 0 || j >= end) {
        if (this.bufEnd >= this.size)
          throw new Truncated(
            `${this.name}: file ends early (truncated?): the text argument of ${OP_NAMES[op]} at byte ${this.at} has no end of line`,
          );
        const have = this.bufEnd - this.at;
        const max = this.opts.maxLineBytes ?? DEFAULT_MAX_LINE;
        if (have > max)
          throw this.bad(
            `the text argument of ${OP_NAMES[op]} is longer than ${max} bytes, the most read here for one protocol-0 line; save the file with pickle protocol 4`,
          );
        return Math.min(Math.max(2 * have, have + CHUNK), this.size - this.at, max + 2);
      }
      nl.push(j);
      from = j + 1;
    }
    const raw = b.subarray(i0, nl[0]);
    const text = latin1Decode(raw);
    switch (op) {
      case INT: {
        if (text === '00' || text === '01')
          this.push(text === '01'); // protocol 0 booleans
        else this.push(this.parseInt(text));
        break;
      }
      case LONG:
        this.push(this.parseInt(text.endsWith('L') ? text.slice(0, -1) : text));
        break;
      case FLOAT: {
        const t = text.trim();
        const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
        const x = special
          ? special[2].toLowerCase() === 'nan'
            ? NaN
            : special[1] === '-'
              ? -Infinity
              : Infinity
          : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)
            ? Number(t)
            : NaN;
        if (!special && Number.isNaN(x)) throw this.bad(`not a float: ${JSON.stringify(clean(t.slice(0, 40)))}`);
        this.push(x);
        break;
      }
      case PUT:
      case GET: {
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
      case GLOBAL:
      case INST: {
        const module = this.utf8(raw),
          name = this.utf8(b.subarray(nl[0] + 1, nl[1]));
        const g = resolveGlobal(module, name, this);
        if (op === GLOBAL) this.push(g);
        else this.push(newObject(g, this.popMark(), 'INST', this));
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
    if (!/^[+-]?\d+$/.test(t) || t.length > MAX_LONG_BYTES)
      throw this.bad(`not an integer: ${JSON.stringify(clean(t.slice(0, 40)))}`);
    return normInt(BigInt(t));
  }

  /** A protocol 0 STRING argument: a quoted Python 2 str literal with backslash escapes. */
  private stringLiteral(text: string): string {
    const q = text[0];
    if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q)
      throw this.bad('STRING argument is not quoted');
    const s = text.slice(1, -1);
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
      '\\': '\\',
      "'": "'",
      '"': '"',
      '\n': '',
    };
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
    return text.replace(
      /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
      (_m, u4: string | undefined, u8: string | undefined) => {
        const cp = parseInt((u4 ?? u8)!, 16);
        if (cp > 0x10ffff) throw this.bad('UNICODE escape beyond U+10FFFF');
        return String.fromCodePoint(cp);
      },
    );
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

  /** BUILD: numpy sets an array's or a dtype's state; nothing else is built in place. */
  private build(obj: Item, state: Item): void {
    if (isObj(obj, 'ndarray')) return arrayState(obj as NdArray, state, this);
    if (isObj(obj, 'dtype')) return dtypeState(obj as NpDTypeValue, state, this);
    if (obj instanceof Map && state === null) return;
    throw this.bad(`BUILD on a ${typeName(obj)} is not supported`);
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
      if (v instanceof GlobalRef)
        throw this.fail(
          `the pickle holds ${v.label} itself as a value; only data (arrays, containers, numbers, strings) is supported`,
        );
      if (seen.has(v)) continue;
      seen.add(v);
      // (loops, not push(...items): spreading a million-item list would overflow the call stack)
      const items: Iterable<Item> = Array.isArray(v)
        ? v
        : v instanceof Map
          ? v.values()
          : isObj(v, 'tuple')
            ? (v as PyTuple).items
            : isObj(v, 'ndarray') && Array.isArray((v as NdArray).data)
              ? ((v as NdArray).data as PyValue[])
              : [];
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
