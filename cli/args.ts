import {
  DEFAULT_TEST_RATES, TABLE5_SETTINGS, defaultRunConfig, modelPreset,
  type Architecture, type Branches, type ModelPresetName, type RunConfig,
} from '../src/core/config/config.ts';
import type { ModelSetting } from '../src/core/eval/experiment.ts';

/** Command-line flags → a resolved RunConfig plus what to run. No dependency: the flags are few. */
export interface CliOptions {
  command: string;
  config: RunConfig;
  settings: ModelSetting[];
  backend: 'wasm' | 'cpu';
  json: string | null;
  quiet: boolean;
  dataPath: string | null; // a feature file (--data FILE, or inspect's FILE)
  subset: number | null; // first N samples per split
  maxBytes: number; // refuse files whose float32 features need more (with a subset offer)
  structureOnly: boolean; // inspect: shapes and dtypes only, no array read
}

const DEFAULT_MAX_GB = 8;

export const USAGE = `usage: mfmb <command> [flags]

commands:
  train    train one model per seed, print progress and the test metrics at every rate
  sweep    rate grid x seeds x branch settings; prints Table-4 (AUILC) and Table-5 style tables
  ablate   the four Table-5 settings (all, w/o F-1, w/o F-2, w/o Recon) plus any --baselines
  info     parameter counts per block and per branch setting
  inspect FILE   read an MMSA .pkl or .npz, validate it, print its summary (exit 1 if refused)

flags (defaults in brackets):
  --model tiny|small|base            model preset [small]
  --data synthetic:tiny|synthetic:small|synthetic:mosi-shape|FILE   [synthetic:small]
                                     FILE: an MMSA pickle (aligned_50.pkl, ...) or .npz
  --subset N                         feature files: only the first N samples of each split
  --max-gb X                         refuse files whose float32 features need more [${DEFAULT_MAX_GB}]
  --standardize                      feature files: z-score each feature with the train split's
                                     mean and sigma (MMSA feeds raw features: off by default)
  --structure                        inspect: shapes and dtypes only, read no array
  --branches macro,micro,recon       enabled branches [all]; several settings: separate with '/',
                                     'table5' = the four Table-5 settings,
                                     'none' = only the --baselines
  --protocol train-once|per-rate     [train-once]
  --train-rate R|random              training rate for train-once [0.3]
  --rates 0,0.1,...,1.0              test-rate grid [0,0.1,...,1.0]
  --seeds 111,1111                   run seeds [111]
  --epochs N                         max-epochs cap; early stopping still applies [40]
  --baselines fc-t,fc-a,fc-v,concat  Table-2 baselines to run as well [none]
  --batch N  --lr X  --patience N    training overrides [24, 0.002, 6]
  --level frame|modality  --replace zero|noise   missing-data options [frame, zero]
  --backend wasm|cpu                 tfjs backend [wasm]
  --json FILE                        write the results file (shared/spec/RESULTS.md)
  --quiet                            no per-epoch progress
`;

const ALL: Branches = { macro: true, micro: true, recon: true };

function parseBranches(s: string): Branches[] {
  if (s === 'table5') return TABLE5_SETTINGS.map((t) => ({ ...t.branches }));
  if (s === 'none') return [];
  return s.split('/').map((one) => {
    if (one === 'all') return { ...ALL };
    const names = one.split(',').map((x) => x.trim()).filter(Boolean);
    for (const n of names) if (!['macro', 'micro', 'recon'].includes(n)) throw new Error(`--branches: unknown branch "${n}" (macro, micro, recon)`);
    return { macro: names.includes('macro'), micro: names.includes('micro'), recon: names.includes('recon') };
  });
}

function parseNumberList(flag: string, s: string): number[] {
  const out = s.split(',').map((x) => Number(x.trim()));
  if (out.some((v) => !Number.isFinite(v))) throw new Error(`${flag}: expected comma-separated numbers, got "${s}"`);
  return out;
}

function parseRate(flag: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw new Error(`${flag}: rates must lie in [0, 1], got ${v}`);
  return v;
}

function positiveInt(flag: string, s: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${flag}: expected a positive integer, got "${s}"`);
  return v;
}

export function parseArgs(argv: string[]): CliOptions {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') return { command: 'help' } as CliOptions;
  if (!['train', 'sweep', 'ablate', 'info', 'inspect'].includes(command)) throw new Error(`unknown command "${command}"\n\n${USAGE}`);
  const flags = new Map<string, string>();
  let inspectPath: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) {
      if (command === 'inspect' && inspectPath === null) { inspectPath = a; continue; }
      throw new Error(`unexpected argument "${a}"`);
    }
    const [k, inline] = a.slice(2).split('=', 2);
    if (k === 'quiet' || k === 'help' || k === 'structure' || k === 'standardize') { flags.set(k, 'true'); continue; }
    const v = inline ?? rest[++i];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    flags.set(k, v);
  }
  const known = ['model', 'data', 'branches', 'protocol', 'train-rate', 'rates', 'seeds', 'epochs', 'baselines', 'backend', 'json', 'quiet', 'batch', 'lr', 'patience', 'level', 'replace', 'help', 'subset', 'max-gb', 'structure', 'standardize'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown flag --${k}\n\n${USAGE}`);
  if (flags.has('help')) return { command: 'help' } as CliOptions;

  const config = defaultRunConfig();
  const preset = (flags.get('model') ?? 'small') as ModelPresetName;
  if (!['tiny', 'small', 'base'].includes(preset)) throw new Error(`--model: expected tiny, small or base, got "${preset}"`);
  config.model = modelPreset(preset);
  if (command === 'inspect' && inspectPath === null) throw new Error(`inspect needs a file: mfmb inspect FILE\n\n${USAGE}`);
  const data = inspectPath ?? flags.get('data') ?? 'synthetic:small';
  let dataPath: string | null = null;
  if (data.startsWith('synthetic:')) {
    if (!['synthetic:tiny', 'synthetic:small', 'synthetic:mosi-shape'].includes(data)) throw new Error(`--data: unknown synthetic preset "${data}"`);
    config.data.source = data;
  } else {
    if (command === 'info') throw new Error('info works on the synthetic presets; use `mfmb inspect FILE` for a file');
    dataPath = data;
    config.data.source = `file:${data.split(/[\\/]/).pop()}`;
  }
  config.data.standardize = flags.has('standardize');
  if (config.data.standardize && !dataPath) throw new Error('--standardize applies to feature files (--data FILE)');
  const subset = flags.has('subset') ? positiveInt('--subset', flags.get('subset')!) : null;
  const maxGb = flags.has('max-gb') ? Number(flags.get('max-gb')) : DEFAULT_MAX_GB;
  if (!(maxGb > 0)) throw new Error(`--max-gb: expected a positive number, got "${flags.get('max-gb')}"`);

  const protocol = flags.get('protocol') ?? 'train-once';
  if (protocol !== 'train-once' && protocol !== 'per-rate') throw new Error(`--protocol: expected train-once or per-rate, got "${protocol}"`);
  config.missing.protocol = protocol;
  const tr = flags.get('train-rate') ?? '0.3';
  config.missing.trainRate = tr === 'random' ? 'random' : parseRate('--train-rate', Number(tr));
  const rates = flags.has('rates') ? parseNumberList('--rates', flags.get('rates')!).map((r) => parseRate('--rates', r)) : [...DEFAULT_TEST_RATES];
  if (rates.some((r, i) => i > 0 && r <= rates[i - 1])) throw new Error('--rates must be strictly ascending');
  config.missing.testRates = rates;
  if (flags.has('level')) {
    const l = flags.get('level');
    if (l !== 'frame' && l !== 'modality') throw new Error('--level: expected frame or modality');
    config.missing.level = l;
  }
  if (flags.has('replace')) {
    const r = flags.get('replace');
    if (r !== 'zero' && r !== 'noise') throw new Error('--replace: expected zero or noise');
    config.missing.replace = r;
  }
  if (flags.has('seeds')) config.train.seeds = parseNumberList('--seeds', flags.get('seeds')!).map((s) => positiveInt('--seeds', String(s)));
  if (flags.has('epochs')) config.train.epochs = positiveInt('--epochs', flags.get('epochs')!);
  if (flags.has('batch')) config.train.batchSize = positiveInt('--batch', flags.get('batch')!);
  if (flags.has('patience')) config.train.patience = positiveInt('--patience', flags.get('patience')!);
  if (flags.has('lr')) {
    const lr = Number(flags.get('lr'));
    if (!(lr > 0)) throw new Error('--lr must be a positive number');
    config.train.lr = lr;
  }

  const branchSettings = parseBranches(flags.get('branches') ?? (command === 'ablate' ? 'table5' : 'all'));
  const settings: ModelSetting[] = branchSettings.map((b) => ({ arch: 'mfmb' as Architecture, branches: b }));
  if (flags.has('baselines')) {
    for (const b of flags.get('baselines')!.split(',').map((x) => x.trim())) {
      if (!['fc-t', 'fc-a', 'fc-v', 'concat'].includes(b)) throw new Error(`--baselines: unknown baseline "${b}" (fc-t, fc-a, fc-v, concat)`);
      settings.push({ arch: b as Architecture, branches: { macro: false, micro: false, recon: false } });
    }
  }
  if (settings.length === 0) throw new Error('nothing to run: --branches none needs --baselines');
  config.model.branches = { ...(settings.find((s) => s.arch === 'mfmb') ?? settings[0]).branches };
  const backend = (flags.get('backend') ?? 'wasm') as 'wasm' | 'cpu';
  if (backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend: expected wasm or cpu, got "${backend}"`);
  return {
    command, config, settings, backend, json: flags.get('json') ?? null, quiet: flags.has('quiet'),
    dataPath, subset, maxBytes: maxGb * 1e9, structureOnly: flags.has('structure'),
  };
}
