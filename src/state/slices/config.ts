/** Config slice: the RunConfig being edited, and what the worker says about it (data, parameter counts). */
import type { RunConfig } from '../../core/config/config.ts';
import { configError, mergeOntoDefaults, normalizeConfig, withModelPreset } from '../../core/config/validateConfig.ts';
import { baseConfig } from '../urlCodec.ts';
import type { AppState } from '../types.ts';
import type { GetState, Runtime, SetState } from '../runtime.ts';
import { errorNotice } from './notice.ts';

export type ConfigSlice = Pick<
  AppState,
  'config' | 'setConfig' | 'setModelPreset' | 'setBranches' | 'loadConfig' | 'dataset' | 'paramCounts'
>;

export function configSlice(set: SetState, get: GetState, rt: Runtime): ConfigSlice {
  /** Validates and applies; an invalid config leaves the old one in place and says why. */
  const accept = (next: RunConfig, what: string): boolean => {
    const problem = configError(next);
    if (problem) {
      set(errorNotice(`${what}: ${problem}`));
      return false;
    }
    set({ config: normalizeConfig(next) });
    rt.scheduleDescribe();
    return true;
  };

  return {
    config: baseConfig(),
    dataset: null,
    paramCounts: [],

    setConfig(patch) {
      const next = structuredClone(get().config);
      try {
        patch(next);
      } catch (e) {
        set(errorNotice(`That change could not be applied: ${(e as Error)?.message ?? String(e)}`));
        return;
      }
      accept(next, 'That setting was not applied');
    },

    setModelPreset(p) {
      if (!['tiny', 'small', 'base'].includes(p)) {
        set(errorNotice(`Unknown model preset "${p}" (tiny, small, base)`));
        return;
      }
      accept(withModelPreset(get().config, p), `The ${p} preset was not applied`);
    },

    setBranches(b) {
      get().setConfig((c) => {
        c.model.branches = { macro: b.macro, micro: b.micro, recon: b.recon };
      });
    },

    loadConfig(c) {
      // Editing while a job runs is fine: the job has its own copy of the config.
      let merged: RunConfig;
      try {
        const r = mergeOntoDefaults(c, baseConfig());
        if (r.errors.length) {
          set(errorNotice(`The config was not loaded: ${r.errors.slice(0, 3).join('; ')}`));
          return false;
        }
        merged = r.config;
      } catch (e) {
        set(errorNotice(`The config was not loaded: ${(e as Error)?.message ?? String(e)}`));
        return false;
      }
      return accept(merged, 'The config was not loaded');
    },
  };
}
