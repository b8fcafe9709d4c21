/**
 * `npm run bench`: milliseconds per training step and per inference batch (batch 24) at MOSI's
 * shapes, on wasm (and tiny on cpu), plus tf.memory() after the steps. Prints figures; asserts
 * nothing about speed. Each row runs in its own process. `-- --reference` also runs the PyTorch reference (shared/reference) on the
 * same shapes with 1 thread (tfjs-wasm runs 1 thread here) and prints TypeScript / PyTorch.
 *
 *   npm run bench [-- --quick] [-- --reference] [-- --steps 5 --warmup 2] [-- --only tiny-aligned-wasm,...]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import * as tf from '../src/core/tf.ts';
import { initNodeBackend, type NodeBackend } from '../src/core/backend.ts';
import { defaultRunConfig, modelPreset, type ModelPresetName, type PerModality } from '../src/core/config/config.ts';
import type { Dataset, Split } from '../src/core/data/types.ts';
import { maskedBatch, planMissing } from '../src/core/data/masking.ts';
import { buildModel } from '../src/core/model/build.ts';
import { Adam } from '../src/core/train/adam.ts';
import { batchTensors, trainStep } from '../src/core/train/trainer.ts';
import { MT19937 } from '../src/core/random.ts';

const B = 24;
const SHAPES: Record<string, { lens: PerModality<number>; ref: string }> = {
  aligned: { lens: [50, 50, 50], ref: 'mosi-aligned' },
  unaligned: { lens: [50, 375, 500], ref: 'mosi-unaligned' },
};
const DIMS: PerModality<number> = [768, 5, 20];

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

/** Random N(0,1) features at full length, masked at r = 0.3 with the default mask seeds (as the reference). */
function benchData(lens: PerModality<number>): Dataset {
  const rng = new MT19937(0);
  const split = (): Split => {
    const x = {} as Split['x'];
    const len = {} as Split['len'];
    (['t', 'a', 'v'] as const).forEach((m, i) => {
      const a = new Float32Array(B * lens[i] * DIMS[i]);
      for (let k = 0; k < a.length; k++) a[k] = rng.normal();
      x[m] = a;
      len[m] = new Int32Array(B).fill(lens[i]);
    });
    const y = new Float32Array(B);
    for (let k = 0; k < B; k++) y[k] = rng.uniform(-3, 3);
    return { n: B, x, len, y };
  };
  const s = split();
  return { source: 'bench', dims: DIMS, lens, textIsBert: false, textUnk: null, train: s, valid: s, test: s };
}

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
  note?: string;
}

async function benchRow(r: Row): Promise<Result> {
  await initNodeBackend(r.backend);
  const name = rowName(r);
  const cfg = defaultRunConfig();
  cfg.model = modelPreset(r.preset, { dims: DIMS, lens: SHAPES[r.shape].lens });
  const ds = benchData(SHAPES[r.shape].lens);
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
    }
    const mem = tf.memory();
    const infer: number[] = [];
    const evalCtx = { training: false, rng: new MT19937(0) };
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      tf.tidy(() => model.forward(batchTensors(batch, ds).input, evalCtx).pred.dataSync());
      if (i >= warmup) infer.push(performance.now() - t0);
    }
    return {
      name,
      params,
      trainMs: median(times),
      inferMs: median(infer),
      tensors: mem.numTensors,
      mb: mem.numBytes / 2 ** 20,
      memSteps: done,
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

function reference(selected: Row[]): Map<string, { train: number; infer: number }> | null {
  const py = '/usr/bin/python3';
  const script = new URL('../../shared/reference/bench_ref.py', import.meta.url).pathname;
  const out = new Map<string, { train: number; infer: number }>();
  if (!existsSync(script)) {
    console.log(`--reference: ${script} not found; skipping the PyTorch comparison`);
    return null;
  }
  try {
    execFileSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    console.log(
      '--reference: /usr/bin/python3 has no torch (apt-get install -y python3-torch python3-numpy libopenblas0-openmp); skipping',
    );
    return null;
  }
  const scen = [
    ...new Set(selected.filter((r) => r.backend === 'wasm').map((r) => `${r.preset}-${SHAPES[r.shape].ref}`)),
  ];
  const tmp = join(mkdtempSync(join(tmpdir(), 'mfmb-bench-')), 'bench_ref.json');
  console.log(
    `running the PyTorch reference (${scen.join(', ')}; 1 thread; ${steps} steps after ${warmup} warm-ups) ...`,
  );
  execFileSync(
    py,
    [
      script,
      '--threads',
      '1',
      '--steps',
      String(steps),
      '--warmup',
      String(warmup),
      '--no-ablation-timing',
      '--only',
      scen.join(','),
      '--out',
      tmp,
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: new URL('../../shared/reference/', import.meta.url).pathname,
    },
  );
  const res = JSON.parse(readFileSync(tmp, 'utf8'));
  for (const t of res.timing) {
    const key = `${t.preset}-${t.shape}`;
    const cur = out.get(key) ?? { train: NaN, infer: NaN };
    if (t.kind === 'train_step') cur.train = t.median_s * 1000;
    else cur.infer = t.median_s * 1000;
    out.set(key, cur);
  }
  return out;
}

const fmt = (v: number | null | undefined, d = 0) =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d);

/**
 * Each row runs in its own process: a row that exhausts the wasm heap (4 GiB) leaves that backend
 * unusable, so isolation is the only way to report it and go on; it also gives a clean peak RSS.
 */
function runChild(r: Row): Result {
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
    ],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
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
  const res = await benchRow(r);
  res.rssMb = process.resourceUsage().maxRSS / 1024;
  console.log('ROW ' + JSON.stringify(res));
  process.exit(0);
}

console.log(
  `MFMB-Net TypeScript benchmark: batch ${B}, D ${DIMS.join('/')}, median of ${steps} steps after ${warmup} warm-ups; ` +
    `${cpus().length} cores (${cpus()[0]?.model.trim()}), Node ${process.version}, tfjs ${tf.version.tfjs}; wasm runs 1 thread here; one process per row`,
);
const results: Result[] = [];
for (const r of rows) {
  const res = runChild(r);
  results.push(res);
  console.log(
    `  ${res.name.padEnd(22)} train ${fmt(res.trainMs).padStart(7)} ms  infer ${fmt(res.inferMs).padStart(7)} ms  ${res.note ?? ''}`,
  );
}
const ref = flag('reference') ? reference(rows) : null;
console.log(
  '\nrow                     params   train ms/step  infer ms/batch  tf.memory() after N train steps   peak RSS MB' +
    (ref ? '   PyTorch 1T train / infer ms   TS/PyTorch train / infer' : ''),
);
for (const [i, res] of results.entries()) {
  const r = rows[i];
  let line =
    `${res.name.padEnd(22)} ${res.params.toLocaleString('en-US').padStart(9)}  ${fmt(res.trainMs).padStart(13)}  ${fmt(res.inferMs).padStart(14)}  ` +
    `${String(res.tensors).padStart(6)} tensors, ${fmt(res.mb, 1).padStart(6)} MB after ${String(res.memSteps).padStart(2)}   ${fmt(res.rssMb).padStart(10)}`;
  const p = ref?.get(`${r.preset}-${SHAPES[r.shape].ref}`);
  if (ref) {
    line +=
      r.backend === 'wasm' && p
        ? `   ${fmt(p.train).padStart(12)} / ${fmt(p.infer).padStart(6)}   ${fmt((res.trainMs ?? NaN) / p.train, 2).padStart(8)} / ${fmt((res.inferMs ?? NaN) / p.infer, 2)}`
        : '   —';
  }
  console.log(line + (res.note ? `   ${res.note}` : ''));
}
