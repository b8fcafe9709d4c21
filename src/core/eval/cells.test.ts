import { beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { initNodeBackend } from '../backend.ts';
import { defaultRunConfig, modelPreset, type RunConfig } from '../config/config.ts';
import { makeSynthetic } from '../data/synthetic.ts';
import { runExperiment, type ModelSetting } from './experiment.ts';
import { datasetBlockOf, makeResultsFile, type ResultsFile } from './results.ts';
import { checkResultsFile } from './resultsSchema.ts';
import {
  canonicalJson,
  makeCellResult,
  makePlan,
  mergeCells,
  planCells,
  sha256Hex,
  shareOf,
  type CellResult,
  type DataRef,
  type SweepPlan,
} from './cells.ts';

const ds = makeSynthetic('tiny', 7);
const ALL = { macro: true, micro: true, recon: true };
const SETTINGS: ModelSetting[] = [
  { arch: 'mfmb', branches: ALL },
  { arch: 'mfmb', branches: { ...ALL, recon: false } },
];
const FILE: DataRef = {
  kind: 'file',
  path: '/a/b.pkl',
  size: 10,
  sha256: 'ab'.repeat(32),
  subset: null,
  maxBytes: 8e9,
};

function config(protocol: 'per-rate' | 'train-once', rates = [0, 0.5]): RunConfig {
  const cfg = defaultRunConfig();
  cfg.data.source = 'synthetic:tiny';
  cfg.data.seed = 7;
  cfg.model = modelPreset('tiny', { dims: ds.dims, lens: ds.lens });
  cfg.train = { ...cfg.train, batchSize: 40, epochs: 1, seeds: [111, 1111] };
  cfg.missing = { ...cfg.missing, protocol, testRates: rates };
  return cfg;
}

const plan = (cfg: RunConfig, data: DataRef = { kind: 'synthetic' }, backend = 'wasm'): SweepPlan =>
  makePlan({ config: cfg, settings: SETTINGS, backend, data });

/** Keys sorted the other way round, at every depth: the same value in another order. */
function reversedKeys<T>(v: T): T {
  if (Array.isArray(v)) return v.map(reversedKeys) as T;
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reversedKeys(x)]),
    ) as T;
  return v;
}

describe('cells: split and keys', () => {
  it('sha256Hex equals node:crypto at block edges', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 1000]) {
      const b = new Uint8Array(n).map((_, i) => (i * 131 + 7) & 255);
      expect(sha256Hex(b)).toBe(createHash('sha256').update(b).digest('hex'));
    }
  });

  it('one cell per run, in the serial order: settings x seeds (x rates for per-rate)', () => {
    const per = planCells(plan(config('per-rate', [0, 0.5, 1])));
    expect(per).toHaveLength(2 * 2 * 3);
    expect(per.map((c) => [c.setting.branches.recon, c.seed, c.trainRate])).toEqual(
      [true, false].flatMap((recon) => [111, 1111].flatMap((seed) => [0, 0.5, 1].map((r) => [recon, seed, r]))),
    );
    for (const c of per) {
      expect(c.config.missing.testRates).toEqual([c.trainRate]);
      expect(c.config.train.seeds).toEqual([c.seed]);
    }
    const once = planCells(plan(config('train-once', [0, 0.5, 1])));
    expect(once).toHaveLength(4);
    for (const c of once) expect(c.config.missing.testRates).toEqual([0, 0.5, 1]);
    expect(new Set([...per, ...once].map((c) => c.key)).size).toBe(16);
    expect(per.every((c) => c.index === per.indexOf(c) && c.total === 12)).toBe(true);
  });

  it('same config, same key (whatever the key order); any change that alters the numbers, another key', () => {
    const keys = (p: SweepPlan) => planCells(p).map((c) => c.key);
    const base = keys(plan(config('per-rate')));
    expect(keys(plan(config('per-rate')))).toEqual(base);
    expect(keys(reversedKeys(plan(config('per-rate'))))).toEqual(base);
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    const variants: RunConfig[] = [];
    for (const change of [
      (c: RunConfig) => (c.train.epochs = 2),
      (c: RunConfig) => (c.train.lr = 1e-3),
      (c: RunConfig) => (c.data.seed = 8),
      (c: RunConfig) => (c.missing.maskSeeds = [1, 2, 3]),
      (c: RunConfig) => (c.missing.replace = 'noise'),
    ]) {
      const c = config('per-rate');
      change(c);
      variants.push(c);
    }
    for (const v of variants) for (const k of keys(plan(v))) expect(base).not.toContain(k);
    for (const k of keys(plan(config('per-rate'), { kind: 'synthetic' }, 'cpu'))) expect(base).not.toContain(k);
    // A file is named by its content: another path is the same cell, other bytes another one.
    const f = keys(plan(config('per-rate'), FILE));
    expect(keys(plan(config('per-rate'), { ...FILE, path: '/elsewhere/x.pkl' }))).toEqual(f);
    for (const k of keys(plan(config('per-rate'), { ...FILE, sha256: 'cd'.repeat(32) }))) expect(f).not.toContain(k);
    // A per-rate cell does not depend on the rest of the grid: a wider grid reuses the cells.
    const wider = keys(plan(config('per-rate', [0, 0.25, 0.5])));
    expect(wider.filter((k) => base.includes(k))).toHaveLength(base.length);
  });

  it('shares partition the cells', () => {
    const cells = planCells(plan(config('per-rate', [0, 0.5, 1])));
    const shares = [0, 1, 2].map((k) => shareOf(cells, k, 3).map((c) => c.key));
    expect(shares.flat().sort()).toEqual(cells.map((c) => c.key).sort());
    expect(shares.map((s) => s.length)).toEqual([4, 4, 4]);
  });
});

/** The file without what is wall time or a timestamp: the numbers a seeded run must reproduce. */
function numbers(f: ResultsFile) {
  const { createdAt: _, ...rest } = f;
  return { ...rest, runs: f.runs.map((r) => ({ ...r, epochs: r.epochs.map(({ seconds: _s, ...e }) => e) })) };
}

describe('cells: merge equals the serial run', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  for (const protocol of ['per-rate', 'train-once'] as const) {
    it(`${protocol}: cells run separately, in any order, merge into the serial file`, async () => {
      const cfg = config(protocol);
      if (protocol === 'train-once') cfg.missing.trainRate = 'random';
      // The reference: the whole sweep through runExperiment at once, as the CLI ran it before cells.
      const serialRuns = await runExperiment({ config: cfg, dataset: ds, settings: SETTINGS });
      const serial = makeResultsFile({
        backend: 'wasm',
        dataset: datasetBlockOf(ds),
        config: cfg,
        runs: serialRuns,
        toolVersion: 't',
      });
      const p = plan(cfg);
      const cells = planCells(p);
      const results: CellResult[] = [];
      for (const cell of [...cells].reverse()) {
        const runs = await runExperiment({ config: cell.config, dataset: ds, settings: [cell.setting] });
        expect(runs).toHaveLength(1);
        results.push(makeCellResult(cell, datasetBlockOf(ds), runs[0], 't'));
      }
      const merged = mergeCells(p, [...results, results[0]], 't');
      expect(merged.missing).toEqual([]);
      expect(merged.done).toBe(cells.length);
      expect(numbers(merged.file!)).toEqual(numbers(serial));
      // The app's import path accepts it.
      const imported = checkResultsFile(JSON.stringify(merged.file));
      expect(imported.runs).toHaveLength(cells.length);

      // Part of the cells: the missing ones named, the rest merged as the serial file's subset.
      const part = mergeCells(p, results.slice(1), 't');
      expect(part.missing.map((c) => c.key)).toEqual([results[0].key]);
      expect(part.file!.runs).toHaveLength(cells.length - 1);
      expect(mergeCells(p, [], 't')).toMatchObject({ file: null, done: 0 });
      // A result from another backend is refused, not averaged in.
      const other = { ...results[1], backend: 'cpu' };
      expect(() => mergeCells(p, [other], 't')).toThrow(/backend cpu/);
    }, 120_000);
  }
});
