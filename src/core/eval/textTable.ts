/**
 * Monospace text tables for the CLI and logs. Kept free of any metric knowledge so every table in
 * the app lines up the same way: first column left-aligned (labels), the rest right-aligned
 * (numbers, so decimal points line up when they share a format).
 */

/** A `null` row draws a rule, e.g. to set reference rows apart from ours. */
export function renderTextTable(header: string[], rows: (string[] | null)[]): string {
  for (const row of rows) {
    if (row && row.length !== header.length) {
      throw new Error(`renderTextTable: a row has ${row.length} cells but the header has ${header.length}`);
    }
  }
  // String length counts UTF-16 units; '—' and '±' are one unit and one column in monospace fonts.
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r ? r[c].length : 0))));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map((r) => (r ? line(r) : rule))].join('\n');
}
