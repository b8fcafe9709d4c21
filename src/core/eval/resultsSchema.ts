/**
 * What a results file from outside (an import in the app) must be before it is stored: the
 * structure of shared/spec/RESULTS.md (types and ranges, by parseResultsFile), a config the app can
 * run (types and ranges, by the config validator), and sizes a page can draw. Also the JSON guard
 * every parsed document from outside goes through (results files, weights-file headers, shared
 * links): bounded depth, node count and string length, and no `__proto__` / `constructor` /
 * `prototype` keys, checked without recursion so a hostile document cannot overflow the stack.
 * DOM-free; nothing here throws anything but an Error with a message for the user.
 */
import { mergeOntoDefaults, runConfigProblems } from '../config/validateConfig.ts';
import type { RunConfig } from '../config/config.ts';
import { parseResultsFile, type ResultsFile } from './results.ts';

export const FORBIDDEN_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

export interface JsonLimits {
  maxDepth: number; // nesting of objects and arrays
  maxNodes: number; // values in all
  maxStringLength: number; // characters in one string (keys included)
}

export const RESULTS_LIMITS = {
  maxBytes: 64 * 1024 * 1024, // of the JSON text
  maxDepth: 16, // RESULTS.md's deepest path is summary[i].perRate[j].mean.mae: depth 5
  maxNodes: 5_000_000,
  maxStringLength: 10_000,
  maxRuns: 5_000,
  maxEpochsPerRun: 10_000, // the config's own cap on train.epochs
  maxEpochRecords: 100_000, // over all runs: what the charts and the runs list can hold
  maxRatesPerRun: 101, // the config's cap on missing.testRates
  maxSummaryRows: 5_000,
} as const;

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/**
 * The first reason `value` (parsed JSON) is not acceptable, or null: too deep, too many values, a
 * too-long string, a forbidden key, or something JSON cannot hold. Iterative: any depth is safe.
 */
export function jsonProblem(value: unknown, limits: JsonLimits, root = 'the document'): string | null {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: '', depth: 0 }];
  let nodes = 0;
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    const where = path || root;
    if (++nodes > limits.maxNodes) return `it holds more than ${limits.maxNodes.toLocaleString('en-US')} values`;
    if (v === null || typeof v === 'number' || typeof v === 'boolean') continue;
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength)
        return `${where}: a text of ${v.length.toLocaleString('en-US')} characters (at most ${limits.maxStringLength.toLocaleString('en-US')})`;
      continue;
    }
    if (typeof v !== 'object') return `${where}: ${typeof v} is not a JSON value`;
    if (depth >= limits.maxDepth) return `it is nested more than ${limits.maxDepth} levels deep (at ${where})`;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: pathOf(path, i), depth: depth + 1 });
      continue;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) return `${where}: not a plain JSON object`;
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      if (FORBIDDEN_KEYS.includes(k)) return `${pathOf(path, k)}: the key "${k}" is not allowed`;
      if (k.length > limits.maxStringLength) return `${where}: a key of ${k.length} characters`;
      stack.push({ v: (v as Record<string, unknown>)[k], path: pathOf(path, k), depth: depth + 1 });
    }
  }
  return null;
}

function fail(problem: string): never {
  throw new Error(`results file: ${problem}`);
}

function listAt(o: unknown, key: string): unknown[] | null {
  if (typeof o !== 'object' || o === null || !own(o, key)) return null;
  const v = (o as Record<string, unknown>)[key];
  return Array.isArray(v) ? v : null;
}

/** Sizes a page can hold, checked before anything walks the lists. */
function checkSizes(doc: unknown): void {
  const L = RESULTS_LIMITS;
  const runs = listAt(doc, 'runs');
  if (runs) {
    if (runs.length > L.maxRuns) fail(`runs: ${runs.length} runs (at most ${L.maxRuns})`);
    let total = 0;
    runs.forEach((r, i) => {
      const epochs = listAt(r, 'epochs');
      if (epochs) {
        if (epochs.length > L.maxEpochsPerRun)
          fail(`runs[${i}].epochs: ${epochs.length} epoch records (at most ${L.maxEpochsPerRun} per run)`);
        total += epochs.length;
      }
      const test = listAt(r, 'test');
      if (test && test.length > L.maxRatesPerRun)
        fail(`runs[${i}].test: ${test.length} rates (at most ${L.maxRatesPerRun})`);
    });
    if (total > L.maxEpochRecords)
      fail(
        `runs: ${total.toLocaleString('en-US')} epoch records in all (at most ${L.maxEpochRecords.toLocaleString('en-US')})`,
      );
  }
  const summary = listAt(doc, 'summary');
  if (summary) {
    if (summary.length > L.maxSummaryRows) fail(`summary: ${summary.length} rows (at most ${L.maxSummaryRows})`);
    summary.forEach((row, i) => {
      const perRate = listAt(row, 'perRate');
      if (perRate && perRate.length > L.maxRatesPerRun)
        fail(`summary[${i}].perRate: ${perRate.length} rates (at most ${L.maxRatesPerRun})`);
    });
  }
}

/** The file's config on the current defaults (older files lack newer fields), checked for values. */
function checkConfig(config: unknown): RunConfig {
  const merged = mergeOntoDefaults(config);
  const problems = merged.errors.length ? merged.errors : runConfigProblems(merged.config);
  if (problems.length)
    fail(
      `config: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`,
    );
  return merged.config;
}

/**
 * A results file from outside (JSON text, or already parsed), fully checked: JSON guard, sizes,
 * RESULTS.md's structure and a usable config. Returns the file with its config completed by the
 * defaults; throws an Error whose message starts "results file:" and names the path.
 */
export function checkResultsFile(input: unknown): ResultsFile {
  let doc = input;
  if (typeof doc === 'string') {
    if (doc.length > RESULTS_LIMITS.maxBytes)
      fail(`${(doc.length / 1048576).toFixed(0)} MB of text (at most ${RESULTS_LIMITS.maxBytes / 1048576} MB)`);
    try {
      doc = JSON.parse(doc);
    } catch (e) {
      fail(`not valid JSON (${(e as Error).message})`);
    }
  }
  const problem = jsonProblem(doc, RESULTS_LIMITS);
  if (problem) fail(problem);
  checkSizes(doc);
  const file = parseResultsFile(doc);
  return { ...file, config: checkConfig(file.config) };
}
