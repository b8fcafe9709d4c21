/**
 * One entry point for the feature files users bring (DATA.md): MMSA pickles and .npz archives,
 * recognised by their first bytes, opened without reading their arrays, judged, then read. The
 * browser worker and `mfmb inspect/train --data` both call loadFeatureFile; every failure comes out
 * as one FileLoadError whose message names the file (and split and field where there is one).
 */
import type { Dataset, SplitName } from '../types.ts';
import { DatasetError } from '../validate.ts';
import type { FileSummary } from './fileSummary.ts';
import { describeLayout, readLayout, TooBigError, type ArrayHandle, type Layout, type ReadOptions } from './mmsa.ts';
import { isNpy, isZip, openNpz } from './npz.ts';
import { readPickle } from './pickle.ts';
import { isNdArray, type NdArray, type PyKey, type PyValue } from './pyvalue.ts';
import { FileFormatError, ReadCancelled, type ByteSource } from './source.ts';
import { describe } from './ndarray.ts';

export type LoadErrorKind = 'format' | 'invalid' | 'too-big' | 'cancelled';

export class FileLoadError extends Error {
  constructor(
    message: string,
    readonly kind: LoadErrorKind,
    readonly file: string,
    readonly split: SplitName | null = null,
    readonly field: string | null = null,
    readonly maxSubset: number | null = null, // too-big: the largest first-N-per-split that fits
  ) {
    super(message);
    this.name = 'FileLoadError';
  }
}

const SPLIT_NAMES: readonly string[] = ['train', 'valid', 'test'];
/** The memory limit when a caller gives none (the CLI's default --max-gb). */
const DEFAULT_MAX_BYTES = 1.5e9;

export interface LoadResult {
  dataset: Dataset;
  summary: FileSummary;
}

/** Reads, checks and converts a feature file. Nothing is returned unless all of it is usable. */
export async function loadFeatureFile(src: ByteSource, opts: ReadOptions = {}): Promise<LoadResult> {
  return wrapErrors(src, async () => {
    const t0 = performance.now();
    const layout = await openLayout(src, opts);
    const { summary, plans } = describeLayout(layout, src, opts);
    const t1 = performance.now();
    const dataset = await readLayout(layout, src, summary, plans, opts);
    summary.seconds = { structure: (t1 - t0) / 1000, read: (performance.now() - t1) / 1000 };
    return { dataset, summary };
  });
}

/** Shapes and dtypes only (no array is read): what `inspect --structure` and the size check use. */
export async function inspectFeatureFile(src: ByteSource, opts: ReadOptions = {}): Promise<FileSummary> {
  return wrapErrors(src, async () => {
    const t0 = performance.now();
    const layout = await openLayout(src, opts);
    const { summary } = describeLayout(layout, src, opts);
    summary.seconds = { structure: (performance.now() - t0) / 1000, read: 0 };
    return summary;
  });
}

async function wrapErrors<T>(src: ByteSource, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    throw toLoadError(src.name, e);
  }
}

/** Any failure → FileLoadError with the file's name in front, exactly once. */
export function toLoadError(file: string, e: unknown): FileLoadError {
  if (e instanceof FileLoadError) return e;
  const prefix = (msg: string) => (msg.startsWith(`${file}: `) ? msg : `${file}: ${msg}`);
  if (e instanceof ReadCancelled || (e instanceof Error && e.name === 'AbortError'))
    return new FileLoadError(prefix('reading cancelled; nothing was loaded'), 'cancelled', file);
  if (e instanceof TooBigError) return new FileLoadError(prefix(e.message), 'too-big', file, null, null, e.maxSubset);
  if (e instanceof DatasetError) return new FileLoadError(prefix(e.message), 'invalid', file, e.split, e.field);
  if (e instanceof FileFormatError) return new FileLoadError(prefix(e.message), 'format', file);
  // Anything else is a reader bug or the platform failing (out of memory); still one clear message.
  const msg =
    e instanceof Error
      ? `${e.name === 'RangeError' ? 'out of memory or a size the reader cannot handle' : 'could not be read'} (${e.message})`
      : String(e);
  return new FileLoadError(prefix(msg), 'format', file);
}

async function openLayout(src: ByteSource, opts: ReadOptions): Promise<Layout> {
  if (src.size === 0) throw new FileFormatError('the file is empty');
  const head = await src.read(0, 8);
  if (isZip(head)) return npzLayout(src, opts);
  if (isNpy(head)) {
    throw new FileFormatError(
      'a single .npy holds one array; MMSA data needs train, valid and test splits — save them together with np.savez (keys like train/text)',
    );
  }
  const progress = opts.onProgress;
  const root = await readPickle(src, {
    signal: opts.signal,
    // A protocol-0 text argument is held whole while it is decoded (about 3× its length).
    maxLineBytes: Math.max(16 * 2 ** 20, Math.floor((opts.maxBytes ?? DEFAULT_MAX_BYTES) / 4)),
    onProgress: progress && ((bytesRead: number) => progress({ bytesRead, totalBytes: src.size, stage: 'structure' })),
  });
  return pickleLayout(root);
}

function pickleLayout(root: PyValue): Layout {
  if (!(root instanceof Map))
    throw new DatasetError(
      null,
      'top level',
      `found a ${describe(root)}, expected a dict {train, valid, test} of dicts of arrays (MMSA's layout)`,
    );
  const layout: Layout = { format: 'pickle', splits: {}, top: new Map(), otherKeys: [] };
  for (const [key, value] of root) {
    const k = keyName(key);
    if (SPLIT_NAMES.includes(k)) {
      if (!(value instanceof Map))
        throw new DatasetError(k as SplitName, 'split', `found a ${describe(value)}, expected a dict of arrays`);
      const fields = new Map<string, ArrayHandle | PyValue>();
      for (const [fk, fv] of value) fields.set(keyName(fk), isNdArray(fv) ? handleOf(fv) : (numberList(fv) ?? fv));
      layout.splits[k as SplitName] = fields;
    } else {
      layout.top.set(k, isNdArray(value) ? handleOf(value) : value);
      layout.otherKeys.push(k);
    }
  }
  return layout;
}

/**
 * Some MMSA versions keep `audio_lengths` / `vision_lengths` as plain Python lists of ints: a list
 * of numbers becomes a float64 array [N] so it goes through the same checks.
 */
function numberList(v: PyValue): ArrayHandle | null {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' || typeof x === 'bigint'))
    return null;
  const values = Float64Array.from(v as (number | bigint)[], Number);
  const arr: NdArray = {
    kind: 'ndarray',
    dtype: { kind: 'f', itemsize: 8, littleEndian: true, str: '<f8' },
    shape: [values.length],
    fortran: false,
    data: new Uint8Array(values.buffer),
  };
  return handleOf(arr);
}

function handleOf(arr: NdArray): ArrayHandle {
  return { dtype: arr.dtype, shape: arr.shape, get: async () => arr };
}

function keyName(k: PyKey): string {
  return typeof k === 'string' ? k : String(k);
}

/** .npz keys `train/text` or `train_text` → the same layout; each entry is read only when needed. */
async function npzLayout(src: ByteSource, opts: ReadOptions): Promise<Layout> {
  const archive = await openNpz(src, { signal: opts.signal });
  const layout: Layout = { format: 'npz', splits: {}, top: new Map(), otherKeys: [] };
  for (const name of archive.names) {
    // Headers only here; an entry's data is read (or inflated) when its turn comes, so at most one
    // inflated entry is held at a time.
    const h = await archive.header(name, { signal: opts.signal });
    const handle: ArrayHandle = {
      dtype: h.dtype,
      shape: h.shape,
      get: (rows?: number) =>
        archive.array(name, { signal: opts.signal, rows, maxBytes: opts.maxBytes ?? DEFAULT_MAX_BYTES }),
    };
    const m = /^(train|valid|test)[/_](.+)$/.exec(name);
    if (m) {
      const split = m[1] as SplitName;
      if (!layout.splits[split]) layout.splits[split] = new Map();
      const fields = layout.splits[split]!;
      // 'train/text' and 'train_text' both name train's text: using either would be a guess.
      if (fields.has(m[2])) {
        const other = archive.names.find(
          (n) => n !== name && n.slice(split.length + 1) === m[2] && n.startsWith(split),
        );
        throw new DatasetError(
          split,
          m[2],
          `the archive holds both '${other ?? `${split}/${m[2]}`}' and '${name}'; keep one of them (np.savez keys like train/text or train_text, not both)`,
        );
      }
      fields.set(m[2], handle);
    } else {
      layout.top.set(name, handle);
      layout.otherKeys.push(name);
    }
  }
  return layout;
}
