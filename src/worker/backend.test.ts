/**
 * selectBackend('auto') in Node with a fake WebGPU adapter: a software adapter is ruled out without
 * timing; one that looks real is timed against wasm (one tiny training step each) and the fastest
 * kept; a remembered choice is reused without timing. The WebGPU package is replaced by an empty
 * module, so its attempt fails the way a broken GPU backend would.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as BackendModule from './backend.ts';

const wasmFile = async (name: string) => {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const dist = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  return { default: path.join(dist, 'dist', name) };
};
vi.mock('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url', () => wasmFile('tfjs-backend-wasm.wasm'));
vi.mock('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url', () =>
  wasmFile('tfjs-backend-wasm-simd.wasm'),
);
vi.mock('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url', () =>
  wasmFile('tfjs-backend-wasm-threaded-simd.wasm'),
);
vi.mock('@tensorflow/tfjs-backend-webgpu', () => ({}));

let backend: typeof BackendModule;
const g = globalThis as unknown as { navigator?: unknown };
const realNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

function fakeGpu(info: Record<string, unknown>): void {
  Object.defineProperty(globalThis, 'navigator', {
    configurable: true,
    value: { userAgent: 'test', hardwareConcurrency: 2, gpu: { requestAdapter: async () => ({ info }) } },
  });
}

beforeAll(async () => {
  backend = await import('./backend.ts');
});

afterEach(() => {
  if (realNavigator) Object.defineProperty(globalThis, 'navigator', realNavigator);
  else delete g.navigator;
});

describe('selectBackend auto', () => {
  it('rules out a SwiftShader adapter without timing anything', async () => {
    fakeGpu({ vendor: 'google', architecture: 'swiftshader' });
    const c = await backend.selectBackend('auto');
    expect(c.name).toBe('wasm');
    expect(c.auto?.reason).toMatch(/^WebGPU is software-emulated here \(SwiftShader\)/);
    expect(c.auto?.timings).toBeUndefined();
    expect(c.tried[0]).toMatchObject({ name: 'webgpu', ok: false });
    expect(c.wasm).toMatchObject({ binary: 'tfjs-backend-wasm-simd.wasm', threads: 1, isolated: false });
  });

  it('times a GPU that looks real against wasm and keeps the one that worked', async () => {
    fakeGpu({ vendor: 'nvidia', architecture: 'ampere' });
    const c = await backend.selectBackend('auto');
    expect(c.name).toBe('wasm');
    expect(c.auto?.timings?.webgpu).toBe(Infinity);
    expect(c.auto?.timings?.wasm).toBeGreaterThan(0);
    expect(c.auto?.reason).toMatch(/^measured fastest \(one training step: webgpu failed, wasm \d+ ms\)/);
  });

  it('reuses a remembered choice for the same fingerprint', async () => {
    fakeGpu({ vendor: 'nvidia', architecture: 'ampere' });
    const first = await backend.selectBackend('auto');
    const fp = first.auto!.fingerprint;
    const again = await backend.selectBackend('auto', undefined, {
      remembered: { [fp]: { name: 'cpu', reason: 'measured fastest (test)' } },
    });
    expect(again.name).toBe('cpu');
    expect(again.auto).toMatchObject({ remembered: true, reason: 'measured fastest (test)' });
    const measured = await backend.selectBackend('auto', undefined, {
      remembered: { [fp]: { name: 'cpu', reason: 'x' } },
      remeasure: true,
    });
    expect(measured.auto?.remembered).toBe(false);
  });
});
