/**
 * Training speed of the app in Chromium on each tfjs backend (`npm run measure`):
 *
 *   npm run measure [-- --backends webgpu,webgl,wasm,cpu] [--epochs 3] [--dev] [--no-build] [--json FILE]
 *
 * For each backend: a fresh Chromium profile (with --enable-unsafe-webgpu), the app opened with the
 * tiny model on synthetic:tiny (5 steps an epoch at batch 24) and `#backend=NAME`, one training job.
 * Reported: time from Start to the first loss point drawn (and to the worker's first 'step'
 * message), steps per second from the worker's step messages (epochs after the first, validation
 * excluded), seconds per epoch as the results file records them (validation included).
 * On this CPU-only machine WebGPU and WebGL run on SwiftShader: correctness, not speed.
 */
import { writeFileSync } from 'node:fs';
import type { ResultsFile } from '../src/core/eval/results.ts';
import { chromiumPath, launchGuarded, serveApp } from './env.ts';
import { exportResults, openApp, startJob, tinyConfig, urlWith, waitFirstLossPoint, waitStatus } from './app.ts';
import type { BackendName } from '../src/worker/protocol.ts';

const argv = process.argv.slice(2);
const valueOf = (name: string): string | null => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : null;
};
const backends = (valueOf('--backends') ?? 'webgpu,webgl,wasm,cpu').split(',').map((s) => s.trim()) as BackendName[];
const epochs = Number(valueOf('--epochs') ?? 3);
const jsonOut = valueOf('--json');
const perBackendTimeoutMs = Number(valueOf('--timeout') ?? 300) * 1000;

if (!chromiumPath()) {
  console.log('measure: Chromium not found (apt-get install -y chromium)');
  process.exit(process.env.CI ? 1 : 0);
}

interface Row {
  backend: string;
  active: string;
  firstStepS: number | null;
  firstPointS: number | null;
  stepsPerSecond: number | null;
  workerEstimate: number | null;
  epochSeconds: number[];
  pageLoadS: number;
  error?: string;
}

interface StepLog {
  t: number;
  index: number;
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  sps: number;
}

const server = await serveApp({
  mode: argv.includes('--dev') ? 'dev' : 'preview',
  build: !argv.includes('--no-build'),
  log: (s) => console.log(`measure: ${s}`),
});
console.log(`measure: serving ${server.appUrl}; tiny model, synthetic:tiny, ${epochs} epoch(s) per backend`);
const rows: Row[] = [];

for (const backend of backends) {
  const g = await launchGuarded({ kind: 'webgpu', origin: server.origin, logSteps: true });
  const row: Row = {
    backend,
    active: '?',
    firstStepS: null,
    firstPointS: null,
    stepsPerSecond: null,
    workerEstimate: null,
    epochSeconds: [],
    pageLoadS: 0,
  };
  const t0 = Date.now();
  try {
    const page = g.page;
    row.active = await openApp(
      page,
      urlWith(server.appUrl, tinyConfig({ epochs, testRates: [0, 1], patience: epochs }), backend),
      120_000,
    );
    row.pageLoadS = (Date.now() - t0) / 1000;
    const clicked = await startJob(page, 'train');
    const first = await waitFirstLossPoint(page, perBackendTimeoutMs);
    row.firstPointS = (first - clicked) / 1000;
    await waitStatus(page, 'done', perBackendTimeoutMs);
    const steps = (await page.evaluate(() => (window as unknown as { __e2eSteps: unknown[] }).__e2eSteps)) as StepLog[];
    if (steps.length) row.firstStepS = (steps[0]!.t - clicked) / 1000;
    // Steps per second within each epoch after the first (the first carries kernel compilation and warm-up).
    let n = 0;
    let ms = 0;
    for (let e = 2; e <= epochs; e++) {
      const inEpoch = steps.filter((s) => s.epoch === e && s.index === 0);
      if (inEpoch.length >= 2) {
        n += inEpoch[inEpoch.length - 1]!.step - inEpoch[0]!.step;
        ms += inEpoch[inEpoch.length - 1]!.t - inEpoch[0]!.t;
      }
    }
    if (n > 0 && ms > 0) row.stepsPerSecond = n / (ms / 1000);
    else if (steps.length >= 2) {
      const a = steps[0]!;
      const b = steps[steps.length - 1]!;
      const done = (b.epoch - a.epoch) * b.stepsPerEpoch + b.step - a.step;
      row.stepsPerSecond = done / ((b.t - a.t) / 1000);
    }
    row.workerEstimate = steps.length ? steps[steps.length - 1]!.sps : null;
    const doc: ResultsFile = await exportResults(page);
    row.epochSeconds = doc.runs[0]?.epochs.map((e) => e.seconds) ?? [];
    if (g.offOrigin.length) row.error = `requests left the origin: ${g.offOrigin.slice(0, 3).join(', ')}`;
  } catch (e) {
    row.error = (e as Error).message.split('\n')[0];
  } finally {
    await g.close();
  }
  rows.push(row);
  const f = (v: number | null, d = 2) => (v === null ? '—' : v.toFixed(d));
  console.log(
    `measure: ${backend.padEnd(6)} → ran on ${row.active.padEnd(6)} first step ${f(row.firstStepS)} s, first point ${f(row.firstPointS)} s, ` +
      `${f(row.stepsPerSecond)} steps/s, epochs ${row.epochSeconds.map((s) => s.toFixed(1)).join('/') || '—'} s${row.error ? `  ERROR: ${row.error}` : ''}`,
  );
}
await server.close();

console.log('');
console.log(
  '| requested | ran on | Start → first step | Start → first loss point | steps/s (epochs ≥ 2) | s per epoch (incl. validation) |',
);
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  const f = (v: number | null, d = 2) => (v === null ? '—' : v.toFixed(d));
  console.log(
    `| ${r.backend} | ${r.active} | ${f(r.firstStepS)} s | ${f(r.firstPointS)} s | ${f(r.stepsPerSecond)} | ${r.epochSeconds.map((s) => s.toFixed(1)).join(' / ') || '—'} |${r.error ? ` ${r.error}` : ''}`,
  );
}
if (jsonOut)
  writeFileSync(
    jsonOut,
    `${JSON.stringify({ createdAt: new Date().toISOString(), epochs, model: 'tiny', data: 'synthetic:tiny', rows }, null, 2)}\n`,
  );
process.exit(rows.some((r) => r.error) ? 1 : 0);
