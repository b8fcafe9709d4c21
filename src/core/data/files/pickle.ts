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
 *
 * Layout: pickle/opcodes.ts (the opcode table), pickle/machine.ts (the stack machine),
 * pickle/allowlist.ts (every global that may be rebuilt and how — the whole security boundary),
 * pickle/numpy.ts and pickle/containers.ts (the data-only builders the allow-list hands on to),
 * pickle/values.ts (the stack's item types and shared decoders).
 */
export { readPickle, type PickleOptions } from './pickle/machine.ts';
