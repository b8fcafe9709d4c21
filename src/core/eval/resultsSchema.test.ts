import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../config/config.ts';
import { metricsOf, run } from './__fixtures__/runs.ts';
import { makeResultsFile } from './results.ts';
import { checkResultsFile, jsonProblem, RESULTS_LIMITS } from './resultsSchema.ts';

const file = () =>
  JSON.parse(
    JSON.stringify(
      makeResultsFile({
        backend: 'cpu',
        dataset: {
          source: 'synthetic:tiny',
          sizes: { train: 1, valid: 1, test: 1 },
          dims: { text: 1, audio: 1, vision: 1 },
          lengths: { text: 1, audio: 1, vision: 1 },
        },
        config: defaultRunConfig(),
        runs: [run({ seed: 1, test: [[0, metricsOf(0.5)]] })],
        toolVersion: '0.1.0',
      }),
    ),
  ) as Record<string, unknown> & { config: Record<string, Record<string, unknown>> };

describe('results file schema check', () => {
  it('accepts a good file (text or parsed) and fills an older config with the defaults', () => {
    expect(checkResultsFile(JSON.stringify(file())).runs).toHaveLength(1);
    const old = file();
    delete old.config.model.mixer;
    expect(checkResultsFile(old).config.model.mixer).toBe(defaultRunConfig().model.mixer);
  });

  it('refuses config values of the wrong type or range, naming the field', () => {
    const a = file();
    a.config.data.source = 5;
    expect(() => checkResultsFile(a)).toThrow(/^results file: config: data\.source/);
    const b = file();
    b.config.train.epochs = -1;
    expect(() => checkResultsFile(b)).toThrow(/config: train\.epochs/);
    const c = file();
    c.config.model.zzz = 1;
    expect(() => checkResultsFile(c)).toThrow(/config: model\.zzz: unknown field/);
  });

  it('refuses sizes a page cannot draw', () => {
    const f = file() as unknown as { runs: { epochs: unknown[] }[] };
    f.runs[0].epochs = Array.from({ length: RESULTS_LIMITS.maxEpochsPerRun + 1 }, () => f.runs[0].epochs[0]);
    expect(() => checkResultsFile(f)).toThrow(/runs\[0\]\.epochs: 10001 epoch records/);
  });

  it('deep nesting gives a message, not "Maximum call stack size exceeded"', () => {
    const text = '['.repeat(500_000) + ']'.repeat(500_000);
    expect(() => checkResultsFile(text)).toThrow(/results file: it is nested more than 16 levels deep/);
    expect(jsonProblem(JSON.parse(text), { maxDepth: 1e9, maxNodes: 1e9, maxStringLength: 10 })).toBeNull();
  });

  it('refuses __proto__, constructor and prototype keys anywhere', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const text = JSON.stringify(file()).replace('"runs":[{', `"runs":[{"${key}":{"x":1},`);
      expect(() => checkResultsFile(text)).toThrow(new RegExp(`runs\\[0\\]\\.${key}: the key "${key}" is not allowed`));
    }
  });
});
