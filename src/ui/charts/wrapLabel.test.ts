import { describe, expect, it } from 'vitest';
import { wrapLabel } from './wrapLabel.ts';

describe('wrapLabel', () => {
  it('keeps a label that fits on one line', () => {
    expect(wrapLabel('w/o Recon', 20)).toEqual(['w/o Recon']);
  });
  it('wraps at spaces to fit the band', () => {
    expect(wrapLabel('w/o F-1 (macro)', 8)).toEqual(['w/o F-1', '(macro)']);
  });
  it('never returns a line longer than the band, and at most three lines', () => {
    for (const width of [3, 5, 8, 12]) {
      const lines = wrapLabel('tiny model · synthetic:small · all branches on, seeds 111 1111', width);
      expect(lines.length).toBeLessThanOrEqual(3);
      for (const l of lines) expect(l.length).toBeLessThanOrEqual(Math.max(3, width));
    }
  });
  it('marks a shortened label with an ellipsis', () => {
    expect(wrapLabel('reconstruction', 6)).toEqual(['recon…']);
    expect(wrapLabel('a b c d e f g h', 3).at(-1)?.endsWith('…')).toBe(true);
  });
});
