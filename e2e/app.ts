/**
 * The app as the e2e tests see it: its data-testid names (src/ui/**) and the few actions the tests
 * repeat. When the UI renames something, this file is the one to change.
 */
import { readFileSync } from 'node:fs';
import type { Download, Locator, Page } from 'playwright-core';
import type { RunConfig } from '../src/core/config/config.ts';
import type { ResultsFile } from '../src/core/eval/results.ts';
import { quickDemoPreset } from '../src/state/presets.ts';
import { configToHash } from '../src/state/urlCodec.ts';
import { normalizeConfig } from '../src/core/config/validateConfig.ts';
import type { BackendName } from '../src/worker/protocol.ts';
import { assert, AssertionError, waitFor } from './checks.ts';

export const ID = {
  backendName: 'backend-name',
  backendSelect: 'backend-select',
  backendFallback: 'backend-fallback',
  notice: 'notice',
  progress: 'progress', // data-status = the store's JobStatus
  jobStatus: 'job-status',
  progressEpoch: 'progress-epoch',
  progressStep: 'progress-step',
  progressSpeed: 'progress-speed',
  jobKind: 'job-kind',
  start: 'start',
  pause: 'pause',
  resume: 'resume',
  stop: 'stop',
  memory: 'memory',
  memoryRefresh: 'memory-refresh',
  lossChart: 'loss-chart',
  auilcTable: 'auilc-table',
  ablationTable: 'ablation-table',
  paramCounts: 'param-counts',
  paramCount: (slug: 'all' | 'wo-macro' | 'wo-micro' | 'wo-recon') => `param-count-${slug}`,
  runsList: 'runs-list',
  exportJson: 'export-json',
  shareUrl: 'share-url',
  shareUrlText: 'share-url-text',
  preset: (id: 'quick-demo' | 'ablation' | 'sweep') => `preset-${id}`,
  dataSource: 'data-source',
  modelPreset: (p: 'tiny' | 'small' | 'base') => `model-preset-${p}`,
  epochs: 'train-epochs',
  lr: 'train-lr',
  seeds: 'train-seeds',
  testRates: 'missing-test-rates',
} as const;

export type JobStatus = 'idle' | 'running' | 'paused' | 'stopping' | 'done' | 'error';

// ----------------------------------------------------------------------------- configs and URLs

/**
 * The tiny model on synthetic:tiny (120 training samples: 5 steps an epoch at batch 24), one seed,
 * train-once at 30 %; `epochs`, the batch size and the test grid as asked.
 */
export function tinyConfig(
  opts: { epochs?: number; testRates?: number[]; seeds?: number[]; patience?: number; batchSize?: number } = {},
): RunConfig {
  const c = quickDemoPreset().config;
  // The Quick demo trains on synthetic:small at batch 60; these tests keep the faster tiny set.
  c.data.source = 'synthetic:tiny';
  c.train.epochs = opts.epochs ?? 1;
  c.train.batchSize = opts.batchSize ?? 24;
  c.train.patience = opts.patience ?? Math.max(c.train.patience, c.train.epochs);
  c.train.seeds = opts.seeds ?? [111];
  c.missing.testRates = opts.testRates ?? [0, 1];
  return normalizeConfig(c);
}

/** The app's URL with a config (and a backend unless 'auto') in the hash, as a shared link has them. */
export function urlWith(appUrl: string, config: RunConfig, backend: BackendName | 'auto' = 'auto'): string {
  return appUrl.split('#')[0] + configToHash(config, backend);
}

/**
 * The backend the long-running tests compute on. On this CPU-only machine SwiftShader WebGPU is
 * 10–70× slower than wasm, so full sweeps/ablations run on wasm by default; E2E_BACKEND=auto (or
 * webgpu, webgl, cpu) runs them on another.
 */
export function workBackend(): BackendName | 'auto' {
  const b = process.env.E2E_BACKEND ?? 'wasm';
  assert(
    ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'].includes(b),
    `E2E_BACKEND must be auto|webgpu|webgl|wasm|cpu, got ${b}`,
  );
  return b as BackendName | 'auto';
}

// ----------------------------------------------------------------------------- reading the page

export const byId = (page: Page, id: string) => page.getByTestId(id);

/** Opens the app and waits until the worker reports its backend and the stored runs are loaded. */
export async function openApp(page: Page, url: string, timeoutMs = 90_000): Promise<string> {
  await page.goto(url, { waitUntil: 'load' });
  return waitReady(page, timeoutMs);
}

export async function waitReady(page: Page, timeoutMs = 90_000): Promise<string> {
  const backend = await waitFor(
    'the backend to be reported (data-testid=backend-name)',
    async () => {
      const el = byId(page, ID.backendName);
      if (!(await el.count())) return null;
      const cls = (await el.getAttribute('class')) ?? '';
      const text = (await el.innerText()).trim();
      return !cls.includes('is-pending') && text && !/starting/i.test(text) ? text : null;
    },
    timeoutMs,
  );
  await waitFor(
    'the stored runs to load',
    async () => !/Loading stored runs/i.test(await byId(page, ID.runsList).innerText()),
    30_000,
  );
  return backend;
}

export async function jobStatus(page: Page): Promise<JobStatus> {
  return (await byId(page, ID.progress).getAttribute('data-status')) as JobStatus;
}

export async function waitStatus(page: Page, wanted: JobStatus | JobStatus[], timeoutMs = 120_000): Promise<JobStatus> {
  const list = Array.isArray(wanted) ? wanted : [wanted];
  let last: JobStatus | null = null;
  try {
    return await waitFor(
      `job status ${list.join(' or ')}`,
      async () => {
        last = await jobStatus(page);
        if (last === 'error' && !list.includes('error')) {
          const notice = await noticeText(page);
          throw new Error(`the job failed${notice ? `: ${notice}` : ''}`);
        }
        return list.includes(last) ? last : null;
      },
      timeoutMs,
      200,
    );
  } catch (e) {
    const notice = await noticeText(page).catch(() => null);
    throw new Error(`${(e as Error).message} (status ${last ?? '?'}${notice ? `; notice: ${notice}` : ''})`, {
      cause: e,
    });
  }
}

export async function noticeText(page: Page): Promise<string | null> {
  const n = byId(page, ID.notice);
  return (await n.count()) ? (await n.innerText()).trim() : null;
}

/** Epoch and step of the live progress line, or null before the first step. */
export async function progressStep(page: Page): Promise<{ epoch: number; step: number; stepsPerEpoch: number } | null> {
  const e = byId(page, ID.progressEpoch);
  const s = byId(page, ID.progressStep);
  if (!(await e.count()) || !(await s.count())) return null;
  const em = /epoch\s+(\d+)/.exec(await e.innerText());
  const sm = /step\s+(\d+)\s*\/\s*(\d+)/.exec(await s.innerText());
  if (!em || !sm) return null;
  return { epoch: Number(em[1]), step: Number(sm[1]), stepsPerEpoch: Number(sm[2]) };
}

/** Steps done so far in the current run (epochs × steps per epoch), or 0. */
export async function stepsDone(page: Page): Promise<number> {
  const p = await progressStep(page);
  if (!p) return 0;
  return Math.max(0, p.epoch - 1) * p.stepsPerEpoch + p.step;
}

export async function stepsPerSecond(page: Page): Promise<number | null> {
  const el = byId(page, ID.progressSpeed);
  if (!(await el.count())) return null;
  const m = /([\d.]+)\s*steps\/s/.exec(await el.innerText());
  return m ? Number(m[1]) : null;
}

/** What a canvas chart drew (src/ui/charts/LineCanvas.tsx writes it to `data-drawn`). */
export interface DrawnChart {
  width: number;
  height: number;
  series: { key: string; label: string; color: string; dash: number[]; points: [number, number][] }[];
  refs: { x: number; label: string; px: number }[];
  labels: { text: string; axis: 'x' | 'y' | 'title' | 'ref'; l: number; t: number; r: number; b: number }[];
}

/** What the first canvas chart inside `where` drew; fails when there is none (or it drew nothing yet). */
export async function drawn(where: Locator): Promise<DrawnChart> {
  const text = await where.locator('canvas[data-drawn]').first().getAttribute('data-drawn', { timeout: 10_000 });
  if (!text) throw new AssertionError('the chart has drawn nothing');
  return JSON.parse(text) as DrawnChart;
}

/**
 * Points drawn in the loss chart's first canvas (the per-step chart while it has steps) by its first
 * series, 0 when none: read from what the canvas drew (its `data-drawn` attribute, LineCanvas.tsx).
 */
export async function lossPoints(page: Page): Promise<number> {
  return page.evaluate((id) => {
    const canvas = document.querySelector(`[data-testid="${id}"] canvas[data-drawn]`);
    const drawn = JSON.parse(canvas?.getAttribute('data-drawn') ?? '{}') as { series?: { points: unknown[] }[] };
    return drawn.series?.[0]?.points.length ?? 0;
  }, ID.lossChart);
}

/**
 * Waits (polling inside the page, every animation frame) for the first loss point; returns when it
 * appeared (ms, page clock). Fails at once when the job ends in an error (with the app's notice).
 */
export async function waitFirstLossPoint(page: Page, timeoutMs: number): Promise<number> {
  const handle = await page.waitForFunction(
    (ids) => {
      const drawn = JSON.parse(
        document.querySelector(`[data-testid="${ids.chart}"] canvas[data-drawn]`)?.getAttribute('data-drawn') ?? '{}',
      ) as { series?: { points: unknown[] }[] };
      if ((drawn.series?.[0]?.points.length ?? 0) > 0) return { at: performance.now(), error: null };
      if (document.querySelector(`[data-testid="${ids.progress}"]`)?.getAttribute('data-status') === 'error') {
        const notice = document.querySelector(`[data-testid="${ids.notice}"]`)?.textContent ?? '';
        return { at: 0, error: notice || 'the job ended with an error' };
      }
      return false;
    },
    { chart: ID.lossChart, progress: ID.progress, notice: ID.notice },
    { timeout: timeoutMs, polling: 'raf' },
  );
  const r = (await handle.jsonValue()) as { at: number; error: string | null };
  if (r.error)
    throw new AssertionError(`the job failed before its first loss point: ${r.error.replace(/×$/, '').trim()}`);
  return r.at;
}

export interface StepMessage {
  t: number; // page clock, ms
  index: number; // run index in the job
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  sps: number;
  loss: number;
}

/** The worker's 'step' messages the page received so far (recorded by env.ts's init script). */
export async function stepMessages(page: Page): Promise<StepMessage[]> {
  return page.evaluate(() => ((window as unknown as { __e2eSteps?: unknown[] }).__e2eSteps ?? []) as never);
}

/** Fails unless the step losses received so far are finite, positive and (two or more) not all equal. */
export async function assertRealLosses(page: Page): Promise<StepMessage[]> {
  const steps = await stepMessages(page);
  assert(steps.length > 0, 'no step messages reached the page');
  const losses = steps.map((s) => s.loss);
  assert(
    losses.every((l) => Number.isFinite(l) && l > 0),
    `step losses should be finite and > 0: ${losses.slice(0, 8).join(', ')}`,
  );
  if (losses.length >= 2)
    assert(new Set(losses).size > 1, `every step loss is ${losses[0]}: the backend computes nothing real`);
  return steps;
}

/** Why the app did not take a backend (backend-name's tooltip lists every failed attempt). */
export async function backendFailures(page: Page): Promise<string> {
  return ((await byId(page, ID.backendName).getAttribute('title')) ?? '').replace(/\n/g, '; ');
}

/** tf.memory().numTensors of the worker, through the page's "worker memory: N tensors · X MiB  refresh" line. */
export async function workerTensors(page: Page): Promise<number> {
  const line = byId(page, ID.memory);
  await byId(page, ID.memoryRefresh).click();
  // An idle worker answers within milliseconds; the line does not change when the count is the same.
  await page.waitForTimeout(300);
  const text = await waitFor(
    'a tensor count in the worker memory line',
    async () => {
      const s = await line.innerText();
      return /[\d,]+\s+tensors/.test(s) ? s : null;
    },
    10_000,
    100,
  );
  return Number(/([\d,]+)\s+tensors/.exec(text)![1]!.replace(/,/g, ''));
}

/** The id of the newest job in the runs list (list items are data-testid="run-<id>", newest first). */
export async function newestJobId(page: Page): Promise<string | null> {
  const items = page.locator(`[data-testid="${ID.runsList}"] > [data-testid^="run-"]`);
  if (!(await items.count())) return null;
  return ((await items.first().getAttribute('data-testid')) ?? '').replace(/^run-/, '') || null;
}

export async function runListStatuses(page: Page): Promise<{ id: string; status: string; text: string }[]> {
  const items = page.locator(`[data-testid="${ID.runsList}"] > [data-testid^="run-"]`);
  const out: { id: string; status: string; text: string }[] = [];
  for (let i = 0; i < (await items.count()); i++) {
    const li = items.nth(i);
    out.push({
      id: ((await li.getAttribute('data-testid')) ?? '').replace(/^run-/, ''),
      status: (await li.getAttribute('data-status')) ?? '',
      text: (await li.innerText()).replace(/\s+/g, ' ').trim(),
    });
  }
  return out;
}

// ----------------------------------------------------------------------------- acting

export async function startJob(page: Page, kind: 'train' | 'sweep' | 'ablation'): Promise<number> {
  await byId(page, ID.jobKind).selectOption(kind);
  const t = await page.evaluate(() => performance.now());
  await byId(page, ID.start).click();
  return t;
}

/** Types into a number / number-list field and commits it (the fields commit on Enter and on blur). */
export async function setField(page: Page, id: string, value: string): Promise<void> {
  const input = byId(page, id);
  await input.fill(value);
  await input.press('Enter');
  await input.blur();
}

/** Clicks a segmented choice (its radio input is invisible: click the label around it). */
export async function choose(page: Page, id: string): Promise<void> {
  await byId(page, id).locator('xpath=..').click();
}

/** Clicks a button that downloads a file; returns the file's text and name. */
export async function download(page: Page, id: string): Promise<{ name: string; text: string; download: Download }> {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), byId(page, id).click()]);
  const path = await dl.path();
  assert(path, 'the download has no file');
  return { name: dl.suggestedFilename(), text: readFileSync(path, 'utf8'), download: dl };
}

export async function exportResults(page: Page): Promise<ResultsFile> {
  const { text, name } = await download(page, ID.exportJson);
  assert(name.endsWith('.json'), `exported file name ${name} does not end in .json`);
  const doc = JSON.parse(text) as ResultsFile;
  assert(doc.schema === 'mfmb-results/1', `exported schema is ${String(doc.schema)}`);
  return doc;
}

/** Parses the numbers of a table cell such as "0.812 ± 0.004 / 1.2" or "61.7/62.0" (— = null). */
export function cellNumbers(text: string): (number | null)[] {
  const out: (number | null)[] = [];
  for (const tok of text.matchAll(/—|-?\d+(?:\.\d+)?/g)) out.push(tok[0] === '—' ? null : Number(tok[0]));
  return out;
}

/** Decimals shown in the token for `v` in `text` (the table rounds: compare within half a unit of the last digit). */
export function decimalsOf(text: string): number[] {
  return [...text.matchAll(/—|-?\d+(?:\.(\d+))?/g)].map((m) => (m[0] === '—' ? 0 : (m[1]?.length ?? 0)));
}

/**
 * The tfjs-wasm binaries the page's workers fetch from now on, by their package names (the build
 * adds a hash: tfjs-backend-wasm-threaded-simd-AbC123.wasm → tfjs-backend-wasm-threaded-simd.wasm).
 * A live array: call before opening the app, read after.
 */
export function wasmBinariesLoaded(page: Page): string[] {
  const seen: string[] = [];
  page.context().on('request', (r) => {
    const m = /(tfjs-backend-wasm(?:-threaded-simd|-simd)?)(?:-[\w-]{6,})?\.wasm(?:$|\?(?!import))/.exec(r.url());
    if (m) seen.push(`${m[1]}.wasm`);
  });
  return seen;
}
