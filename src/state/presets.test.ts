import { describe, expect, it } from 'vitest';
import { TABLE5_SETTINGS } from '../core/config/config.ts';
import {
  PRESETS,
  ablationPaperPreset,
  ablationPreset,
  quickDemoPreset,
  robustnessPaperPreset,
  robustnessPreset,
} from './presets.ts';
import { runConfigProblems } from '../core/config/validateConfig.ts';

describe('teaching presets', () => {
  it('each builds a valid config', () => {
    for (const p of PRESETS) expect(runConfigProblems(p.build().config), p.id).toEqual([]);
  });

  it('quick demo is tiny and quick: the tiny model, 600 samples at 10 steps an epoch', () => {
    const p = quickDemoPreset();
    expect(p.kind).toBe('train');
    expect(p.config.model.preset).toBe('tiny');
    expect(p.config.data.source).toBe('synthetic:small');
    expect(p.config.missing.protocol).toBe('train-once');
    expect(p.config.missing.testRates).toEqual([0, 0.5, 1]);
    expect(p.config.model.dims).toEqual([64, 5, 20]);
    expect(Math.ceil(600 / p.config.train.batchSize)).toBe(10);
    expect(p.config.train.epochs).toBe(8);
  });

  it('ablation runs the four Table-5 settings; the sweep several seeds, each lesson-sized and paper-sized', () => {
    for (const a of [ablationPreset(), ablationPaperPreset()]) {
      expect(a.kind).toBe('ablation');
      expect(a.settings.map((s) => s.branches)).toEqual(TABLE5_SETTINGS.map((t) => t.branches));
    }
    for (const r of [robustnessPreset(), robustnessPaperPreset()]) {
      expect(r.kind).toBe('sweep');
      expect(r.config.train.seeds.length).toBe(3);
    }
    // Lesson-sized: the Quick demo's recipe on a coarser grid that still spans 0…1.
    for (const p of [ablationPreset(), robustnessPreset()]) {
      expect(p.config.model.preset).toBe('tiny');
      expect(p.config.train.epochs).toBe(quickDemoPreset().config.train.epochs);
      expect(p.config.missing.testRates).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    }
    // Paper-sized: PROTOCOL.md's grid and the default recipe.
    for (const p of [ablationPaperPreset(), robustnessPaperPreset()]) {
      expect(p.config.model.preset).toBe('small');
      expect(p.config.missing.testRates).toHaveLength(11);
      expect(p.config.train.epochs).toBe(40);
    }
  });
});
