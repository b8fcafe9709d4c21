/**
 * The one typed run config. Every number that shapes a result lives here and is saved with it
 * (RESULTS.md), so a figure can always be traced back to how it was made. Defaults follow
 * shared/spec/MODEL.md and PROTOCOL.md; comments name the paper's symbol or the spec's reason.
 */

export type Modality = 't' | 'a' | 'v';
/** Text, audio, vision — the order used for every per-modality tuple in the config. */
export const MODALITIES: readonly Modality[] = ['t', 'a', 'v'];
export type PerModality<T> = [T, T, T];

export interface Branches {
  macro: boolean; // coarse hub stream (eqs. 3–7)
  micro: boolean; // pseudo-Siamese local fusion (eqs. 8–13)
  recon: boolean; // reconstruction branch + L_gen (eqs. 14–15, 18)
}

export function sameBranches(x: Branches, y: Branches): boolean {
  return x.macro === y.macro && x.micro === y.micro && x.recon === y.recon;
}

/** `mfmb` is the full model; the rest are the paper's Table-2 baselines. */
export type Architecture = 'mfmb' | 'fc-t' | 'fc-a' | 'fc-v' | 'concat';
export type ModelPresetName = 'tiny' | 'small' | 'base';

export interface ModelConfig {
  arch: Architecture;
  preset: ModelPresetName | 'custom';
  dims: PerModality<number>; // D_t, D_a, D_v (input feature sizes; from the data)
  lens: PerModality<number>; // L_t, L_a, L_v (padded lengths; L_a/L_v ≠ L_t adds a time map in macro)
  d: number; // per-stream width; HPA concatenates three streams to 3d
  hpaHeads: number;
  hpaLayers: number;
  alignment: 'parallel' | 'sequential'; // parallel = released code; sequential = paper text
  causalMask: boolean; // the code's future mask in HPA; off (the paper does not mention it)
  hubHeads: number; // eq. 3 encoders and the waterfall transformers
  hubLayers: number; // waterfall T_v, T_a, T_t
  macroEncLayers: number; // eq. 3 per-modality encoders
  hubK: number; // k coarse hub tokens
  hubInit: 'learned' | 'zeros'; // learned N(0, 0.02²) (MBT-style); zeros = the code's fixed buffer
  hubOrder: string; // waterfall order, paper 'vat'; the code goes 'avt'
  rnnHidden: PerModality<number>; // per direction, t/a/v
  rnnLayers: number;
  cell: 'gru' | 'lstm'; // code: GRU (default); paper: LSTM
  common: number; // each U_m projected to this width before stacking (eq. 11)
  mixer: boolean; // eq. 13 MLP on the stacked pairs
  mixerHidden: number;
  reconHidden: number; // FFN hidden width in reconstruction; 0 → 3d
  headHidden: number;
  numClasses: 1 | 3; // 1 = regression; 3 = neg/neu/pos classification (eq. 17)
  branches: Branches;
  textDropout: number;
  dropout: number; // HPA embed / residual / relu dropout
  attnDropout: PerModality<number>; // HPA cross-attention dropout by key source t/a/v
  selfAttnDropout: number; // HPA self-attention nets
  macroDropout: number; // macro encoders + hub transformers (code: 0)
  fusionDropout: number; // on pooled U_m
  headDropout: number;
}

export type SyntheticPresetName = 'tiny' | 'small' | 'mosi-shape';

/** Teaching knobs for the synthetic dataset (DATA.md). 1 = the preset's default strength. */
export interface SyntheticKnobs {
  textSignal: number;
  audioSignal: number;
  visionSignal: number;
  noise: number; // scale of the feature noise everywhere
  interaction: number; // share of samples whose polarity needs vision and text together
  shared: number; // strength of a slow trajectory all three modalities show: content the recon branch can rebuild
}

export interface DataConfig {
  source: string; // 'synthetic:tiny' | 'synthetic:small' | 'synthetic:mosi-shape' | 'file:NAME'
  seed: number; // synthetic data seed
  knobs: SyntheticKnobs;
  /** Feature files only: z-score each feature with the train split's mean and σ (MMSA: off). */
  standardize: boolean;
}

export interface MissingConfig {
  protocol: 'train-once' | 'per-rate';
  trainRate: number | 'random'; // train-once only; 'random' = a rate per batch drawn from testRates
  testRates: number[]; // ascending grid in [0, 1]
  perModalityRates: PerModality<number> | null; // overrides one rate for all modalities when set
  level: 'frame' | 'modality';
  replace: 'zero' | 'noise'; // audio/vision replacement; noise σ = feature std over train split
  noiseScale: number; // multiplies that σ
  maskSeeds: PerModality<number>; // independent of run seeds, as in the code
  textIsBert: boolean; // keep first/last valid text position ([CLS]/[SEP])
}

export interface TrainConfig {
  epochs: number; // max-epochs cap; early stopping still applies
  lr: number;
  weightDecay: number; // L2 added inside the Adam step, after clipping (PyTorch Adam)
  clipValue: number; // gradient clipping by value
  batchSize: number;
  patience: number; // early stop after this many epochs without valid-MAE improvement
  plateauPatience: number; // lr × plateauFactor after this many
  plateauFactor: number;
  reconWarmupEpochs: number; // L_gen from this 0-based epoch on
  alpha: PerModality<number>; // L_gen weights t/a/v
  seeds: number[]; // run seeds: init, shuffling, dropout
}

export interface EvalConfig {
  f1Order: 'truth-first' | 'pred-first'; // pred-first reproduces MFMB-Net/TFR-Net's code
  auilcIncludeOne: boolean; // keep the r = 1.0 point in AUILC
}

export interface RunConfig {
  model: ModelConfig;
  data: DataConfig;
  missing: MissingConfig;
  train: TrainConfig;
  eval: EvalConfig;
}

export const DEFAULT_TEST_RATES = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

const BASE_MODEL: ModelConfig = {
  arch: 'mfmb',
  preset: 'base',
  dims: [768, 5, 20],
  lens: [50, 50, 50],
  d: 30,
  hpaHeads: 6,
  hpaLayers: 3,
  alignment: 'parallel',
  causalMask: false,
  hubHeads: 10,
  hubLayers: 4,
  macroEncLayers: 4,
  hubK: 4,
  hubInit: 'learned',
  hubOrder: 'vat',
  rnnHidden: [36, 20, 48],
  rnnLayers: 3,
  cell: 'gru',
  common: 64,
  mixer: true,
  mixerHidden: 128,
  reconHidden: 0,
  headHidden: 128,
  numClasses: 1,
  branches: { macro: true, micro: true, recon: true },
  textDropout: 0.2,
  dropout: 0.2,
  attnDropout: [0.2, 0.1, 0.0],
  selfAttnDropout: 0.2,
  macroDropout: 0,
  fusionDropout: 0.2,
  headDropout: 0,
};

/** MODEL.md's preset table. `base` = the paper's sizes. */
const PRESET_SIZES: Record<ModelPresetName, Partial<ModelConfig>> = {
  base: {},
  small: {
    d: 24,
    hpaHeads: 4,
    hpaLayers: 2,
    hubHeads: 8,
    hubLayers: 2,
    macroEncLayers: 2,
    rnnHidden: [24, 16, 32],
    rnnLayers: 2,
    common: 32,
    mixerHidden: 64,
    headHidden: 64,
  },
  tiny: {
    d: 12,
    hpaHeads: 2,
    hpaLayers: 1,
    hubHeads: 4,
    hubLayers: 1,
    macroEncLayers: 1,
    rnnHidden: [8, 6, 10],
    rnnLayers: 1,
    common: 16,
    mixerHidden: 32,
    headHidden: 32,
  },
};

export function modelPreset(name: ModelPresetName, overrides: Partial<ModelConfig> = {}): ModelConfig {
  if (!(name in PRESET_SIZES)) throw new Error(`unknown model preset "${name}" (tiny | small | base)`);
  return {
    ...structuredClone(BASE_MODEL),
    ...structuredClone(PRESET_SIZES[name]),
    preset: name,
    ...structuredClone(overrides),
  };
}

export const DEFAULT_KNOBS: SyntheticKnobs = {
  textSignal: 1,
  audioSignal: 1,
  visionSignal: 1,
  noise: 1,
  interaction: 1,
  shared: 0,
};

export function defaultRunConfig(): RunConfig {
  return {
    model: modelPreset('small'),
    data: { source: 'synthetic:small', seed: 7, knobs: { ...DEFAULT_KNOBS }, standardize: false },
    missing: {
      protocol: 'train-once',
      trainRate: 0.3,
      testRates: [...DEFAULT_TEST_RATES],
      perModalityRates: null,
      level: 'frame',
      replace: 'zero',
      noiseScale: 1,
      maskSeeds: [111, 1111, 11111],
      textIsBert: false,
    },
    train: {
      epochs: 40,
      lr: 2e-3,
      weightDecay: 1e-3,
      clipValue: 0.8,
      batchSize: 24,
      patience: 6,
      plateauPatience: 5,
      plateauFactor: 0.1,
      reconWarmupEpochs: 1,
      alpha: [5, 2, 20],
      seeds: [111],
    },
    eval: { f1Order: 'truth-first', auilcIncludeOne: true },
  };
}

/** The four rows of the paper's Table 5, in its order. */
export const TABLE5_SETTINGS: { label: string; branches: Branches }[] = [
  { label: 'MFMB-Net (all)', branches: { macro: true, micro: true, recon: true } },
  { label: 'w/o F-1 (macro off)', branches: { macro: false, micro: true, recon: true } },
  { label: 'w/o F-2 (micro off)', branches: { macro: true, micro: false, recon: true } },
  { label: 'w/o Recon', branches: { macro: true, micro: true, recon: false } },
];

/** The Table-5 settings as MFMB-Net model settings: fresh copies, so callers may edit or store them. */
export function table5Settings(): { arch: 'mfmb'; branches: Branches }[] {
  return TABLE5_SETTINGS.map((t) => ({ arch: 'mfmb', branches: { ...t.branches } }));
}

/** The Table-5 row label of a branch setting; undefined for a setting the table does not have. */
export function table5Label(branches: Branches): string | undefined {
  return TABLE5_SETTINGS.find((s) => sameBranches(s.branches, branches))?.label;
}

/** Rejects configs that cannot run, with a message a user can act on. */
export function validateModelConfig(c: ModelConfig): void {
  if (c.arch === 'mfmb' && !c.branches.macro && !c.branches.micro) {
    throw new Error(
      'MFMB-Net needs at least one fusion stream: branches.macro and branches.micro are both off ' +
        '(recon alone does not feed the prediction).',
    );
  }
  if (c.d % c.hpaHeads !== 0) throw new Error(`width d=${c.d} is not divisible by hpaHeads=${c.hpaHeads}`);
  if ((3 * c.d) % c.hubHeads !== 0) throw new Error(`width 3d=${3 * c.d} is not divisible by hubHeads=${c.hubHeads}`);
  if ([...c.hubOrder].sort().join('') !== 'atv')
    throw new Error(`hubOrder must be a permutation of "tav", got "${c.hubOrder}"`);
  for (const v of [...c.dims, ...c.lens]) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`feature sizes and lengths must be positive integers, got ${v}`);
  }
}
