import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import {
  table5Settings,
  defaultRunConfig,
  modelPreset,
  type Architecture,
  type Branches,
  type ModelPresetName,
  type RunConfig,
  type SyntheticKnobs,
} from '../src/core/config/config.ts';
import {
  NUMBER_LIST_EXPECTED,
  normalizeConfig,
  parseDecimal,
  parseNumberList,
  runConfigProblems,
} from '../src/core/config/validateConfig.ts';
import type { ModelSetting } from '../src/core/eval/experiment.ts';

/**
 * Command-line flags → a resolved RunConfig plus what to run. Flags are read by Node's
 * util.parseArgs; the config is checked by the same validator as the app's store
 * (src/core/config/validateConfig.ts), so both accept and refuse the same configs with the same
 * messages. No tfjs here: `mfmb --help` and `mfmb inspect` must start fast.
 */

/** A mistake in the command line itself: the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const COMMANDS = ['train', 'sweep', 'ablate', 'info', 'inspect', 'cell', 'worker', 'status', 'collect'] as const;
export type Command = (typeof COMMANDS)[number];
/** The commands that load tfjs (everything but inspect and help). */
export const TFJS_COMMANDS: readonly Command[] = ['train', 'sweep', 'ablate', 'info'];
/** The commands that train and may write a results file. */
export const TRAIN_COMMANDS: readonly Command[] = ['train', 'sweep', 'ablate'];
/** Commands of big sweeps (cli/sweeps.ts): queue workers, array shares, status and merging. */
export const SWEEP_COMMANDS: readonly Command[] = ['cell', 'worker', 'status', 'collect'];

export interface CliOptions {
  command: Command;
  config: RunConfig;
  settings: ModelSetting[];
  backend: 'wasm' | 'cpu';
  json: string | null;
  quiet: boolean;
  dataPath: string | null; // a feature file (--data FILE, or inspect's FILE)
  subset: number | null; // first N samples per split
  maxBytes: number; // refuse files whose float32 features need more (with a subset offer)
  structureOnly: boolean; // inspect: shapes and dtypes only, no array read
  sweep: SweepOptions;
}

/** Flags of the sharded sweeps (docs/cli.md "Running big sweeps"). */
export interface SweepOptions {
  queue: string | null; // redis://HOST:PORT[/DB]
  name: string; // the queue's name: one sweep (or several that share cells) per name
  detach: boolean;
  concurrency: number;
  attempts: number;
  lockMs: number; // BullMQ lock duration; a worker silent this long has its cell retried elsewhere
  index: number | null; // array share K of N (0-based)
  of: number | null;
  out: string | null; // cell: the folder of per-cell result files
  dir: string | null; // collect: that folder
}

export type ParsedArgs = { command: 'help' } | CliOptions;

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
  --knobs shared=1,noise=0.5         the synthetic data's teaching knobs (docs/teaching-data.md):
                                     textSignal audioSignal visionSignal noise interaction
                                     shared [1 1 1 1 1 0]
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
  -h, --help                         this text

big sweeps (docs/cli.md "Running big sweeps"):
  train|sweep|ablate ... --queue redis://HOST:PORT[/DB] [--name NAME] [--detach]
                                     enqueue the cells on a BullMQ queue in Redis, show progress,
                                     write --json when all are done (--detach: enqueue and exit)
  worker --queue URL [--name NAME] [--concurrency N] [--data FILE]
                                     run cells until SIGINT/SIGTERM (--data: this machine's copy)
  status --queue URL [--name NAME]   cells done / running / waiting / failed
  collect --queue URL [--name NAME] --json FILE | collect --dir DIR --json FILE
                                     merge the finished cells (exit 1 naming any missing)
  cell --index K --of N [sweep flags] --out DIR
                                     run share K (0-based) of N, one result file per cell
  --attempts N  --lock-ms MS         queue: tries per failing cell [3]; lock before a silent
                                     worker's cell goes to another worker [30000]

Lists (--rates, --seeds) take commas or spaces between the numbers; a value that starts with '-'
goes after '=' (--lr=-1). Exit status: 0 done, 1 failed (file refused, run error), 2 bad command
line, 3 a run stopped on a non-finite loss.
`;

const OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  subset: { type: 'string' },
  'max-gb': { type: 'string' },
  standardize: { type: 'boolean' },
  knobs: { type: 'string' },
  structure: { type: 'boolean' },
  branches: { type: 'string' },
  protocol: { type: 'string' },
  'train-rate': { type: 'string' },
  rates: { type: 'string' },
  seeds: { type: 'string' },
  epochs: { type: 'string' },
  baselines: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  patience: { type: 'string' },
  level: { type: 'string' },
  replace: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'string' },
  quiet: { type: 'boolean' },
  queue: { type: 'string' },
  name: { type: 'string' },
  detach: { type: 'boolean' },
  concurrency: { type: 'string' },
  attempts: { type: 'string' },
  'lock-ms': { type: 'string' },
  index: { type: 'string' },
  of: { type: 'string' },
  out: { type: 'string' },
  dir: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Flag = keyof typeof OPTIONS;

/** Which flag sets which config field, to name the flag when the validator refuses the field. */
const FLAG_OF_FIELD: Record<string, Flag> = {
  'data.source': 'data',
  'data.standardize': 'standardize',
  'data.knobs': 'knobs',
  'missing.protocol': 'protocol',
  'missing.trainRate': 'train-rate',
  'missing.testRates': 'rates',
  'missing.level': 'level',
  'missing.replace': 'replace',
  'train.seeds': 'seeds',
  'train.epochs': 'epochs',
  'train.batchSize': 'batch',
  'train.lr': 'lr',
  'train.patience': 'patience',
  'model.branches': 'branches',
  model: 'branches',
};

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The closest of `names` to `s` when it is close enough to be a typo (or a prefix), else null. */
export function closest(s: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const d = n.startsWith(s) && s.length >= 2 ? 0.5 : distance(s, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== null && bestD <= Math.max(1, Math.min(2, Math.floor(s.length / 2))) ? best : null;
}

type Token = NonNullable<ReturnType<typeof nodeParseArgs>['tokens']>[number];

/**
 * util.parseArgs in strict mode decides; when it refuses, the tokens of a lenient pass say which
 * argument was wrong, for a message that names it (and a near miss: --epoch → --epochs).
 */
function readFlags(argv: string[]) {
  try {
    return nodeParseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS_')) throw e;
    const { tokens } = nodeParseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: false,
      tokens: true,
    });
    for (const t of tokens as Token[]) {
      if (t.kind !== 'option') continue;
      const spec = (OPTIONS as Record<string, { type: 'string' | 'boolean' }>)[t.name];
      if (!spec) {
        const near = t.rawName.startsWith('--') ? closest(t.name, Object.keys(OPTIONS)) : null;
        throw new UsageError(`unknown flag ${t.rawName}${near ? ` (did you mean --${near}?)` : ''}`);
      }
      if (spec.type === 'boolean' && t.value !== undefined)
        throw new UsageError(`${t.rawName} takes no value (got ${t.rawName}=${t.value})`);
      if (spec.type === 'string' && t.value === undefined) throw new UsageError(`${t.rawName} needs a value`);
      if (spec.type === 'string' && !t.inlineValue && t.value!.startsWith('-')) {
        throw new UsageError(
          `${t.rawName} needs a value; "${t.value}" looks like a flag (write ${t.rawName}=${t.value} for a value that starts with '-')`,
        );
      }
    }
    throw new UsageError((e as Error).message);
  }
}

function parseBranches(s: string): Branches[] {
  if (s === 'table5') return table5Settings().map((t) => t.branches);
  if (s === 'none') return [];
  return s.split('/').map((one) => {
    if (one === 'all') return { macro: true, micro: true, recon: true };
    const names = one
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    for (const n of names)
      if (!['macro', 'micro', 'recon'].includes(n))
        throw new UsageError(`--branches: unknown branch "${n}" (macro, micro, recon)`);
    return { macro: names.includes('macro'), micro: names.includes('micro'), recon: names.includes('recon') };
  });
}

function numberList(flag: Flag, s: string): number[] {
  const out = parseNumberList(s);
  if (!out) throw new UsageError(`--${flag}: expected ${NUMBER_LIST_EXPECTED}, got "${s}"`);
  return out;
}

/**
 * A number when the text is a plain decimal (or ±Infinity, which the validator then names as the
 * app does), else the text: the validator then says `got "0x10"`. Hex, binary and octal forms are
 * text here ("0x1" is not 1), as in parseNumberList.
 */
function numberOrText(s: string): number | string {
  const t = s.trim();
  if (/^[+-]?Infinity$/.test(t)) return Number(t);
  return parseDecimal(s) ?? s;
}

function positiveInt(flag: Flag, s: string): number {
  const v = parseDecimal(s);
  if (v === null || !Number.isSafeInteger(v) || v < 1)
    throw new UsageError(`--${flag}: expected a positive integer, got "${s}"`);
  return v;
}

/** Every problem of the config (for each model setting it will train), naming the flag behind it. */
function configProblems(config: RunConfig, settings: ModelSetting[], given: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const s of settings.length ? settings : [{ arch: config.model.arch, branches: config.model.branches }]) {
    const one = structuredClone(config);
    one.model.arch = s.arch;
    one.model.branches = { ...s.branches };
    for (const p of runConfigProblems(one)) {
      if (out.some((o) => o.startsWith(p))) continue;
      const field = p.slice(0, p.indexOf(':')).replace(/\[\d+\]$/, '');
      const flag = FLAG_OF_FIELD[field];
      const value = flag === undefined ? undefined : given[flag];
      out.push(value === undefined ? p : `${p} (from --${flag}${value === true ? '' : ` ${String(value)}`})`);
    }
  }
  return out;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const { values: v, positionals } = readFlags(argv);
  const [command, ...rest] = positionals;
  if (v.help || command === 'help') return { command: 'help' };
  if (!command) {
    if (Object.keys(v).length === 0) return { command: 'help' };
    throw new UsageError(`the command comes first: mfmb ${COMMANDS.join('|')} [flags]`);
  }
  if (!(COMMANDS as readonly string[]).includes(command)) {
    const near = closest(command, COMMANDS);
    throw new UsageError(
      `unknown command "${command}"${near ? ` (did you mean ${near}?)` : ` (${COMMANDS.join(', ')})`}`,
    );
  }
  const cmd = command as Command;
  let inspectPath: string | null = null;
  if (cmd === 'inspect' && rest.length) inspectPath = rest.shift()!;
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);

  if (cmd === 'inspect' && (inspectPath ?? v.data ?? '').trim() === '')
    throw new UsageError('inspect needs a file: mfmb inspect FILE');
  if (inspectPath !== null && v.data !== undefined)
    throw new UsageError('inspect reads one file: give it as mfmb inspect FILE, without --data');
  if (v.structure && cmd !== 'inspect') throw new UsageError('--structure applies to inspect only');
  if (v.json !== undefined && !TRAIN_COMMANDS.includes(cmd) && cmd !== 'collect')
    throw new UsageError(`--json applies to ${TRAIN_COMMANDS.join(', ')}, collect; ${cmd} writes no results file`);
  const sweep = sweepOptions(cmd, v);
  if (v.json !== undefined && v.json.trim() === '') throw new UsageError('--json needs a file name');

  const config = defaultRunConfig();
  const preset = v.model ?? 'small';
  if (!['tiny', 'small', 'base'].includes(preset))
    throw new UsageError(`--model: expected tiny, small or base, got "${preset}"`);
  config.model = modelPreset(preset as ModelPresetName);
  const data = inspectPath ?? v.data ?? 'synthetic:small';
  let dataPath: string | null = null;
  if (data.startsWith('synthetic:')) {
    if (cmd === 'inspect') throw new UsageError(`inspect reads a feature file, not "${data}"`);
    config.data.source = data;
  } else {
    if (cmd === 'info') throw new UsageError('info works on the synthetic presets; use `mfmb inspect FILE` for a file');
    if (data.trim() === '') throw new UsageError('--data needs a preset or a file name');
    dataPath = data;
    config.data.source = `file:${data
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop()}`;
  }
  config.data.standardize = v.standardize ?? false;
  if (config.data.standardize && !dataPath)
    throw new UsageError('--standardize applies to feature files (--data FILE)');
  if (v.knobs !== undefined) {
    if (dataPath) throw new UsageError('--knobs applies to the synthetic presets (--data synthetic:...)');
    setKnobs(config.data.knobs, v.knobs);
  }
  const subset = v.subset !== undefined ? positiveInt('subset', v.subset) : null;
  if (subset !== null && !dataPath) throw new UsageError('--subset applies to feature files (--data FILE)');
  const maxGb = v['max-gb'] !== undefined ? parseDecimal(v['max-gb']) : DEFAULT_MAX_GB;
  if (maxGb === null || !(maxGb > 0))
    throw new UsageError(`--max-gb: expected a positive number, got "${v['max-gb']}"`);

  // Domain checks of the config's own fields are the validator's (below), with the store's messages.
  const c = config as unknown as { missing: Record<string, unknown>; train: Record<string, unknown> };
  if (v.protocol !== undefined) c.missing.protocol = v.protocol;
  if (v['train-rate'] !== undefined)
    c.missing.trainRate = v['train-rate'] === 'random' ? 'random' : numberOrText(v['train-rate']);
  if (v.rates !== undefined) config.missing.testRates = numberList('rates', v.rates);
  if (v.level !== undefined) c.missing.level = v.level;
  if (v.replace !== undefined) c.missing.replace = v.replace;
  if (v.seeds !== undefined) config.train.seeds = numberList('seeds', v.seeds);
  if (v.epochs !== undefined) c.train.epochs = numberOrText(v.epochs);
  if (v.batch !== undefined) c.train.batchSize = numberOrText(v.batch);
  if (v.patience !== undefined) c.train.patience = numberOrText(v.patience);
  if (v.lr !== undefined) c.train.lr = numberOrText(v.lr);

  const branchSettings = parseBranches(v.branches ?? (cmd === 'ablate' ? 'table5' : 'all'));
  const settings: ModelSetting[] = branchSettings.map((b) => ({ arch: 'mfmb' as Architecture, branches: b }));
  if (v.baselines !== undefined) {
    for (const b of v.baselines.split(',').map((x) => x.trim())) {
      if (!['fc-t', 'fc-a', 'fc-v', 'concat'].includes(b))
        throw new UsageError(`--baselines: unknown baseline "${b}" (fc-t, fc-a, fc-v, concat)`);
      settings.push({ arch: b as Architecture, branches: { macro: false, micro: false, recon: false } });
    }
  }
  if (settings.length === 0) throw new UsageError('nothing to run: --branches none needs --baselines');
  config.model.branches = { ...(settings.find((s) => s.arch === 'mfmb') ?? settings[0]).branches };
  const backend = v.backend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu')
    throw new UsageError(`--backend: expected wasm or cpu, got "${backend}"`);

  const problems = configProblems(config, settings, v);
  if (problems.length) throw new UsageError(problems.join('\n'));
  return {
    command: cmd,
    config: normalizeConfig(config),
    settings,
    backend,
    json: v.json ?? null,
    quiet: v.quiet ?? false,
    dataPath,
    subset,
    maxBytes: maxGb * 1e9,
    structureOnly: v.structure ?? false,
    sweep,
  };
}

function nonNegativeInt(flag: Flag, s: string): number {
  const v = parseDecimal(s);
  if (v === null || !Number.isSafeInteger(v) || v < 0)
    throw new UsageError(`--${flag}: expected an integer >= 0, got "${s}"`);
  return v;
}

/** The sweep flags, each checked against the command it is given to. */
function sweepOptions(cmd: Command, v: ReturnType<typeof readFlags>['values']): SweepOptions {
  const only = (flag: Flag, cmds: readonly Command[]) => {
    if (v[flag] !== undefined && !cmds.includes(cmd))
      throw new UsageError(`--${flag} applies to ${cmds.join(', ')}, not ${cmd}`);
  };
  const queueCmds: Command[] = [...TRAIN_COMMANDS, 'worker', 'status', 'collect'];
  only('queue', queueCmds);
  only('name', queueCmds);
  only('detach', TRAIN_COMMANDS);
  only('concurrency', ['worker']);
  only('attempts', TRAIN_COMMANDS);
  only('lock-ms', ['worker']);
  for (const f of ['index', 'of', 'out'] as const) only(f, ['cell']);
  only('dir', ['collect']);
  const queue = v.queue ?? null;
  if (queue !== null && !/^rediss?:\/\/[^\s]+$/.test(queue))
    throw new UsageError(`--queue: expected redis://HOST:PORT[/DB] (or rediss://), got "${queue}"`);
  if (v.detach && queue === null) throw new UsageError('--detach needs --queue');
  if (v.attempts !== undefined && queue === null) throw new UsageError('--attempts needs --queue');
  if (['worker', 'status'].includes(cmd) && queue === null)
    throw new UsageError(`${cmd} needs --queue redis://HOST:PORT`);
  const name = v.name ?? 'mfmb';
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name))
    throw new UsageError(`--name: letters, digits, '_', '.', '-' (1 to 100), got "${name}"`);
  if (cmd === 'collect') {
    if ((queue === null) === (v.dir === undefined))
      throw new UsageError('collect reads either --queue URL [--name NAME] or --dir DIR');
    if (v.json === undefined) throw new UsageError('collect needs --json FILE');
  }
  let index: number | null = null;
  let of: number | null = null;
  if (cmd === 'cell') {
    if (v.index === undefined || v.of === undefined || v.out === undefined)
      throw new UsageError('cell needs --index K --of N --out DIR');
    index = nonNegativeInt('index', v.index);
    of = positiveInt('of', v.of);
    if (index >= of) throw new UsageError(`--index ${index} is not below --of ${of} (shares are numbered from 0)`);
  }
  for (const f of ['out', 'dir'] as const)
    if (v[f] !== undefined && v[f].trim() === '') throw new UsageError(`--${f} needs a folder`);
  return {
    queue,
    name,
    detach: v.detach ?? false,
    concurrency: v.concurrency !== undefined ? positiveInt('concurrency', v.concurrency) : 1,
    attempts: v.attempts !== undefined ? positiveInt('attempts', v.attempts) : 3,
    lockMs: v['lock-ms'] !== undefined ? positiveInt('lock-ms', v['lock-ms']) : 30_000,
    index,
    of,
    out: v.out ?? null,
    dir: v.dir ?? null,
  };
}

/** `--knobs shared=1,noise=0.5`: sets the named synthetic knobs; the validator checks the values. */
function setKnobs(knobs: SyntheticKnobs, text: string): void {
  const names = Object.keys(knobs) as (keyof SyntheticKnobs)[];
  for (const part of text.split(/[,\s]+/).filter(Boolean)) {
    const [name, value, extra] = part.split('=');
    if (value === undefined || extra !== undefined)
      throw new UsageError(`--knobs: expected name=value pairs such as shared=1,noise=0.5, got "${part}"`);
    if (!names.includes(name as keyof SyntheticKnobs))
      throw new UsageError(`--knobs: unknown knob "${name}" (${names.join(', ')})`);
    const x = parseDecimal(value);
    if (x === null) throw new UsageError(`--knobs: ${name} needs a number, got "${value}"`);
    knobs[name as keyof SyntheticKnobs] = x;
  }
}
