import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from './config.ts';
import {
  configError,
  listProblem,
  mergeOntoDefaults,
  NUMBER_LIST_EXPECTED,
  NOISE_SCALE_LIMITS,
  parseDecimal,
  parseNumberList,
  runConfigProblems,
  TRAIN_LIMITS,
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
      'train.lr: expected a number ≥ 0.000001 and ≤ 1, got Infinity',
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

  it("caps the training fields where the app's panel caps them (one source of the limits)", () => {
    expect(TRAIN_LIMITS).toEqual({
      epochs: { min: 1, max: 1000 },
      lr: { min: 1e-6, max: 1 },
      batchSize: { min: 1, max: 1024 },
      patience: { min: 1, max: 1000 },
    });
    expect(NOISE_SCALE_LIMITS).toEqual({ min: 0, max: 10 });
    const c = defaultRunConfig();
    c.train.epochs = 1e9;
    c.train.batchSize = 1e9;
    c.train.patience = 1001;
    c.train.lr = 2;
    c.missing.noiseScale = 11;
    expect(runConfigProblems(c)).toEqual([
      'missing.noiseScale: expected a number ≥ 0 and ≤ 10, got 11',
      'train.epochs: expected an integer ≥ 1 and ≤ 1000, got 1000000000',
      'train.lr: expected a number ≥ 0.000001 and ≤ 1, got 2',
      'train.batchSize: expected an integer ≥ 1 and ≤ 1024, got 1000000000',
      'train.patience: expected an integer ≥ 1 and ≤ 1000, got 1001',
    ]);
    const ok = defaultRunConfig();
    ok.train.epochs = 1000;
    ok.train.batchSize = 1024;
    ok.train.lr = 1e-6;
    expect(runConfigProblems(ok)).toEqual([]);
  });

  it('seeds are integers in [0, 2^32 - 1]: no seed runs under another label', () => {
    expect(listProblem('train.seeds', [4294967297])).toBe(
      'train.seeds[0]: expected an integer ≥ 0 and ≤ 4294967295, got 4294967297',
    );
    expect(listProblem('train.seeds', [1e20])).toBe(
      'train.seeds[0]: expected an integer ≥ 0 and ≤ 4294967295, got 100000000000000000000',
    );
    expect(listProblem('train.seeds', [4294967295, 0])).toBeNull();
  });

  it('number lists and numbers are plain decimals: no hex, binary, octal, empty or infinite forms', () => {
    for (const bad of [
      '0x1',
      '0X10',
      '0b1',
      '0o7',
      '1_000',
      '1,0x1',
      'Infinity',
      '1e400',
      '',
      ',',
      ' ; ',
      '1.2.3',
      '--1',
      '1e',
      '.',
    ])
      expect(parseNumberList(bad), JSON.stringify(bad)).toBeNull();
    expect(parseNumberList('0, .5 1.; -2 +3 1e-1 2E3')).toEqual([0, 0.5, 1, -2, 3, 0.1, 2000]);
    expect(parseDecimal('0x1')).toBeNull();
    expect(parseDecimal(' 42 ')).toBe(42);
    expect(parseDecimal('')).toBeNull();
    expect(parseDecimal('1e20')).toBe(1e20);
  });
});

describe('config validator: prototype pollution (share links, results files, stored jobs)', () => {
  const hostile = [
    '{"__proto__": {"hasOwnProperty": 1}}',
    '{"train": {"__proto__": {"polluted": 1}}}',
    '{"model": {"branches": {"__proto__": {"polluted": 1}}}}',
    '{"constructor": {"prototype": {"polluted": 1}}}',
    '{"train": {"constructor": {"prototype": {"polluted": 1}}}}',
    '{"missing": {"perModalityRates": {"__proto__": {"polluted": 1}}}}',
  ];

  for (const text of hostile) {
    it(`mergeOntoDefaults refuses ${text} and pollutes nothing`, () => {
      const { config, errors } = mergeOntoDefaults(JSON.parse(text));
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.join('\n')).toMatch(/"(__proto__|constructor|prototype)" is not allowed as a field name/);
      expect(Object.prototype.hasOwnProperty).toBeTypeOf('function');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf(config)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(config.train)).toBe(Object.prototype);
      expect(Object.getPrototypeOf(config.model.branches)).toBe(Object.prototype);
      // The validator refuses the same object when it is handed over directly.
      const direct = JSON.parse(text);
      expect(runConfigProblems(direct).join('\n')).toMatch(/is not allowed as a field name/);
    });
  }

  it('the exact message', () => {
    expect(mergeOntoDefaults(JSON.parse('{"__proto__": {"hasOwnProperty": 1}}')).errors).toEqual([
      'config.__proto__: "__proto__" is not allowed as a field name',
    ]);
    expect(mergeOntoDefaults(JSON.parse('{"train": {"constructor": 1}}')).errors).toEqual([
      'train.constructor: "constructor" is not allowed as a field name',
    ]);
  });

  it('fields are own properties: an inherited field is missing, not read', () => {
    const c = defaultRunConfig() as unknown as Record<string, Record<string, unknown>>;
    const train = Object.create({ epochs: 5 }) as Record<string, unknown>;
    for (const [k, v] of Object.entries(c.train)) if (k !== 'epochs') train[k] = v;
    c.train = train;
    expect(runConfigProblems(c)).toEqual(['train.epochs: expected an integer ≥ 1 and ≤ 1000, got nothing']);
    // mergeOntoDefaults: a field only inherited by the patch is not applied, an inherited target key is unknown.
    expect(mergeOntoDefaults({ train: Object.create({ epochs: 5 }) }).config.train.epochs).toBe(40);
    expect(mergeOntoDefaults(JSON.parse('{"train": {"toString": 1}}')).errors).toEqual([
      'train.toString: unknown field',
    ]);
    expect(mergeOntoDefaults(JSON.parse('{"hasOwnProperty": 1}')).errors).toEqual(['hasOwnProperty: unknown field']);
  });

  it('a pasted config with null-prototype sections is accepted like a plain one', () => {
    const c = JSON.parse(JSON.stringify(defaultRunConfig()), function (this: unknown, _k, v) {
      return v && typeof v === 'object' && !Array.isArray(v) ? Object.assign(Object.create(null), v) : v;
    });
    expect(runConfigProblems(c)).toEqual([]);
    expect(mergeOntoDefaults(c).errors).toEqual([]);
  });
});
