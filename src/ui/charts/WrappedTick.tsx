/**
 * A category-axis tick that wraps its label onto up to three lines to fit the width of its band,
 * and shortens what still does not fit (the full label stays in a tooltip), so labels never
 * collide or spill out of the chart at any width (checked at 420 px and 1440 px in e2e).
 */

/** Average glyph width of the 11 px UI font, as a fraction of the font size (measured, generous). */
const GLYPH = 0.6;
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

interface TickProps {
  x?: number;
  y?: number;
  payload?: { value: string | number };
  width?: number; // the axis' width, passed by recharts
  visibleTicksCount?: number;
  fontSize?: number;
}

export function WrappedTick(props: TickProps) {
  const { x = 0, y = 0, payload, width = 300, visibleTicksCount = 1 } = props;
  const fontSize = props.fontSize ?? 11;
  const label = String(payload?.value ?? '');
  const band = width / Math.max(1, visibleTicksCount);
  // Leave a gap between neighbouring labels.
  const lines = wrapLabel(label, (band - 8) / (fontSize * GLYPH));
  return (
    <g transform={`translate(${x},${y})`} className="wrapped-tick">
      <title>{label}</title>
      <text textAnchor="middle" fill="#5b6776" fontSize={fontSize} dy={fontSize}>
        {lines.map((l, i) => (
          <tspan key={i} x={0} dy={i === 0 ? 0 : fontSize * 1.15}>
            {l}
          </tspan>
        ))}
      </text>
    </g>
  );
}

/** Axis height that fits MAX_LINES lines of WrappedTick. */
export const WRAPPED_TICK_HEIGHT = 11 * 1.15 * MAX_LINES + 10;
