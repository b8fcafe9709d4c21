/**
 * The e2e suite's tiny test API. Test files (e2e/tests/*.e2e.ts) call `test(...)` at import time;
 * e2e/run.ts imports them, then runs every registered test one after another (the machine has two
 * cores and SwiftShader WebGPU is CPU-bound: parallel browsers would only thrash).
 */
import type { BrowserContext, Page } from 'playwright-core';

export type BrowserKind =
  | 'webgpu' // Chromium with --enable-unsafe-webgpu: a SwiftShader (CPU) WebGPU adapter
  | 'no-webgpu'; // the same Chromium without it: navigator.gpu.requestAdapter() returns null

export interface TestContext {
  /** A fresh persistent context (its own user data dir: IndexedDB starts empty) and one page in it. */
  context: BrowserContext;
  page: Page;
  /** Origin of the served app, e.g. http://127.0.0.1:41234 (no trailing slash). */
  origin: string;
  /** URL of the app's page. */
  appUrl: string;
  /** Opens another page in the same context (same IndexedDB), guarded like the first one. */
  newPage(): Promise<Page>;
  /** Prints a line under the test's result line. */
  log(msg: string): void;
  /** Records a figure for the final report (time to first loss point, steps/s, ...). */
  figure(name: string, value: number, unit: string): void;
  /** Where a test may write files (downloads, screenshots); kept after the run. */
  outDir: string;
}

export interface TestOptions {
  browser?: BrowserKind; // default 'webgpu'
  timeoutMs?: number; // default 120 s
}

export interface RegisteredTest {
  name: string;
  file: string;
  options: Required<TestOptions>;
  fn: (t: TestContext) => Promise<void>;
}

export const registry: RegisteredTest[] = [];
let currentFile = '';

export function setCurrentFile(file: string): void {
  currentFile = file;
}

export function test(name: string, fn: (t: TestContext) => Promise<void>, options: TestOptions = {}): void {
  registry.push({
    name,
    file: currentFile,
    options: { browser: options.browser ?? 'webgpu', timeoutMs: options.timeoutMs ?? 120_000 },
    fn,
  });
}

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function assertEqual<T>(actual: T, expected: T, msg: string): void {
  if (actual !== expected) throw new AssertionError(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Polls `fn` until it returns a truthy value (returned) or the time runs out (throws with `what`). */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
      lastError = null;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message.split('\n')[0]})` : '';
      throw new AssertionError(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
