import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseResultsFile } from '../src/core/eval/results.ts';
import { METRIC_KEYS } from '../src/core/eval/metrics.ts';
import { parseArgs } from './args.ts';

const bin = fileURLToPath(new URL('../bin/mfmb.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 180_000 });

describe('mfmb CLI end to end', () => {
  it('trains tiny for 2 epochs at 2 rates and writes a valid results file', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mfmb-cli-')), 'r.json');
    const r = run(['train', '--model', 'tiny', '--data', 'synthetic:tiny', '--epochs', '2', '--rates', '0,1', '--seeds', '111,1111', '--json', json]);
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

  it('refuses bad input with a clear message and a non-zero exit', () => {
    const r = run(['train', '--model', 'huge']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--model: expected tiny, small or base');
    const d = run(['train', '--data', 'no-such-dir/aligned_50.pkl']);
    expect(d.status).not.toBe(0);
    expect(d.stderr).toMatch(/mfmb: ENOENT: no such file or directory.*aligned_50\.pkl/);
    const b = run(['sweep', '--branches', 'recon']);
    expect(b.stderr).toContain('at least one fusion stream');
  });

  it('info prints the parameter counts of the four Table-5 settings', () => {
    const r = run(['info', '--model', 'tiny', '--data', 'synthetic:tiny']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/MFMB-Net \(all\)\s+149,721/);
    expect(r.stdout).toMatch(/w\/o F-1 \(macro off\)\s+51,609/);
  });
});

const fixture = (name: string) => fileURLToPath(new URL(`../src/core/data/files/__fixtures__/pickle/${name}`, import.meta.url));

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
    expect(r.stderr).toContain('refused: hostile_os_system_p2.pkl: refused global posix.system');
  });

  it('inspect refuses invalid content with the split and field', () => {
    const r = run(['inspect', fixture('bad_labels_range.pkl')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/refused: bad_labels_range\.pkl: \w+ split, regression_labels/);
  });

  it('trains on a pickle with --data FILE', () => {
    const json = join(mkdtempSync(join(tmpdir(), 'mfmb-cli-')), 'r.json');
    const r = run(['train', '--model', 'tiny', '--data', fixture('mmsa_aligned_p4_np1.pkl'), '--epochs', '1', '--rates', '0,0.5', '--json', json, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    const file = parseResultsFile(JSON.parse(readFileSync(json, 'utf8')));
    expect(file.dataset.source).toBe('file:mmsa_aligned_p4_np1.pkl');
    expect(file.runs[0].test.map((t) => t.rate)).toEqual([0, 0.5]);
  });
});

describe('argument parsing', () => {
  it('resolves the defaults of the issue', () => {
    const o = parseArgs(['sweep']);
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
    const o = parseArgs(['sweep', '--data', 'data/MOSI/aligned_50.pkl', '--subset', '100', '--max-gb', '2']);
    expect(o.config.data.source).toBe('file:aligned_50.pkl');
    expect(o.dataPath).toBe('data/MOSI/aligned_50.pkl');
    expect(o.subset).toBe(100);
    expect(o.maxBytes).toBe(2e9);
    expect(parseArgs(['inspect', 'x.npz', '--structure']).structureOnly).toBe(true);
  });

  it('ablate runs the four Table-5 settings plus baselines', () => {
    const o = parseArgs(['ablate', '--baselines', 'fc-t,concat', '--train-rate', 'random']);
    expect(o.settings.map((s) => `${s.arch}:${+s.branches.macro}${+s.branches.micro}${+s.branches.recon}`)).toEqual([
      'mfmb:111', 'mfmb:011', 'mfmb:101', 'mfmb:110', 'fc-t:000', 'concat:000',
    ]);
    expect(o.config.missing.trainRate).toBe('random');
  });

  it('rejects malformed values', () => {
    expect(() => parseArgs(['train', '--rates', '0,0.5,0.2'])).toThrow(/ascending/);
    expect(() => parseArgs(['train', '--rates', '0,1.5'])).toThrow(/\[0, 1\]/);
    expect(() => parseArgs(['train', '--epochs', '0'])).toThrow(/positive integer/);
    expect(() => parseArgs(['train', '--branches', 'macro,foo'])).toThrow(/unknown branch/);
    expect(() => parseArgs(['train', '--nope', '1'])).toThrow(/unknown flag/);
    expect(() => parseArgs(['inspect'])).toThrow(/inspect needs a file/);
    expect(() => parseArgs(['train', '--data', 'a.pkl', '--subset', '0'])).toThrow(/positive integer/);
  });
});
