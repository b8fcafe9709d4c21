import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunConfig } from '../src/core/config/config.ts';
import { listProblem, NUMBER_LIST_EXPECTED, parseNumberList } from '../src/core/config/validateConfig.ts';
import { memoryJobDb } from '../src/state/persist.ts';
import { createAppStore, type WorkerLike } from '../src/state/store.ts';
import { parseNumberList as uiParseNumberList } from '../src/ui/format.ts';
import { parseArgs, UsageError } from './args.ts';

/**
 * The app and the CLI run one config validator (src/core/config/validateConfig.ts): a config the
 * store refuses, the CLI refuses, with the same message (the CLI adds which flag it came from).
 */

const noWorker: WorkerLike = { postMessage() {}, terminate() {}, onmessage: null, onerror: null };

/** The store's notice for an edit, or null when it accepted it. */
function storeRefusal(edit: (c: RunConfig) => void): string | null {
  const store = createAppStore({ makeWorker: () => noWorker, db: memoryJobDb(), describeDelayMs: 1e9 });
  store.getState().setConfig(edit);
  const n = store.getState().notice;
  return n?.kind === 'error' ? n.text : null;
}

function cliRefusal(argv: string[]): string | null {
  try {
    parseArgs(argv);
    return null;
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
}

const CASES: { flags: string[]; edit: (c: RunConfig) => void }[] = [
  { flags: ['--seeds', '111,111'], edit: (c) => void (c.train.seeds = [111, 111]) },
  { flags: ['--seeds', '1.5'], edit: (c) => void (c.train.seeds = [1.5]) },
  {
    flags: ['--seeds', Array.from({ length: 101 }, (_, i) => i).join(',')],
    edit: (c) => void (c.train.seeds = Array.from({ length: 101 }, (_, i) => i)),
  },
  { flags: ['--rates', '0,0.5,0.2'], edit: (c) => void (c.missing.testRates = [0, 0.5, 0.2]) },
  { flags: ['--rates', '0,1.5'], edit: (c) => void (c.missing.testRates = [0, 1.5]) },
  { flags: ['--rates', '0.5,0.5'], edit: (c) => void (c.missing.testRates = [0.5, 0.5]) },
  { flags: ['--train-rate', '2'], edit: (c) => void (c.missing.trainRate = 2) },
  { flags: ['--lr', 'Infinity'], edit: (c) => void (c.train.lr = Infinity) },
  { flags: ['--lr', '0'], edit: (c) => void (c.train.lr = 0) },
  { flags: ['--epochs', '0'], edit: (c) => void (c.train.epochs = 0) },
  { flags: ['--batch', '2.5'], edit: (c) => void (c.train.batchSize = 2.5) },
  { flags: ['--patience', '0'], edit: (c) => void (c.train.patience = 0) },
  // The app's panel limits (TRAIN_LIMITS) and the 32-bit seed range.
  { flags: ['--epochs', '1001'], edit: (c) => void (c.train.epochs = 1001) },
  { flags: ['--epochs', '1e9'], edit: (c) => void (c.train.epochs = 1e9) },
  { flags: ['--batch', '1025'], edit: (c) => void (c.train.batchSize = 1025) },
  { flags: ['--batch', '1e9'], edit: (c) => void (c.train.batchSize = 1e9) },
  { flags: ['--patience', '1001'], edit: (c) => void (c.train.patience = 1001) },
  { flags: ['--lr', '2'], edit: (c) => void (c.train.lr = 2) },
  { flags: ['--seeds', '4294967297'], edit: (c) => void (c.train.seeds = [4294967297]) },
  { flags: ['--seeds', '1e20'], edit: (c) => void (c.train.seeds = [1e20]) },
  {
    flags: ['--protocol', 'sometimes'],
    edit: (c) => void ((c.missing as { protocol: string }).protocol = 'sometimes'),
  },
  { flags: ['--level', 'word'], edit: (c) => void ((c.missing as { level: string }).level = 'word') },
  { flags: ['--replace', 'mean'], edit: (c) => void ((c.missing as { replace: string }).replace = 'mean') },
  { flags: ['--data', 'synthetic:huge'], edit: (c) => void (c.data.source = 'synthetic:huge') },
  {
    flags: ['--branches', 'recon'],
    edit: (c) => void (c.model.branches = { macro: false, micro: false, recon: true }),
  },
];

describe('the CLI and the app store refuse the same configs with the same messages', () => {
  for (const { flags, edit } of CASES) {
    it(flags.join(' ').slice(0, 60), () => {
      const store = storeRefusal(edit);
      const cli = cliRefusal(['train', ...flags]);
      expect(store, 'the store accepted it').not.toBeNull();
      expect(cli, 'the CLI accepted it').not.toBeNull();
      // The store says "That setting was not applied: <problem>"; the CLI "<problem> (from --flag value)".
      const problem = store!.replace(/^That setting was not applied: /, '');
      expect(problem.length).toBeGreaterThan(10);
      expect(cli!.split('\n')[0]).toBe(`${problem} (from ${flags[0]} ${flags[1]})`);
    });
  }

  it('a config both accept', () => {
    expect(
      storeRefusal((c) => void ((c.train.seeds = [0, 7]), (c.missing.testRates = [0.5]), (c.train.lr = 0.01))),
    ).toBeNull();
    expect(cliRefusal(['train', '--seeds', '0,7', '--rates', '0.5', '--lr', '0.01'])).toBeNull();
  });

  it("the panels' list fields use the same parser and the same per-field messages", () => {
    expect(uiParseNumberList).toBe(parseNumberList);
    for (const text of ['0, 0.5 1', '0;0.5', '1,,2', ' 3 ', 'x', '', '1e-1', '0x1', '0b1', '1_0', ','])
      expect(uiParseNumberList(text)).toEqual(parseNumberList(text));
    // Hex and empty lists are refused by both (the CLI names the flag; the field says the same words).
    for (const text of ['0x1', '', ',', '1,0b1']) {
      expect(uiParseNumberList(text), text).toBeNull();
      expect(cliRefusal(['train', '--seeds', text])).toBe(`--seeds: expected ${NUMBER_LIST_EXPECTED}, got "${text}"`);
    }
    const seeds = [111, 111];
    expect(storeRefusal((c) => void (c.train.seeds = seeds))).toBe(
      `That setting was not applied: ${listProblem('train.seeds', seeds)}`,
    );
    const rates = [0, 0.5, 0.2];
    expect(storeRefusal((c) => void (c.missing.testRates = rates))).toBe(
      `That setting was not applied: ${listProblem('missing.testRates', rates)}`,
    );
  });

  it('the CLI prints the message with its prefix and exits 2 before any work', () => {
    const bin = fileURLToPath(new URL('../bin/mfmb.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'train', '--seeds', '111,111'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      `mfmb: ${storeRefusal((c) => void (c.train.seeds = [111, 111]))!.replace(/^That setting was not applied: /, '')} (from --seeds 111,111)`,
    );
  });
});
