/**
 * The whole security boundary of the pickle reader.
 *
 * Python's unpickler imports and calls whatever globals a file names; this reader never imports or
 * calls anything. A GLOBAL / STACK_GLOBAL / INST name is looked up in ALLOWED below: a listed name
 * becomes a GlobalRef standing for one JS builder, every other name is refused on sight ("refused
 * global posix.system"). The only things a file can then do with a GlobalRef are the three
 * functions here (REDUCE → callGlobal, NEWOBJ/INST/OBJ → newObject) and what they hand on to the
 * builders in numpy.ts and containers.ts, which only decode data. A GlobalRef left in the result is
 * refused by the machine's final check.
 *
 * To allow a new global: add its name here with the builder it maps to, and say how it is rebuilt.
 */
import type { NpDTypeValue } from '../pyvalue.ts';
import { container, encode } from './containers.ts';
import { dtypeSpec, emptyArray, frombuffer, scalar } from './numpy.ts';
import { clean, GlobalRef, typeName, type Builder, type Item, type Reader } from './values.ts';

/**
 * Every global a pickle may name, and the builder that rebuilds it (see callGlobal for how each
 * builder reads its arguments). numpy 1 pickles say numpy.core, numpy 2 says numpy._core; Python 2
 * pickles say __builtin__ and copy_reg.
 */
const ALLOWED = new Map<string, Builder>([
  // _reconstruct(ndarray, (0,), b'b') → an empty array; BUILD then sets shape, dtype and data.
  ['numpy.core.multiarray._reconstruct', 'reconstruct'],
  ['numpy._core.multiarray._reconstruct', 'reconstruct'],
  // Only as _reconstruct's first argument (never called itself).
  ['numpy.ndarray', 'ndarray'],
  // dtype('f8', align, copy) → kind and size; BUILD adds byte order and flexible sizes.
  ['numpy.dtype', 'dtype'],
  // scalar(dtype, bytes) → a numpy scalar decoded from exactly itemsize bytes.
  ['numpy.core.multiarray.scalar', 'scalar'],
  ['numpy._core.multiarray.scalar', 'scalar'],
  // Protocol 5 in-band arrays: _frombuffer(bytes, dtype, shape, order[, axis_order]).
  ['numpy.core.numeric._frombuffer', 'frombuffer'],
  ['numpy._core.numeric._frombuffer', 'frombuffer'],
  // encode(str, 'latin1' | 'utf-8') → bytes: how protocol 2 writes bytes.
  ['_codecs.encode', 'encode'],
  // _reconstructor(cls, base, state) → a builtin container, only when cls and base are the same one.
  ['copy_reg._reconstructor', 'reconstructor'],
  ['copyreg._reconstructor', 'reconstructor'],
  // The builtin containers, built from a list / tuple / set / dict (or bytes / str for bytes types).
  ['collections.OrderedDict', 'dict'],
  ['builtins.dict', 'dict'],
  ['__builtin__.dict', 'dict'],
  ['builtins.list', 'list'],
  ['__builtin__.list', 'list'],
  ['builtins.tuple', 'tuple'],
  ['__builtin__.tuple', 'tuple'],
  ['builtins.set', 'set'],
  ['__builtin__.set', 'set'],
  ['builtins.frozenset', 'frozenset'],
  ['__builtin__.frozenset', 'frozenset'],
  ['builtins.bytearray', 'bytearray'],
  ['__builtin__.bytearray', 'bytearray'],
  ['builtins.bytes', 'bytes'],
  ['__builtin__.bytes', 'bytes'],
]);

/** Every allowed global name with its builder (a frozen copy: the reader only consults ALLOWED). */
export const ALLOWED_GLOBALS: readonly (readonly [string, Builder])[] = Object.freeze(
  [...ALLOWED].map((e) => Object.freeze(e)),
);

/** Classes whose instances are plain containers (what NEWOBJ, INST/OBJ and copyreg may build). */
const CONTAINERS = new Set<Builder>(['dict', 'list', 'tuple', 'set', 'frozenset', 'bytearray', 'bytes']);

const ONLY =
  'the reader only rebuilds numpy arrays, dtypes, scalars and builtin containers; nothing in the file was run';

/** GLOBAL, STACK_GLOBAL and INST: a listed name becomes a GlobalRef; anything else is refused by name. */
export function resolveGlobal(module: string, name: string, r: Reader): GlobalRef {
  const fn = ALLOWED.get(`${module}.${name}`);
  if (!fn) throw r.fail(`refused global ${clean(module)}.${clean(name)} — ${ONLY}`);
  return new GlobalRef(module, name, fn);
}

/** REDUCE: fn(*args) for an allowed global, through its builder only. */
export function callGlobal(fn: Item, args: Item[], r: Reader): Item {
  if (!(fn instanceof GlobalRef)) throw r.bad(`cannot call a ${typeName(fn)}`);
  const arity = (lo: number, hi = lo): void => {
    if (args.length < lo || args.length > hi)
      throw r.bad(`${fn.label} takes ${lo === hi ? lo : `${lo}–${hi}`} arguments, found ${args.length}`);
  };
  switch (fn.fn) {
    case 'reconstruct': {
      arity(3);
      const cls = args[0];
      if (!(cls instanceof GlobalRef) || cls.fn !== 'ndarray')
        throw r.bad(`only numpy.ndarray can be rebuilt, not ${typeName(cls)}`);
      return emptyArray();
    }
    case 'ndarray':
      throw r.bad('calling numpy.ndarray directly is not supported (numpy pickles arrays through _reconstruct)');
    case 'dtype': {
      arity(1, 3);
      const dt: NpDTypeValue = { kind: 'dtype', dtype: dtypeSpec(args[0], r) };
      return dt;
    }
    case 'scalar':
      arity(1, 2);
      return scalar(args[0], args[1], r);
    case 'frombuffer':
      arity(4, 5);
      return frombuffer(args, r);
    case 'encode':
      arity(1, 2);
      return encode(args[0], args.length > 1 ? args[1] : 'utf-8', r);
    case 'reconstructor': {
      // copyreg._reconstructor(cls, base, state) = base.__new__(cls, state), then base.__init__(obj, state)
      // when state is given: only for our containers.
      arity(3);
      const [cls, base, state] = args;
      if (
        !(cls instanceof GlobalRef) ||
        !CONTAINERS.has(cls.fn) ||
        !(base instanceof GlobalRef) ||
        base.fn !== cls.fn
      ) {
        throw r.fail(`refused ${fn.label}(${typeName(cls)}, ${typeName(base)}) — ${ONLY}`);
      }
      return container(cls.fn, state === null ? [] : [state], r);
    }
    default:
      arity(0, 2);
      return container(fn.fn, args, r);
  }
}

/** NEWOBJ, NEWOBJ_EX, INST and OBJ: cls.__new__(cls, *args), for builtin containers only (never a numpy object). */
export function newObject(cls: Item, args: Item[], op: string, r: Reader): Item {
  if (!(cls instanceof GlobalRef) || !CONTAINERS.has(cls.fn)) {
    throw r.bad(`${op} of ${typeName(cls)} is not supported (only builtin containers)`);
  }
  // __new__ of a mutable container ignores its arguments (they go to __init__, which NEWOBJ skips).
  if (op.startsWith('NEWOBJ') && cls.fn !== 'tuple' && cls.fn !== 'frozenset' && cls.fn !== 'bytes')
    return container(cls.fn, [], r);
  return container(cls.fn, args, r);
}
