import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from './tf.ts';
import { registerTfjsOps } from './backend.ts';
import { checkWasmPatch, PATCHED_TFJS_VERSION, wasmPatchEnv, type WasmPatchEnv } from './wasmGuard.ts';
import { installFastWasmSlice, SLICE_NEEDS } from './wasmSlice.ts';
import { installFastWasmBatchMatMul, MATMUL_NEEDS } from './wasmMatMul.ts';

/** The stock wasm kernel functions, to prove a skipped patch left the registry alone. */
const stock = (name: string) => tf.getKernel(name, 'wasm')?.kernelFunc;
const PATCHED = ['Slice', 'SplitV', 'Unpack', 'BatchMatMul'];

describe('wasm kernel patch guard', () => {
  // Nothing here initialises a backend: the patches are only checked, never installed for real.
  beforeAll(async () => {
    await registerTfjsOps();
  });

  it('accepts the installed tfjs (the release the patches were written for)', () => {
    const env = wasmPatchEnv();
    expect(env.coreVersion).toBe(PATCHED_TFJS_VERSION);
    expect(env.wasmVersion).toBe(PATCHED_TFJS_VERSION);
    expect(checkWasmPatch(env, SLICE_NEEDS)).toBeNull();
    expect(checkWasmPatch(env, MATMUL_NEEDS)).toBeNull();
  });

  const cases: [string, (e: WasmPatchEnv) => WasmPatchEnv, RegExp][] = [
    [
      'another tfjs-core version',
      (e) => ({ ...e, coreVersion: '4.23.0' }),
      /written for .*4\.22\.0, found 4\.23\.0\/4\.22\.0/,
    ],
    ['another tfjs-backend-wasm version', (e) => ({ ...e, wasmVersion: '5.0.0' }), /found 4\.22\.0\/5\.0\.0/],
    ['no backend class', (e) => ({ ...e, backend: undefined }), /BackendWasm\) is not exported/],
    [
      'a backend without typedArrayFromHeap',
      (e) => ({ ...e, backend: { makeOutput() {} } }),
      /BackendWasm\.typedArrayFromHeap is missing/,
    ],
    [
      'a backend whose makeOutput is not a function',
      (e) => ({ ...e, backend: { makeOutput: 1, typedArrayFromHeap() {} } }),
      /BackendWasm\.makeOutput is missing/,
    ],
    ['no stock kernels registered', (e) => ({ ...e, getKernel: () => undefined }), /no stock wasm kernel/],
  ];

  for (const [what, change, reason] of cases) {
    it(`skips on ${what} and leaves the stock kernels registered`, () => {
      const before = PATCHED.map(stock);
      expect(before.every((f) => typeof f === 'function')).toBe(true);
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      try {
        const env = change(wasmPatchEnv());
        const slice = installFastWasmSlice(env);
        const matmul = installFastWasmBatchMatMul(env);
        expect(slice).toMatch(/^skipped: /);
        expect(slice).toMatch(reason);
        expect(matmul).toMatch(/^skipped: /);
        expect(matmul).toMatch(reason);
        expect(PATCHED.map(stock)).toEqual(before);
        // Reported once per patch and reason, however often it is asked.
        installFastWasmSlice(env);
        installFastWasmBatchMatMul(env);
        expect(warn).toHaveBeenCalledTimes(2);
      } finally {
        warn.mockRestore();
      }
    });
  }

  it('names a missing utility function and a stock kernel without setupFunc', () => {
    const env = wasmPatchEnv();
    expect(checkWasmPatch(env, { ...SLICE_NEEDS, functions: { 'slice_util.parseSliceParams': undefined } })).toBe(
      'slice_util.parseSliceParams is missing or not a function',
    );
    const noSetup: WasmPatchEnv = { ...env, getKernel: (k, b) => ({ ...env.getKernel(k, b)!, setupFunc: undefined }) };
    expect(checkWasmPatch(noSetup, MATMUL_NEEDS)).toBe('the stock wasm kernel BatchMatMul has no setupFunc');
  });
});
