/**
 * The summary of a feature file, as the Data panel and `mfmb inspect` show it. Types only, so the
 * reader (mmsa.ts), its text form (summaryText.ts) and the worker protocol share it without
 * importing each other.
 */
import type { PerModality } from '../../config/config.ts';
import type { SplitName } from '../types.ts';

export interface FieldSummary {
  name: string;
  dtype: string;
  shape: number[];
}

/** The Data panel's and `mfmb inspect`'s view of a file. */
export interface FileSummary {
  file: string;
  format: 'pickle' | 'npz';
  bytes: number;
  /** fields: the first MAX_SUMMARY_FIELDS (MMSA's first); moreFields: how many more the split has. */
  splits: Record<SplitName, { n: number; loaded: number; fields: FieldSummary[]; moreFields?: number }>;
  dims: PerModality<number>;
  lens: PerModality<number>;
  aligned: boolean; // one length for all three modalities and no per-modality lengths
  hasLengths: PerModality<boolean>; // lengths from the file (text: text_bert's mask row) vs full length
  textIsBert: boolean; // the file has text_bert, so [CLS]/[SEP] are kept when masking
  textUnk: boolean; // the file provides the [UNK] feature vector; false → dropped text becomes zeros
  dtypes: string[]; // distinct dtypes of all arrays
  featureBytes: number; // float32 bytes the loaded features take (after any subset)
  fullFeatureBytes: number; // the same for the whole file
  subset: number | null; // first N samples per split, when asked
  // Filled after reading:
  labelHistogram: number[] | null; // train labels rounded to −3..3
  nonFinite: { split: SplitName; field: string; nan: number; posInf: number; negInf: number }[];
  negInfZeroed: number; // −inf audio values set to 0 (MMSA does the same)
  maxAbs: PerModality<number> | null; // largest |feature| per modality as read (before any standardising)
  standardized: boolean; // features z-scored with the train split's mean and σ (option)
  seconds: { structure: number; read: number } | null;
}
