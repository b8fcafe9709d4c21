import { describe, expect, it } from 'vitest';
import { TABLE5_SETTINGS, table5Label, table5Settings } from './config.ts';

describe('Table-5 settings', () => {
  it('are the paper rows in order, as fresh MFMB-Net settings', () => {
    const a = table5Settings();
    expect(a).toEqual([
      { arch: 'mfmb', branches: { macro: true, micro: true, recon: true } },
      { arch: 'mfmb', branches: { macro: false, micro: true, recon: true } },
      { arch: 'mfmb', branches: { macro: true, micro: false, recon: true } },
      { arch: 'mfmb', branches: { macro: true, micro: true, recon: false } },
    ]);
    a[0].branches.macro = false; // a caller editing its copy changes nothing shared
    expect(TABLE5_SETTINGS[0].branches.macro).toBe(true);
    expect(table5Settings()[0].branches.macro).toBe(true);
  });

  it('label a branch setting by its row, and nothing else', () => {
    expect(table5Label({ macro: false, micro: true, recon: true })).toBe('w/o F-1 (macro off)');
    expect(table5Label({ macro: true, micro: true, recon: true })).toBe('MFMB-Net (all)');
    expect(table5Label({ macro: false, micro: true, recon: false })).toBeUndefined();
  });
});
