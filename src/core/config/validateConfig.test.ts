import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from './config.ts';
import {
  configError,
  listProblem,
  mergeOntoDefaults,
  NUMBER_LIST_EXPECTED,
  parseNumberList,
  runConfigProblems,
} from './validateConfig.ts';

describe('config validator (shared by the app and the CLI)', () => {
  it('accepts the default config', () => {
    expect(runConfigProblems(defaultRunConfig())).toEqual([]);
    expect(configError(defaultRunConfig())).toBeNull();
  });

  it('names every problem by its path', () => {
    const c = defaultRunConfig();
    c.train.seeds = [1, 1];
    c.train.lr = Infinity;
    c.missing.testRates = [0, 0.5, 0.2];
    expect(runConfigProblems(c)).toEqual([
      'missing.testRates: rates must be strictly ascending, got 0, 0.5, 0.2',
      'train.lr: expected a number > 0 and ≤ 10, got Infinity',
      'train.seeds: each seed may appear once, got 1, 1',
    ]);
    expect(configError(c)).toBe(runConfigProblems(c).join('; '));
  });

  it('runs the model rules once the types hold', () => {
    const c = defaultRunConfig();
    c.model.branches = { macro: false, micro: false, recon: true };
    expect(runConfigProblems(c)).toEqual([expect.stringMatching(/^model: MFMB-Net needs at least one fusion stream/)]);
  });

  it('one number-list syntax: commas, semicolons or spaces', () => {
    expect(parseNumberList('0, 0.1;0.2 0.3')).toEqual([0, 0.1, 0.2, 0.3]);
    expect(parseNumberList('1,,2')).toEqual([1, 2]);
    expect(parseNumberList('1,x')).toBeNull();
    expect(parseNumberList('1,Infinity')).toBeNull();
    expect(parseNumberList('  ')).toBeNull();
    expect(NUMBER_LIST_EXPECTED).toMatch(/commas/);
  });

  it('listProblem gives the whole-config message of one list field', () => {
    expect(listProblem('train.seeds', [0, 7])).toBeNull();
    expect(listProblem('train.seeds', [7, 7])).toBe('train.seeds: each seed may appear once, got 7, 7');
    expect(listProblem('train.seeds', [-1])).toBe('train.seeds[0]: expected an integer ≥ 0 and ≤ 4294967295, got -1');
    expect(
      listProblem(
        'train.seeds',
        Array.from({ length: 101 }, (_, i) => i),
      ),
    ).toMatch(/^train\.seeds: expected a list of 1–100 values/);
    expect(listProblem('missing.testRates', [0.5])).toBeNull();
    expect(listProblem('missing.testRates', [0.2, 0.1])).toBe(
      'missing.testRates: rates must be strictly ascending, got 0.2, 0.1',
    );
    expect(listProblem('missing.testRates', [0, 2])).toBe('missing.testRates[1]: expected a number ≥ 0 and ≤ 1, got 2');
    for (const [field, value] of [
      ['train.seeds', [3, 3]],
      ['missing.testRates', [1, 0]],
    ] as const) {
      const c = defaultRunConfig() as unknown as Record<string, Record<string, unknown>>;
      const [section, key] = field.split('.');
      c[section][key] = value;
      expect(runConfigProblems(c)).toEqual([listProblem(field, value)]);
    }
  });

  it('mergeOntoDefaults refuses unknown fields', () => {
    expect(mergeOntoDefaults({ train: { epochz: 3 } }).errors).toEqual(['train.epochz: unknown field']);
  });
});
