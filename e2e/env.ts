/**
 * What playwright.config.ts, the test fixtures (fixtures.ts) and the measure scripts share: finding
 * Debian's Chromium and its flags, serving the app for the measure scripts (one `vite build`, then
 * `vite preview` on a free port; or the dev server), and guarding a browser context (every request
 * must stay on the app's origin; long main-thread tasks and the worker's steps are recorded from
 * the first script on).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';

export type BrowserKind =
  | 'webgpu' // Chromium with --enable-unsafe-webgpu: a SwiftShader (CPU) WebGPU adapter
  | 'no-webgpu'; // the same Chromium without it: navigator.gpu.requestAdapter() returns null

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

// ----------------------------------------------------------------------------- Chromium

export const CHROMIUM_HINT =
  "Install Debian's Chromium to run the browser tests:  sudo apt-get update && sudo apt-get install -y chromium " +
  '(another path through CHROMIUM_PATH; never `npx playwright install`: it downloads a browser, which these machines cannot).';

export function chromiumPath(): string | null {
  // CHROMIUM_PATH, when set, is the only candidate (so a wrong one is reported, not papered over).
  const candidates = process.env.CHROMIUM_PATH
    ? [process.env.CHROMIUM_PATH]
    : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((p) => existsSync(p)) ?? null;
}

/** Flags that work headless as root on these machines (shared/spec/ENVIRONMENT.md). */
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumFlags(kind: BrowserKind): string[] {
  return kind === 'webgpu' ? [...BASE_FLAGS, '--enable-unsafe-webgpu'] : [...BASE_FLAGS];
}

// ----------------------------------------------------------------------------- serving the app

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createNetServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface AppServer {
  origin: string; // http://127.0.0.1:PORT
  appUrl: string; // origin + '/'
  mode: 'preview' | 'dev';
  close(): Promise<void>;
}

/**
 * `preview`: `vite build` into dist/ (relative paths, as `npm run build`), then `vite preview` on a
 * free port — what users get from a static host. `dev`: the dev server (faster start, no build;
 * its HMR socket stays on the origin).
 */
export async function serveApp(opts: {
  mode: 'preview' | 'dev';
  build: boolean;
  log: (s: string) => void;
}): Promise<AppServer> {
  const vite = await import('vite');
  const port = await freePort();
  const host = '127.0.0.1';
  if (opts.mode === 'dev') {
    const server = await vite.createServer({ root: ROOT, logLevel: 'warn', server: { host, port, strictPort: true } });
    await server.listen();
    const origin = `http://${host}:${port}`;
    return { origin, appUrl: `${origin}/`, mode: 'dev', close: () => server.close() };
  }
  if (opts.build || !existsSync(join(ROOT, 'dist', 'index.html'))) {
    const t0 = Date.now();
    opts.log('building the app (vite build → dist/) ...');
    await vite.build({ root: ROOT, base: './', logLevel: 'warn' });
    opts.log(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } else {
    opts.log('reusing dist/ (--no-build)');
  }
  const server = await vite.preview({
    root: ROOT,
    base: './',
    logLevel: 'warn',
    preview: { host, port, strictPort: true, open: false },
  });
  const origin = `http://${host}:${port}`;
  return {
    origin,
    appUrl: `${origin}/`,
    mode: 'preview',
    close: () => server.close(),
  };
}

// ----------------------------------------------------------------------------- guarded contexts

/** Records every main-thread long task (> 50 ms) from the first script on, in window.__e2eLongTasks. */
export const LONGTASK_INIT = `(() => {
  const tasks = [];
  Object.defineProperty(window, '__e2eLongTasks', { value: tasks, configurable: true });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) tasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { tasks.push({ start: 0, duration: -1, error: String(e) }); }
})();`;

/**
 * Notes every 'step' message the page receives from its worker in window.__e2eSteps (page clock,
 * loss, the worker's steps/s), without touching the app's own handling of them: the tests check the
 * losses are real numbers (a backend that reads back zeros would otherwise draw a flat, plausible
 * chart) and e2e/measure.ts times the steps.
 */
export const STEP_LOG_INIT = `(() => {
  const steps = [];
  Object.defineProperty(window, '__e2eSteps', { value: steps, configurable: true });
  const Native = window.Worker;
  if (!Native) return;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        const m = e.data;
        if (m && m.type === 'step') steps.push({ t: performance.now(), index: m.index, epoch: m.epoch, step: m.step, stepsPerEpoch: m.stepsPerEpoch, sps: m.stepsPerSecond, loss: m.loss });
      });
    }
  };
})();`;

export function sameOrigin(url: string, origin: string): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:') || url === 'about:blank') return true;
  try {
    const u = new URL(url);
    const o = new URL(origin);
    // The dev server's HMR socket (ws://) is on the same host and port.
    return u.host === o.host && ['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol);
  } catch {
    return false;
  }
}

export interface ContextGuards {
  /** URLs requested off the app's origin (any scheme but data:/blob:). Must stay empty. */
  offOrigin: string[];
  /** Console errors, page errors and failed requests, for the failure report. */
  problems: string[];
}

/**
 * Installs the init scripts (long tasks; the worker's step messages unless `logSteps` is false) and
 * the request guards on `context`: every page of the context (present and future) and its workers
 * are watched. Call before the context's first page is created.
 */
export async function guardContext(
  context: BrowserContext,
  origin: string,
  opts: { logSteps?: boolean } = {},
): Promise<ContextGuards> {
  const offOrigin: string[] = [];
  const problems: string[] = [];
  await context.addInitScript(LONGTASK_INIT);
  if (opts.logSteps !== false) await context.addInitScript(STEP_LOG_INIT);
  // Context-level: covers every page and dedicated worker of the context.
  context.on('request', (req) => {
    const url = req.url();
    if (!sameOrigin(url, origin)) offOrigin.push(url);
  });
  context.on('requestfailed', (req) => {
    if (sameOrigin(req.url(), origin))
      problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? '?'})`);
  });
  const guard = (page: Page): void => {
    page.on('request', (req) => {
      const url = req.url();
      if (!sameOrigin(url, origin) && !offOrigin.includes(url)) offOrigin.push(url);
    });
    page.on('websocket', (ws) => {
      if (!sameOrigin(ws.url(), origin)) offOrigin.push(ws.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('worker', (w) => {
      w.on('console', (m) => {
        if (m.type() === 'error') problems.push(`worker console error: ${m.text()}`);
      });
    });
  };
  for (const p of context.pages()) guard(p);
  context.on('page', guard);
  return { offOrigin, problems };
}

export interface GuardedContext extends ContextGuards {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh persistent Chromium context (own profile), guarded; for the measure scripts. */
export async function launchGuarded(opts: {
  kind: BrowserKind;
  origin: string;
  downloadsPath?: string;
  logSteps?: boolean;
}): Promise<GuardedContext> {
  const { chromium } = await import('playwright-core');
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(`Chromium not found. ${CHROMIUM_HINT}`);
  const userDataDir = mkdtempSync(join(tmpdir(), 'mfmb-e2e-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: chromiumFlags(opts.kind),
    acceptDownloads: true,
    downloadsPath: opts.downloadsPath,
    viewport: { width: 1400, height: 1000 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(30_000);
  const guards = await guardContext(context, opts.origin, { logSteps: opts.logSteps });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    ...guards,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The longest main-thread task recorded so far on `page` (ms; 0 when none). */
export async function longestTask(page: Page, sinceMs = 0): Promise<number> {
  return page.evaluate((since) => {
    const tasks =
      (window as unknown as { __e2eLongTasks?: { start: number; duration: number }[] }).__e2eLongTasks ?? [];
    return tasks.filter((t) => t.start >= since).reduce((m, t) => Math.max(m, t.duration), 0);
  }, sinceMs);
}
