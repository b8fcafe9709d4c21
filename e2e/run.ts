/**
 * The end-to-end runner (`npm run test:e2e`): builds the app once, serves dist/ with `vite preview`
 * on a free port, and runs every e2e/tests/*.e2e.ts test in Debian's Chromium through
 * playwright-core, one after another, each in a fresh persistent context. Prints one line per test,
 * the figures the tests recorded, and last a line `N passed, M failed`; exits 1 on any failure.
 *
 *   npm run test:e2e [-- --grep TEXT] [--dev] [--no-build] [--list]
 *
 * Without Chromium: in CI (env CI set) that is a failure (CI installs it); elsewhere the suite is
 * skipped with the command that installs it.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AssertionError, registry, setCurrentFile, type RegisteredTest, type TestContext } from './harness.ts';
import { chromiumPath, launchGuarded, longestTask, ROOT, serveApp, type AppServer } from './env.ts';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const valueOf = (name: string): string | null => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : null;
};
if (flag('--help') || flag('-h')) {
  console.log('usage: npm run test:e2e [-- --grep TEXT] [--dev] [--no-build] [--list]');
  process.exit(0);
}
const grep = valueOf('--grep') ?? process.env.E2E_GREP ?? null;
const SUITE_BUDGET_MS = Number(process.env.E2E_BUDGET_MS ?? 15 * 60_000);

const out = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

// ----------------------------------------------------------------------------- Chromium present?

const chromium = chromiumPath();
if (!chromium) {
  if (process.env.CI) {
    out(`e2e: FAILED — Chromium not found at ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'} (CI must install it: apt-get update && apt-get install -y chromium)`);
    out('0 passed, 1 failed');
    process.exit(1);
  }
  out(`e2e: SKIPPED — Chromium not found at ${process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'}.`);
  out('     Install Debian\'s Chromium to run the browser tests:  sudo apt-get update && sudo apt-get install -y chromium');
  out('     (never `npx playwright install`: it downloads a browser, which these machines cannot.)');
  process.exit(0);
}

// ----------------------------------------------------------------------------- load the tests

const testsDir = join(ROOT, 'e2e', 'tests');
const files = readdirSync(testsDir)
  .filter((f) => f.endsWith('.e2e.ts'))
  .sort();
for (const f of files) {
  setCurrentFile(f);
  await import(pathToFileURL(join(testsDir, f)).href);
}
const selected = registry.filter((t) => !grep || `${t.file} ${t.name}`.toLowerCase().includes(grep.toLowerCase()));
if (flag('--list')) {
  for (const t of selected) out(`${t.file}: ${t.name} [${t.options.browser}]`);
  process.exit(0);
}

// ----------------------------------------------------------------------------- serve and run

const outDir = join(ROOT, 'test-results', 'e2e');
mkdirSync(outDir, { recursive: true });
const suiteStart = Date.now();
out(`e2e: ${selected.length} test(s) in Chromium ${chromium}`);
let server: AppServer;
try {
  server = await serveApp({ mode: flag('--dev') ? 'dev' : 'preview', build: !flag('--no-build'), log: (s) => out(`e2e: ${s}`) });
} catch (e) {
  out(`e2e: could not build or serve the app: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  out(`0 passed, ${selected.length || 1} failed`);
  process.exit(1);
}
out(`e2e: serving ${server.appUrl} (${server.mode})`);

interface Figure {
  test: string;
  name: string;
  value: number;
  unit: string;
}
const figures: Figure[] = [];
let passed = 0;
let failed = 0;

async function runOne(t: RegisteredTest, index: number): Promise<void> {
  const t0 = Date.now();
  const notes: string[] = [];
  const label = `${String(index + 1).padStart(2)} ${t.name}`;
  if (Date.now() - suiteStart > SUITE_BUDGET_MS) {
    failed++;
    out(`FAIL ${label} — not run: the suite's ${SUITE_BUDGET_MS / 60_000} min budget is spent`);
    return;
  }
  let g: Awaited<ReturnType<typeof launchGuarded>> | null = null;
  let error: unknown = null;
  let timer: NodeJS.Timeout | undefined;
  try {
    g = await launchGuarded({ kind: t.options.browser, origin: server.origin, downloadsPath: outDir });
    const guarded = g;
    const ctx: TestContext = {
      context: guarded.context,
      page: guarded.page,
      origin: server.origin,
      appUrl: server.appUrl,
      newPage: () => guarded.context.newPage(),
      log: (m) => notes.push(m),
      figure: (name, value, unit) => figures.push({ test: t.name, name, value, unit }),
      outDir,
    };
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new AssertionError(`timed out after ${t.options.timeoutMs / 1000} s`)), t.options.timeoutMs);
    });
    const running = t.fn(ctx);
    running.catch(() => {}); // after a timeout the test's own rejection must not crash the runner
    await Promise.race([running, timeout]);
    if (guarded.offOrigin.length) {
      throw new AssertionError(`requests left the origin ${server.origin}: ${[...new Set(guarded.offOrigin)].slice(0, 5).join(', ')}`);
    }
  } catch (e) {
    error = e;
  } finally {
    clearTimeout(timer);
  }
  if (g) {
    try {
      const lt = await longestTask(g.page);
      if (lt > 0) notes.push(`longest main-thread task ${lt.toFixed(0)} ms`);
    } catch {
      /* page gone */
    }
    if (error) {
      const shot = join(outDir, `${String(index + 1).padStart(2, '0')}-${t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 50)}.png`);
      await g.page.screenshot({ path: shot, fullPage: true, timeout: 10_000 }).then(
        () => notes.push(`screenshot: ${relative(ROOT, shot)}`),
        () => {},
      );
      for (const p of g.problems.slice(0, 8)) notes.push(p);
      if (g.offOrigin.length && !(error instanceof AssertionError && error.message.includes('left the origin'))) {
        notes.push(`also: requests left the origin: ${[...new Set(g.offOrigin)].slice(0, 5).join(', ')}`);
      }
    }
    await g.close();
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (error) {
    failed++;
    const msg = error instanceof AssertionError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    out(`FAIL ${label} (${secs} s) — ${msg.split('\n').slice(0, 6).join('\n       ')}`);
  } else {
    passed++;
    out(`ok   ${label} (${secs} s)`);
  }
  for (const n of notes) out(`       ${n}`);
}

for (let i = 0; i < selected.length; i++) await runOne(selected[i]!, i);
await server.close().catch(() => {});

if (figures.length) {
  out('e2e figures:');
  for (const f of figures) out(`  ${f.name}: ${Number.isInteger(f.value) ? f.value : f.value.toFixed(3)} ${f.unit}  (${f.test})`);
}
out(`e2e: total ${((Date.now() - suiteStart) / 1000).toFixed(0)} s`);
out(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || selected.length === 0 ? 1 : 0);
