import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultsFile } from '../../src/core/eval/results.ts';
import {
  defaultRowLabel,
  formatAblationTable,
  formatAuilcTable,
  formatPerRateTable,
} from '../../src/core/eval/tables.ts';
import { escapeTerminal } from '../../src/core/text/terminal.ts';
import { fsErrorText } from '../paths.ts';
import { writeFileAtomic } from '../writeFileAtomic.ts';

/** What the sweep commands print and write: the serial run's tables and results file. No tfjs. */

export const err = (s: string) => process.stderr.write(escapeTerminal(s, { keepNewlines: true }) + '\n');

/** This package's version: package.json above this module, in the sources and in dist-cli/ alike. */
export function toolVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8'));
      if (pkg.name === 'mfmb-playground') return pkg.version;
    }
  }
  return '0.0.0';
}

/** The tables the serial run prints for the same command (cli/run.ts). */
export function printTables(command: string, file: ResultsFile): void {
  const cfg = file.config;
  const out: string[] = [];
  for (const row of file.summary)
    out.push(
      `${defaultRowLabel(row)} — test metrics by missing rate (seeds ${row.seeds.join(', ')}):\n${formatPerRateTable(row)}`,
    );
  if (command !== 'train' || cfg.missing.testRates.length > 1)
    out.push(
      `AUILC (paper Table 4 layout; protocol ${cfg.missing.protocol}, rates ${cfg.missing.testRates.join(', ')}):\n${formatAuilcTable(file.summary)}`,
    );
  if (command !== 'train' && command !== 'collect')
    out.push(`Ablation (paper Table 5 layout):\n${formatAblationTable(file.summary)}`);
  console.log(escapeTerminal(out.join('\n\n'), { keepNewlines: true }));
}

/** Writes the results file whole or not at all; false (with the reason printed) when it could not. */
export function writeResults(path: string, file: ResultsFile): boolean {
  const existed = existsSync(path);
  try {
    writeFileAtomic(path, JSON.stringify(file, null, 1));
  } catch (e) {
    err(
      `mfmb: could not write the results file ${path}: ${fsErrorText(e)}; ` +
        (existed ? 'the previous file is unchanged' : 'no file was written'),
    );
    return false;
  }
  err(`results written to ${path}`);
  return true;
}

/** "3 cells missing: 1a2b… (setting, seed 111, train r=0.5), …" */
export function cellLabel(c: {
  key: string;
  index: number;
  seed: number;
  trainRate: number | 'random';
  setting: Parameters<typeof defaultRowLabel>[0];
}): string {
  return `#${c.index + 1} ${c.key.slice(0, 12)} (${defaultRowLabel(c.setting)}, seed ${c.seed}, train ${c.trainRate === 'random' ? 'random' : `r=${c.trainRate}`})`;
}
