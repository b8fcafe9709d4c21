import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../config/config.ts';
import { metricsOf, NO_MACRO, run } from './__fixtures__/runs.ts';
import { makeResultsFile, parseResultsFile, RESULTS_SCHEMA, type DatasetInfo, type ResultsFile } from './results.ts';

const dataset: DatasetInfo = {
  source: 'synthetic:small',
  sizes: { train: 120, valid: 30, test: 40 },
  dims: { text: 16, audio: 5, vision: 20 },
  lengths: { text: 20, audio: 20, vision: 20 },
};

function sampleFile(): ResultsFile {
  const diverged = run({
    seed: 222,
    test: [
      [0, metricsOf(0.4)],
      [1, metricsOf(0.2, { corr: null })],
    ],
  });
  diverged.epochs[1].trainLoss = NaN;
  diverged.epochs[1].validLoss = Infinity;
  diverged.stopReason = 'non-finite-loss';
  diverged.message = 'loss became NaN in epoch 2';
  return makeResultsFile({
    backend: 'wasm',
    dataset,
    config: defaultRunConfig(),
    toolVersion: '0.1.0',
    createdAt: '2026-11-26T12:00:00Z',
    runs: [
      run({
        seed: 111,
        test: [
          [0, metricsOf(0.5)],
          [1, metricsOf(0.3, { corr: null })],
        ],
      }),
      diverged,
      run({
        seed: 111,
        branches: NO_MACRO,
        test: [
          [0, metricsOf(0.5)],
          [1, metricsOf(0.3)],
        ],
      }),
    ],
  });
}

const clone = (f: ResultsFile) => JSON.parse(JSON.stringify(f)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary paths of a parsed file

describe('makeResultsFile', () => {
  it('fills the header and a summary over seeds', () => {
    const f = sampleFile();
    expect(f.schema).toBe(RESULTS_SCHEMA);
    expect(f.tool).toEqual({ name: 'mfmb-playground', version: '0.1.0' });
    expect(f.createdAt).toBe('2026-11-26T12:00:00Z');
    expect(f.summary).toHaveLength(2);
    expect(f.summary[0].seeds).toEqual([111, 222]);
    expect(f.summary[0].auilc.corr.nullsAsZero).toBe(2);
    expect(f.runs[1].message).toMatch(/NaN/);
  });

  it('never writes NaN: non-finite losses become null', () => {
    const f = sampleFile();
    expect(f.runs[1].epochs[1].trainLoss).toBeNull();
    expect(f.runs[1].epochs[1].validLoss).toBeNull();
    // JSON.stringify would hide a NaN as null, so look at the object itself.
    const nonFinite: string[] = [];
    const walk = (v: unknown, path: string): void => {
      if (typeof v === 'number' && !Number.isFinite(v)) nonFinite.push(path);
      else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
    };
    walk(f, 'file');
    expect(nonFinite).toEqual([]);
    expect(JSON.parse(JSON.stringify(f))).toEqual(f); // nothing was turned into null on the way out
  });

  it('does not modify the runs it was given', () => {
    const r = run({
      seed: 1,
      test: [
        [0, metricsOf(1)],
        [1, metricsOf(1)],
      ],
    });
    r.epochs[0].trainLoss = NaN;
    makeResultsFile({ backend: 'cpu', dataset, config: defaultRunConfig(), toolVersion: 'x', runs: [r] });
    expect(r.epochs[0].trainLoss).toBeNaN();
  });

  it('refuses a non-finite number where null is not allowed, naming the field', () => {
    const r = run({ seed: 1, test: [[0, metricsOf(1)]] });
    r.params = NaN;
    expect(() =>
      makeResultsFile({ backend: 'cpu', dataset, config: defaultRunConfig(), toolVersion: 'x', runs: [r] }),
    ).toThrow(/runs\[0\]\.params: expected a finite number, got NaN/);
  });
});

describe('parseResultsFile', () => {
  it('round-trips through JSON text, parsed or not', () => {
    const f = sampleFile();
    const text = JSON.stringify(f);
    expect(parseResultsFile(JSON.parse(text))).toEqual(f);
    expect(parseResultsFile(text)).toEqual(f);
  });

  it('says clearly when a document is not a results file', () => {
    expect(() => parseResultsFile('{oops')).toThrow(/not valid JSON/);
    expect(() => parseResultsFile([])).toThrow(/the document: expected an object/);
    expect(() => parseResultsFile({ hello: 1 })).toThrow(
      /schema: expected "mfmb-results\/1", got nothing; this is not an MFMB results file/,
    );
    const future = clone(sampleFile());
    future.schema = 'mfmb-results/2';
    expect(() => parseResultsFile(future)).toThrow(/version "mfmb-results\/2" is not supported/);
  });

  it('names the path of a bad field', () => {
    const missing = clone(sampleFile());
    delete missing.runs[0].test[1].metrics.acc7;
    expect(() => parseResultsFile(missing)).toThrow(/runs\[0\]\.test\[1\]\.metrics\.acc7: missing/);

    const nan = sampleFile();
    nan.runs[0].test[0].metrics.mae = NaN;
    expect(() => parseResultsFile(nan)).toThrow(
      /runs\[0\]\.test\[0\]\.metrics\.mae: expected a finite number, got NaN/,
    );

    const order = clone(sampleFile());
    order.runs[0].test.reverse();
    expect(() => parseResultsFile(order)).toThrow(/runs\[0\]\.test: rates must be strictly ascending/);

    const stop = clone(sampleFile());
    stop.runs[2].stopReason = 'bored';
    expect(() => parseResultsFile(stop)).toThrow(/runs\[2\]\.stopReason: expected one of early-stop \| max-epochs/);

    const extra = clone(sampleFile());
    extra.summary[0].perRate[0].mean.acc3 = 0.5;
    expect(() => parseResultsFile(extra)).toThrow(/summary\[0\]\.perRate\[0\]\.mean: unknown metric\(s\) acc3/);

    const cfg = clone(sampleFile());
    cfg.config.eval.f1Order = 'both';
    expect(() => parseResultsFile(cfg)).toThrow(/config\.eval\.f1Order/);

    const rate = clone(sampleFile());
    rate.runs[0].trainRate = 1.5;
    expect(() => parseResultsFile(rate)).toThrow(/runs\[0\]\.trainRate: a rate must lie in \[0, 1\], got 1.5/);
  });

  it("reads files that follow RESULTS.md's example without our additions", () => {
    const plain = clone(sampleFile());
    for (const r of plain.runs) delete r.arch;
    for (const s of plain.summary) {
      delete s.arch;
      delete s.seeds;
      delete s.trainRate;
      for (const k of Object.keys(s.auilc)) if (s.auilc[k].nullsAsZero === 0) delete s.auilc[k].nullsAsZero;
    }
    const f = parseResultsFile(plain);
    expect(f.runs.every((r) => r.arch === 'mfmb')).toBe(true);
    expect(f).toEqual(sampleFile());

    const noSummary = clone(sampleFile());
    delete noSummary.summary;
    expect(parseResultsFile(noSummary).summary).toEqual(sampleFile().summary);
  });

  it('keeps the per-epoch loss terms; files without them (written before they existed) still read', () => {
    const withTerms = clone(sampleFile());
    const e = withTerms.runs[0].epochs[0];
    e.trainTerms = { task: 0.9, genText: 0.1, genAudio: 0.05, genVision: 0.15 };
    e.validTerms = { task: 1.1, genText: null, genAudio: null, genVision: null };
    const f = parseResultsFile(JSON.parse(JSON.stringify(withTerms)));
    expect(f.runs[0].epochs[0].trainTerms).toEqual(e.trainTerms);
    expect(f.runs[0].epochs[0].validTerms).toEqual(e.validTerms);
    // Without: the record has no terms at all (not a record of nulls), exactly as before.
    expect('trainTerms' in parseResultsFile(clone(sampleFile())).runs[0].epochs[0]).toBe(false);
    // A NaN term is written as null, like the losses.
    const runs = structuredClone(sampleFile().runs);
    runs[0].epochs[0].trainTerms = { task: NaN, genText: 1, genAudio: 2, genVision: 3 };
    const made = makeResultsFile({ backend: 'wasm', dataset, config: defaultRunConfig(), toolVersion: '0', runs });
    expect(made.runs[0].epochs[0].trainTerms).toEqual({ task: null, genText: 1, genAudio: 2, genVision: 3 });
    // Present but malformed: refused with its path.
    const bad = clone(sampleFile());
    bad.runs[0].epochs[0].trainTerms = { task: 1, genText: 'x', genAudio: 0, genVision: 0 };
    expect(() => parseResultsFile(bad)).toThrow(
      /runs\[0\]\.epochs\[0\]\.trainTerms\.genText: expected a finite number/,
    );
    const missing = clone(sampleFile());
    missing.runs[0].epochs[0].validTerms = { task: 1 };
    expect(() => parseResultsFile(missing)).toThrow(/validTerms\.genText: missing/);
    const extra = clone(sampleFile());
    extra.runs[0].epochs[0].trainTerms = { task: 1, genText: 0, genAudio: 0, genVision: 0, genExtra: 1 };
    expect(() => parseResultsFile(extra)).toThrow(/unknown loss term\(s\) genExtra/);
  });

  it('marks every run with its status; the summary leaves out cut-off runs; older files still read', () => {
    const runs = [1, 2, 3].map((seed) =>
      run({
        seed,
        test: [
          [0, metricsOf(seed / 10)],
          [1, metricsOf(seed / 10)],
        ],
      }),
    );
    runs[2].stopReason = 'aborted';
    const f = makeResultsFile({ backend: 'wasm', dataset, config: defaultRunConfig(), toolVersion: '0', runs });
    expect(f.runs.map((r) => r.status)).toEqual(['finished', 'finished', 'stopped']);
    expect(f.summary[0].seeds).toEqual([1, 2]);
    expect(f.summary[0].cutOff).toEqual([{ seed: 3, status: 'stopped' }]);
    expect(f.summary[0].perRate[0].mean.mae).toBeCloseTo(0.15, 12);
    // Written and read back: nothing lost.
    expect(parseResultsFile(JSON.stringify(f))).toEqual(f);
    // A file from before the fields existed: statuses from the stop reasons, its summary as written.
    const old = clone(f);
    for (const r of old.runs) delete r.status;
    for (const s of old.summary) delete s.cutOff;
    const read = parseResultsFile(old);
    expect(read.runs.map((r) => r.status)).toEqual(['finished', 'finished', 'stopped']);
    expect('cutOff' in read.summary[0]).toBe(false);
    // Unknown statuses are refused with their path.
    const bad = clone(f);
    bad.runs[1].status = 'done';
    expect(() => parseResultsFile(bad)).toThrow(/runs\[1\]\.status: expected one of finished \| stopped/);
    const badCut = clone(f);
    badCut.summary[0].cutOff = [{ seed: 3, status: 'halted' }];
    expect(() => parseResultsFile(badCut)).toThrow(/summary\[0\]\.cutOff\[0\]\.status/);
  });
});
