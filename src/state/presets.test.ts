import { describe, expect, it } from 'vitest';
import { TABLE5_SETTINGS } from '../core/config/config.ts';
import { PRESETS, ablationPreset, quickDemoPreset, robustnessPreset } from './presets.ts';
import { runConfigProblems } from '../core/config/validateConfig.ts';

describe('teaching presets', () => {
  it('each builds a valid config', () => {
    for (const p of PRESETS) expect(runConfigProblems(p.build().config), p.id).toEqual([]);
  });

  it('quick demo is tiny and quick', () => {
    const p = quickDemoPreset();
    expect(p.kind).toBe('train');
    expect(p.config.model.preset).toBe('tiny');
    expect(p.config.data.source).toBe('synthetic:tiny');
    expect(p.config.missing.protocol).toBe('train-once');
    expect(p.config.missing.testRates).toEqual([0, 0.5, 1]);
    expect(p.config.model.dims).toEqual([32, 5, 20]);
  });

  it('ablation runs the four Table-5 settings; the sweep several seeds over the full grid', () => {
    const a = ablationPreset();
    expect(a.kind).toBe('ablation');
    expect(a.settings.map((s) => s.branches)).toEqual(TABLE5_SETTINGS.map((t) => t.branches));
    const r = robustnessPreset();
    expect(r.kind).toBe('sweep');
    expect(r.config.missing.testRates).toHaveLength(11);
    expect(r.config.train.seeds.length).toBeGreaterThanOrEqual(2);
  });
});
