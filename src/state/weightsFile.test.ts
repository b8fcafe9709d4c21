import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../core/config/config.ts';
import { decodeWeightsFile, encodeWeightsFile } from './weightsFile.ts';

const sample = () => ({
  createdAt: '2026-11-26T12:00:00Z',
  tool: { name: 'mfmb-playground', version: '0.1.0' },
  config: defaultRunConfig(),
  setting: { arch: 'mfmb' as const, branches: { macro: true, micro: false, recon: true } },
  seed: 111,
  names: ['proj.t.weight', 'head.bias'],
  shapes: [[2, 3], [1]],
  data: Float32Array.from([1, -2, 3.5, 4, 5, 6, 0.25]),
});

describe('weights file', () => {
  it('round-trips names, shapes, config and values bit for bit', () => {
    const bytes = encodeWeightsFile(sample());
    const w = decodeWeightsFile(bytes.buffer);
    expect(w.format).toBe('mfmb-weights/1');
    expect(w.names).toEqual(sample().names);
    expect(w.shapes).toEqual(sample().shapes);
    expect(w.setting).toEqual(sample().setting);
    expect(w.config).toEqual(defaultRunConfig());
    expect(Array.from(w.data)).toEqual([1, -2, 3.5, 4, 5, 6, 0.25]);
  });

  it('rejects other files and truncated ones clearly', () => {
    expect(() => decodeWeightsFile(new TextEncoder().encode('{"schema":"mfmb-results/1"}'))).toThrow(
      /not an MFMB weights file/,
    );
    const bytes = encodeWeightsFile(sample());
    expect(() => decodeWeightsFile(bytes.slice(0, bytes.length - 4))).toThrow(/expected 7 float32 values/);
    expect(() => decodeWeightsFile(bytes.slice(0, 20))).toThrow(/header is truncated/);
  });
});
