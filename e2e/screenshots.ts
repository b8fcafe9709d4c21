/**
 * The README's screenshots (`npm run screenshots`): the built app in Chromium on wasm, after the
 * Quick demo, written to docs/img/. Run it after a UI change and look at the images before
 * committing them.
 *
 *   npm run screenshots [-- --no-build]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumPath, launchGuarded, serveApp } from './env.ts';
import { byId, openApp, waitStatus } from './app.ts';

if (!chromiumPath()) {
  console.log('screenshots: Chromium not found (apt-get install -y chromium)');
  process.exit(1);
}
const OUT = join(import.meta.dirname, '..', 'docs', 'img');
mkdirSync(OUT, { recursive: true });

const server = await serveApp({ mode: 'preview', build: !process.argv.includes('--no-build'), log: console.log });
const browser = await launchGuarded({ kind: 'no-webgpu', origin: server.origin });
try {
  const { page } = browser;
  await page.setViewportSize({ width: 1440, height: 1000 });
  await openApp(page, `${server.appUrl}?backend=wasm&lesson=2`);
  // Let the presets' step timing finish, so the buttons show their durations.
  await page.waitForFunction(
    () => document.querySelector('[data-testid="preset-time-sweep-paper"]')?.getAttribute('data-seconds'),
    null,
    { timeout: 120_000 },
  );
  await byId(page, 'lesson-run').click();
  await waitStatus(page, 'running', 30_000);
  await waitStatus(page, 'done', 300_000);
  await page.waitForTimeout(1500); // the charts follow the store at most every 500 ms
  await page.evaluate(() => window.scrollTo(0, 0)); // the lesson scrolled to the chart it points at
  await page.waitForTimeout(300);
  await page.screenshot({
    path: join(OUT, 'app.png'),
    fullPage: true,
    clip: { x: 0, y: 0, width: 1440, height: 1350 },
  });
  console.log('docs/img/app.png');

  await byId(page, 'inspect-go').click();
  await byId(page, 'look-inside').locator('canvas').first().waitFor({ timeout: 60_000 });
  await page.waitForTimeout(500);
  await byId(page, 'look-inside').screenshot({ path: join(OUT, 'reconstruction.png') });
  console.log('docs/img/reconstruction.png');
  await byId(page, 'tab-hub').click();
  await page.waitForTimeout(500);
  await byId(page, 'look-inside').screenshot({ path: join(OUT, 'hub-attention.png') });
  console.log('docs/img/hub-attention.png');
  await byId(page, 'tab-sample').click();
  await page.waitForTimeout(500);
  await byId(page, 'look-inside').screenshot({ path: join(OUT, 'sample-inspector.png') });
  console.log('docs/img/sample-inspector.png');
  await byId(page, 'panel-runs').screenshot({ path: join(OUT, 'runs.png') });
  console.log('docs/img/runs.png');
} finally {
  await browser.close();
  await server.close();
}
