import { describe, expect, it } from 'vitest';
import { fingerprint, pickFastest, planAuto, webglSoftware, webgpuSoftware, type AutoProbe } from './autoBackend.ts';

const swiftshaderGpu = { vendor: 'google', architecture: 'swiftshader', device: '', description: '' };
const realGpu = { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3060' };
const swiftshaderGl = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const realGl = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)';

function probe(p: Partial<AutoProbe>): AutoProbe {
  return {
    webgpu: { info: null, reason: 'WebGPU unavailable: no adapter' },
    webgl: { renderer: null },
    wasm: true,
    ...p,
  };
}

describe('software GPU detection', () => {
  it('recognises SwiftShader, llvmpipe, WARP and fallback adapters', () => {
    expect(webgpuSoftware(swiftshaderGpu)).toBe('WebGPU is software-emulated here (SwiftShader)');
    expect(webgpuSoftware({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toMatch(/llvmpipe/);
    expect(webgpuSoftware({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toMatch(/WARP/);
    expect(webgpuSoftware({ vendor: '', isFallbackAdapter: true })).toMatch(/fallback adapter/);
    expect(webglSoftware(swiftshaderGl)).toBe('WebGL is software-emulated here (SwiftShader)');
  });
  it('leaves real GPUs and unknown adapters alone', () => {
    expect(webgpuSoftware(realGpu)).toBeNull();
    expect(webgpuSoftware({})).toBeNull();
    expect(webgpuSoftware(null)).toBeNull();
    expect(webglSoftware(realGl)).toBeNull();
    expect(webglSoftware(null)).toBeNull();
  });
});

describe('planAuto', () => {
  it('SwiftShader WebGPU and WebGL (this machine): wasm, saying why, nothing timed', () => {
    const plan = planAuto(probe({ webgpu: { info: swiftshaderGpu }, webgl: { renderer: swiftshaderGl } }));
    expect(plan).toEqual({
      kind: 'pick',
      name: 'wasm',
      reason: 'WebGPU is software-emulated here (SwiftShader); WebGL is software-emulated here (SwiftShader)',
    });
  });
  it('no adapter and a software WebGL: wasm, and the reason says WebGPU is unavailable', () => {
    const plan = planAuto(probe({ webgl: { renderer: swiftshaderGl } }));
    expect(plan.kind).toBe('pick');
    if (plan.kind === 'pick') {
      expect(plan.name).toBe('wasm');
      expect(plan.reason).toMatch(/WebGPU unavailable: no adapter/);
    }
  });
  it('no WebAssembly and no GPU: cpu', () => {
    expect(planAuto(probe({ wasm: false, webgl: { renderer: null, reason: 'WebGL unavailable' } }))).toMatchObject({
      kind: 'pick',
      name: 'cpu',
    });
  });
  it('a real GPU is timed against wasm; a software one is not a candidate', () => {
    expect(planAuto(probe({ webgpu: { info: realGpu }, webgl: { renderer: swiftshaderGl } }))).toEqual({
      kind: 'measure',
      candidates: ['webgpu', 'wasm'],
      excluded: ['WebGL is software-emulated here (SwiftShader)'],
    });
    expect(planAuto(probe({ webgpu: { info: realGpu }, webgl: { renderer: realGl } }))).toMatchObject({
      candidates: ['webgpu', 'webgl', 'wasm'],
    });
  });
  it('an adapter that says nothing about itself is in doubt: timed', () => {
    expect(planAuto(probe({ webgpu: { info: {} }, webgl: { renderer: null } }))).toMatchObject({
      kind: 'measure',
      candidates: ['webgpu', 'wasm'],
    });
  });
});

describe('pickFastest', () => {
  it('keeps the fastest finished candidate and gives the times', () => {
    const r = pickFastest(['webgpu', 'wasm'], { webgpu: 40, wasm: 12 });
    expect(r.name).toBe('wasm');
    expect(r.reason).toBe('measured fastest (one training step: webgpu 40 ms, wasm 12 ms)');
    expect(pickFastest(['webgpu', 'wasm'], { webgpu: 3, wasm: 12 }).name).toBe('webgpu');
  });
  it('a candidate that failed or ran out of time never wins', () => {
    expect(pickFastest(['webgpu', 'wasm'], { webgpu: Infinity, wasm: 500 }).name).toBe('wasm');
    expect(pickFastest(['webgl', 'wasm'], { wasm: 500 }).name).toBe('wasm');
    const none = pickFastest(['webgpu', 'wasm'], { webgpu: Infinity, wasm: Infinity });
    expect(none.name).toBe('wasm');
    expect(none.reason).toMatch(/no candidate finished/);
  });
  it('appends what was excluded', () => {
    expect(pickFastest(['webgpu', 'wasm'], { webgpu: 5, wasm: 9 }, ['WebGL is software-emulated here']).reason).toMatch(
      /; WebGL is software-emulated here$/,
    );
  });
});

describe('fingerprint', () => {
  const base = { userAgent: 'Chrome/156', cores: 2, isolated: true, webgpu: swiftshaderGpu, webgl: swiftshaderGl };
  it('is stable and short', () => {
    expect(fingerprint(base)).toBe(fingerprint({ ...base }));
    expect(fingerprint(base)).toMatch(/^[0-9a-f]{16}$/);
  });
  it('changes with the GPU, the browser or isolation', () => {
    const fp = fingerprint(base);
    expect(fingerprint({ ...base, webgpu: realGpu })).not.toBe(fp);
    expect(fingerprint({ ...base, webgl: realGl })).not.toBe(fp);
    expect(fingerprint({ ...base, userAgent: 'Chrome/157' })).not.toBe(fp);
    expect(fingerprint({ ...base, isolated: false })).not.toBe(fp);
  });
});
