import type { ModelConfig } from '../config/config.ts';
import { Baseline } from './baselines.ts';
import { MFMBNet } from './mfmb.ts';
import type { Model } from './model.ts';

/** All parameters are drawn from one generator seeded with the run seed. */
export function buildModel(config: ModelConfig, seed: number): Model {
  return config.arch === 'mfmb' ? new MFMBNet(config, seed) : new Baseline(config, seed);
}
