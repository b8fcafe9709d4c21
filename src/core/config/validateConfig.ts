/**
 * Checks a RunConfig field by field before the app or the CLI accepts it (an edit, a shared URL, a
 * preset, an imported job, command-line flags): one set of rules and messages for both front ends.
 * DOM-free. Problems come back as "path: what is wrong" lines a user can act on; nothing here
 * throws. Also: `mergeOntoDefaults` (strict structural merge used by the URL codec and loadConfig)
 * and `normalizeConfig` (keeps derived fields consistent).
 *
 * Configs arrive as parsed JSON (a share link, a results file, a stored job), so fields are read
 * as own properties only, and the keys `__proto__`, `constructor` and `prototype` are refused at
 * any depth: nothing is ever read or assigned through them.
 */
import {
  defaultRunConfig,
  modelPreset,
  validateModelConfig,
  type ModelConfig,
  type ModelPresetName,
  type RunConfig,
  type SyntheticPresetName,
} from './config.ts';
import { SYNTHETIC_PRESETS } from '../data/synthetic.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys that reach a prototype when assigned or read through: never a config field. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_SCAN_DEPTH = 32;

/**
 * "path.key: ... is not allowed" for every forbidden key in `v` (own keys, at any depth; a deeper
 * nesting than any config has is reported rather than walked). Path '' is the config itself.
 */
function forbiddenKeyProblems(v: unknown, path: string, out: string[] = [], depth = 0): string[] {
  if (typeof v !== 'object' || v === null) return out;
  if (depth > MAX_SCAN_DEPTH) {
    out.push(`${path || 'config'}: nested too deeply`);
    return out;
  }
  for (const k of Object.keys(v)) {
    const where = Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
    if (FORBIDDEN_KEYS.has(k)) out.push(`${path ? where : `config.${k}`}: "${k}" is not allowed as a field name`);
    else forbiddenKeyProblems((v as Obj)[k], where, out, depth + 1);
  }
  return out;
}

/** The own fields of `o` on a null-prototype object: a missing field reads as undefined, never as an inherited one. */
function own(o: Obj): Obj {
  const out = Object.create(null) as Obj;
  for (const k of Object.keys(o))
    Object.defineProperty(out, k, { value: o[k], enumerable: true, writable: true, configurable: true });
  return out;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  let s: string;
  try {
    s = JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

class Checker {
  readonly problems: string[] = [];

  fail(path: string, what: string, v: unknown): void {
    this.problems.push(`${path}: expected ${what}, got ${show(v)}`);
  }

  num(
    v: unknown,
    path: string,
    min = -Infinity,
    max = Infinity,
    opts: { int?: boolean; minExclusive?: boolean; maxExclusive?: boolean } = {},
  ): boolean {
    const okType = typeof v === 'number' && Number.isFinite(v) && (!opts.int || Number.isInteger(v));
    const n = v as number;
    const okLow = opts.minExclusive ? n > min : n >= min;
    const okHigh = opts.maxExclusive ? n < max : n <= max;
    if (okType && okLow && okHigh) return true;
    const kind = opts.int ? 'an integer' : 'a number';
    const lo = min === -Infinity ? '' : `${opts.minExclusive ? '>' : '≥'} ${min}`;
    const hi = max === Infinity ? '' : `${opts.maxExclusive ? '<' : '≤'} ${max}`;
    this.fail(path, [kind, [lo, hi].filter(Boolean).join(' and ')].filter(Boolean).join(' '), v);
    return false;
  }

  int(v: unknown, path: string, min: number, max = Infinity): boolean {
    return this.num(v, path, min, max, { int: true });
  }

  rate(v: unknown, path: string): boolean {
    return this.num(v, path, 0, 1);
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v === 'boolean') return true;
    this.fail(path, 'true or false', v);
    return false;
  }

  oneOf(v: unknown, allowed: readonly unknown[], path: string): boolean {
    if (allowed.includes(v)) return true;
    this.fail(path, `one of ${allowed.map((a) => String(a)).join(' | ')}`, v);
    return false;
  }

  triple(v: unknown, path: string, each: (x: unknown, p: string) => boolean): boolean {
    if (!Array.isArray(v) || v.length !== 3) {
      this.fail(path, 'a list of 3 values (text, audio, vision)', v);
      return false;
    }
    return v.map((x, i) => each(x, `${path}[${i}]`)).every(Boolean);
  }

  list(
    v: unknown,
    path: string,
    each: (x: unknown, p: string) => boolean,
    minLength = 1,
    maxLength = Infinity,
  ): v is unknown[] {
    if (!Array.isArray(v) || v.length < minLength || v.length > maxLength) {
      this.fail(path, `a list of ${minLength}${maxLength === Infinity ? ' or more' : `–${maxLength}`} values`, v);
      return false;
    }
    return v.map((x, i) => each(x, `${path}[${i}]`)).every(Boolean);
  }

  section(v: unknown, path: string): v is Obj {
    if (isObj(v)) return true;
    this.fail(path, 'an object', v);
    return false;
  }
}

export const DATA_SOURCES = ['synthetic:tiny', 'synthetic:small', 'synthetic:mosi-shape'] as const;

/**
 * The ranges of the training fields: the validator's rule and the app's Training panel limits
 * (src/ui/panels/TrainingPanel.tsx imports these), so the app, a share link and the CLI agree.
 */
export const TRAIN_LIMITS = {
  epochs: { min: 1, max: 1000 },
  lr: { min: 1e-6, max: 1 },
  batchSize: { min: 1, max: 1024 },
  patience: { min: 1, max: 1000 },
} as const;
/** The noise replacement's scale (× the train split's feature σ): the validator's and the Missing panel's range. */
export const NOISE_SCALE_LIMITS = { min: 0, max: 10 } as const;
/** Seeds are unsigned 32-bit integers (a larger one would silently wrap to another seed). */
export const SEED_MAX = 2 ** 32 - 1;

const DROPOUT_MAX = 0.95;
const MAX_EPOCHS = TRAIN_LIMITS.epochs.max;
const MAX_RATES = 101;
const MAX_SEEDS = 100;

function checkModel(c: Checker, m: Obj): void {
  const p = 'model';
  c.oneOf(m.arch, ['mfmb', 'fc-t', 'fc-a', 'fc-v', 'concat'], `${p}.arch`);
  c.oneOf(m.preset, ['tiny', 'small', 'base', 'custom'], `${p}.preset`);
  c.triple(m.dims, `${p}.dims`, (x, q) => c.int(x, q, 1));
  c.triple(m.lens, `${p}.lens`, (x, q) => c.int(x, q, 1));
  for (const k of [
    'd',
    'hpaHeads',
    'hpaLayers',
    'hubHeads',
    'hubLayers',
    'macroEncLayers',
    'hubK',
    'rnnLayers',
    'common',
    'mixerHidden',
    'headHidden',
  ]) {
    c.int(m[k], `${p}.${k}`, 1, 4096);
  }
  c.int(m.reconHidden, `${p}.reconHidden`, 0, 4096);
  c.triple(m.rnnHidden, `${p}.rnnHidden`, (x, q) => c.int(x, q, 1, 4096));
  c.oneOf(m.alignment, ['parallel', 'sequential'], `${p}.alignment`);
  c.bool(m.causalMask, `${p}.causalMask`);
  c.oneOf(m.hubInit, ['learned', 'zeros'], `${p}.hubInit`);
  if (typeof m.hubOrder !== 'string') c.fail(`${p}.hubOrder`, 'a permutation of "tav"', m.hubOrder);
  c.oneOf(m.cell, ['gru', 'lstm'], `${p}.cell`);
  c.bool(m.mixer, `${p}.mixer`);
  if (c.oneOf(m.numClasses, [1, 3], `${p}.numClasses`) && m.numClasses === 3) {
    c.problems.push(`${p}.numClasses: the 3-class head is not trained by this app yet; use 1 (regression)`);
  }
  if (c.section(m.branches, `${p}.branches`)) {
    const b = m.branches as Obj;
    for (const k of ['macro', 'micro', 'recon']) c.bool(b[k], `${p}.branches.${k}`);
    const extra = Object.keys(b).filter((k) => !['macro', 'micro', 'recon'].includes(k));
    if (extra.length) c.problems.push(`${p}.branches: unknown branch ${extra.join(', ')} (macro, micro, recon)`);
  }
  for (const k of ['textDropout', 'dropout', 'selfAttnDropout', 'macroDropout', 'fusionDropout', 'headDropout']) {
    c.num(m[k], `${p}.${k}`, 0, DROPOUT_MAX);
  }
  c.triple(m.attnDropout, `${p}.attnDropout`, (x, q) => c.num(x, q, 0, DROPOUT_MAX));
}

function checkData(c: Checker, d: Obj): void {
  if (typeof d.source === 'string' && d.source.startsWith('file:')) {
    if (d.source.length <= 'file:'.length || d.source.length > 300)
      c.problems.push(`data.source: "${d.source}" is not a file name`);
  } else {
    c.oneOf(d.source, DATA_SOURCES, 'data.source');
  }
  c.int(d.seed, 'data.seed', 0, SEED_MAX);
  c.bool(d.standardize, 'data.standardize');
  if (c.section(d.knobs, 'data.knobs')) {
    const k = d.knobs as Obj;
    for (const name of ['textSignal', 'audioSignal', 'visionSignal', 'noise', 'interaction', 'shared'])
      c.num(k[name], `data.knobs.${name}`, 0, 100);
  }
}

function checkTestRates(c: Checker, v: unknown, p = 'missing.testRates'): void {
  if (c.list(v, p, (x, q) => c.rate(x, q), 1, MAX_RATES)) {
    const r = v as number[];
    if (r.some((x, i) => i > 0 && !(x > r[i - 1])))
      c.problems.push(`${p}: rates must be strictly ascending, got ${r.join(', ')}`);
  }
}

function checkSeeds(c: Checker, v: unknown, p = 'train.seeds'): void {
  if (c.list(v, p, (x, q) => c.int(x, q, 0, SEED_MAX), 1, MAX_SEEDS)) {
    const s = v as number[];
    if (new Set(s).size !== s.length) c.problems.push(`${p}: each seed may appear once, got ${s.join(', ')}`);
  }
}

function checkMissing(c: Checker, m: Obj): void {
  const p = 'missing';
  c.oneOf(m.protocol, ['train-once', 'per-rate'], `${p}.protocol`);
  if (m.trainRate !== 'random') {
    if (typeof m.trainRate !== 'number') c.fail(`${p}.trainRate`, 'a rate in [0, 1] or "random"', m.trainRate);
    else c.rate(m.trainRate, `${p}.trainRate`);
  }
  checkTestRates(c, m.testRates);
  if (m.perModalityRates !== null) c.triple(m.perModalityRates, `${p}.perModalityRates`, (x, q) => c.rate(x, q));
  c.oneOf(m.level, ['frame', 'modality'], `${p}.level`);
  c.oneOf(m.replace, ['zero', 'noise'], `${p}.replace`);
  c.num(m.noiseScale, `${p}.noiseScale`, NOISE_SCALE_LIMITS.min, NOISE_SCALE_LIMITS.max);
  c.triple(m.maskSeeds, `${p}.maskSeeds`, (x, q) => c.int(x, q, 0, SEED_MAX));
  c.bool(m.textIsBert, `${p}.textIsBert`);
}

function checkTrain(c: Checker, t: Obj): void {
  const p = 'train';
  const L = TRAIN_LIMITS;
  c.int(t.epochs, `${p}.epochs`, L.epochs.min, L.epochs.max);
  c.num(t.lr, `${p}.lr`, L.lr.min, L.lr.max);
  c.num(t.weightDecay, `${p}.weightDecay`, 0, 10);
  c.num(t.clipValue, `${p}.clipValue`, 0, 1e6, { minExclusive: true });
  c.int(t.batchSize, `${p}.batchSize`, L.batchSize.min, L.batchSize.max);
  c.int(t.patience, `${p}.patience`, L.patience.min, L.patience.max);
  c.int(t.plateauPatience, `${p}.plateauPatience`, 1, MAX_EPOCHS);
  c.num(t.plateauFactor, `${p}.plateauFactor`, 0, 1, { minExclusive: true });
  c.int(t.reconWarmupEpochs, `${p}.reconWarmupEpochs`, 0, MAX_EPOCHS);
  c.triple(t.alpha, `${p}.alpha`, (x, q) => c.num(x, q, 0, 1e6));
  checkSeeds(c, t.seeds);
}

/** Every problem with the config, as "path: problem" lines; [] when it can run. */
export function runConfigProblems(cfg: unknown): string[] {
  const c = new Checker();
  if (!c.section(cfg, 'config')) return c.problems;
  const forbidden = forbiddenKeyProblems(cfg, '');
  if (forbidden.length) return forbidden;
  const o = own(cfg as Obj);
  const extra = Object.keys(o).filter((k) => !['model', 'data', 'missing', 'train', 'eval'].includes(k));
  if (extra.length) c.problems.push(`config: unknown section ${extra.join(', ')}`);
  if (c.section(o.model, 'model')) {
    const m = own(o.model as Obj);
    if (isObj(m.branches)) m.branches = own(m.branches);
    checkModel(c, m);
  }
  if (c.section(o.data, 'data')) {
    const d = own(o.data as Obj);
    if (isObj(d.knobs)) d.knobs = own(d.knobs);
    checkData(c, d);
  }
  if (c.section(o.missing, 'missing')) checkMissing(c, own(o.missing as Obj));
  if (c.section(o.train, 'train')) checkTrain(c, own(o.train as Obj));
  if (c.section(o.eval, 'eval')) {
    const e = own(o.eval as Obj);
    c.oneOf(e.f1Order, ['truth-first', 'pred-first'], 'eval.f1Order');
    c.bool(e.auilcIncludeOne, 'eval.auilcIncludeOne');
  }
  // The model's own rules (head divisibility, a fusion stream on, hub order) once the types hold.
  if (c.problems.length === 0) {
    try {
      validateModelConfig((o as unknown as RunConfig).model);
    } catch (e) {
      c.problems.push(`model: ${(e as Error).message}`);
    }
  }
  return c.problems;
}

/** One message for a notice: the first few problems. null when the config is fine. */
export function configError(cfg: unknown): string | null {
  const p = runConfigProblems(cfg);
  if (p.length === 0) return null;
  return p.slice(0, 3).join('; ') + (p.length > 3 ? ` (and ${p.length - 3} more)` : '');
}

/** What a number list (seeds, test rates) must look like, for "expected …" messages. */
export const NUMBER_LIST_EXPECTED = 'a list of numbers separated by commas or spaces';

/**
 * Reads "0, 0.1, 0.2" (commas, semicolons or spaces between the numbers: the same text the app's
 * fields and the CLI's --rates / --seeds accept); null when a piece is not a finite number or the
 * list is empty. Ranges, order and counts are runConfigProblems' business.
 */
export function parseNumberList(text: string): number[] | null {
  const parts = text.split(/[\s,;]+/).filter((p) => p.length > 0);
  if (parts.length === 0) return null;
  const nums = parts.map(parseDecimal);
  return nums.every((n) => n !== null) ? (nums as number[]) : null;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A finite number written in decimal ("12", "-0.5", ".5", "1e-3"); null for anything else: empty
 * text, hex / binary / octal ("0x1" would otherwise read as 1), separators, Infinity, NaN.
 */
export function parseDecimal(text: string): number | null {
  const t = text.trim();
  if (!DECIMAL.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * The first problem of one list field, with the message runConfigProblems gives for it (for a form
 * field that checks as the user types). null when the list is fine.
 */
export function listProblem(field: 'train.seeds' | 'missing.testRates', list: unknown): string | null {
  const c = new Checker();
  if (field === 'train.seeds') checkSeeds(c, list);
  else checkTestRates(c, list);
  return c.problems[0] ?? null;
}

/**
 * Merges `patch` onto `base` (default: defaultRunConfig()) structurally: nested sections merge key
 * by key, everything else (numbers, strings, lists, tuples, null) replaces. A key the base does not
 * have is an error. The result still needs runConfigProblems() for the values.
 */
export function mergeOntoDefaults(
  patch: unknown,
  base: RunConfig = defaultRunConfig(),
): { config: RunConfig; errors: string[] } {
  const errors: string[] = [];
  const out = structuredClone(base) as unknown as Obj;
  const walk = (target: Obj, p: unknown, path: string) => {
    if (!isObj(p)) {
      errors.push(`${path || 'config'}: expected an object, got ${show(p)}`);
      return;
    }
    for (const [k, v] of Object.entries(p)) {
      const where = path ? `${path}.${k}` : k;
      if (FORBIDDEN_KEYS.has(k)) {
        errors.push(`${path || 'config'}.${k}: "${k}" is not allowed as a field name`);
        continue;
      }
      if (!Object.hasOwn(target, k)) {
        errors.push(`${where}: unknown field`);
        continue;
      }
      if (isObj(target[k])) {
        walk(target[k] as Obj, v, where);
        continue;
      }
      const bad = forbiddenKeyProblems(v, where);
      if (bad.length) errors.push(...bad);
      else target[k] = structuredClone(v);
    }
  };
  walk(out, patch, '');
  return { config: out as unknown as RunConfig, errors };
}

const SIZE_FIELDS: (keyof ModelConfig)[] = [
  'd',
  'hpaHeads',
  'hpaLayers',
  'hubHeads',
  'hubLayers',
  'macroEncLayers',
  'rnnHidden',
  'rnnLayers',
  'common',
  'mixerHidden',
  'headHidden',
];

/**
 * Derived fields: model.dims/lens follow the synthetic preset (the experiment uses the data's sizes
 * anyway; this keeps the saved config truthful), and a named model preset whose sizes were edited
 * becomes 'custom'.
 */
export function normalizeConfig(cfg: RunConfig): RunConfig {
  const out = structuredClone(cfg);
  const name = out.data.source.startsWith('synthetic:')
    ? (out.data.source.slice('synthetic:'.length) as SyntheticPresetName)
    : null;
  const preset = name && Object.hasOwn(SYNTHETIC_PRESETS, name) ? SYNTHETIC_PRESETS[name] : null;
  if (preset) {
    out.model.dims = [...preset.dims];
    out.model.lens = [...preset.lens];
  }
  if (out.model.preset !== 'custom' && ['tiny', 'small', 'base'].includes(out.model.preset)) {
    const ref = modelPreset(out.model.preset as ModelPresetName);
    if (SIZE_FIELDS.some((k) => JSON.stringify(ref[k]) !== JSON.stringify(out.model[k]))) out.model.preset = 'custom';
  }
  return out;
}

/** The model preset's sizes, keeping the user's other model choices (branches, cell, options). */
export function withModelPreset(cfg: RunConfig, name: ModelPresetName): RunConfig {
  const out = structuredClone(cfg);
  const sized = modelPreset(name);
  for (const k of SIZE_FIELDS) (out.model as unknown as Obj)[k] = structuredClone(sized[k]);
  out.model.preset = name;
  return out;
}
