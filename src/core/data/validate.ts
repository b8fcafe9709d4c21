/**
 * Checks a Dataset before anything trains on it (DATA.md): one clear message per problem, naming the
 * split and field, what was found and what was expected. File readers call this and prefix the file
 * name, so a bad file is rejected whole and the previously loaded dataset stays in use.
 */
import { MODALITIES, type Modality } from '../config/config.ts';
import { SPLITS, type Dataset, type SplitName } from './types.ts';

/** The field names users know from MMSA pickles, beside ours. */
const FEATURE_FIELD: Record<Modality, string> = { t: 'text (x.t)', a: 'audio (x.a)', v: 'vision (x.v)' };
const LENGTH_FIELD: Record<Modality, string> = {
  t: 'text lengths (len.t)',
  a: 'audio_lengths (len.a)',
  v: 'vision_lengths (len.v)',
};
const LABEL_FIELD = 'regression_labels (y)';
const LABEL_LIMIT = 3;
/**
 * Largest raw feature magnitude trained on without standardising. Real openSMILE/Facet/BERT values
 * stay within a few thousand; beyond this the reconstruction loss is dominated by (or overflows
 * with) the features' scale, so such a file is refused unless standardised.
 */
export const MAX_RAW_FEATURE = 1e6;

/** Refuses features whose largest |value| exceeds MAX_RAW_FEATURE (call it when not standardising). */
export function checkFeatureScale(split: SplitName | null, field: string, maxAbs: number): void {
  if (maxAbs > MAX_RAW_FEATURE)
    throw new DatasetError(
      split,
      field,
      `values up to ${maxAbs.toPrecision(3)}, more than ${MAX_RAW_FEATURE.toExponential(0)} — too large to train on raw ` +
        '(the loss would be meaningless or overflow); standardise the features (--standardize, or the Data panel checkbox) or rescale them in the file',
    );
}

/** A validation failure; `split` and `field` let a UI point at the culprit. */
export class DatasetError extends Error {
  constructor(
    readonly split: SplitName | null,
    readonly field: string,
    detail: string,
  ) {
    super(`${split ? `${split} split, ` : ''}${field}: ${detail}`);
    this.name = 'DatasetError';
  }
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/** Throws a DatasetError at the first problem found; returns quietly when the dataset is usable. */
export function validateDataset(ds: Dataset): void {
  MODALITIES.forEach((m, i) => {
    if (!isPositiveInt(ds.dims?.[i]))
      throw new DatasetError(null, `feature size D_${m}`, `found ${ds.dims?.[i]}, expected a positive integer`);
    if (!isPositiveInt(ds.lens?.[i]))
      throw new DatasetError(null, `sequence length L_${m}`, `found ${ds.lens?.[i]}, expected a positive integer`);
  });
  if (ds.textUnk) {
    if (ds.textUnk.length !== ds.dims[0]) {
      throw new DatasetError(null, 'text_unk', `found ${ds.textUnk.length} values, expected D_t = ${ds.dims[0]}`);
    }
    const bad = describeNonFinite(ds.textUnk);
    if (bad) throw new DatasetError(null, 'text_unk', `${bad}, expected finite numbers`);
  }
  for (const name of SPLITS) validateSplit(ds, name);
}

function validateSplit(ds: Dataset, name: SplitName): void {
  const s = ds[name];
  if (!s) throw new DatasetError(name, 'split', 'missing, expected train, valid and test splits');
  if (!Number.isInteger(s.n) || s.n < 1)
    throw new DatasetError(name, 'split', `empty (n = ${s.n}), expected at least 1 sample`);
  const n = s.n;
  MODALITIES.forEach((m, i) => {
    const L = ds.lens[i];
    const D = ds.dims[i];
    const x = s.x?.[m];
    if (!x || x.length !== n * L * D) {
      throw new DatasetError(
        name,
        FEATURE_FIELD[m],
        `found ${x ? x.length : 'no'} values, expected n·L·D = ${n}·${L}·${D} = ${n * L * D}`,
      );
    }
    const len = s.len?.[m];
    if (!len || len.length !== n)
      throw new DatasetError(name, LENGTH_FIELD[m], `found ${len ? len.length : 'no'} entries, expected n = ${n}`);
    let badLen = 0;
    let first = -1;
    for (let k = 0; k < n; k++) {
      const l = len[k];
      if (!(Number.isInteger(l) && l >= 1 && l <= L)) {
        if (badLen++ === 0) first = k;
      }
    }
    if (badLen) {
      throw new DatasetError(
        name,
        LENGTH_FIELD[m],
        `${badLen} lengths outside [1, ${L}] (first: ${len[first]} at row ${first})`,
      );
    }
    const bad = describeNonFinite(x);
    if (bad) throw new DatasetError(name, FEATURE_FIELD[m], `${bad}, expected finite features`);
  });
  const y = s.y;
  if (!y || y.length !== n)
    throw new DatasetError(name, LABEL_FIELD, `found ${y ? y.length : 'no'} labels, expected n = ${n}`);
  const nonFinite = describeNonFinite(y);
  if (nonFinite) throw new DatasetError(name, LABEL_FIELD, `${nonFinite}, expected finite labels in [-3, 3]`);
  let out = 0;
  let first = -1;
  for (let k = 0; k < n; k++) {
    if (y[k] < -LABEL_LIMIT || y[k] > LABEL_LIMIT) {
      if (out++ === 0) first = k;
    }
  }
  if (out)
    throw new DatasetError(name, LABEL_FIELD, `${out} labels outside [-3, 3] (first: ${y[first]} at row ${first})`);
}

/** '' when all finite, else e.g. '3 NaN and 1 infinite values (first at index 17)'. */
function describeNonFinite(a: ArrayLike<number>): string {
  let bad = 0;
  let first = -1;
  // x - x is 0 for finite x and NaN for NaN/±Inf: one cheap test per value keeps 49M floats fast.
  for (let k = 0; k < a.length; k++) {
    if (a[k] - a[k] !== 0 && bad++ === 0) first = k;
  }
  if (!bad) return '';
  let nan = 0;
  for (let k = first; k < a.length; k++) if (Number.isNaN(a[k])) nan++;
  return `${nan} NaN and ${bad - nan} infinite values (first at index ${first})`;
}
