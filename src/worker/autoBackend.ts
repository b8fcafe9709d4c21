/**
 * How 'auto' picks a backend — pure functions, no tfjs, no DOM (unit-tested in autoBackend.test.ts).
 *
 * A GPU backend that runs on a software rasteriser (SwiftShader, llvmpipe, WARP, a WebGPU fallback
 * adapter) is a CPU emulation: on it this model trains 10–70× slower than on wasm, so auto never
 * picks it. A GPU that looks real, or one whose adapter says nothing about itself, is timed against
 * wasm (one tiny training step each, in the worker) and the fastest is kept. The result is
 * remembered per browser+GPU fingerprint by the page, and can be re-measured.
 */
import type { BackendName } from './protocol.ts';

/** What a WebGPU adapter says about itself (GPUAdapterInfo plus the adapter's isFallbackAdapter). */
export interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** What the worker found out about each backend before deciding. */
export interface AutoProbe {
  /** null: no adapter or no navigator.gpu (reason says which). */
  webgpu: { info: GpuAdapterInfo | null; reason?: string };
  /** The WebGL renderer string (WEBGL_debug_renderer_info, else RENDERER); null: no WebGL 2. */
  webgl: { renderer: string | null; reason?: string };
  wasm: boolean;
}

/** Per-backend time of one tiny training step in ms; Infinity or absent: failed or too slow. */
export type StepTimings = Partial<Record<BackendName, number>>;

export type AutoPlan =
  | { kind: 'pick'; name: BackendName; reason: string }
  | { kind: 'measure'; candidates: BackendName[]; excluded: string[] };

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|\bwarp\b|mesa offscreen/i;

/** Why this WebGPU adapter is a software emulation, or null when it does not look like one. */
export function webgpuSoftware(info: GpuAdapterInfo | null): string | null {
  if (!info) return null;
  const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  const m = SOFTWARE.exec(text);
  if (m) return `WebGPU is software-emulated here (${nameOf(m[0])})`;
  if (info.isFallbackAdapter) return 'WebGPU is software-emulated here (a fallback adapter)';
  return null;
}

/** Why this WebGL renderer is a software emulation, or null when it does not look like one. */
export function webglSoftware(renderer: string | null): string | null {
  if (!renderer) return null;
  const m = SOFTWARE.exec(renderer);
  return m ? `WebGL is software-emulated here (${nameOf(m[0])})` : null;
}

function nameOf(match: string): string {
  const m = match.toLowerCase();
  if (m === 'swiftshader') return 'SwiftShader';
  if (m === 'llvmpipe' || m === 'lavapipe' || m === 'softpipe') return m;
  if (m === 'warp' || m === 'basic render') return 'Microsoft WARP';
  return match;
}

/**
 * The first decision, before anything is timed: which GPU backends are worth timing against wasm,
 * or — when none is — the pick outright. A GPU whose adapter reports nothing is "in doubt": timed.
 */
export function planAuto(p: AutoProbe): AutoPlan {
  const excluded: string[] = [];
  const gpus: BackendName[] = [];
  if (p.webgpu.info) {
    const soft = webgpuSoftware(p.webgpu.info);
    if (soft) excluded.push(soft);
    else gpus.push('webgpu');
  } else if (p.webgpu.reason) excluded.push(p.webgpu.reason);
  if (p.webgl.renderer !== null) {
    const soft = webglSoftware(p.webgl.renderer);
    if (soft) excluded.push(soft);
    else gpus.push('webgl');
  } else if (p.webgl.reason) excluded.push(p.webgl.reason);
  const fallback: BackendName = p.wasm ? 'wasm' : 'cpu';
  if (!gpus.length) return { kind: 'pick', name: fallback, reason: excluded.join('; ') || 'no GPU backend here' };
  return { kind: 'measure', candidates: p.wasm ? [...gpus, 'wasm'] : [...gpus, 'cpu'], excluded };
}

/** After timing: the fastest candidate, with the times as the reason. */
export function pickFastest(
  candidates: BackendName[],
  timings: StepTimings,
  excluded: string[] = [],
): { name: BackendName; reason: string } {
  let best: BackendName | null = null;
  for (const c of candidates) {
    const t = timings[c];
    if (t === undefined || !Number.isFinite(t)) continue;
    if (best === null || t < timings[best]!) best = c;
  }
  const times = candidates
    .map((c) => `${c} ${Number.isFinite(timings[c] ?? Infinity) ? `${Math.round(timings[c]!)} ms` : 'failed'}`)
    .join(', ');
  const tail = excluded.length ? `; ${excluded.join('; ')}` : '';
  if (best === null) {
    const fallback = candidates.includes('wasm') ? 'wasm' : 'cpu';
    return { name: fallback, reason: `no candidate finished a timed step (${times})${tail}` };
  }
  return { name: best, reason: `measured fastest (one training step: ${times})${tail}` };
}

/** A short stable key for "this browser on this GPU": what the remembered choice is filed under. */
export function fingerprint(parts: {
  userAgent: string;
  cores: number;
  isolated: boolean;
  webgpu: GpuAdapterInfo | null;
  webgl: string | null;
}): string {
  const g = parts.webgpu;
  const text = [
    parts.userAgent,
    `cores=${parts.cores}`,
    `coi=${parts.isolated ? 1 : 0}`,
    g
      ? `gpu=${g.vendor ?? ''}/${g.architecture ?? ''}/${g.device ?? ''}/${g.description ?? ''}/${g.isFallbackAdapter ? 'fb' : ''}`
      : 'gpu=none',
    `gl=${parts.webgl ?? 'none'}`,
  ].join('|');
  // FNV-1a, 32 bits, twice with different seeds: short, and no collision worth worrying about here.
  const h = (seed: number) => {
    let x = seed >>> 0;
    for (let i = 0; i < text.length; i++) {
      x ^= text.charCodeAt(i);
      x = Math.imul(x, 0x01000193) >>> 0;
    }
    return x.toString(16).padStart(8, '0');
  };
  return h(0x811c9dc5) + h(0x050c5d1f);
}
