/**
 * Node side of the browser benchmark, shared by bench/browser.ts and the e2e test: serves the
 * bench page (a `vite build` into a temporary folder + `vite preview`, or the dev server), and runs
 * one benchmark in a Playwright page until it leaves its result.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { freePort } from '../../e2e/env.ts';
import { queryFromParams, type BenchParams, type BenchResult } from './protocol.ts';

const CONFIG = fileURLToPath(new URL('./vite.config.ts', import.meta.url));

export interface BenchServer {
  url: string; // the bench page, ending in '/'
  origin: string;
  close(): Promise<void>;
}

/** `vite build` of the bench page into a fresh temporary folder (remove it with `dispose`). */
export async function buildBench(): Promise<{ dir: string; dispose(): void }> {
  const vite = await import('vite');
  const dir = mkdtempSync(join(tmpdir(), 'mfmb-bench-browser-'));
  await vite.build({ configFile: CONFIG, build: { outDir: dir } });
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function serveBench(opts: { dev: boolean; log?: (s: string) => void }): Promise<BenchServer> {
  const vite = await import('vite');
  const port = await freePort();
  const host = '127.0.0.1';
  const origin = `http://${host}:${port}`;
  if (opts.dev) {
    const server = await vite.createServer({ configFile: CONFIG, server: { host, port, strictPort: true } });
    await server.listen();
    return { url: `${origin}/`, origin, close: () => server.close() };
  }
  const t0 = Date.now();
  opts.log?.('building the bench page (vite build) ...');
  const built = await buildBench();
  const outDir = built.dir;
  opts.log?.(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const server = await vite.preview({
    configFile: CONFIG,
    build: { outDir },
    preview: { host, port, strictPort: true, open: false },
  });
  return {
    url: `${origin}/`,
    origin,
    async close() {
      await server.close();
      built.dispose();
    },
  };
}

/** Opens the bench page with `params` in `page` and waits for its result (throws its error). */
export async function runBenchInPage(
  page: Page,
  url: string,
  params: Partial<BenchParams>,
  opts: { timeoutMs: number; log?: (s: string) => void },
): Promise<BenchResult> {
  const onConsole = (m: { text(): string }): void => {
    const t = m.text();
    if (t.startsWith('[bench] ') && !t.startsWith('[bench] result ')) opts.log?.(t.slice(8));
  };
  page.on('console', onConsole);
  try {
    await page.goto(`${url}?${queryFromParams(params)}`, { waitUntil: 'load' });
    const handle = await page.waitForFunction(() => window.__benchResult ?? window.__benchError ?? null, null, {
      timeout: opts.timeoutMs,
      polling: 250,
    });
    const v = (await handle.jsonValue()) as BenchResult | string;
    if (typeof v === 'string') throw new Error(`the bench page failed: ${v}`);
    return v;
  } finally {
    page.off('console', onConsole);
  }
}
