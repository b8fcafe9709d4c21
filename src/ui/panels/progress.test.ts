import { describe, expect, it } from 'vitest';
import { fmtRate } from './TrainingPanel.tsx';

describe('steps/s on the progress line', () => {
  it('small rates keep their digits (0.04, never 0.0); large ones are not over-precise', () => {
    expect(fmtRate(0.04)).toBe('0.04');
    expect(fmtRate(0.0437)).toBe('0.044');
    expect(fmtRate(0.004)).toBe('0.004');
    expect(fmtRate(1.26)).toBe('1.3');
    expect(fmtRate(12.34)).toBe('12.3');
    expect(fmtRate(345.6)).toBe('346');
    expect(fmtRate(0)).toBe('—');
    expect(fmtRate(Number.NaN)).toBe('—');
  });
});
