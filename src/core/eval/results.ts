/**
 * The results file (shared/spec/RESULTS.md, schema 'mfmb-results/1'): one JSON document that the
 * CLI writes, the app exports and re-imports, and outside tools read. The builder and the parser
 * live together so the writer can never produce a file the reader rejects; the run and summary
 * records they share with summary.ts are in resultTypes.ts (re-exported here).
 */

import { sameBranches, type Architecture, type Branches, type PerModality, type RunConfig } from '../config/config.ts';
import type { Dataset } from '../data/types.ts';
import { METRIC_KEYS, type MetricKey, type Metrics } from './metrics.ts';
import type {
  AuilcSummary,
  EpochRecord,
  LossTerms,
  RatedMetrics,
  RunResult,
  RunStatus,
  StopReason,
  SummaryRow,
  SummaryTrainRate,
} from './resultTypes.ts';
import { runStatus, summarizeRuns, summaryTrainRate } from './summary.ts';
export { runStatus } from './summary.ts';

export type {
  AuilcSummary,
  EpochRecord,
  LossTerms,
  MeanStd,
  RatedMetrics,
  RunResult,
  RunStatus,
  StopReason,
  SummaryRow,
  SummaryTrainRate,
} from './resultTypes.ts';

export const RESULTS_SCHEMA = 'mfmb-results/1';
export const TOOL_NAME = 'mfmb-playground';

export const STOP_REASONS: readonly StopReason[] = ['early-stop', 'max-epochs', 'aborted', 'non-finite-loss'];
export const RUN_STATUSES: readonly RunStatus[] = ['finished', 'stopped', 'interrupted', 'failed'];
const ARCHITECTURES: readonly Architecture[] = ['mfmb', 'fc-t', 'fc-a', 'fc-v', 'concat'];

export interface DatasetInfo {
  source: string;
  sizes: { train: number; valid: number; test: number };
  dims: { text: number; audio: number; vision: number };
  lengths: { text: number; audio: number; vision: number };
}

/** The dataset block from sizes and the per-modality (t, a, v) D and L tuples the code uses. */
export function datasetBlock(d: {
  source: string;
  sizes: DatasetInfo['sizes'];
  dims: PerModality<number>;
  lens: PerModality<number>;
}): DatasetInfo {
  return {
    source: d.source,
    sizes: { ...d.sizes },
    dims: { text: d.dims[0], audio: d.dims[1], vision: d.dims[2] },
    lengths: { text: d.lens[0], audio: d.lens[1], vision: d.lens[2] },
  };
}

/** The dataset block of a loaded dataset. */
export function datasetBlockOf(ds: Dataset): DatasetInfo {
  return datasetBlock({
    source: ds.source,
    sizes: { train: ds.train.n, valid: ds.valid.n, test: ds.test.n },
    dims: ds.dims,
    lens: ds.lens,
  });
}

export interface ResultsFile {
  schema: typeof RESULTS_SCHEMA;
  createdAt: string;
  tool: { name: string; version: string };
  backend: string;
  dataset: DatasetInfo;
  config: RunConfig;
  runs: RunResult[];
  summary: SummaryRow[];
}

const nonFiniteToNull = (v: number | null): number | null => (v === null || Number.isFinite(v) ? v : null);

export const LOSS_TERM_KEYS = [
  'task',
  'genText',
  'genAudio',
  'genVision',
] as const satisfies readonly (keyof LossTerms)[];

function cleanTerms(t: LossTerms): LossTerms {
  const out = {} as LossTerms;
  for (const k of LOSS_TERM_KEYS) out[k] = nonFiniteToNull(t[k]);
  return out;
}

function cleanMetrics(m: Metrics): Metrics {
  const out = {} as Metrics;
  for (const k of METRIC_KEYS) out[k] = nonFiniteToNull(m[k]);
  return out;
}

export function makeResultsFile(args: {
  backend: string;
  dataset: DatasetInfo;
  config: RunConfig;
  runs: RunResult[];
  toolVersion: string;
  createdAt?: string;
}): ResultsFile {
  // Losses of a diverged run are the one place a NaN can legitimately arrive; store it as null.
  const runs: RunResult[] = structuredClone(args.runs).map((run) => ({
    ...run,
    epochs: run.epochs.map((e) => ({
      ...e,
      trainLoss: nonFiniteToNull(e.trainLoss),
      validLoss: nonFiniteToNull(e.validLoss),
      valid: cleanMetrics(e.valid),
      ...(e.trainTerms ? { trainTerms: cleanTerms(e.trainTerms) } : {}),
      ...(e.validTerms ? { validTerms: cleanTerms(e.validTerms) } : {}),
    })),
    test: run.test.map((t) => ({ rate: t.rate, metrics: cleanMetrics(t.metrics) })),
    // Every run says how it ended, so a reader never has to guess which ones the summary counted.
    status: runStatus(run),
  }));
  const file: ResultsFile = {
    schema: RESULTS_SCHEMA,
    createdAt: args.createdAt ?? new Date().toISOString(),
    tool: { name: TOOL_NAME, version: args.toolVersion },
    backend: args.backend,
    dataset: structuredClone(args.dataset),
    config: structuredClone(args.config),
    runs,
    summary: summarizeRuns(runs, args.config.eval.auilcIncludeOne),
  };
  // Anything else non-finite is a bug upstream: fail here, where the path says where, rather than
  // let JSON.stringify turn it into a null that nobody asked for.
  return parseResultsFile(file);
}

// ----------------------------------------------------------------------------- parsing

class ResultsFormatError extends Error {
  constructor(path: string, problem: string) {
    super(`results file: ${path}: ${problem}`);
    this.name = 'ResultsFormatError';
  }
}

type Obj = Record<string, unknown>;

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ResultsFormatError(path, `expected an object, got ${show(v)}`);
  return v as Obj;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ResultsFormatError(path, `expected an array, got ${show(v)}`);
  return v;
}

function num(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ResultsFormatError(path, `expected a finite number, got ${show(v)}`);
  return v;
}

function numOrNull(v: unknown, path: string): number | null {
  return v === null ? null : num(v, path);
}

function int(v: unknown, path: string, min: number): number {
  const n = num(v, path);
  if (!Number.isInteger(n) || n < min) throw new ResultsFormatError(path, `expected an integer >= ${min}, got ${n}`);
  return n;
}

function str(v: unknown, path: string): string {
  if (typeof v !== 'string') throw new ResultsFormatError(path, `expected a string, got ${show(v)}`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw new ResultsFormatError(path, `expected true or false, got ${show(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ResultsFormatError(path, `expected one of ${allowed.join(' | ')}, got ${show(v)}`);
  }
  return v as T;
}

function rate(v: unknown, path: string): number {
  const r = num(v, path);
  if (r < 0 || r > 1) throw new ResultsFormatError(path, `a rate must lie in [0, 1], got ${r}`);
  return r;
}

function ascending(rates: number[], path: string): void {
  for (let i = 1; i < rates.length; i++) {
    if (!(rates[i] > rates[i - 1]))
      throw new ResultsFormatError(path, `rates must be strictly ascending, got ${rates.join(', ')}`);
  }
}

function metrics(v: unknown, path: string): Metrics {
  const o = obj(v, path);
  const out = {} as Metrics;
  for (const k of METRIC_KEYS) {
    if (!(k in o))
      throw new ResultsFormatError(`${path}.${k}`, 'missing (use null for a metric that cannot be computed)');
    out[k] = numOrNull(o[k], `${path}.${k}`);
  }
  const extra = Object.keys(o).filter((k) => !(METRIC_KEYS as readonly string[]).includes(k));
  if (extra.length)
    throw new ResultsFormatError(
      path,
      `unknown metric(s) ${extra.join(', ')}; expected exactly ${METRIC_KEYS.join(', ')}`,
    );
  return out;
}

/** Loss terms are optional (files written before they existed have none); when present, all four keys. */
function lossTerms(v: unknown, path: string): LossTerms | undefined {
  if (v === undefined) return undefined;
  const o = obj(v, path);
  const out = {} as LossTerms;
  for (const k of LOSS_TERM_KEYS) {
    if (!(k in o)) throw new ResultsFormatError(`${path}.${k}`, 'missing (use null for a term not in the objective)');
    out[k] = numOrNull(o[k], `${path}.${k}`);
  }
  const extra = Object.keys(o).filter((k) => !(LOSS_TERM_KEYS as readonly string[]).includes(k));
  if (extra.length)
    throw new ResultsFormatError(
      path,
      `unknown loss term(s) ${extra.join(', ')}; expected ${LOSS_TERM_KEYS.join(', ')}`,
    );
  return out;
}

function branches(v: unknown, path: string): Branches {
  const o = obj(v, path);
  return {
    macro: bool(o.macro, `${path}.macro`),
    micro: bool(o.micro, `${path}.micro`),
    recon: bool(o.recon, `${path}.recon`),
  };
}

function arch(v: unknown, path: string): Architecture {
  return v === undefined ? 'mfmb' : oneOf(v, ARCHITECTURES, path);
}

function ratedList(v: unknown, path: string): RatedMetrics[] {
  const list = arr(v, path).map((t, i) => {
    const o = obj(t, `${path}[${i}]`);
    return { rate: rate(o.rate, `${path}[${i}].rate`), metrics: metrics(o.metrics, `${path}[${i}].metrics`) };
  });
  ascending(
    list.map((t) => t.rate),
    path,
  );
  return list;
}

function epochRecord(v: unknown, path: string): EpochRecord {
  const o = obj(v, path);
  const trainTerms = lossTerms(o.trainTerms, `${path}.trainTerms`);
  const validTerms = lossTerms(o.validTerms, `${path}.validTerms`);
  return {
    epoch: int(o.epoch, `${path}.epoch`, 1),
    trainLoss: numOrNull(o.trainLoss, `${path}.trainLoss`),
    validLoss: numOrNull(o.validLoss, `${path}.validLoss`),
    lr: num(o.lr, `${path}.lr`),
    seconds: num(o.seconds, `${path}.seconds`),
    valid: metrics(o.valid, `${path}.valid`),
    ...(trainTerms ? { trainTerms } : {}),
    ...(validTerms ? { validTerms } : {}),
  };
}

function runResult(v: unknown, path: string): RunResult {
  const o = obj(v, path);
  const trainRate =
    o.trainRate === null || o.trainRate === 'random' ? o.trainRate : rate(o.trainRate, `${path}.trainRate`);
  const run: RunResult = {
    arch: arch(o.arch, `${path}.arch`),
    branches: branches(o.branches, `${path}.branches`),
    seed: int(o.seed, `${path}.seed`, 0),
    trainRate,
    params: int(o.params, `${path}.params`, 0),
    epochs: arr(o.epochs, `${path}.epochs`).map((e, i) => epochRecord(e, `${path}.epochs[${i}]`)),
    bestEpoch: o.bestEpoch === null ? null : int(o.bestEpoch, `${path}.bestEpoch`, 1),
    stopReason: oneOf(o.stopReason, STOP_REASONS, `${path}.stopReason`),
    test: ratedList(o.test, `${path}.test`),
  };
  if (o.message !== undefined) run.message = str(o.message, `${path}.message`);
  // Files written before the field existed: derived from the stop reason ('aborted' = stopped).
  run.status = o.status === undefined ? runStatus(run) : oneOf(o.status, RUN_STATUSES, `${path}.status`);
  return run;
}

function summaryRow(v: unknown, path: string, runs: RunResult[]): SummaryRow {
  const o = obj(v, path);
  const a = arch(o.arch, `${path}.arch`);
  const b = branches(o.branches, `${path}.branches`);
  const perRate = arr(o.perRate, `${path}.perRate`).map((p, i) => {
    const q = obj(p, `${path}.perRate[${i}]`);
    return {
      rate: rate(q.rate, `${path}.perRate[${i}].rate`),
      mean: metrics(q.mean, `${path}.perRate[${i}].mean`),
      std: metrics(q.std, `${path}.perRate[${i}].std`),
    };
  });
  ascending(
    perRate.map((p) => p.rate),
    `${path}.perRate`,
  );
  const au = obj(o.auilc, `${path}.auilc`);
  const auilc = {} as Record<MetricKey, AuilcSummary>;
  for (const k of METRIC_KEYS) {
    const e = obj(au[k], `${path}.auilc.${k}`);
    auilc[k] = {
      mean: numOrNull(e.mean, `${path}.auilc.${k}.mean`),
      std: numOrNull(e.std, `${path}.auilc.${k}.std`),
      // RESULTS.md writes the flag only where nulls were counted.
      nullsAsZero: e.nullsAsZero === undefined ? 0 : int(e.nullsAsZero, `${path}.auilc.${k}.nullsAsZero`, 0),
    };
  }
  // A file written by another tool may leave out our additions; its runs can supply them.
  const mine = runs.filter((r) => r.arch === a && sameBranches(r.branches, b) && r.test.length > 0);
  let trainRate: SummaryTrainRate;
  if (o.trainRate === undefined) trainRate = mine.length ? summaryTrainRate(mine[0]) : 'per-rate';
  else if (o.trainRate === 'random' || o.trainRate === 'per-rate') trainRate = o.trainRate;
  else trainRate = rate(o.trainRate, `${path}.trainRate`);
  const seeds =
    o.seeds === undefined
      ? [...new Set(mine.map((r) => r.seed))]
      : arr(o.seeds, `${path}.seeds`).map((s, i) => int(s, `${path}.seeds[${i}]`, 0));
  const row: SummaryRow = { arch: a, branches: b, trainRate, seeds, perRate, auilc };
  if (o.cutOff !== undefined)
    row.cutOff = arr(o.cutOff, `${path}.cutOff`).map((c, i) => {
      const q = obj(c, `${path}.cutOff[${i}]`);
      return {
        seed: int(q.seed, `${path}.cutOff[${i}].seed`, 0),
        status: oneOf(q.status, RUN_STATUSES, `${path}.cutOff[${i}].status`),
      };
    });
  if (o.partial !== undefined) row.partial = bool(o.partial, `${path}.partial`);
  return row;
}

function runConfig(v: unknown, path: string): RunConfig {
  // Only what this module relies on is checked; the config's own validators own the rest.
  const o = obj(v, path);
  for (const section of ['model', 'data', 'missing', 'train', 'eval']) obj(o[section], `${path}.${section}`);
  const ev = o.eval as Obj;
  oneOf(ev.f1Order, ['truth-first', 'pred-first'] as const, `${path}.eval.f1Order`);
  bool(ev.auilcIncludeOne, `${path}.eval.auilcIncludeOne`);
  return o as unknown as RunConfig;
}

function triple<K extends string>(v: unknown, keys: readonly K[], path: string, min: number): Record<K, number> {
  const o = obj(v, path);
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = int(o[k], `${path}.${k}`, min);
  return out;
}

function datasetInfo(v: unknown, path: string): DatasetInfo {
  const o = obj(v, path);
  const mods = ['text', 'audio', 'vision'] as const;
  return {
    source: str(o.source, `${path}.source`),
    sizes: triple(o.sizes, ['train', 'valid', 'test'] as const, `${path}.sizes`, 0),
    dims: triple(o.dims, mods, `${path}.dims`, 1),
    lengths: triple(o.lengths, mods, `${path}.lengths`, 1),
  };
}

/** Validates JSON (parsed, or the text itself) as a results file; errors name the offending path. */
export function parseResultsFile(json: unknown): ResultsFile {
  let doc = json;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (e) {
      throw new Error(`results file: not valid JSON (${(e as Error).message})`, { cause: e });
    }
  }
  const o = obj(doc, 'the document');
  if (o.schema !== RESULTS_SCHEMA) {
    if (typeof o.schema === 'string' && o.schema.startsWith('mfmb-results/')) {
      throw new ResultsFormatError(
        'schema',
        `version "${o.schema}" is not supported; this app reads "${RESULTS_SCHEMA}"`,
      );
    }
    throw new ResultsFormatError(
      'schema',
      `expected "${RESULTS_SCHEMA}", got ${show(o.schema)}; this is not an MFMB results file`,
    );
  }
  const tool = obj(o.tool, 'tool');
  const config = runConfig(o.config, 'config');
  const runs = arr(o.runs, 'runs').map((r, i) => runResult(r, `runs[${i}]`));
  const summary =
    o.summary === undefined
      ? summarizeRuns(runs, config.eval.auilcIncludeOne)
      : arr(o.summary, 'summary').map((s, i) => summaryRow(s, `summary[${i}]`, runs));
  assertAllFinite(o.config, 'config');
  return {
    schema: RESULTS_SCHEMA,
    createdAt: str(o.createdAt, 'createdAt'),
    tool: { name: str(tool.name, 'tool.name'), version: str(tool.version, 'tool.version') },
    backend: str(o.backend, 'backend'),
    dataset: datasetInfo(o.dataset, 'dataset'),
    config: structuredClone(config),
    runs,
    summary,
  };
}

/** The config is copied through unchecked in detail; it still must not smuggle in a NaN. */
function assertAllFinite(v: unknown, path: string): void {
  if (typeof v === 'number' && !Number.isFinite(v))
    throw new ResultsFormatError(path, `expected a finite number, got ${v}`);
  if (Array.isArray(v)) v.forEach((x, i) => assertAllFinite(x, `${path}[${i}]`));
  else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) assertAllFinite(x, `${path}.${k}`);
}
