import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseResultsFile } from '../src/core/eval/results.ts';
import { METRIC_KEYS } from '../src/core/eval/metrics.ts';
import { parseArgs, UsageError, type CliOptions } from './args.ts';

const bin = fileURLToPath(new URL('../bin/mfmb.js', import.meta.url));
const run = (args: string[], nodeFlags: string[] = []) =>
  spawnSync(process.execPath, [...nodeFlags, bin, ...args], { encoding: 'utf8', timeout: 180_000 });

/** parseArgs for a command (not help). */
function parsed(argv: string[]): CliOptions {
  const o = parseArgs(argv);
  if (o.command === 'help') throw new Error('got help');
  return o;
}

/** The UsageError parseArgs throws, or a failure when it throws none / another kind. */
function usageError(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error(`parseArgs(${JSON.stringify(argv)}) accepted it`);
}

describe('mfmb CLI end to end', () => {
  it('trains tiny for 2 epochs at 2 rates and writes a valid results file', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mfmb-cli-')), 'r.json');
    const r = run([
      'train',
      '--model',
      'tiny',
      '--data',
      'synthetic:tiny',
      '--epochs',
      '2',
      '--rates',
      '0,1',
      '--seeds',
      '111,1111',
      '--json',
      json,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('backend wasm');
    expect(r.stdout).toContain('test metrics by missing rate');
    expect(r.stdout).toContain('AUILC');
    const file = parseResultsFile(JSON.parse(readFileSync(json, 'utf8')));
    expect(file.backend).toBe('wasm');
    expect(file.dataset.sizes).toEqual({ train: 120, valid: 30, test: 60 });
    expect(file.runs).toHaveLength(2);
    for (const run of file.runs) {
      expect(run.epochs).toHaveLength(2);
      expect(run.test.map((t) => t.rate)).toEqual([0, 1]);
      for (const t of run.test) {
        for (const k of METRIC_KEYS) {
          const v = t.metrics[k];
          // PROTOCOL.md allows null only for an undefined Corr (constant predictions, likely at r = 1)
          // and for metrics over an empty subset (synthetic labels always have non-zero ones).
          if (v === null) expect(k).toBe('corr');
          else expect(Number.isFinite(v)).toBe(true);
        }
      }
    }
    const row = file.summary[0];
    for (const k of METRIC_KEYS) expect(Number.isFinite(row.auilc[k].mean)).toBe(true);
  });

  it('refuses bad input up front: exit 2, one message, no run header, nothing trained', () => {
    const r = run(['train', '--model', 'huge']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('mfmb: --model: expected tiny, small or base');
    // A missing file: words, not Node's raw ENOENT; exit 2 before anything is read or trained.
    const d = run(['train', '--data', 'no-such-dir/aligned_50.pkl']);
    expect(d.status).toBe(2);
    expect(d.stderr).toContain('mfmb: --data no-such-dir/aligned_50.pkl: no such file or folder');
    expect(d.stderr).not.toContain('ENOENT');
    // A branch setting the model refuses: before the header (nothing ran), exit 2.
    const b = run(['sweep', '--branches', 'recon']);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('at least one fusion stream');
    expect(b.stderr).toContain('(from --branches recon)');
    expect(b.stderr).not.toContain('backend');
    expect(b.stdout).toBe('');
    // An output path that cannot be written: refused before training, not after.
    const j = run([
      'train',
      '--model',
      'tiny',
      '--data',
      'synthetic:tiny',
      '--epochs',
      '1',
      '--json',
      '/no/such/dir/out.json',
    ]);
    expect(j.status).toBe(2);
    expect(j.stderr).toContain('mfmb: --json /no/such/dir/out.json: the folder /no/such/dir does not exist');
    expect(j.stderr).not.toContain('epoch');
    // The whole config is validated before any training.
    const s = run(['train', '--seeds', '5,5']);
    expect(s.status).toBe(2);
    expect(s.stderr).toContain('mfmb: train.seeds: each seed may appear once, got 5, 5 (from --seeds 5,5)');
    const lr = run(['train', '--lr', 'Infinity']);
    expect(lr.status).toBe(2);
    expect(lr.stderr).toContain('train.lr: expected a number ≥ 0.000001 and ≤ 1, got Infinity');
  });

  it('--json: a write that fails midway keeps the previous results file whole and says so (exit 1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mfmb-cli-'));
    const json = join(dir, 'r.json');
    writeFileSync(json, '{"previous": true}\n');
    expect(run(['--help']).status).toBe(0); // the bundle is up to date before the limit below applies
    // A real failing write: a 2 KB file-size limit (RLIMIT_FSIZE; Node gets EFBIG, as with a full
    // disk it gets ENOSPC) while the results file of this run is about 5 KB.
    const r = spawnSync(
      'bash',
      [
        '-c',
        'ulimit -f 2 && exec "$@"',
        'bash',
        process.execPath,
        bin,
        'train',
        '--model',
        'tiny',
        '--data',
        'synthetic:tiny',
        '--epochs',
        '1',
        '--rates',
        '0,1',
        '--quiet',
        '--json',
        json,
      ],
      { encoding: 'utf8', timeout: 180_000 },
    );
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toContain('test metrics by missing rate'); // the tables still came out
    expect(r.stderr).toContain(`mfmb: could not write the results file ${json}: the file is larger than the`);
    expect(r.stderr).toContain('the previous file is unchanged');
    expect(readFileSync(json, 'utf8')).toBe('{"previous": true}\n');
    expect(readdirSync(dir)).toEqual(['r.json']);
  });

  it('an unknown flag gets "did you mean", not the whole usage text', () => {
    const r = run(['train', '--epoch', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('mfmb: unknown flag --epoch (did you mean --epochs?)');
    expect(r.stderr).toContain('mfmb --help');
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(r.stderr).not.toContain('commands:');
    const c = run(['trian']);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain('unknown command "trian" (did you mean train?)');
  });

  it('help: mfmb --help, mfmb help and mfmb train -h print the usage and exit 0', () => {
    for (const args of [['--help'], ['help'], ['train', '-h'], ['inspect', '--help'], []]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('usage: mfmb <command> [flags]');
    }
  });

  it('inspect: no file is a usage error (2); a folder is refused with the mfmb: prefix (2)', () => {
    const none = run(['inspect']);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('mfmb: inspect needs a file: mfmb inspect FILE');
    const dir = run(['inspect', fileURLToPath(new URL('.', import.meta.url))]);
    expect(dir.status).toBe(2);
    expect(dir.stderr).toMatch(/^mfmb: inspect .*: is a folder/);
    const empty = run(['inspect', '']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('mfmb: inspect needs a file: mfmb inspect FILE');
    const missing = run(['inspect', 'no-such.pkl']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('mfmb: inspect no-such.pkl: no such file or folder');
  });

  it('help and inspect never load tfjs; info does', () => {
    // A module hook that fails any import of a @tensorflow package.
    const hook = `data:text/javascript,${encodeURIComponent(
      "import { register } from 'node:module';" +
        "register('data:text/javascript,' + encodeURIComponent(\"export async function resolve(s, c, next) { if (s.startsWith('@tensorflow/')) throw new Error('tfjs was loaded: ' + s); return next(s, c); }\"));",
    )}`;
    const flags = ['--import', hook];
    expect(run(['--help'], flags).status).toBe(0);
    const i = run(['inspect', fixture('mmsa_aligned_p4_np1.pkl')], flags);
    expect(i.status, i.stderr).toBe(0);
    const bad = run(['inspect', fixture('hostile_os_system_p2.pkl')], flags);
    expect(bad.status, bad.stderr).toBe(1);
    const t = run(['info', '--model', 'tiny', '--data', 'synthetic:tiny'], flags);
    expect(t.status).toBe(1);
    expect(t.stderr).toContain('tfjs was loaded: @tensorflow/');
  });

  it('an unsupported Node gets one clear message from the launcher (exit 1)', () => {
    const fake = `data:text/javascript,${encodeURIComponent("Object.defineProperty(process, 'version', { value: 'v18.19.0' });")}`;
    const r = run(['--help'], ['--import', fake]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('mfmb: Node.js v18.19.0 is too old; this project needs Node ^20.19.0 || >=22.12.0');
    expect(r.stdout).toBe('');
  });

  it('info prints the parameter counts of the four Table-5 settings', () => {
    const r = run(['info', '--model', 'tiny', '--data', 'synthetic:tiny']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/MFMB-Net \(all\)\s+149,721/);
    expect(r.stdout).toMatch(/w\/o F-1 \(macro off\)\s+51,609/);
  });
});

const fixture = (name: string) =>
  fileURLToPath(new URL(`../src/core/data/files/__fixtures__/pickle/${name}`, import.meta.url));

describe('mfmb with feature files', () => {
  it('inspect prints the summary of a Python-written pickle and exits 0', () => {
    const r = run(['inspect', fixture('mmsa_unaligned_p5_np2.pkl')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('mmsa_unaligned_p5_np2.pkl: Python pickle');
    expect(r.stdout).toMatch(/layout: unaligned/);
    expect(r.stdout).toMatch(/samples: train \d+, valid \d+, test \d+/);
    expect(r.stdout).toMatch(/audio_lengths\s+<i8/);
    expect(r.stdout).toContain('train labels rounded to -3..3');
    expect(r.stdout).toContain('valid: ready to train');
  });

  it('inspect refuses a hostile pickle, names the global, exits 1, and runs nothing', () => {
    const r = run(['inspect', fixture('hostile_os_system_p2.pkl')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('mfmb: refused: hostile_os_system_p2.pkl: refused global posix.system');
  });

  it('inspect refuses invalid content with the split and field', () => {
    const r = run(['inspect', fixture('bad_labels_range.pkl')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mfmb: refused: bad_labels_range\.pkl: \w+ split, regression_labels/);
  });

  it('trains on a pickle with --data FILE', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mfmb-cli-')), 'r.json');
    const r = run([
      'train',
      '--model',
      'tiny',
      '--data',
      fixture('mmsa_aligned_p4_np1.pkl'),
      '--epochs',
      '1',
      '--rates',
      '0,0.5',
      '--json',
      json,
      '--quiet',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const file = parseResultsFile(JSON.parse(readFileSync(json, 'utf8')));
    expect(file.dataset.source).toBe('file:mmsa_aligned_p4_np1.pkl');
    expect(file.runs[0].test.map((t) => t.rate)).toEqual([0, 0.5]);
  });
});

describe('argument parsing', () => {
  it('resolves the defaults of the issue', () => {
    const o = parsed(['sweep']);
    expect(o.config.model.preset).toBe('small');
    expect(o.config.data.source).toBe('synthetic:small');
    expect(o.config.missing.protocol).toBe('train-once');
    expect(o.config.missing.trainRate).toBe(0.3);
    expect(o.config.missing.testRates).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]);
    expect(o.config.train.seeds).toEqual([111]);
    expect(o.config.train.epochs).toBe(40);
    expect(o.backend).toBe('wasm');
    expect(o.settings).toEqual([{ arch: 'mfmb', branches: { macro: true, micro: true, recon: true } }]);
  });

  it('--data FILE names the file as the source and keeps the path', () => {
    const o = parsed(['sweep', '--data', 'data/MOSI/aligned_50.pkl', '--subset', '100', '--max-gb', '2']);
    expect(o.config.data.source).toBe('file:aligned_50.pkl');
    expect(o.dataPath).toBe('data/MOSI/aligned_50.pkl');
    expect(o.subset).toBe(100);
    expect(o.maxBytes).toBe(2e9);
    expect(parsed(['inspect', 'x.npz', '--structure']).structureOnly).toBe(true);
  });

  it('ablate runs the four Table-5 settings plus baselines', () => {
    const o = parsed(['ablate', '--baselines', 'fc-t,concat', '--train-rate', 'random']);
    expect(o.settings.map((s) => `${s.arch}:${+s.branches.macro}${+s.branches.micro}${+s.branches.recon}`)).toEqual([
      'mfmb:111',
      'mfmb:011',
      'mfmb:101',
      'mfmb:110',
      'fc-t:000',
      'concat:000',
    ]);
    expect(o.config.missing.trainRate).toBe('random');
  });

  it("rejects malformed values with a UsageError (the validator's messages for config fields)", () => {
    expect(usageError(['train', '--rates', '0,0.5,0.2'])).toMatch(
      /^missing\.testRates: rates must be strictly ascending/,
    );
    expect(usageError(['train', '--rates', '0,1.5'])).toMatch(
      /missing\.testRates\[1\]: expected a number ≥ 0 and ≤ 1, got 1\.5/,
    );
    expect(usageError(['train', '--epochs', '0'])).toMatch(/^train\.epochs: expected an integer ≥ 1/);
    expect(usageError(['train', '--epochs', 'ten'])).toContain('got "ten" (from --epochs ten)');
    expect(usageError(['train', '--branches', 'macro,foo'])).toMatch(/unknown branch/);
    expect(usageError(['train', '--xyzzy', '1'])).toBe('unknown flag --xyzzy');
    expect(usageError(['inspect'])).toMatch(/inspect needs a file/);
    expect(usageError(['train', '--data', 'a.pkl', '--subset', '0'])).toMatch(/positive integer/);
    expect(usageError(['train', '--seeds', '1,x'])).toBe(
      '--seeds: expected a list of numbers separated by commas or spaces, got "1,x"',
    );
    expect(usageError(['train', '--seeds', '3,3'])).toMatch(/^train\.seeds: each seed may appear once/);
    expect(usageError(['train', '--lr', 'NaN'])).toMatch(
      /^train\.lr: expected a number ≥ 0\.000001 and ≤ 1, got "NaN"/,
    );
    expect(usageError(['train', '--lr', '-1'])).toContain("write --lr=-1 for a value that starts with '-'");
    expect(usageError(['train', '--lr=-1'])).toMatch(/^train\.lr: expected a number ≥ 0\.000001 and ≤ 1, got -1/);
    expect(usageError(['info', '--data', 'x.pkl'])).toMatch(/info works on the synthetic presets/);
    expect(usageError(['inspect', 'a.pkl', 'b.pkl'])).toBe('unexpected argument "b.pkl"');
    expect(usageError(['train', '--structure'])).toMatch(/inspect only/);
    expect(usageError(['inspect', 'a.pkl', '--json', 'r.json'])).toMatch(/^--json applies to train, sweep, ablate/);
  });

  it('util.parseArgs semantics: --flag=value keeps every "=", booleans take no value, -h is help', () => {
    expect(parsed(['train', '--json=a=b.json']).json).toBe('a=b.json');
    expect(parsed(['train', '--json', 'a=b.json']).json).toBe('a=b.json');
    expect(usageError(['train', '--quiet=false'])).toBe('--quiet takes no value (got --quiet=false)');
    expect(parsed(['train', '--quiet']).quiet).toBe(true);
    expect(parsed(['train']).quiet).toBe(false);
    expect(parseArgs(['train', '-h'])).toEqual({ command: 'help' });
    expect(parseArgs(['sweep', '--model', 'tiny', '--help'])).toEqual({ command: 'help' });
    expect(usageError(['train', '--json'])).toBe('--json needs a value');
    expect(usageError(['train', '--json', '--quiet'])).toMatch(/^--json needs a value; "--quiet" looks like a flag/);
    expect(usageError(['train', '-x'])).toBe('unknown flag -x');
    expect(usageError(['--epochs', '3'])).toMatch(/^the command comes first/);
    expect(parseArgs([])).toEqual({ command: 'help' });
  });

  it("numbers are plain decimals within the app's limits: no hex, no empty lists, no huge values", () => {
    const list = (flag: string, v: string) =>
      `--${flag}: expected a list of numbers separated by commas or spaces, got "${v}"`;
    expect(usageError(['train', '--seeds', '0x1'])).toBe(list('seeds', '0x1'));
    expect(usageError(['train', '--seeds', '1,0b1'])).toBe(list('seeds', '1,0b1'));
    expect(usageError(['train', '--rates', ''])).toBe(list('rates', ''));
    expect(usageError(['train', '--rates', ','])).toBe(list('rates', ','));
    expect(usageError(['train', '--epochs', '0x10'])).toBe(
      'train.epochs: expected an integer ≥ 1 and ≤ 1000, got "0x10" (from --epochs 0x10)',
    );
    expect(usageError(['train', '--lr', '0x1'])).toMatch(
      /^train\.lr: expected a number .*, got "0x1" \(from --lr 0x1\)$/,
    );
    expect(usageError(['train', '--train-rate', '0x0'])).toMatch(/^missing\.trainRate: .*got "0x0"/);
    expect(usageError(['train', '--epochs', '1e9'])).toBe(
      'train.epochs: expected an integer ≥ 1 and ≤ 1000, got 1000000000 (from --epochs 1e9)',
    );
    expect(usageError(['train', '--batch', '1e9'])).toBe(
      'train.batchSize: expected an integer ≥ 1 and ≤ 1024, got 1000000000 (from --batch 1e9)',
    );
    expect(usageError(['train', '--seeds', '4294967297'])).toBe(
      'train.seeds[0]: expected an integer ≥ 0 and ≤ 4294967295, got 4294967297 (from --seeds 4294967297)',
    );
    expect(usageError(['train', '--seeds', '1e20'])).toMatch(
      /^train\.seeds\[0\]: expected an integer ≥ 0 and ≤ 4294967295/,
    );
    expect(usageError(['train', '--data', 'a.pkl', '--subset', '0x10'])).toBe(
      '--subset: expected a positive integer, got "0x10"',
    );
    expect(usageError(['train', '--data', 'a.pkl', '--subset', '1e20'])).toBe(
      '--subset: expected a positive integer, got "1e20"',
    );
    expect(parsed(['train', '--data', 'a.pkl', '--subset', '1e3']).subset).toBe(1000);
    expect(usageError(['train', '--max-gb', '0x1'])).toBe('--max-gb: expected a positive number, got "0x1"');
    expect(usageError(['train', '--max-gb', ''])).toBe('--max-gb: expected a positive number, got ""');
    expect(parsed(['train', '--epochs', '1000', '--batch', '1024']).config.train.epochs).toBe(1000);
  });

  it("number lists take the app's separators (commas, semicolons, spaces)", () => {
    expect(parsed(['train', '--rates', '0 0.5 1']).config.missing.testRates).toEqual([0, 0.5, 1]);
    expect(parsed(['train', '--rates', '0;0.5, 1']).config.missing.testRates).toEqual([0, 0.5, 1]);
    expect(parsed(['train', '--seeds', '0,7']).config.train.seeds).toEqual([0, 7]);
    expect(parsed(['train', '--rates', '0.5']).config.missing.testRates).toEqual([0.5]);
  });
});

describe('mfmb never prints terminal control characters that come from a file', () => {
  // eslint-disable-next-line no-control-regex -- the characters a file must not print
  const controls = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
  const dir = mkdtempSync(join(tmpdir(), 'mfmb-esc-'));
  /**
   * A committed MMSA fixture with one dict key renamed in place (same UTF-8 length, so the
   * pickle's frames and string lengths stay valid; keys are memoised, so every split has it).
   */
  const renamed = (name: string, key: string, to: string) => {
    const bytes = readFileSync(fixture('mmsa_aligned_p4_np1.pkl'));
    const from = Buffer.from(key);
    const repl = Buffer.from(to);
    expect(repl.length).toBe(from.length);
    const at = bytes.indexOf(Buffer.concat([Buffer.from([0x8c, from.length]), from]));
    expect(at).toBeGreaterThan(0);
    repl.copy(bytes, at + 2);
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };
  // Clears the screen, prints a green "valid", rings the bell, returns the cursor, reverses the text.
  const evil = '\x1b[2J\x1b[32mvalid\x07\r\u202e';
  const shown = '\\x1b[2J\\x1b[32mvalid\\x07\\x0d\\u{202e}';
  // An optional field renamed: listed in the summary (exit 0); a required one: named in the refusal.
  const listed = renamed('listed.pkl', 'classification_labels', `${evil}ab`);
  const refused = renamed('refused.pkl', 'regression_labels', `${evil.slice(0, -1)}!`);
  const split = renamed('split.pkl', 'train', '\x1b[2Jx');
  const named = join(dir, 'x\x1b[31m\u202egkp.pkl');
  writeFileSync(named, readFileSync(fixture('mmsa_aligned_p4_np1.pkl')));

  for (const [label, args, expected, status] of [
    ['inspect: a field name in the summary', ['inspect', listed], shown, 0],
    ['inspect --structure: a field name in the summary', ['inspect', listed, '--structure'], shown, 0],
    ['inspect: a field name in the refusal', ['inspect', refused], '\\x1b[2J\\x1b[32mvalid\\x07\\x0d!', 1],
    ['inspect: a key of the top-level dict', ['inspect', split], '\\x1b[2Jx', 1],
    ['inspect: the file name', ['inspect', named], 'x\\x1b[31m\\u{202e}gkp.pkl', 0],
    [
      'train: a field name in the refusal',
      ['train', '--model', 'tiny', '--data', refused],
      '\\x1b[2J\\x1b[32mvalid\\x07\\x0d!',
      1,
    ],
    [
      'train: a field name in the summary of the file',
      ['train', '--model', 'tiny', '--data', listed, '--epochs', '1'],
      shown,
      null,
    ],
  ] as const) {
    it(label, () => {
      const r = run([...args]);
      const out = r.stdout + r.stderr;
      expect(out).toContain(expected);
      expect(out).not.toMatch(controls);
      if (status !== null) expect(r.status, r.stderr).toBe(status);
      if (status === 1) expect(r.stdout).not.toContain('valid: ready to train');
    });
  }
});
