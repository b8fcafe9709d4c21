import type { RunConfig } from '../config/config.ts';
import type { ModelSetting } from './experiment.ts';
import { makeResultsFile, type DatasetInfo, type ResultsFile, type RunResult } from './results.ts';

/**
 * A sweep (train, sweep, ablate) as independent cells: one cell = one training run and all its
 * test-rate evaluations (per-rate protocol: one cell per training rate). A cell carries a config of
 * its own that runExperiment runs as exactly that one run, so the serial CLI, a queue worker and an
 * array-job share all run a cell the same way, and the cells' results merge back into the very
 * results file the serial run writes (same runs, same order, same summary).
 *
 * The key is the SHA-256 of the canonical JSON of everything that decides the cell's numbers (its
 * config, setting, seed, training rate, backend and data identity), so the same cell always gets
 * the same key and a re-submitted sweep finds its finished cells by key. Types only from
 * experiment.ts: this module loads no tfjs, so `mfmb status` and `mfmb collect` start fast.
 */

export const CELL_SCHEMA = 'mfmb-cell/1';
export const PLAN_SCHEMA = 'mfmb-sweep-plan/1';

/**
 * Where a cell's data comes from. A file is named by its content (size, SHA-256), not its path,
 * in the key: the same file at another path on another machine is the same cell. The path is
 * where workers look first.
 */
export type DataRef =
  | { kind: 'synthetic' }
  | { kind: 'file'; path: string; size: number; sha256: string; subset: number | null; maxBytes: number };

export interface SweepPlan {
  schema: typeof PLAN_SCHEMA;
  config: RunConfig; // the whole sweep's config, as the serial run writes it into the results file
  settings: ModelSetting[];
  backend: string;
  data: DataRef;
}

export interface Cell {
  key: string;
  index: number; // 0-based position in the serial order
  total: number;
  /** This cell's own config: one setting, one seed, one training rate (see cellConfig). */
  config: RunConfig;
  setting: ModelSetting;
  seed: number;
  trainRate: number | 'random';
  backend: string;
  data: DataRef;
}

/** One finished cell: what a worker or an array share writes, and what the merge reads. */
export interface CellResult {
  schema: typeof CELL_SCHEMA;
  key: string;
  index: number;
  backend: string;
  dataset: DatasetInfo;
  run: RunResult;
  toolVersion: string;
}

export function makePlan(args: Omit<SweepPlan, 'schema'>): SweepPlan {
  return {
    schema: PLAN_SCHEMA,
    config: structuredClone(args.config),
    settings: structuredClone(args.settings),
    backend: args.backend,
    data: { ...args.data },
  };
}

/**
 * The config that makes runExperiment run exactly one cell: seeds [seed], the setting's model;
 * per-rate: test rates [rate] (and the training rate set to it, which per-rate ignores), so a
 * per-rate cell does not depend on the rest of the grid. Train-once keeps the grid: it is tested on
 * all of it, and a 'random' training rate draws from it.
 */
export function cellConfig(
  cfg: RunConfig,
  setting: ModelSetting,
  seed: number,
  trainRate: number | 'random',
): RunConfig {
  const c = structuredClone(cfg);
  c.train.seeds = [seed];
  c.model.arch = setting.arch;
  c.model.branches = { ...setting.branches };
  if (cfg.missing.protocol === 'per-rate') {
    c.missing.testRates = [trainRate as number];
    c.missing.trainRate = trainRate;
  }
  return c;
}

/** The cells of a sweep, in the order runExperiment runs them: settings × seeds × training rates. */
export function planCells(plan: SweepPlan): Cell[] {
  const cfg = plan.config;
  const perRate = cfg.missing.protocol === 'per-rate';
  const trainRates: (number | 'random')[] = perRate ? [...cfg.missing.testRates] : [cfg.missing.trainRate];
  const cells: Cell[] = [];
  for (const setting of plan.settings)
    for (const seed of cfg.train.seeds)
      for (const trainRate of trainRates) {
        const config = cellConfig(cfg, setting, seed, trainRate);
        const data = { ...plan.data };
        cells.push({
          key: cellKey(config, setting, seed, trainRate, plan.backend, data),
          index: cells.length,
          total: 0,
          config,
          setting: { arch: setting.arch, branches: { ...setting.branches } },
          seed,
          trainRate,
          backend: plan.backend,
          data,
        });
      }
  for (const c of cells) c.total = cells.length;
  return cells;
}

/** The key: SHA-256 (hex, first 32 digits) of the canonical JSON of what decides the cell's numbers. */
export function cellKey(
  config: RunConfig,
  setting: ModelSetting,
  seed: number,
  trainRate: number | 'random',
  backend: string,
  data: DataRef,
): string {
  const identity =
    data.kind === 'file' ? { kind: 'file', size: data.size, sha256: data.sha256, subset: data.subset } : data;
  const doc = canonicalJson({ v: 1, config, setting, seed, trainRate, backend, data: identity });
  return sha256Hex(new TextEncoder().encode(doc)).slice(0, 32);
}

/** JSON with every object's keys sorted, so equal values give equal text whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x === undefined ? null : x)).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`canonicalJson: ${v} has no JSON form`);
  return JSON.stringify(v);
}

/** A finished cell's record. */
export function makeCellResult(cell: Cell, dataset: DatasetInfo, run: RunResult, toolVersion: string): CellResult {
  return {
    schema: CELL_SCHEMA,
    key: cell.key,
    index: cell.index,
    backend: cell.backend,
    dataset: structuredClone(dataset),
    run: structuredClone(run),
    toolVersion,
  };
}

/** Checks the envelope of a cell result (the run itself is checked by the results file's parser on merge). */
export function parseCellResult(json: unknown, where: string): CellResult {
  let doc = json;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (e) {
      throw new Error(`${where}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
  }
  const o = doc as Partial<CellResult> | null;
  if (typeof o !== 'object' || o === null || o.schema !== CELL_SCHEMA)
    throw new Error(`${where}: not an MFMB cell result (expected schema "${CELL_SCHEMA}")`);
  if (typeof o.key !== 'string' || typeof o.backend !== 'string' || typeof o.toolVersion !== 'string')
    throw new Error(`${where}: key, backend and toolVersion must be strings`);
  if (typeof o.run !== 'object' || o.run === null || typeof o.dataset !== 'object' || o.dataset === null)
    throw new Error(`${where}: run and dataset must be objects`);
  return o as CellResult;
}

export interface MergeOutcome {
  file: ResultsFile | null; // null when no cell is done (there is no dataset block to write)
  missing: Cell[];
  done: number;
}

/**
 * The results file of the cells that are done, exactly as the serial run builds it: the runs in
 * the serial order, the sweep's config, the summary over them. Results whose key is not a cell of
 * the plan are ignored; a result that contradicts the plan (another backend, another dataset) is an
 * error, not something to average in.
 */
export function mergeCells(
  plan: SweepPlan,
  results: Iterable<CellResult>,
  toolVersion: string,
  createdAt?: string,
): MergeOutcome {
  const cells = planCells(plan);
  const byKey = new Map<string, CellResult>();
  for (const r of results) if (!byKey.has(r.key)) byKey.set(r.key, r);
  const runs: RunResult[] = [];
  const missing: Cell[] = [];
  let dataset: DatasetInfo | null = null;
  for (const cell of cells) {
    const r = byKey.get(cell.key);
    if (!r) {
      missing.push(cell);
      continue;
    }
    if (r.backend !== plan.backend)
      throw new Error(`cell ${cell.key} ran on backend ${r.backend}, the sweep asks for ${plan.backend}`);
    if (dataset === null) dataset = r.dataset;
    else if (canonicalJson(dataset) !== canonicalJson(r.dataset))
      throw new Error(`cell ${cell.key} ran on other data (${r.dataset.source}) than the others (${dataset.source})`);
    runs.push(r.run);
  }
  if (dataset === null) return { file: null, missing, done: 0 };
  const file = makeResultsFile({ backend: plan.backend, dataset, config: plan.config, runs, toolVersion, createdAt });
  return { file, missing, done: runs.length };
}

/** Cells of share `index` of `of` (0-based): every of-th cell, so each share gets every kind of cell. */
export function shareOf<T extends { index: number }>(cells: T[], index: number, of: number): T[] {
  return cells.filter((c) => c.index % of === index);
}

// ----------------------------------------------------------------------------- SHA-256

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/**
 * SHA-256 of bytes, as hex. The core runs in the browser worker too, where node:crypto does not
 * exist and crypto.subtle is asynchronous; keys are short texts, so a plain synchronous one is enough.
 */
export function sha256Hex(bytes: Uint8Array): string {
  const h = new Uint32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const bitLen = bytes.length * 8;
  const padded = new Uint8Array(Math.ceil((bytes.length + 9) / 64) * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLen / 2 ** 32));
  view.setUint32(padded.length - 4, bitLen >>> 0);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[i] + w[i]) >>> 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
  }
  return [...h].map((x) => x.toString(16).padStart(8, '0')).join('');
}
