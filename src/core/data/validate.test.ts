import { describe, expect, it } from 'vitest';
import { makeSynthetic } from './synthetic.ts';
import type { Dataset } from './types.ts';
import { DatasetError, validateDataset } from './validate.ts';

const fresh = (): Dataset => makeSynthetic('tiny', 1);

function failure(ds: Dataset): DatasetError {
  try {
    validateDataset(ds);
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected validateDataset to throw');
}

describe('validateDataset', () => {
  it('accepts a well-formed dataset', () => {
    expect(() => validateDataset(fresh())).not.toThrow();
  });

  it('wrong feature array size names split, field, found and expected', () => {
    const ds = fresh();
    ds.valid.x.a = ds.valid.x.a.subarray(0, 100);
    const e = failure(ds);
    expect(e.split).toBe('valid');
    expect(e.message).toBe('valid split, audio (x.a): found 100 values, expected n·L·D = 30·12·5 = 1800');
  });

  it('NaN and infinite features are counted', () => {
    const ds = fresh();
    ds.test.x.v[5] = NaN;
    ds.test.x.v[50] = NaN;
    ds.test.x.v[70] = -Infinity;
    const e = failure(ds);
    expect(e.message).toBe(
      'test split, vision (x.v): 2 NaN and 1 infinite values (first at index 5), expected finite features',
    );
  });

  it('labels out of range or not finite', () => {
    const ds = fresh();
    ds.train.y[3] = 3.5;
    ds.train.y[9] = -4;
    expect(failure(ds).message).toBe(
      'train split, regression_labels (y): 2 labels outside [-3, 3] (first: 3.5 at row 3)',
    );
    const ds2 = fresh();
    ds2.train.y[0] = NaN;
    expect(failure(ds2).message).toMatch(/^train split, regression_labels \(y\): 1 NaN and 0 infinite values/);
  });

  it('lengths outside [1, L]', () => {
    const ds = fresh();
    ds.test.len.t[4] = 0;
    ds.test.len.t[6] = 99;
    expect(failure(ds).message).toBe('test split, text lengths (len.t): 2 lengths outside [1, 8] (first: 0 at row 4)');
    const ds2 = fresh();
    ds2.train.len.a[2] = 13;
    expect(failure(ds2).message).toMatch(/^train split, audio_lengths \(len\.a\): 1 lengths outside \[1, 12\]/);
  });

  it('length and label arrays of the wrong size', () => {
    const ds = fresh();
    ds.valid.len.v = new Int32Array(3).fill(1);
    expect(failure(ds).message).toBe('valid split, vision_lengths (len.v): found 3 entries, expected n = 30');
    const ds2 = fresh();
    ds2.valid.y = new Float32Array(29);
    expect(failure(ds2).message).toBe('valid split, regression_labels (y): found 29 labels, expected n = 30');
  });

  it('empty split', () => {
    const ds = fresh();
    ds.test = {
      n: 0,
      x: { t: new Float32Array(0), a: new Float32Array(0), v: new Float32Array(0) },
      len: { t: new Int32Array(0), a: new Int32Array(0), v: new Int32Array(0) },
      y: new Float32Array(0),
    };
    const e = failure(ds);
    expect(e.message).toBe('test split, split: empty (n = 0), expected at least 1 sample');
  });

  it('a textUnk of the wrong size', () => {
    const ds = fresh();
    ds.textUnk = new Float32Array(7);
    expect(failure(ds).message).toBe('text_unk: found 7 values, expected D_t = 32');
  });
});
