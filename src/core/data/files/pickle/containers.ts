/**
 * How the builtin containers and _codecs.encode are rebuilt: set(x), list(x), dict(x), bytes(x), …
 * Every copy is charged to the reader's budget. Which globals may reach these builders is decided in
 * allowlist.ts.
 */
import type { ByteRegion, PyKey, PyTuple, PyValue } from '../pyvalue.ts';
import { isObj, key, latin1Encode, tuple, typeName, type Builder, type Item, type Reader } from './values.ts';

/** set(x), list(x), dict(x), bytes(x), … with x a list, tuple, set or dict (or bytes for bytes types). */
export function container(kind: Builder, args: Item[], r: Reader): Item {
  const [x, enc] = args;
  if (kind === 'bytes' || kind === 'bytearray') {
    if (x === undefined) return new Uint8Array(0);
    if (typeof x === 'string' || r.isText(x as ByteRegion)) return encode(x, enc ?? 'utf-8', r);
    if (x instanceof Uint8Array) {
      r.spend(x.length);
      return x.slice();
    }
    if (isObj(x, 'region')) return { ...(x as ByteRegion) };
    const items = iterate(x, r);
    const out = new Uint8Array(items.length);
    items.forEach((c, k) => {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > 255)
        throw r.bad(`${kind}() item ${k} is not a byte value`);
      out[k] = c;
    });
    return out;
  }
  if (args.length > 1) throw r.bad(`${kind}() takes at most 1 argument here`);
  const items = x === undefined ? [] : iterate(x, r);
  switch (kind) {
    case 'list':
      return items as PyValue[];
    case 'tuple':
      return tuple(items);
    case 'set':
    case 'frozenset':
      return new Set(items.map((y) => key(y, r)));
    case 'dict': {
      if (x instanceof Map) return new Map(x);
      const d = new Map<PyKey, PyValue>();
      for (const pair of items) {
        const kv = Array.isArray(pair) ? pair : isObj(pair, 'tuple') ? (pair as PyTuple).items : null;
        if (!kv || kv.length !== 2) throw r.bad(`dict() needs (key, value) pairs, found a ${typeName(pair)}`);
        d.set(key(kv[0], r), kv[1]);
      }
      return d;
    }
    default:
      throw r.bad(`cannot build ${kind} here`);
  }
}

/** The items of a list / tuple / set / dict (keys), copied (charged to the budget). */
function iterate(x: Item, r: Reader): Item[] {
  let items: Item[];
  if (Array.isArray(x)) items = x.slice();
  else if (isObj(x, 'tuple')) items = (x as PyTuple).items.slice();
  else if (x instanceof Set || x instanceof Map) items = [...x.keys()];
  else throw r.bad(`cannot iterate over a ${typeName(x)}`);
  r.spend(8 * items.length);
  return items;
}

/** _codecs.encode(str, encoding): how protocol 2 writes bytes (latin1) — a lazy str stays lazy. */
export function encode(s: Item, enc: Item, r: Reader): Item {
  const e = typeof enc === 'string' ? enc.toLowerCase().replace(/_/g, '-') : '';
  const latin1 = ['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'l1'].includes(e);
  const utf8 = ['utf-8', 'utf8'].includes(e);
  if (!latin1 && !utf8)
    throw r.bad(
      `_codecs.encode with encoding ${typeName(enc) === 'str' ? JSON.stringify(enc) : typeName(enc)} is not supported (latin1 and utf-8 are)`,
    );
  if (isObj(s, 'region') && r.isText(s as ByteRegion)) {
    const r = s as ByteRegion;
    return {
      kind: 'region',
      offset: r.offset,
      length: r.length,
      encoding: latin1 ? 'latin1-utf8' : 'raw',
    } satisfies ByteRegion;
  }
  if (typeof s !== 'string') throw r.bad(`_codecs.encode needs a str, found ${typeName(s)}`);
  r.spend(s.length);
  if (utf8) return new TextEncoder().encode(s);
  return latin1Encode(s, r);
}
