/**
 * `npm run bench:browser`: MFMB-Net training and inference speed in Chromium, with the GPU work of
 * a training step counted where tfjs hands it to the device (src/worker/dispatchCounter.ts).
 *
 *   npm run bench:browser -- --backend webgpu|webgl|wasm|cpu --model tiny|small|base --shape aligned|unaligned
 *                            [--batch 24] [--warmup 1] [--steps 5] [--infer 5] [--json [FILE]]
 *                            [--runs webgpu:tiny:aligned,wasm:base:unaligned,...] [--gpu] [--require-gpu]
 *                            [--dev] [--timeout S] [--flag=--some-chromium-flag ...] [--breakdown]
 *                            [--branches all|none|macro,micro,recon] [--off dense,attention,...] [--profile]
 *
 * Prints steps/s, ms per training step and per inference batch, GPU dispatches per training step
 * (WebGPU compute dispatches; WebGL draw calls; on wasm/cpu the tfjs kernel count, so labelled),
 * peak GPU (or wasm heap) memory and the adapter's name. `--json FILE` writes the result object
 * (one run) or `{ runs: [...] }` (several), with the Chromium flags used. Without `--gpu`, Chromium
 * runs with this project's usual flags (e2e/env.ts: --disable-gpu, SwiftShader WebGPU/WebGL);
 * `--gpu` swaps them for the Vulkan ones (bench/README.md), for a machine with a real GPU, and
 * `--require-gpu` fails when the adapter is still a CPU one. `--breakdown` also prints the last timed
 * step's device work by tfjs kernel name (always in the JSON). See bench/README.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { chromiumFlags, chromiumPath, CHROMIUM_HINT } from '../e2e/env.ts';
import { runBenchInPage, serveBench } from './browser/serve.ts';
import {
  BENCH_BACKENDS,
  BENCH_MODELS,
  BENCH_SHAPES,
  DEFAULT_PARAMS,
  parseBenchBranches,
  type BenchBackend,
  type BenchModel,
  type BenchParams,
  type BenchResult,
  type BenchShape,
} from './browser/protocol.ts';

/**
 * Chromium on Linux with a real GPU, headless: WebGPU through Dawn on Vulkan, WebGL through ANGLE
 * on Vulkan, no surface (no display). After Chrome's "WebGPU, WebGL and headless Chrome" testing
 * guide; --use-vulkan is the older spelling kept for older builds. Checked against no real GPU here.
 */
export const GPU_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan',
  '--use-angle=vulkan',
  '--use-vulkan',
  '--disable-vulkan-surface',
  '--ignore-gpu-blocklist',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const argv = process.argv.slice(2);
function arg(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}
const flag = (name: string): boolean => argv.includes(`--${name}`);
function oneOf<T extends string>(what: string, v: string, list: readonly T[]): T {
  if (!(list as readonly string[]).includes(v)) throw new Error(`${what} "${v}": expected ${list.join(' | ')}`);
  return v as T;
}
function int(name: string, d: number, min: number): number {
  const v = arg(name);
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} ${v}: expected an integer ≥ ${min}`);
  return n;
}

const MiB = 2 ** 20;
const fmt = (v: number | null | undefined, d = 0): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);

/** Signs that a WebGPU/WebGL adapter is a CPU emulation rather than a GPU. */
export function isCpuAdapter(r: BenchResult): boolean {
  const text = `${r.adapter} ${JSON.stringify(r.adapterInfo)}`;
  return /swiftshader|llvmpipe|software|cpu/i.test(text) || r.adapterInfo.isFallbackAdapter === true;
}

async function main(): Promise<number> {
  const gpuMode = flag('gpu');
  const common = {
    batch: int('batch', DEFAULT_PARAMS.batch, 1),
    warmup: int('warmup', DEFAULT_PARAMS.warmup, 0),
    steps: int('steps', DEFAULT_PARAMS.steps, 1),
    infer: int('infer', DEFAULT_PARAMS.infer, 0),
    ...(arg('branches') ? { branches: parseBenchBranches(arg('branches')!) } : {}),
    ...(arg('off') ? { off: arg('off')! } : {}),
    ...(flag('profile') ? { profile: true } : {}),
  };
  const runs: BenchParams[] = [];
  const runsArg = arg('runs');
  if (runsArg) {
    for (const spec of runsArg.split(',')) {
      const [b, m, s] = spec.split(':');
      runs.push({
        ...common,
        backend: oneOf<BenchBackend>('backend', b, BENCH_BACKENDS),
        model: oneOf<BenchModel>('model', m ?? 'tiny', BENCH_MODELS),
        shape: oneOf<BenchShape>('shape', s ?? 'aligned', BENCH_SHAPES),
      });
    }
  } else {
    // Each of --backend/--model/--shape may be a comma list: every combination runs.
    for (const b of (arg('backend') ?? DEFAULT_PARAMS.backend).split(','))
      for (const m of (arg('model') ?? DEFAULT_PARAMS.model).split(','))
        for (const s of (arg('shape') ?? DEFAULT_PARAMS.shape).split(','))
          runs.push({
            ...common,
            backend: oneOf<BenchBackend>('backend', b, BENCH_BACKENDS),
            model: oneOf<BenchModel>('model', m, BENCH_MODELS),
            shape: oneOf<BenchShape>('shape', s, BENCH_SHAPES),
          });
  }
  // `--json` alone writes bench-browser.json.
  const ji = argv.indexOf('--json');
  const jsonPath =
    ji < 0 ? undefined : argv[ji + 1] && !argv[ji + 1].startsWith('--') ? argv[ji + 1] : 'bench-browser.json';
  const timeoutMs = Number(arg('timeout') ?? 1800) * 1000;
  const extra = argv.filter((a) => a.startsWith('--flag=')).map((a) => a.slice('--flag='.length));
  const flags = [...(gpuMode ? GPU_FLAGS : chromiumFlags('webgpu')), ...extra];

  const executablePath = chromiumPath();
  if (!executablePath) {
    console.error(`Chromium not found. ${CHROMIUM_HINT}`);
    return 2;
  }
  const log = (s: string): void => console.log(s);
  const server = await serveBench({ dev: flag('dev'), log });
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'mfmb-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: flags,
    timeout: 120_000,
  });
  const version = context.browser()?.version() ?? '(unknown)';
  console.log(
    `MFMB-Net browser benchmark: Chromium ${version} (${gpuMode ? 'GPU flags: Vulkan' : 'this project’s flags: --disable-gpu, SwiftShader'}), ` +
      `${cpus().length} cores; batch ${common.batch}, median of ${common.steps} steps after ${common.warmup} warm-up(s), ${common.infer} inference batches`,
  );
  console.log(`flags: ${flags.join(' ')}`);
  const results: BenchResult[] = [];
  const failures: { run: BenchParams; error: string }[] = [];
  let rc = 0;
  try {
    for (const p of runs) {
      const name = `${p.model}-${p.shape}-${p.backend}`;
      console.log(`\n== ${name}`);
      // A fresh page (and worker) per run: no compiled program or pooled buffer carries over.
      const page = await context.newPage();
      try {
        const r = await runBenchInPage(page, server.url, p, { timeoutMs, log: (s) => console.log(`  ${s}`) });
        results.push(r);
        if (gpuMode && (p.backend === 'webgpu' || p.backend === 'webgl') && isCpuAdapter(r)) {
          console.log(`  WARNING: the adapter "${r.adapter}" is a CPU emulation, not a GPU (see bench/README.md)`);
          if (flag('require-gpu')) rc = 1;
        }
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        console.log(`  FAILED: ${error.split('\n')[0]}`);
        failures.push({ run: p, error });
        rc = 1;
      } finally {
        await page.close().catch(() => {});
      }
    }
  } finally {
    await context.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
    await server.close();
  }

  console.log(
    '\nrun                       steps/s   train ms   infer ms   first step s   dispatches/train step   kernels/step   peak MiB (source)        adapter',
  );
  for (const r of results) {
    const disp =
      r.dispatchesPerTrainStep === null
        ? `— (${r.dispatchUnit})`
        : `${r.dispatchesPerTrainStep} ${r.dispatchUnit === 'GPU draw calls' ? 'draws' : ''}`;
    const src = r.backend === 'wasm' ? 'wasm heap' : r.backend === 'cpu' ? 'tensors' : 'GPU';
    console.log(
      `${`${r.model}-${r.shape}-${r.backend}`.padEnd(24)} ${fmt(r.stepsPerSec, 3).padStart(8)} ${fmt(r.trainMs).padStart(10)} ${fmt(r.inferMs).padStart(10)} ` +
        `${fmt((r.firstStepMs ?? NaN) / 1000, 1).padStart(14)}   ${disp.padStart(21)}   ${String(r.kernelsPerTrainStep).padStart(12)}   ` +
        `${`${fmt(r.peakBytes / MiB, 1)} (${src})`.padEnd(22)}   ${r.adapter}`,
    );
  }
  for (const r of results)
    console.log(
      `${`${r.model}-${r.shape}-${r.backend}`}: tf.memory().numTensors after each step ${r.tensorsAfterStep.join(', ')}`,
    );
  for (const r of results)
    if (r.copiesPerTrainStep !== null)
      console.log(
        `${`${r.model}-${r.shape}-${r.backend}`}: ${r.copiesPerTrainStep} GPU buffer copies per training step`,
      );
  if (flag('breakdown'))
    for (const r of results) {
      console.log(`\n${r.model}-${r.shape}-${r.backend}: ${r.dispatchUnit} of the last timed step by tfjs kernel`);
      for (const [name, n] of r.dispatchesByKernel) console.log(`  ${String(n).padStart(7)}  ${name}`);
    }
  for (const r of results)
    if (r.kernelMsByName) {
      console.log(`\n${r.model}-${r.shape}-${r.backend}: device ms of one profiled training step by tfjs kernel`);
      for (const [name, ms] of r.kernelMsByName.slice(0, 30)) console.log(`  ${ms.toFixed(1).padStart(9)}  ${name}`);
    }
  for (const f of failures)
    console.log(`${`${f.run.model}-${f.run.shape}-${f.run.backend}`.padEnd(24)} FAILED: ${f.error.split('\n')[0]}`);

  if (jsonPath) {
    const meta = {
      chromium: version,
      flags,
      gpuMode,
      date: new Date().toISOString(),
      hostCpus: `${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}`,
      failures,
    };
    const body = runs.length === 1 && results.length === 1 ? { ...results[0], ...meta } : { runs: results, ...meta };
    writeFileSync(jsonPath, JSON.stringify(body, null, 2) + '\n');
    console.log(`\nwrote ${jsonPath}`);
  }
  return rc;
}

main().then(
  (rc) => process.exit(rc),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
