/**
 * One-click teaching presets. Each returns a complete, valid config plus the job kind and the
 * model settings to run, so a button can do `loadConfig(p.config); startJob(p.kind, p.settings)`
 * (or the store's `applyPreset(id, true)`).
 */
import { DEFAULT_TEST_RATES, defaultRunConfig, table5Settings, type RunConfig } from '../core/config/config.ts';
import type { ModelSetting } from '../core/eval/experiment.ts';
import type { JobKind } from '../worker/protocol.ts';
import { normalizeConfig, withModelPreset } from '../core/config/validateConfig.ts';

export interface PresetRun {
  config: RunConfig;
  kind: JobKind;
  settings: ModelSetting[];
}

export type PresetId = 'quick-demo' | 'ablation' | 'robustness';

export interface PresetInfo {
  id: PresetId;
  label: string;
  description: string;
  build(): PresetRun;
}

const ALL = { macro: true, micro: true, recon: true };

function base(model: 'tiny' | 'small', source: string): RunConfig {
  const c = withModelPreset(defaultRunConfig(), model);
  c.data.source = source;
  return c;
}

/**
 * Quick demo: the tiny model on synthetic:tiny (5 steps an epoch), trained once at 30 % missing
 * and tested at 0, 0.5 and 1 — the first loss curve shows within seconds even on the cpu backend.
 */
export function quickDemoPreset(): PresetRun {
  const c = base('tiny', 'synthetic:tiny');
  c.missing.protocol = 'train-once';
  c.missing.trainRate = 0.3;
  c.missing.testRates = [0, 0.5, 1];
  c.train.epochs = 8;
  c.train.patience = 4;
  c.train.seeds = [111];
  return { config: normalizeConfig(c), kind: 'train', settings: [{ arch: 'mfmb', branches: { ...ALL } }] };
}

/**
 * Ablation (Table 5): the four settings (all, w/o macro, w/o micro, w/o recon), tiny model on
 * synthetic:small, one seed, trained once at 30 % and tested on the full grid (AUILC per setting).
 */
export function ablationPreset(): PresetRun {
  const c = base('tiny', 'synthetic:small');
  c.missing.protocol = 'train-once';
  c.missing.trainRate = 0.3;
  c.missing.testRates = [...DEFAULT_TEST_RATES];
  c.train.epochs = 12;
  c.train.patience = 4;
  c.train.seeds = [111];
  return {
    config: normalizeConfig(c),
    kind: 'ablation',
    settings: table5Settings(),
  };
}

/**
 * Robustness sweep (Table 4): the full model trained once at 30 % missing, tested at 0, 0.1, …, 1,
 * three seeds (mean ± std bands and AUILC), tiny model on synthetic:small.
 */
export function robustnessPreset(): PresetRun {
  const c = base('tiny', 'synthetic:small');
  c.missing.protocol = 'train-once';
  c.missing.trainRate = 0.3;
  c.missing.testRates = [...DEFAULT_TEST_RATES];
  c.train.epochs = 10;
  c.train.patience = 4;
  c.train.seeds = [111, 1111, 11111];
  return { config: normalizeConfig(c), kind: 'sweep', settings: [{ arch: 'mfmb', branches: { ...ALL } }] };
}

export const PRESETS: readonly PresetInfo[] = [
  {
    id: 'quick-demo',
    label: 'Quick demo',
    description:
      'Tiny model on tiny synthetic data, 8 epochs, tested at 0 / 50 / 100 % missing: a first curve in seconds.',
    build: quickDemoPreset,
  },
  {
    id: 'ablation',
    label: 'Ablation (Table 5)',
    description:
      'The four Table-5 settings (all, w/o macro, w/o micro, w/o recon), tiny model, synthetic:small, full rate grid.',
    build: ablationPreset,
  },
  {
    id: 'robustness',
    label: 'Robustness sweep (Table 4)',
    description:
      'Full model trained once at 30 % missing, tested at 0–100 % in steps of 10 %, 3 seeds: AUILC with bands.',
    build: robustnessPreset,
  },
];

export function presetById(id: PresetId): PresetInfo {
  const p = PRESETS.find((x) => x.id === id);
  if (!p) throw new Error(`unknown preset "${id}" (${PRESETS.map((x) => x.id).join(', ')})`);
  return p;
}
