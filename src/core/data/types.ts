import type { Modality, PerModality } from '../config/config.ts';

/** Per-modality record, keyed t / a / v. */
export type ByModality<T> = Record<Modality, T>;

/**
 * One split held as flat row-major typed arrays (no tensors: data lives outside tfjs until a batch
 * is built). x[m] is [n, L_m, D_m]; len[m] is [n] valid lengths with padding at the end.
 */
export interface Split {
  n: number;
  x: ByModality<Float32Array>;
  len: ByModality<Int32Array>;
  y: Float32Array; // regression labels in [-3, 3]
  rawText?: string[]; // [n] the transcript (a file's raw_text), when the file has one
}

export type SplitName = 'train' | 'valid' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export interface Dataset {
  source: string; // 'synthetic:small', 'file:aligned_50.pkl', …
  dims: PerModality<number>; // D_t, D_a, D_v
  lens: PerModality<number>; // L_t, L_a, L_v
  textIsBert: boolean; // text rows are BERT token features with [CLS]/[SEP] at the ends
  textUnk: Float32Array | null; // [D_t] replacement for a dropped text position; null → zeros
  train: Split;
  valid: Split;
  test: Split;
}

/** A split after the missing-data simulation at one rate. drop[m] is [n, L_m], 1 = real and dropped. */
export interface MaskedSplit {
  n: number;
  x: ByModality<Float32Array>; // masked features (what the model sees)
  clean: ByModality<Float32Array>; // the original features (reconstruction targets)
  drop: ByModality<Uint8Array>;
  len: ByModality<Int32Array>;
  y: Float32Array;
}

/** One mini-batch, still plain arrays; the trainer turns it into tensors inside a tidy. */
export interface Batch {
  size: number;
  x: ByModality<Float32Array>;
  clean: ByModality<Float32Array>;
  drop: ByModality<Float32Array>; // 0/1 as float for the loss
  len: ByModality<Int32Array>;
  y: Float32Array;
}
