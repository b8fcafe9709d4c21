import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FileLoadError, inspectFeatureFile, loadFeatureFile } from './load.ts';
import { bytesSource } from './source.ts';
import { formatFileSummary } from './summaryText.ts';
import type { Dataset, SplitName } from '../types.ts';
import { flatIndex, manifest as npzManifest, type ArrayInfo } from './__fixtures__/npzFixtures.ts';

const FIX = new URL('./__fixtures__/', import.meta.url);
const fixture = (path: string) => bytesSource(new Uint8Array(readFileSync(new URL(path, FIX))), path.split('/').pop());

/** Checks the dataset against the sample values Python recorded: [index, value] pairs per array. */
function checkSamples(ds: Dataset, arrays: Record<string, ArrayInfo>, sep: string) {
  const mod: Record<string, 't' | 'a' | 'v'> = { text: 't', audio: 'a', vision: 'v' };
  let checked = 0;
  for (const [key, a] of Object.entries(arrays)) {
    const [split, field] = key.split(sep) as [SplitName, string];
    if (!(field in mod) && field !== 'regression_labels') continue;
    for (const [idx, v] of a.samples ?? []) {
      const flat = flatIndex(idx, a.shape, false);
      const got = field === 'regression_labels' ? ds[split].y[flat] : ds[split].x[mod[field]][flat];
      const want = v === '-inf' && field === 'audio' ? 0 : Number(v);
      expect(got, `${key}[${idx}]`).toBeCloseTo(want, 6);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(10);
}

describe('loading MMSA-layout .npz archives', () => {
  for (const [file, sep] of [
    ['mmsa_slash.npz', '/'],
    ['mmsa_underscore.npz', '_'],
    ['mmsa_compressed.npz', '/'],
  ] as const) {
    it(`${file}: splits, sizes and values as Python wrote them`, async () => {
      const { dataset: ds, summary } = await loadFeatureFile(fixture(`npz/${file}`));
      const arrays = npzManifest.files[file].arrays;
      const text = arrays[`train${sep}text`];
      expect(ds.train.n).toBe(text.shape[0]);
      expect(ds.valid.n).toBe(arrays[`valid${sep}text`].shape[0]);
      expect(ds.test.n).toBe(arrays[`test${sep}text`].shape[0]);
      expect(ds.dims).toEqual([
        text.shape[2],
        arrays[`train${sep}audio`].shape[2],
        arrays[`train${sep}vision`].shape[2],
      ]);
      expect(ds.lens).toEqual([
        text.shape[1],
        arrays[`train${sep}audio`].shape[1],
        arrays[`train${sep}vision`].shape[1],
      ]);
      expect(ds.train.len.a.every((l) => l === ds.lens[1])).toBe(true); // no lengths in the file → full length
      expect(summary.aligned).toBe(true);
      expect(summary.format).toBe('npz');
      expect(ds.source).toBe(`file:${file}`);
      checkSamples(ds, arrays, sep);
      expect(summary.labelHistogram!.reduce((a, b) => a + b, 0)).toBe(ds.train.n);
    });
  }

  it('a subset reads only the first N samples of each split', async () => {
    const full = (await loadFeatureFile(fixture('npz/mmsa_slash.npz'))).dataset;
    const { dataset: ds, summary } = await loadFeatureFile(fixture('npz/mmsa_slash.npz'), { subset: 2 });
    expect([ds.train.n, ds.valid.n, ds.test.n]).toEqual([2, 2, 2]);
    expect(Array.from(ds.train.x.t)).toEqual(Array.from(full.train.x.t.subarray(0, ds.train.x.t.length)));
    expect(summary.splits.train).toMatchObject({ n: 6, loaded: 2 });
  });

  it('refuses files whose features exceed the memory limit, before reading them, with the largest subset that fits', async () => {
    const info = await inspectFeatureFile(fixture('npz/mmsa_slash.npz'));
    const perSample = info.featureBytes / 13; // 6 + 3 + 4 samples
    const err = await loadFeatureFile(fixture('npz/mmsa_slash.npz'), { maxBytes: perSample * 7.5 }).catch((e) => e);
    expect(err).toBeInstanceOf(FileLoadError);
    expect(err.kind).toBe('too-big');
    // N = 3 → 3 + 3 + 3 = 9 samples > 7.5; N = 2 → 6 samples fit.
    expect(err.maxSubset).toBe(2);
    expect(err.message).toMatch(
      /^mmsa_slash\.npz: the features need .* a subset of the first 2 samples per split fits/,
    );
  });

  it('an archive without the MMSA keys is refused with the keys it has', async () => {
    const err = await loadFeatureFile(fixture('npz/dtypes.npz')).catch((e) => e);
    expect(err).toBeInstanceOf(FileLoadError);
    expect(err.message).toMatch(
      /^dtypes\.npz: train split, split: missing; found "f8", .* and 5 more, expected train, valid and test/,
    );
  });

  it('a single .npy is explained, not half-loaded', async () => {
    const err = await loadFeatureFile(fixture('npz/single.npy')).catch((e) => e);
    expect(err.message).toMatch(/single \.npy holds one array/);
  });

  it('formats a summary for the CLI', async () => {
    const { summary } = await loadFeatureFile(fixture('npz/mmsa_slash.npz'));
    const text = formatFileSummary(summary);
    expect(text).toContain('layout: aligned');
    expect(text).toContain('samples: train 6, valid 3, test 4');
    expect(text).toContain('no text_unk in the file, so dropped text positions become zeros');
    expect(text).toContain('non-finite values: none');
  });
});

describe('MMSA pickles written by Python', () => {
  const pickleManifest = JSON.parse(readFileSync(new URL('pickle/manifest.json', FIX), 'utf8'));
  const mmsaFiles = (pickleManifest.files as { name: string }[])
    .map((f) => f.name)
    .filter((f) => f.startsWith('mmsa_'));

  it('finds the MMSA fixtures (protocols 0/2/4/5, numpy 1.x and 2.x)', () => {
    expect(mmsaFiles.length).toBeGreaterThanOrEqual(7);
  });

  /** The manifest's description of one split's arrays: {field: {dtype, shape, head | values}}. */
  type Spec = { dtype: string; shape: number[]; head?: (number | { float: string })[]; values?: unknown[] };
  function specOf(file: string): Record<string, Record<string, Spec>> {
    const entry = pickleManifest.files.find((f: { name: string }) => f.name === file);
    const out: Record<string, Record<string, Spec>> = {};
    for (const [split, fields] of entry.expect.dict as [string, { dict: [string, { ndarray: Spec }][] }][]) {
      out[split] = Object.fromEntries(
        fields.dict.filter(([, v]) => v && 'ndarray' in v).map(([k, v]) => [k, v.ndarray]),
      );
    }
    return out;
  }
  const num = (v: number | { float: string }) =>
    typeof v === 'number' ? v : Number(v.float.replace('inf', 'Infinity'));

  for (const file of [
    'mmsa_aligned_p0_np1.pkl',
    'mmsa_aligned_p2_np1.pkl',
    'mmsa_aligned_p2_np2.pkl',
    'mmsa_aligned_p4_np1.pkl',
    'mmsa_aligned_p4_np2.pkl',
    'mmsa_unaligned_p5_np1.pkl',
    'mmsa_unaligned_p5_np2.pkl',
  ]) {
    it(`${file}: sizes, values and lengths as Python wrote them`, async () => {
      const { dataset: ds, summary } = await loadFeatureFile(fixture(`pickle/${file}`));
      const spec = specOf(file);
      expect(summary.aligned).toBe(!file.includes('unaligned'));
      const mods = [
        ['t', 'text'],
        ['a', 'audio'],
        ['v', 'vision'],
      ] as const;
      mods.forEach(([, key], i) => {
        expect(ds.dims[i]).toBe(spec.train[key].shape[2]);
        expect(ds.lens[i]).toBe(spec.train[key].shape[1]);
      });
      let checked = 0;
      for (const k of ['train', 'valid', 'test'] as const) {
        expect(ds[k].n).toBe(spec[k].text.shape[0]);
        for (const [m, key] of mods) {
          for (const [j, v] of (spec[k][key].head ?? []).entries()) {
            const want = num(v);
            expect(ds[k].x[m][j], `${k}/${key}[${j}]`).toBe(
              key === 'audio' && want === -Infinity ? 0 : Math.fround(want),
            );
            checked++;
          }
          const lengths = spec[k][`${key}_lengths`]?.values as number[] | undefined;
          if (lengths) expect(Array.from(ds[k].len[m])).toEqual(lengths);
        }
        const labels = spec[k].regression_labels.values as number[] | undefined;
        if (labels) expect(Array.from(ds[k].y)).toEqual(labels.map((v) => Math.fround(v)));
        const tb = spec[k].text_bert;
        if (tb?.values) {
          // text lengths = the attention-mask row's sum, as MMSA computes them
          const L = tb.shape[2];
          const flat = (tb.values as number[][][]).flat(2);
          const want = Array.from({ length: tb.shape[0] }, (_, s) =>
            flat.slice((s * 3 + 1) * L, (s * 3 + 2) * L).reduce((x, y) => x + y, 0),
          );
          expect(Array.from(ds[k].len.t)).toEqual(want);
        }
      }
      expect(checked).toBeGreaterThan(20);
    });
  }

  it('unaligned: lengths come from audio_lengths / vision_lengths and text_bert; −inf audio becomes 0 and is counted', async () => {
    const { dataset: ds, summary } = await loadFeatureFile(fixture('pickle/mmsa_unaligned_p5_np2.pkl'));
    expect(summary.hasLengths).toEqual([true, true, true]);
    expect(summary.textIsBert).toBe(true);
    expect(ds.textIsBert).toBe(true);
    expect(ds.lens[1]).not.toBe(ds.lens[0]);
    const negInf = summary.nonFinite.filter((f) => f.field === 'audio').reduce((a, f) => a + f.negInf, 0);
    expect(summary.negInfZeroed).toBe(negInf);
    for (const k of ['train', 'valid', 'test'] as const) expect(ds[k].x.a.every((v) => Number.isFinite(v))).toBe(true);
    // Padding is at the end and lengths never exceed L.
    for (const k of ['train', 'valid', 'test'] as const)
      for (const m of ['t', 'a', 'v'] as const) {
        const L = ds.lens[['t', 'a', 'v'].indexOf(m)];
        expect(ds[k].len[m].every((l) => l >= 1 && l <= L)).toBe(true);
      }
  });

  it('lengths given as Python lists and a top-level text_unk vector', async () => {
    const entry = pickleManifest.files.find((f: { name: string }) => f.name === 'mmsa_listlengths_unk_p4_np2.pkl');
    const top = Object.fromEntries(entry.expect.dict);
    const { dataset: ds, summary } = await loadFeatureFile(fixture('pickle/mmsa_listlengths_unk_p4_np2.pkl'));
    for (const k of ['train', 'valid', 'test'] as const) {
      const fields = Object.fromEntries(top[k].dict);
      expect(Array.from(ds[k].len.a)).toEqual(fields.audio_lengths);
      expect(Array.from(ds[k].len.v)).toEqual(fields.vision_lengths);
    }
    expect(summary.textUnk).toBe(true);
    expect(Array.from(ds.textUnk!)).toEqual(top.text_unk.ndarray.values);
    expect(formatFileSummary(summary)).toContain("dropped text positions take the file's text_unk vector");
  });

  const refusals: [string, RegExp][] = [
    [
      'bad_mismatched_n.pkl',
      /^bad_mismatched_n\.pkl: train split, audio: found 5 samples, expected N = 6 \(as in text\)$/,
    ],
    [
      'bad_dim_across_splits.pkl',
      /^bad_dim_across_splits\.pkl: valid split, vision: found feature size 7, expected 5 as in the train split$/,
    ],
    [
      'bad_labels_range.pkl',
      /^bad_labels_range\.pkl: train split, regression_labels \(y\): 1 labels outside \[-3, 3\] \(first: 4\.5 at row 2\)$/,
    ],
    ['bad_nan.pkl', /^bad_nan\.pkl: train split, vision: found 1 NaN values, expected finite numbers/],
    ['bad_empty_split.pkl', /^bad_empty_split\.pkl: test split, split: empty \(N = 0 in text\)/],
    ['bad_missing_split.pkl', /^bad_missing_split\.pkl: valid split, split: missing; found "train", "test"/],
    ['bad_not_dict.pkl', /^bad_not_dict\.pkl: top level: found a list, expected a dict \{train, valid, test\}/],
    ['hostile_os_system_p2.pkl', /^hostile_os_system_p2\.pkl: refused global posix\.system — /],
    ['hostile_eval_p4.pkl', /^hostile_eval_p4\.pkl: refused global builtins\.eval — /],
    ['hostile_popen_p4.pkl', /^hostile_popen_p4\.pkl: refused global subprocess\.Popen — /],
  ];
  for (const [file, pattern] of refusals) {
    it(`refuses ${file} with one clear message`, async () => {
      const err = await loadFeatureFile(fixture(`pickle/${file}`)).catch((e) => e);
      expect(err).toBeInstanceOf(FileLoadError);
      expect(err.message).toMatch(pattern);
      expect(err.file).toBe(file);
    });
  }

  it('a truncated pickle and a file that is no pickle are refused, naming the file', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('pickle/mmsa_aligned_p4_np2.pkl', FIX)));
    const cut = await loadFeatureFile(bytesSource(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'cut.pkl')).catch(
      (e) => e,
    );
    expect(cut).toBeInstanceOf(FileLoadError);
    expect(cut.message).toMatch(/^cut\.pkl: .*(ends|truncated)/);
    const text = await loadFeatureFile(
      bytesSource(new TextEncoder().encode('train,valid,test\n1,2,3\n'), 'data.csv'),
    ).catch((e) => e);
    expect(text.message).toMatch(/^data\.csv: not a Python pickle/);
    const empty = await loadFeatureFile(bytesSource(new Uint8Array(0), 'empty.pkl')).catch((e) => e);
    expect(empty.message).toBe('empty.pkl: the file is empty');
  });

  it('cancelling stops the read with a "cancelled" error', async () => {
    const abort = new AbortController();
    abort.abort();
    const err = await loadFeatureFile(fixture('pickle/mmsa_aligned_p4_np2.pkl'), { signal: abort.signal }).catch(
      (e) => e,
    );
    expect(err.kind).toBe('cancelled');
  });
});

const REAL = new URL('../../../../../shared/data/mosi-utterance/', import.meta.url);
const realPickle = new URL('mosi_utterance_p4.pkl', REAL);

describe.skipIf(!existsSync(realPickle))('the real CMU-MOSI utterance pickle (../shared/data)', () => {
  it('loads with the documented splits and sizes', async () => {
    const { dataset: ds, summary } = await loadFeatureFile(
      bytesSource(new Uint8Array(readFileSync(realPickle)), 'mosi_utterance_p4.pkl'),
    );
    expect([ds.train.n, ds.valid.n, ds.test.n]).toEqual([1301, 146, 752]);
    expect(ds.dims).toEqual([100, 73, 100]);
    expect(ds.lens).toEqual([1, 1, 1]);
    expect(summary.dtypes).toContain('<f4');
    expect(summary.textIsBert).toBe(false);
    for (const s of [ds.train, ds.valid, ds.test])
      for (let i = 0; i < s.n; i++) expect(Math.abs(s.y[i])).toBeLessThanOrEqual(3);
  });
});
