/**
 * A category label wrapped onto up to three lines to fit its band, shortened with an ellipsis where it
 * still does not fit, so labels never collide or spill out of a chart at any width (the ablation
 * chart; checked at 420 px and 1440 px in e2e).
 */

const MAX_LINES = 3;

export function wrapLabel(label: string, maxChars: number): string[] {
  const limit = Math.max(3, Math.floor(maxChars));
  const words = label.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (next.length <= limit) line = next;
    else {
      if (line) lines.push(line);
      line = w;
    }
  }
  if (line) lines.push(line);
  const out = lines.slice(0, MAX_LINES).map((l) => (l.length > limit ? `${l.slice(0, limit - 1)}…` : l));
  if (lines.length > MAX_LINES) {
    const last = out[MAX_LINES - 1];
    out[MAX_LINES - 1] = last.length >= limit ? `${last.slice(0, limit - 1)}…` : `${last}…`;
  }
  return out;
}

/** Height that fits MAX_LINES lines of 11 px labels, with a margin. */
export const WRAPPED_TICK_HEIGHT = 11 * 1.15 * MAX_LINES + 10;
