import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { ablationPreset, quickDemoPreset, robustnessPreset } from './presets.ts';
import {
  baseConfig,
  configDiff,
  configToHash,
  decodeConfig,
  encodeConfig,
  readUrlState,
  shareUrl,
} from './urlCodec.ts';

const b64 = (o: unknown) => '1.' + Buffer.from(JSON.stringify(o)).toString('base64url');

describe('URL codec', () => {
  it('encodes the defaults as an empty diff and decodes them back', () => {
    const token = encodeConfig(defaultRunConfig());
    expect(token).toBe('1.e30');
    const r = decodeConfig(token);
    expect(r.ok).toBe(true);
    expect(r.config).toEqual(baseConfig());
  });

  it.each([
    ['quick demo', quickDemoPreset().config],
    ['ablation', ablationPreset().config],
    ['robustness', robustnessPreset().config],
  ])('round-trips the %s preset exactly', (_, cfg) => {
    const r = decodeConfig(encodeConfig(cfg));
    expect(r.ok).toBe(true);
    expect(r.config).toEqual(cfg);
  });

  it('round-trips edits in every section, including nulls, "random" and tuples', () => {
    const c = baseConfig();
    c.model.cell = 'lstm';
    c.model.branches.recon = false;
    c.model.attnDropout = [0.1, 0.2, 0.3];
    c.data.knobs.noise = 1.75;
    c.data.seed = 42;
    c.missing.trainRate = 'random';
    c.missing.perModalityRates = [0.1, 0.5, 0.9];
    c.missing.testRates = [0, 0.25, 0.5];
    c.missing.level = 'modality';
    c.train.seeds = [1, 2, 3];
    c.train.lr = 1e-4;
    c.eval.f1Order = 'pred-first';
    const token = encodeConfig(c);
    expect(token).toMatch(/^1\.[A-Za-z0-9_-]+$/);
    const r = decodeConfig(token);
    expect(r.ok).toBe(true);
    expect(r.config).toEqual(c);
    // only the differences travel
    expect(Object.keys(configDiff(c))).toEqual(['model', 'data', 'missing', 'train', 'eval']);
    expect(configDiff(c).model).toEqual({ attnDropout: [0.1, 0.2, 0.3], cell: 'lstm', branches: { recon: false } });
  });

  it('works through a full share URL and the hash reader, with a backend', () => {
    const c = quickDemoPreset().config;
    const url = shareUrl(c, 'http://localhost:5173/app/?x=1#old', 'wasm');
    expect(url.startsWith('http://localhost:5173/app/?x=1#config=1.')).toBe(true);
    const s = readUrlState(url);
    expect(s.error).toBeNull();
    expect(s.backend).toBe('wasm');
    expect(s.config).toEqual(c);
    expect(configToHash(c)).not.toContain('backend');
    expect(readUrlState('http://x/?backend=cpu').backend).toBe('cpu');
    expect(readUrlState('http://x/').config).toBeNull();
  });

  it.each([
    ['garbage', 'not-a-token', /no version prefix/],
    ['empty', '', /empty/],
    ['wrong version', '2.e30', /version "2" is not supported/],
    ['bad base64', '1.$$$', /not base64url/],
    ['not JSON', '1.' + Buffer.from('{oops').toString('base64url'), /not valid JSON/],
    ['not an object', b64([1, 2]), /expected an object/],
    ['unknown field', b64({ train: { epochz: 3 } }), /train\.epochz: unknown field/],
    ['unknown section', b64({ extra: 1 }), /extra: unknown field/],
    ['wrong type', b64({ train: { epochs: 'ten' } }), /train\.epochs: expected an integer/],
    [
      'out of range',
      b64({ missing: { testRates: [0, 1.5] } }),
      /missing\.testRates\[1\]: expected a number ≥ 0 and ≤ 1/,
    ],
    ['not ascending', b64({ missing: { testRates: [0.5, 0.2] } }), /strictly ascending/],
    ['bad enum', b64({ model: { cell: 'rnn' } }), /model\.cell: expected one of gru \| lstm/],
    ['no fusion stream', b64({ model: { branches: { macro: false, micro: false } } }), /at least one fusion stream/],
    ['section replaced by a number', b64({ model: 3 }), /model: expected an object/],
    ['NaN smuggled as null', b64({ train: { lr: null } }), /train\.lr: expected a number/],
  ])('rejects %s with a clear message and falls back to the defaults', (_, token, why) => {
    const r = decodeConfig(token);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toMatch(why);
    expect(r.error).toMatch(/defaults were loaded/);
    expect(r.config).toEqual(baseConfig());
  });

  it('never throws on hostile input', () => {
    for (const t of [null, undefined, 42, {}, '1.', '1.' + 'A'.repeat(200_000), '\u0000', '1.%%']) {
      expect(() => decodeConfig(t as unknown as string)).not.toThrow();
      expect(decodeConfig(t as unknown as string).config).toEqual(baseConfig());
    }
    expect(() => readUrlState('#config=%E0%A4%A')).not.toThrow();
  });

  it('reports an unknown backend in the URL', () => {
    const s = readUrlState('#backend=cuda');
    expect(s.backend).toBeNull();
    expect(s.error).toMatch(/backend "cuda"/);
  });
});
