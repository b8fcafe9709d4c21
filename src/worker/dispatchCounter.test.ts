import { describe, expect, it } from 'vitest';
import * as tf from '../core/tf.ts';
import { deviceWork, installDispatchCounter, type EngineLike } from './dispatchCounter.ts';

/** Stand-ins for the browser's classes: the counter patches whatever prototypes the scope holds. */
function fakeScope() {
  class GPUComputePassEncoder {
    calls: string[] = [];
    dispatchWorkgroups(x: number) {
      this.calls.push(`d${x}`);
      return x;
    }
    dispatchWorkgroupsIndirect() {
      this.calls.push('i');
    }
  }
  class GPUCommandEncoder {
    copies = 0;
    copyBufferToBuffer() {
      this.copies++;
    }
  }
  class WebGL2RenderingContext {
    n = 0;
    drawElements() {
      this.n++;
    }
    drawArrays() {
      this.n++;
    }
  }
  return { GPUComputePassEncoder, GPUCommandEncoder, WebGL2RenderingContext } as const;
}

describe('dispatch counter', () => {
  it('counts WebGPU dispatches and WebGL draws on every instance, passes calls through, and uninstalls', () => {
    const scope = fakeScope();
    const before = scope.GPUComputePassEncoder.prototype.dispatchWorkgroups;
    const c = installDispatchCounter({ scope });
    expect(c.hooks).toEqual(['webgpu', 'webgpu-copies', 'webgl2']);
    const a = new scope.GPUComputePassEncoder();
    const b = new scope.GPUComputePassEncoder();
    expect(a.dispatchWorkgroups(7)).toBe(7);
    b.dispatchWorkgroups(1);
    b.dispatchWorkgroupsIndirect();
    const gl = new scope.WebGL2RenderingContext();
    gl.drawElements();
    gl.drawArrays();
    gl.drawElements();
    expect(a.calls).toEqual(['d7']);
    expect(b.calls).toEqual(['d1', 'i']);
    expect(gl.n).toBe(3);
    const enc = new scope.GPUCommandEncoder();
    enc.copyBufferToBuffer();
    enc.copyBufferToBuffer();
    expect(enc.copies).toBe(2);
    expect(c.read()).toMatchObject({ dispatches: 3, copies: 2, draws: 3, kernels: 0 });
    expect(deviceWork('webgpu', c.read())).toEqual({ count: 3, unit: 'GPU dispatches' });
    expect(deviceWork('webgl', c.read())).toEqual({ count: 3, unit: 'GPU draw calls' });
    c.reset();
    expect(c.read()).toMatchObject({ dispatches: 0, copies: 0, draws: 0 });
    c.uninstall();
    expect(scope.GPUComputePassEncoder.prototype.dispatchWorkgroups).toBe(before);
    a.dispatchWorkgroups(2);
    expect(c.read().dispatches).toBe(0);
  });

  it('skips what the scope lacks (Node has no WebGPU or WebGL)', () => {
    const c = installDispatchCounter({ scope: {} });
    expect(c.hooks).toEqual([]);
    expect(c.read()).toEqual({ dispatches: 0, copies: 0, draws: 0, kernels: 0, peakTensorBytes: 0 });
    c.uninstall();
  });

  it('counts tfjs kernel executions at the engine and the peak tensor bytes', async () => {
    await tf.setBackend('cpu');
    const c = installDispatchCounter({ scope: {}, engine: tf.engine() as unknown as EngineLike });
    try {
      expect(c.hooks).toEqual(['kernels']);
      const x = tf.tidy(() => tf.sum(tf.mul(tf.add(tf.ones([256]), tf.ones([256])), 3)));
      expect((await x.data())[0]).toBe(1536);
      x.dispose();
      const n = c.read();
      // Add, Mul, Sum (tf.ones and the scalar 3 are made without a kernel).
      expect(n.kernels).toBe(3);
      expect(n.peakTensorBytes).toBeGreaterThanOrEqual(3 * 256 * 4);
      expect(deviceWork('wasm', n)).toEqual({ count: n.kernels, unit: 'kernels' });
    } finally {
      c.uninstall();
    }
    const k = c.read().kernels;
    tf.tidy(() => tf.add(tf.ones([2]), 1));
    expect(c.read().kernels).toBe(k);
    expect(Object.prototype.hasOwnProperty.call(tf.engine(), 'runKernel')).toBe(false);
  });
});
