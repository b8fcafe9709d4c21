/**
 * Text that came from a file (a field name, a dtype, a file name, an error message quoting
 * either), made safe to print on a terminal: a control character could clear the screen, move the
 * cursor or recolour text (a file printing a green "valid" over its own refusal), and a bidi
 * override could reorder what is shown. Such characters are shown as escapes instead:
 * C0 controls, DEL and C1 controls as `\xNN`; bidi marks, embeddings, overrides and isolates and
 * the Unicode line / paragraph separators as `\u{…}`. Everything else (accents, CJK, emoji,
 * backslashes) is left as it is. DOM-free, no Node APIs: usable by the CLI and the app.
 */

// C0 (incl. ESC, CR, BEL, TAB, LF), DEL, C1 (incl. the 8-bit CSI 0x9b); ALM, LRM, RLM, LRE…RLO, LRI…PDI, LS, PS.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- as above
const UNSAFE_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0x9f ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * `text` with every terminal control character shown as an escape. `keepNewlines` keeps "\n"
 * (for multi-line text the program formatted itself, whose pieces from the file were escaped).
 */
export function escapeTerminal(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(opts.keepNewlines ? UNSAFE_BUT_NEWLINE : UNSAFE, escapeOne);
}

/**
 * A copy of a plain value (objects, arrays, strings, numbers…) with every string, object keys
 * included, passed through escapeTerminal (newlines escaped too): for data read from a file before
 * a formatter lays it out in lines, so a name cannot fake a line of its own.
 */
export function escapeTerminalDeep<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return escapeTerminal(value) as T;
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => escapeTerminalDeep(v, depth + 1)) as T;
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    Object.defineProperty(out, escapeTerminal(k), {
      value: escapeTerminalDeep(v, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out as T;
}
