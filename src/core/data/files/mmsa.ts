/**
 * MMSA's layout (DATA.md) on top of either container: `{train, valid, test}` of named numpy arrays,
 * from a pickle dict or from .npz keys `train/text` / `train_text`. Two phases, so that a file is
 * judged before it is read:
 *  1. describeLayout: shapes and dtypes only (pickle arrays are still byte ranges in the file) →
 *     every structural problem, the sizes the model needs, and the memory the features will take.
 *  2. readLayout: the arrays, converted to float32 chunk by chunk, checked (NaN, labels, lengths)
 *     and only then returned as a Dataset — a half-read file is never handed to anyone.
 */
import { MODALITIES, type Modality, type PerModality } from '../../config/config.ts';
import { labelHistogram } from '../synthetic.ts';
import { SPLITS, type Dataset, type Split, type SplitName } from '../types.ts';
import { checkFeatureScale, DatasetError, validateDataset } from '../validate.ts';
import { standardizeFeatures } from '../standardize.ts';
import type { FileSummary } from './fileSummary.ts';
import { formatBytes, listSome, MAX_SUMMARY_FIELDS } from './summaryText.ts';
import { describe, elementCount, NUMERIC_KINDS, readFloat32, type NonFinite } from './ndarray.ts';
import type { NdArray, NpDType, PyValue } from './pyvalue.ts';
import { ReadCancelled, type ByteSource, type ReadProgress } from './source.ts';

/** MMSA's field name for each modality's features and lengths. */
export const FEATURE_KEY: Record<Modality, string> = { t: 'text', a: 'audio', v: 'vision' };
const LENGTH_KEY: Record<Modality, string> = { t: 'text_lengths', a: 'audio_lengths', v: 'vision_lengths' };
const LABEL_KEY = 'regression_labels';
/** MMSA's own field names, listed first in a summary. */
const KNOWN_FIELDS = [
  'text',
  'audio',
  'vision',
  'text_bert',
  'audio_lengths',
  'vision_lengths',
  'text_lengths',
  LABEL_KEY,
  'classification_labels',
  'id',
  'raw_text',
  'annotations',
  'text_unk',
];

/** One array of the file: what it is, and how to get its data when the time comes. */
export interface ArrayHandle {
  dtype: NpDType;
  shape: number[];
  /** The array; `rows`: only its first rows will be used (a deflated .npz entry inflates just those). */
  get(rows?: number): Promise<NdArray>;
}

/** A container opened by a reader: arrays by split and field, plus top-level arrays (text_unk). */
export interface Layout {
  format: 'pickle' | 'npz';
  splits: Partial<Record<SplitName, Map<string, ArrayHandle | PyValue>>>;
  top: Map<string, ArrayHandle | PyValue>;
  /** Top-level keys that are neither splits nor known extras (reported when splits are missing). */
  otherKeys: string[];
}

export interface ReadOptions {
  subset?: number | null; // first N samples per split
  standardize?: boolean; // z-score every feature with the train split's mean and σ (see standardize.ts)
  maxBytes?: number; // refuse (with a subset offer) when the features would need more
  signal?: AbortSignal;
  onProgress?: (p: ReadProgress) => void;
}

/** The features need more memory than allowed; `maxSubset` is the largest N per split that fits. */
export class TooBigError extends Error {
  constructor(
    message: string,
    readonly neededBytes: number,
    readonly maxBytes: number,
    readonly maxSubset: number,
  ) {
    super(message);
    this.name = 'TooBigError';
  }
}

function isHandle(v: ArrayHandle | PyValue | undefined): v is ArrayHandle {
  return typeof v === 'object' && v !== null && 'get' in v && typeof (v as ArrayHandle).get === 'function';
}

/** A numeric array field, or a DatasetError saying what was there instead. */
function numericField(
  split: SplitName,
  fields: Map<string, ArrayHandle | PyValue>,
  key: string,
  required: true,
): ArrayHandle;
function numericField(
  split: SplitName,
  fields: Map<string, ArrayHandle | PyValue>,
  key: string,
  required: false,
): ArrayHandle | null;
function numericField(
  split: SplitName,
  fields: Map<string, ArrayHandle | PyValue>,
  key: string,
  required: boolean,
): ArrayHandle | null {
  const v = fields.get(key);
  if (v === undefined) {
    if (!required) return null;
    const have = listSome([...fields.keys()], '') || 'none';
    throw new DatasetError(split, key, `missing (the split has: ${have}), expected a numpy array`);
  }
  if (!isHandle(v)) throw new DatasetError(split, key, `found a ${describe(v as PyValue)}, expected a numpy array`);
  if (!NUMERIC_KINDS.has(v.dtype.kind) && v.dtype.kind !== 'O') {
    throw new DatasetError(split, key, `found dtype ${v.dtype.str}, expected numbers (float or int)`);
  }
  return v;
}

interface SplitPlan {
  n: number; // samples in the file
  take: number; // samples to read (subset)
  feat: Record<Modality, ArrayHandle>;
  lengths: Record<Modality, ArrayHandle | null>;
  textBert: ArrayHandle | null;
  labels: ArrayHandle;
}

/** Phase 1: everything that can be judged from shapes and dtypes. Throws DatasetError / TooBigError. */
export function describeLayout(
  layout: Layout,
  file: ByteSource,
  opts: ReadOptions = {},
): { summary: FileSummary; plans: Record<SplitName, SplitPlan> } {
  const missing = SPLITS.filter((s) => !layout.splits[s]);
  if (missing.length) {
    const found = [...SPLITS.filter((s) => layout.splits[s]), ...layout.otherKeys];
    throw new DatasetError(
      missing[0],
      'split',
      `missing; found ${found.length ? listSome(found) : 'no keys'}, expected train, valid and test ` +
        (layout.format === 'npz' ? '(keys like train/text or train_text)' : '(a dict of dicts, as MMSA writes)'),
    );
  }
  const dims = [0, 0, 0] as PerModality<number>;
  const lens = [0, 0, 0] as PerModality<number>;
  const hasLengths = [false, false, false] as PerModality<boolean>;
  const dtypes = new Set<string>();
  const plans = {} as Record<SplitName, SplitPlan>;
  const splitSummaries = {} as FileSummary['splits'];
  const subset = opts.subset ?? null;
  if (subset !== null && !(Number.isInteger(subset) && subset >= 1))
    throw new DatasetError(null, 'subset', `found ${subset}, expected a positive whole number of samples per split`);

  for (const name of SPLITS) {
    const fields = layout.splits[name]!;
    const feat = {} as Record<Modality, ArrayHandle>;
    const lengths = {} as Record<Modality, ArrayHandle | null>;
    for (const m of MODALITIES) feat[m] = numericField(name, fields, FEATURE_KEY[m], true);
    const labels = numericField(name, fields, LABEL_KEY, true);
    const textBert = numericField(name, fields, 'text_bert', false);
    for (const m of MODALITIES) lengths[m] = numericField(name, fields, LENGTH_KEY[m], false);

    const n = feat.t.shape[0];
    if (feat.t.shape.length < 2 || feat.t.shape.length > 3) {
      throw new DatasetError(
        name,
        'text',
        `found shape [${feat.t.shape.join(', ')}], expected [N, L, D] (or [N, D] for one vector per sample)`,
      );
    }
    const checkN = (key: string, h: ArrayHandle | null, rank: number[], what: string) => {
      if (!h) return;
      if (!rank.includes(h.shape.length))
        throw new DatasetError(name, key, `found shape [${h.shape.join(', ')}], expected ${what}`);
      if (h.shape[0] !== n)
        throw new DatasetError(name, key, `found ${h.shape[0]} samples, expected N = ${n} (as in text)`);
    };
    MODALITIES.forEach((m, i) => {
      const h = feat[m];
      checkN(FEATURE_KEY[m], h, [2, 3], '[N, L, D] (or [N, D])');
      const L = h.shape.length === 3 ? h.shape[1] : 1;
      const D = h.shape[h.shape.length - 1];
      if (name === 'train') {
        lens[i] = L;
        dims[i] = D;
      } else {
        if (D !== dims[i])
          throw new DatasetError(
            name,
            FEATURE_KEY[m],
            `found feature size ${D}, expected ${dims[i]} as in the train split`,
          );
        if (L !== lens[i])
          throw new DatasetError(
            name,
            FEATURE_KEY[m],
            `found sequence length ${L}, expected ${lens[i]} as in the train split`,
          );
      }
      checkN(LENGTH_KEY[m], lengths[m], [1], '[N]');
      if (lengths[m]) hasLengths[i] = true;
    });
    checkN(LABEL_KEY, labels, [1, 2], '[N] (or [N, 1])');
    if (labels.shape.length === 2 && labels.shape[1] !== 1)
      throw new DatasetError(name, LABEL_KEY, `found shape [${labels.shape.join(', ')}], expected [N]`);
    checkN('text_bert', textBert, [3], '[N, 3, L_t] (token ids, attention mask, segment ids)');
    if (textBert && (textBert.shape[1] !== 3 || textBert.shape[2] !== lens[0])) {
      throw new DatasetError(
        name,
        'text_bert',
        `found shape [${textBert.shape.join(', ')}], expected [N, 3, ${lens[0]}]`,
      );
    }
    if (textBert && !lengths.t) hasLengths[0] = true;
    if (n < 1) throw new DatasetError(name, 'split', `empty (N = 0 in text), expected at least 1 sample`);
    for (const [, v] of fields) {
      if (isHandle(v)) dtypes.add(v.dtype.str);
      else if (v && typeof v === 'object' && 'kind' in v && v.kind === 'ndarray') dtypes.add(v.dtype.str);
    }
    const take = subset === null ? n : Math.min(subset, n);
    plans[name] = { n, take, feat, lengths, textBert, labels };
    // MMSA's fields first, then the file's order; at most MAX_SUMMARY_FIELDS, the rest counted.
    const keys = [...fields.keys()];
    const shown = [...keys.filter((k) => KNOWN_FIELDS.includes(k)), ...keys.filter((k) => !KNOWN_FIELDS.includes(k))];
    splitSummaries[name] = {
      n,
      loaded: take,
      fields: shown.slice(0, MAX_SUMMARY_FIELDS).map((key) => {
        const v = fields.get(key);
        return {
          name: key,
          dtype: isHandle(v) ? v.dtype.str : describe(v as PyValue),
          shape: isHandle(v) ? [...v.shape] : [],
        };
      }),
      moreFields: Math.max(0, keys.length - MAX_SUMMARY_FIELDS),
    };
  }

  const rowBytes = 4 * MODALITIES.reduce((s, _m, i) => s + lens[i] * dims[i], 0);
  const sampleCount = (N: number | null) =>
    SPLITS.reduce((s, k) => s + (N === null ? plans[k].n : Math.min(N, plans[k].n)), 0);
  const fullFeatureBytes = rowBytes * sampleCount(null);
  const featureBytes = rowBytes * sampleCount(subset);
  if (opts.maxBytes !== undefined && featureBytes > opts.maxBytes) {
    let lo = 0;
    let hi = Math.max(...SPLITS.map((k) => plans[k].n));
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (rowBytes * sampleCount(mid) <= opts.maxBytes) lo = mid;
      else hi = mid - 1;
    }
    const counts =
      (subset === null ? '' : `the first ${subset.toLocaleString('en-US')} of `) +
      SPLITS.map((k) => plans[k].n.toLocaleString('en-US')).join(' / ');
    throw new TooBigError(
      `the features need ${formatBytes(featureBytes)} as float32 (${counts} samples, D ${dims.join('/')}, L ${lens.join('/')}), ` +
        `more than the ${formatBytes(opts.maxBytes)} allowed here` +
        (lo >= 1 ? `; a subset of the first ${lo.toLocaleString('en-US')} samples per split fits` : ''),
      featureBytes,
      opts.maxBytes,
      lo,
    );
  }

  const textUnk = layout.top.get('text_unk') ?? layout.splits.train!.get('text_unk');
  if (textUnk !== undefined) {
    // Checked here, from its shape, so a huge text_unk is refused before it is read or converted.
    if (!isHandle(textUnk))
      throw new DatasetError(null, 'text_unk', `found a ${describe(textUnk)}, expected a numpy array [D_t]`);
    const real = textUnk.shape.filter((d) => d !== 1);
    if (real.length > 1 || elementCount(textUnk.shape) !== dims[0])
      throw new DatasetError(null, 'text_unk', `found shape [${textUnk.shape.join(', ')}], expected [${dims[0]}]`);
  }
  const summary: FileSummary = {
    file: file.name,
    format: layout.format,
    bytes: file.size,
    splits: splitSummaries,
    dims,
    lens,
    aligned: lens[0] === lens[1] && lens[1] === lens[2] && !hasLengths[1] && !hasLengths[2],
    hasLengths,
    textIsBert: plans.train.textBert !== null,
    textUnk: textUnk !== undefined,
    dtypes: listDtypes(dtypes),
    featureBytes,
    fullFeatureBytes,
    subset,
    labelHistogram: null,
    nonFinite: [],
    negInfZeroed: 0,
    maxAbs: null,
    standardized: false,
    seconds: null,
  };
  return { summary, plans };
}

/** Phase 2: read, convert and check every array the model needs; returns a validated Dataset. */
export async function readLayout(
  layout: Layout,
  file: ByteSource,
  summary: FileSummary,
  plans: Record<SplitName, SplitPlan>,
  opts: ReadOptions = {},
): Promise<Dataset> {
  // Progress counts the bytes that will actually be read, so the bar reaches 100% on a subset too.
  let total = 0;
  for (const name of SPLITS) {
    const p = plans[name];
    for (const h of [...Object.values(p.feat), ...Object.values(p.lengths), p.textBert, p.labels]) {
      if (h) total += Math.min(p.take, h.shape[0]) * elementCount(h.shape.slice(1)) * h.dtype.itemsize;
    }
  }
  let done = 0;
  const progress = (stage: string) => opts.onProgress?.({ bytesRead: Math.min(done, total), totalBytes: total, stage });

  const readField = async (
    split: SplitName,
    key: string,
    h: ArrayHandle,
    take: number,
    negInfToZero = false,
  ): Promise<Float32Array> => {
    if (opts.signal?.aborted) throw new ReadCancelled();
    progress(`${split}/${key}`);
    const arr = await h.get(take);
    const { data, nonFinite } = await readFloat32(file, arr, {
      rows: take,
      negInfToZero,
      signal: opts.signal,
      onBytes: (b) => {
        done += b;
        progress(`${split}/${key}`);
      },
    });
    noteNonFinite(summary, split, key, nonFinite, negInfToZero);
    const mi = MODALITIES.findIndex((m) => FEATURE_KEY[m] === key);
    if (mi >= 0) {
      summary.maxAbs ??= [0, 0, 0];
      summary.maxAbs[mi] = Math.max(summary.maxAbs[mi], nonFinite.maxAbs);
      // Raw features of 1e30 train to a loss of 1e30: refused now, before the rest is read.
      if (!opts.standardize) checkFeatureScale(split, key, nonFinite.maxAbs);
    }
    return data;
  };

  const built = {} as Record<SplitName, Split>;
  for (const name of SPLITS) {
    const p = plans[name];
    const x = {} as Split['x'];
    const len = {} as Split['len'];
    for (const [i, m] of MODALITIES.entries()) {
      x[m] = await readField(name, FEATURE_KEY[m], p.feat[m], p.take, m === 'a');
      const L = summary.lens[i];
      let lengths: Float32Array | null = null;
      if (p.lengths[m]) lengths = await readField(name, LENGTH_KEY[m], p.lengths[m]!, p.take);
      else if (m === 't' && p.textBert)
        lengths = bertLengths(await readField(name, 'text_bert', p.textBert, p.take), L);
      len[m] = toLengths(
        name,
        m === 't' && !p.lengths.t && p.textBert ? 'text_bert (mask row)' : LENGTH_KEY[m],
        lengths,
        p.take,
        L,
      );
    }
    const y = await readField(name, LABEL_KEY, p.labels, p.take);
    built[name] = { n: p.take, x, len, y };
    const rawText = await readRawText(layout.splits[name]!.get('raw_text'), p.take);
    if (rawText) built[name].rawText = rawText;
  }

  let textUnk: Float32Array | null = null;
  const unk = layout.top.get('text_unk') ?? layout.splits.train!.get('text_unk');
  if (unk !== undefined) {
    if (!isHandle(unk))
      throw new DatasetError(null, 'text_unk', `found a ${describe(unk as PyValue)}, expected a numpy array [D_t]`);
    textUnk = (await readFloat32(file, await unk.get())).data;
  }

  const firstNaN = summary.nonFinite.find((f) => f.nan > 0 || f.posInf > 0 || (f.negInf > 0 && f.field !== 'audio'));
  if (firstNaN) {
    const f = firstNaN;
    const parts = [
      f.nan && `${f.nan.toLocaleString('en-US')} NaN`,
      f.posInf && `${f.posInf} +inf`,
      f.field !== 'audio' && f.negInf && `${f.negInf} −inf`,
    ].filter(Boolean);
    throw new DatasetError(
      f.split,
      f.field,
      `found ${parts.join(' and ')} values, expected finite numbers (NaN is never trained on; only −inf in audio is read as 0, as MMSA does)`,
    );
  }

  const ds: Dataset = {
    source: `file:${file.name}`,
    dims: [...summary.dims] as PerModality<number>,
    lens: [...summary.lens] as PerModality<number>,
    textIsBert: summary.textIsBert,
    textUnk,
    train: built.train,
    valid: built.valid,
    test: built.test,
  };
  validateDataset(ds);
  if (opts.standardize) {
    standardizeFeatures(ds);
    summary.standardized = true;
  }
  summary.labelHistogram = Array.from(labelHistogram(ds.train.y, 7));
  progress('done');
  return ds;
}

/** Longest transcript kept per sample (MOSI's are a sentence; the cap bounds a hostile file). */
const MAX_TRANSCRIPT = 2000;

/**
 * The transcripts (`raw_text`, shown by the sample inspector) when they are an object array or a
 * list of strings, as MMSA writes them; anything else is left out, never refused: the features
 * are what the model needs.
 */
async function readRawText(v: ArrayHandle | PyValue | undefined, take: number): Promise<string[] | undefined> {
  let items: PyValue[] | null = null;
  if (isHandle(v)) {
    if (v.dtype.kind !== 'O' || v.shape.length !== 1) return undefined;
    const a = await v.get(take);
    items = Array.isArray(a.data) ? a.data : null;
  } else if (Array.isArray(v)) items = v;
  else if (v && typeof v === 'object' && 'kind' in v && v.kind === 'ndarray' && Array.isArray(v.data)) items = v.data;
  if (!items || items.length < take) return undefined;
  const out: string[] = [];
  for (let i = 0; i < take; i++) {
    const t = items[i];
    out.push(typeof t === 'string' ? t.slice(0, MAX_TRANSCRIPT) : '');
  }
  return out;
}

/** The distinct dtypes, sorted; a file with thousands of distinct '<U…' lengths lists the first 20. */
function listDtypes(dtypes: Set<string>): string[] {
  const all = [...dtypes].sort();
  return all.length > 20 ? [...all.slice(0, 20), `… and ${all.length - 20} more`] : all;
}

function noteNonFinite(summary: FileSummary, split: SplitName, field: string, nf: NonFinite, zeroed: boolean): void {
  if (!nf.nan && !nf.posInf && !nf.negInf) return;
  summary.nonFinite.push({ split, field, nan: nf.nan, posInf: nf.posInf, negInf: nf.negInf });
  if (zeroed) summary.negInfZeroed += nf.negInf;
}

/** Text lengths from text_bert [N, 3, L]: the attention-mask row's sum, as MMSA computes them. */
function bertLengths(tb: Float32Array, L: number): Float32Array {
  const n = tb.length / (3 * L);
  const out = new Float32Array(n);
  for (let s = 0; s < n; s++) {
    let sum = 0;
    for (let t = 0; t < L; t++) sum += tb[(s * 3 + 1) * L + t];
    out[s] = sum;
  }
  return out;
}

function toLengths(split: SplitName, field: string, lengths: Float32Array | null, n: number, L: number): Int32Array {
  const out = new Int32Array(n);
  if (!lengths) return out.fill(L); // absent → full length (MODEL.md)
  for (let s = 0; s < n; s++) {
    const l = lengths[s];
    if (!(Number.isInteger(l) && l >= 1 && l <= L)) {
      throw new DatasetError(split, field, `found length ${l} at row ${s}, expected a whole number in [1, ${L}]`);
    }
    out[s] = l;
  }
  return out;
}
