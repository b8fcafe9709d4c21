/**
 * Plain-text tables for the CLI, in the shapes of the paper's tables so our numbers can be read
 * beside its figures: accuracies and F1 ×100 to one decimal, MAE and Corr to three, has0/non0 as the
 * paper's "a/b" pairs, and "—" where a metric is undefined.
 */

import { sameBranches, table5Label, TABLE5_SETTINGS } from '../config/config.ts';
import type { MetricKey, Metrics } from './metrics.ts';
import { PAPER_FIGURES, PAPER_SOURCE } from './paperFigures.ts';
import type { SummaryRow, SummaryTrainRate } from './results.ts';
import { rowStatusNote } from './summary.ts';
import { renderTextTable } from './textTable.ts';

/** A row's label with its status note when some of its runs did not finish: "w/o Recon [stopped (n = 0 of 1)]". */
export function labelWithStatus(label: string, row: SummaryRow): string {
  const note = rowStatusNote(row);
  return note ? `${label} [${note}]` : label;
}

export { PAPER_FIGURES, PAPER_SOURCE } from './paperFigures.ts';

export const NULL_MARK = '—';

/** Columns in the paper's order; a pair is printed "has0/non0". */
export const COLUMNS: { title: string; keys: MetricKey[] }[] = [
  { title: 'MAE', keys: ['mae'] },
  { title: 'Corr', keys: ['corr'] },
  { title: 'Acc-7', keys: ['acc7'] },
  { title: 'Acc-5', keys: ['acc5'] },
  { title: 'Acc-2 (has0/non0)', keys: ['acc2_has0', 'acc2_non0'] },
  { title: 'F1 (has0/non0)', keys: ['f1_has0', 'f1_non0'] },
];

/** MAE and Corr print as they are; accuracies and F1 ×100, as in the paper. */
export const isRawScale = (key: MetricKey): boolean => key === 'mae' || key === 'corr';

/** One metric value as the paper prints it. */
export function formatMetric(key: MetricKey, v: number | null): string {
  if (v === null) return NULL_MARK;
  const s = isRawScale(key) ? v.toFixed(3) : (v * 100).toFixed(1);
  // A tiny negative that rounds to zero would print "-0.000", which reads as a sign that is not there.
  return /^-0\.0+$/.test(s) ? s.slice(1) : s;
}

function formatMeanStd(key: MetricKey, mean: number | null, std: number | null, withStd: boolean): string {
  if (mean === null) return NULL_MARK;
  const m = formatMetric(key, mean);
  return withStd && std !== null ? `${m} ± ${formatMetric(key, std)}` : m;
}

/** The paper's "a/b" pairs; spaced out when cells carry "± std", where a bare slash gets lost. */
function cells(value: (key: MetricKey) => string, spaced = false, columns = COLUMNS): string[] {
  return columns.map((c) => c.keys.map(value).join(spaced ? ' / ' : '/'));
}

const HEADER = COLUMNS.map((c) => c.title);

export function formatTrainRate(r: SummaryTrainRate): string {
  if (r === 'random') return 'random per batch';
  if (r === 'per-rate') return 'per-rate protocol';
  return formatRate(r);
}

export function formatRate(r: number): string {
  // Rates come from a decimal grid; 0.30000000000000004 should still read 0.3.
  const s = String(Number(r.toFixed(6)));
  return s.includes('.') ? s : `${s}.0`;
}

const ARCH_LABELS: Record<string, string> = {
  'fc-t': 'FC (text)',
  'fc-a': 'FC (audio)',
  'fc-v': 'FC (vision)',
  concat: 'Concat',
};

/** A readable name for a summary row: the Table-5 label for MFMB-Net settings, the baseline's name otherwise. */
export function defaultRowLabel(row: Pick<SummaryRow, 'arch' | 'branches'>): string {
  if (row.arch !== 'mfmb') return ARCH_LABELS[row.arch] ?? row.arch;
  const label = table5Label(row.branches);
  if (label) return label;
  const b = row.branches;
  const onOff = (v: boolean) => (v ? 'on' : 'off');
  return `MFMB-Net (macro ${onOff(b.macro)}, micro ${onOff(b.micro)}, recon ${onOff(b.recon)})`;
}

/** Rows of metrics, e.g. test results at one rate or the paper's Table 3 beside ours. */
export function formatMetricsTable(rows: { label: string; metrics: Metrics }[]): string {
  return renderTextTable(
    ['', ...HEADER],
    rows.map((r) => [r.label, ...cells((k) => formatMetric(k, r.metrics[k]))]),
  );
}

function hasMarks(rows: SummaryRow[]): boolean {
  return rows.some((r) => Object.values(r.auilc).some((a) => a.nullsAsZero > 0));
}

/**
 * A '*' marks an AUILC that counted undefined points as 0, so it is not read as a measured area.
 * When a table has marks, cells ending without one get a space in its place to keep digits aligned.
 */
/** One AUILC cell in the paper's units: "± std" with several seeds, '*' where nulls counted as 0. */
export function auilcCell(r: SummaryRow, keys: MetricKey[]): string {
  const withStd = r.seeds.length > 1;
  return keys
    .map((k) => formatMeanStd(k, r.auilc[k].mean, r.auilc[k].std, withStd) + (r.auilc[k].nullsAsZero > 0 ? '*' : ''))
    .join(withStd ? ' / ' : '/');
}

function auilcCells(r: SummaryRow, marks: boolean, columns = COLUMNS): string[] {
  return columns.map((c) => {
    const cell = auilcCell(r, c.keys);
    return marks && !cell.endsWith('*') ? `${cell} ` : cell;
  });
}

function auilcFootnotes(rows: SummaryRow[]): string[] {
  const notes: string[] = [];
  if (rows.some((r) => r.seeds.length > 1)) notes.push('mean ± std over seeds (population std)');
  const nulls = rows.reduce((s, r) => s + Object.values(r.auilc).reduce((t, a) => t + a.nullsAsZero, 0), 0);
  if (rows.some((r) => (r.cutOff ?? []).length > 0)) {
    notes.push(
      rows.some((r) => r.partial)
        ? 'runs that did not finish (stopped, interrupted, failed) are counted where marked "incl."'
        : 'runs that did not finish (stopped, interrupted, failed) are left out: n = finished seeds',
    );
  }
  if (nulls > 0) {
    notes.push(
      `* ${nulls} undefined point(s) counted as 0 in this AUILC (e.g. Corr of a constant prediction at r = 1.0)`,
    );
  }
  return notes;
}

function withNotes(table: string, notes: string[]): string {
  return notes.length ? `${table}\n${notes.join('\n')}` : table;
}

/** The paper's Table 4: AUILC of every metric, one row per model / branch setting. */
export function formatAuilcTable(
  summary: SummaryRow[],
  labelOf: (row: SummaryRow) => string = defaultRowLabel,
): string {
  const marks = hasMarks(summary);
  const rows = summary.map((r) => [labelWithStatus(labelOf(r), r), ...auilcCells(r, marks)]);
  return withNotes(renderTextTable(['AUILC', ...HEADER], rows), auilcFootnotes(summary));
}

export const ABLATION_COLUMNS: { title: string; keys: MetricKey[] }[] = [
  COLUMNS[1], // Corr and Acc-7 first: the two the paper's Table 5 reports
  COLUMNS[2],
  COLUMNS[0],
  COLUMNS[3],
  COLUMNS[4],
  COLUMNS[5],
];

/**
 * The paper's Table 5: AUILC for the four branch settings (MFMB-Net only), then any other MFMB-Net
 * setting found, then the paper's own figures as reference rows below a rule.
 */
export function formatAblationTable(
  summary: SummaryRow[],
  labelOf: (row: SummaryRow) => string = defaultRowLabel,
): string {
  const mfmb = summary.filter((r) => r.arch === 'mfmb');
  const marks = hasMarks(mfmb);
  const ours = (r: SummaryRow) => auilcCells(r, marks, ABLATION_COLUMNS);
  const plain = (value: (key: MetricKey) => string) => cells(value, false, ABLATION_COLUMNS);

  const rows: (string[] | null)[] = [];
  const used = new Set<SummaryRow>();
  for (const setting of TABLE5_SETTINGS) {
    const matches = mfmb.filter((r) => sameBranches(r.branches, setting.branches));
    if (matches.length === 0) rows.push([`${setting.label} (not run)`, ...plain(() => NULL_MARK)]);
    for (const r of matches) {
      used.add(r);
      // Several matches mean the file sweeps the training rate: say which is which.
      const label = matches.length > 1 ? `${setting.label} [train ${formatTrainRate(r.trainRate)}]` : setting.label;
      rows.push([labelWithStatus(label, r), ...ours(r)]);
    }
  }
  for (const r of mfmb) if (!used.has(r)) rows.push([labelWithStatus(labelOf(r), r), ...ours(r)]);

  rows.push(null);
  for (const setting of TABLE5_SETTINGS) {
    const paper = PAPER_FIGURES.table5.find((p) => sameBranches(p.branches, setting.branches));
    if (paper)
      rows.push([`paper (MOSI, BERT fine-tuned): ${setting.label}`, ...plain((k) => formatMetric(k, paper.auilc[k]))]);
  }

  const header = ['AUILC', ...ABLATION_COLUMNS.map((c) => c.title)];
  const notes = auilcFootnotes(mfmb);
  notes.push(`paper rows: ${PAPER_SOURCE}, Table 5 (Corr and Acc-7 only); reference figures, not this app's results`);
  return withNotes(renderTextTable(header, rows), notes);
}

/** One summary row's curve: every metric at every rate, mean ± std over seeds. */
export function formatPerRateTable(row: SummaryRow): string {
  const withStd = row.seeds.length > 1;
  const rows = row.perRate.map((p) => [
    formatRate(p.rate),
    ...cells((k) => formatMeanStd(k, p.mean[k], p.std[k], withStd), withStd),
  ]);
  const table = renderTextTable(['Rate', ...HEADER], rows);
  const note = rowStatusNote(row);
  const lines = [table];
  if (withStd) lines.push(`mean ± std over ${row.seeds.length} seeds (population std)`);
  if (note) lines.push(`${note}; runs that did not finish are ${row.partial ? 'counted' : 'left out'}`);
  return lines.join('\n');
}
