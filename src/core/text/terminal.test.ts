import { describe, expect, it } from 'vitest';
import { escapeTerminal, escapeTerminalDeep } from './terminal.ts';

describe('escapeTerminal: text from a file, printable on a terminal', () => {
  it('shows C0 controls, ESC, CR, BEL, DEL and C1 controls as \\xNN', () => {
    expect(escapeTerminal('\x1b[2J\x1b[32mvalid')).toBe('\\x1b[2J\\x1b[32mvalid');
    expect(escapeTerminal('a\rb\x07c\x7fd\x00e\tf\ng')).toBe('a\\x0db\\x07c\\x7fd\\x00e\\x09f\\x0ag');
    expect(escapeTerminal('\u009b2J\u0085')).toBe('\\x9b2J\\x85');
  });

  it('shows bidi overrides, isolates, marks and line separators as \\u{…}', () => {
    expect(escapeTerminal('abc\u202etxt.exe')).toBe('abc\\u{202e}txt.exe');
    expect(escapeTerminal('\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d\u200e\u200f\u061c\u2028\u2029')).toBe(
      '\\u{2066}\\u{2067}\\u{2068}\\u{2069}\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{200e}\\u{200f}\\u{61c}\\u{2028}\\u{2029}',
    );
  });

  it('leaves ordinary text alone (accents, CJK, emoji, backslashes, paths)', () => {
    for (const s of ['aligned_50.pkl', 'données — 数据 😀', 'C:\\data\\x.pkl', 'σ ≥ 0, 1e-3', ''])
      expect(escapeTerminal(s)).toBe(s);
  });

  it('keepNewlines keeps line breaks (multi-line text we formatted) and escapes the rest', () => {
    expect(escapeTerminal('a\nb\r\n\x1bc', { keepNewlines: true })).toBe('a\nb\\x0d\n\\x1bc');
  });

  it('escapeTerminalDeep escapes every string of a plain value, keys included, and nothing else', () => {
    const v = {
      file: 'x\x1b.pkl',
      n: 3,
      ok: true,
      none: null,
      fields: [{ name: '\u202ea', dtype: '<f4' }],
      ['k\x07']: 1,
    };
    expect(escapeTerminalDeep(v)).toEqual({
      file: 'x\\x1b.pkl',
      n: 3,
      ok: true,
      none: null,
      fields: [{ name: '\\u{202e}a', dtype: '<f4' }],
      ['k\\x07']: 1,
    });
    expect(v.file).toBe('x\x1b.pkl'); // the input is not changed
  });
});
