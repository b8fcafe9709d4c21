/**
 * `npm run bench`: milliseconds per training step and per inference batch (batch 24) at MOSI's
 * shapes, on wasm (and tiny on cpu), plus tf.memory() after the steps. Prints figures; asserts
 * nothing about speed. Each row runs in its own process. `-- --reference` also times the PyTorch
 * reference (shared/reference, 1 thread, as tfjs-wasm here) on the same shapes, alternating with the
 * TypeScript side step by step (TS step, PyTorch step, ...: bench/ref_driver.py kept alive and driven
 * over stdin/stdout) so that both see the same machine load, and prints TypeScript / PyTorch.
 * `--json FILE` writes the rows (name, trainMs, inferMs, memory, and refTrainMs/refInferMs/ratios
 * with --reference) as a JSON list. Peak memory: the wasm heap's size after the row (it only grows,
 * so it is the high-water mark of everything tfjs-wasm held) and the process's peak RSS.
 *
 *   npm run bench [-- --quick] [-- --reference] [-- --steps 5 --warmup 2] [-- --only tiny-aligned-wasm,...]
 *                 [-- --json FILE] [-- --batch 24]
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { cpus } from 'node:os';
import * as tf from '../src/core/tf.ts';
import { initNodeBackend, type NodeBackend } from '../src/core/backend.ts';
import { defaultRunConfig, modelPreset, type ModelPresetName, type PerModality } from '../src/core/config/config.ts';
import { maskedBatch, planMissing } from '../src/core/data/masking.ts';
import { buildModel } from '../src/core/model/build.ts';
import { Adam } from '../src/core/train/adam.ts';
import { batchTensors, trainStep } from '../src/core/train/trainer.ts';
import { MT19937 } from '../src/core/random.ts';
import { benchData, DIMS } from './benchData.ts';

const B = Number(process.argv.includes('--batch') ? process.argv[process.argv.indexOf('--batch') + 1] : 24);
const SHAPES: Record<string, { lens: PerModality<number>; ref: string }> = {
  aligned: { lens: [50, 50, 50], ref: 'mosi-aligned' },
  unaligned: { lens: [50, 375, 500], ref: 'mosi-unaligned' },
};

interface Row {
  preset: ModelPresetName;
  shape: 'aligned' | 'unaligned';
  backend: NodeBackend;
}
const ROWS: Row[] = [
  { preset: 'tiny', shape: 'aligned', backend: 'wasm' },
  { preset: 'base', shape: 'aligned', backend: 'wasm' },
  { preset: 'tiny', shape: 'unaligned', backend: 'wasm' },
  { preset: 'base', shape: 'unaligned', backend: 'wasm' },
  { preset: 'tiny', shape: 'aligned', backend: 'cpu' },
];
const rowName = (r: Row) => `${r.preset}-${r.shape}-${r.backend}`;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const steps = Number(arg('steps') ?? 5);
const warmup = Number(arg('warmup') ?? 2);
const only = arg('only')?.split(',');
const rows = ROWS.filter((r) =>
  only ? only.includes(rowName(r)) : !(flag('quick') && r.preset === 'base' && r.shape === 'unaligned'),
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Result {
  name: string;
  params: number;
  trainMs: number | null;
  inferMs: number | null;
  tensors: number;
  mb: number;
  memSteps: number;
  rssMb?: number;
  /** The wasm heap after the row (it only grows: the high-water mark of what tfjs-wasm held), MB. */
  heapMb?: number;
  refTrainMs?: number;
  refInferMs?: number;
  trainRatio?: number;
  inferRatio?: number;
  note?: string;
}

const PY = '/usr/bin/python3';
const REF_DIR = new URL('../../shared/reference/', import.meta.url).pathname;

/** The PyTorch reference driven one step at a time (bench/ref_driver.py). */
class RefDriver {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string | null) => void)[] = [];
  private readonly lines: string[] = [];
  private closed = false;

  constructor() {
    this.proc = spawn(PY, [new URL('./ref_driver.py', import.meta.url).pathname, REF_DIR], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      const w = this.waiting.shift();
      if (w) w(l);
      else this.lines.push(l);
    });
    this.proc.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(null);
    });
  }

  async cmd(c: string): Promise<string> {
    if (this.closed) throw new Error('the PyTorch driver exited');
    this.proc.stdin.write(c + '\n');
    const line = this.lines.shift() ?? (await new Promise<string | null>((r) => this.waiting.push(r)));
    if (line === null) throw new Error('the PyTorch driver exited');
    if (line.startsWith('error')) throw new Error(`PyTorch driver: ${line}`);
    return line;
  }

  async ms(c: 'train' | 'infer'): Promise<number> {
    return Number((await this.cmd(c)).split(' ')[1]);
  }

  close(): void {
    if (!this.closed) this.proc.stdin.end('quit\n');
  }
}

function wasmHeapMb(): number | undefined {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array; wasmMemory?: WebAssembly.Memory } };
  const bytes = b.wasm?.wasmMemory?.buffer.byteLength ?? b.wasm?.HEAPU8?.buffer.byteLength;
  return bytes === undefined ? undefined : bytes / 2 ** 20;
}

async function benchRow(r: Row, ref: RefDriver | null): Promise<Result> {
  await initNodeBackend(r.backend);
  const name = rowName(r);
  const cfg = defaultRunConfig();
  cfg.model = modelPreset(r.preset, { dims: DIMS, lens: SHAPES[r.shape].lens });
  const ds = benchData(B, SHAPES[r.shape].lens);
  const plan = planMissing(ds.train, ds, cfg.missing);
  const batch = maskedBatch(
    ds.train,
    plan,
    Array.from({ length: B }, (_, i) => i),
    [0.3, 0.3, 0.3],
    ds,
  );
  const model = buildModel(cfg.model, 111);
  const params = model.params.count().total;
  const vars = model.params.trainable();
  const opt = new Adam(vars, cfg.train.lr, cfg.train.weightDecay, cfg.train.clipValue);
  const ctx = { training: true, rng: new MT19937(111) };
  if (ref) await ref.cmd(`setup ${r.preset} ${SHAPES[r.shape].ref}`);
  const refTrain: number[] = [];
  const refInfer: number[] = [];
  try {
    const times: number[] = [];
    let done = 0;
    // Memory is read after 20 steps where a step is affordable, else after the timed steps.
    const total = Math.max(warmup + steps, r.preset === 'tiny' ? 20 : 0);
    for (let i = 0; i < total; i++) {
      const t0 = performance.now();
      await trainStep(model, opt, batch, ds, cfg, true, ctx, vars);
      if (i >= warmup && times.length < steps) times.push(performance.now() - t0);
      done++;
      // The PyTorch step right after the TypeScript one (same load), as many as the timed TS steps.
      if (ref && i < warmup + steps) {
        const ms = await ref.ms('train');
        if (i >= warmup) refTrain.push(ms);
      }
    }
    const mem = tf.memory();
    const infer: number[] = [];
    const evalCtx = { training: false, rng: new MT19937(0) };
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      tf.tidy(() => model.forward(batchTensors(batch, ds).input, evalCtx).pred.dataSync());
      if (i >= warmup) infer.push(performance.now() - t0);
      if (ref) {
        const ms = await ref.ms('infer');
        if (i >= warmup) refInfer.push(ms);
      }
    }
    const refFigures = ref
      ? {
          refTrainMs: median(refTrain),
          refInferMs: median(refInfer),
          trainRatio: median(times) / median(refTrain),
          inferRatio: median(infer) / median(refInfer),
        }
      : {};
    return {
      name,
      params,
      trainMs: median(times),
      inferMs: median(infer),
      tensors: mem.numTensors,
      mb: mem.numBytes / 2 ** 20,
      memSteps: done,
      heapMb: wasmHeapMb(),
      ...refFigures,
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const oom = /memory|OOM|allocation|Aborted/i.test(msg);
    return {
      name,
      params,
      trainMs: null,
      inferMs: null,
      tensors: tf.memory().numTensors,
      mb: tf.memory().numBytes / 2 ** 20,
      memSteps: 0,
      heapMb: wasmHeapMb(),
      note: (oom ? 'OUT OF MEMORY: ' : 'failed: ') + msg.slice(0, 160),
    };
  } finally {
    try {
      opt.dispose();
      model.params.dispose();
    } catch {
      // After a failed allocation the wasm heap may be unusable; the process ends right after.
    }
  }
}

/** Can the PyTorch side run? (Debian's torch for /usr/bin/python3 and shared/reference.) */
function referenceAvailable(): boolean {
  if (!existsSync(REF_DIR + 'bench_ref.py')) {
    console.log(`--reference: ${REF_DIR}bench_ref.py not found; skipping the PyTorch comparison`);
    return false;
  }
  try {
    execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    console.log(
      '--reference: /usr/bin/python3 has no torch (apt-get install -y python3-torch python3-numpy libopenblas0-openmp); skipping',
    );
    return false;
  }
  return true;
}

const fmt = (v: number | null | undefined, d = 0) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);

/**
 * Each row runs in its own process: a row that exhausts the wasm heap (4 GiB) leaves that backend
 * unusable, so isolation is the only way to report it and go on; it also gives a clean peak RSS.
 */
function runChild(r: Row, withRef: boolean): Result {
  const child = spawnSync(
    process.execPath,
    [
      new URL('../bin/run-ts.js', import.meta.url).pathname,
      new URL(import.meta.url).pathname,
      '--row',
      rowName(r),
      '--steps',
      String(steps),
      '--warmup',
      String(warmup),
      '--batch',
      String(B),
      ...(withRef ? ['--reference'] : []),
    ],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('ROW '));
  if (line) return JSON.parse(line.slice(4)) as Result;
  const tail = (child.stderr || '')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('var Module') && !/^\s*\^/.test(l))
    .slice(-3)
    .join(' | ');
  const oom = /memory|OOM|allocation|Aborted|out of bounds/i.test(tail);
  return {
    name: rowName(r),
    params: 0,
    trainMs: null,
    inferMs: null,
    tensors: 0,
    mb: 0,
    memSteps: 0,
    rssMb: 0,
    note: `${oom ? 'OUT OF MEMORY' : 'CRASHED'} (exit ${child.status ?? child.signal}): ${tail.slice(0, 200)}`,
  };
}

const rowArg = arg('row');
if (rowArg) {
  const r = ROWS.find((x) => rowName(x) === rowArg);
  if (!r) throw new Error(`unknown row ${rowArg}`);
  const ref = flag('reference') && r.backend === 'wasm' ? new RefDriver() : null;
  try {
    const res = await benchRow(r, ref);
    res.rssMb = process.resourceUsage().maxRSS / 1024;
    console.log('ROW ' + JSON.stringify(res));
  } finally {
    ref?.close();
  }
  process.exit(0);
}

console.log(
  `MFMB-Net TypeScript benchmark: batch ${B}, D ${DIMS.join('/')}, median of ${steps} steps after ${warmup} warm-ups; ` +
    `${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, tfjs ${tf.version.tfjs}; wasm runs 1 thread here; one process per row`,
);
const withRef = flag('reference') && referenceAvailable();
if (withRef) console.log('PyTorch reference: 1 thread, one step after each TypeScript step (bench/ref_driver.py)');
const results: Result[] = [];
for (const r of rows) {
  const res = runChild(r, withRef);
  results.push(res);
  console.log(
    `  ${res.name.padEnd(22)} train ${fmt(res.trainMs).padStart(7)} ms  infer ${fmt(res.inferMs).padStart(7)} ms` +
      (res.refTrainMs !== undefined
        ? `   PyTorch ${fmt(res.refTrainMs).padStart(6)} / ${fmt(res.refInferMs).padStart(5)} ms   ratio ${fmt(res.trainRatio, 2)} / ${fmt(res.inferRatio, 2)}`
        : '') +
      `  ${res.note ?? ''}`,
  );
}
console.log(
  `\nrow                     params   train ms/step  infer ms/batch  tf.memory() after N train steps   peak RSS MB  wasm heap MB` +
    (withRef ? '   PyTorch 1T train / infer ms   TS/PyTorch train / infer' : ''),
);
for (const res of results) {
  let line =
    `${res.name.padEnd(22)} ${res.params.toLocaleString('en-US').padStart(9)}  ${fmt(res.trainMs).padStart(13)}  ${fmt(res.inferMs).padStart(14)}  ` +
    `${String(res.tensors).padStart(6)} tensors, ${fmt(res.mb, 1).padStart(6)} MB after ${String(res.memSteps).padStart(2)}   ${fmt(res.rssMb).padStart(10)}  ${fmt(res.heapMb).padStart(12)}`;
  if (withRef) {
    line +=
      res.refTrainMs !== undefined
        ? `   ${fmt(res.refTrainMs).padStart(12)} / ${fmt(res.refInferMs).padStart(6)}   ${fmt(res.trainRatio, 2).padStart(8)} / ${fmt(res.inferRatio, 2)}`
        : '   —';
  }
  console.log(line + (res.note ? `   ${res.note}` : ''));
}
const jsonOut = arg('json');
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify(results, null, 1) + '\n');
  console.log(`\nwrote ${results.length} rows to ${jsonOut}`);
}
