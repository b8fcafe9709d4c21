/**
 * Accessibility (WCAG 2.1 A and AA rules of axe-core, through @axe-core/playwright) on the app's
 * main views: the initial page; a field showing an error; after an ablation run (ablation view and
 * Table 5); after a Quick demo run (loss, validation and AUILC charts, the AUILC table); the Data
 * panel with a loaded file's summary; the same after a refused file. No view may have a serious or
 * critical violation; the others are listed under the test. No rule is disabled. Focus rings, which
 * axe does not check, are measured over the first 40 Tab stops: each ≥ 3:1 against its surroundings.
 * While a job trains, the live regions must stay quiet (they change on status changes only).
 *
 * All on wasm (the views are the same on every backend; SwiftShader would only cost time).
 */
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { budget, test, type AppInfo } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, ID, lossPoints, openApp, startJob, stepsDone, tinyConfig, urlWith, waitStatus } from '../app.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../src/core/data/files/__fixtures__/pickle/${name}`, import.meta.url));
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Runs axe on the page; returns the serious and critical violations as text (one line per rule). */
async function audit(page: Page, app: AppInfo, view: string): Promise<string[]> {
  const t0 = Date.now();
  const result = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const bad: string[] = [];
  const other: string[] = [];
  for (const v of result.violations) {
    const where = v.nodes
      .slice(0, 3)
      .map((n) => n.target.join(' '))
      .join(' | ');
    const line = `${view}: [${v.impact}] ${v.id} (${v.nodes.length}×) ${v.help} — ${where}`;
    if (v.impact === 'serious' || v.impact === 'critical') bad.push(line);
    else other.push(line);
  }
  app.log(
    `axe ${view}: ${result.passes.length} rules pass, ${result.violations.length} violated (${bad.length} serious/critical), ${result.incomplete.length} need review (${result.incomplete.map((r) => `${r.id} ${r.nodes.length}×`).join(', ') || 'none'}); ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  for (const l of [...bad, ...other]) app.log(`  ${l}`);
  return bad;
}

/**
 * Tabs through the first `count` focusable elements and measures each one's focus ring: the
 * outline of the element (or of what draws its ring: a toggle's track, a segmented group) against
 * the background it is drawn on. Returns [description, contrast] per element.
 */
async function focusRings(
  page: Page,
  count: number,
): Promise<{ what: string; contrast: number; color: string; bg: string }[]> {
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  const out: { what: string; contrast: number; color: string; bg: string }[] = [];
  for (let i = 0; i < count; i++) {
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const parse = (c: string): number[] | null => {
        const m = /rgba?\(([^)]+)\)/.exec(c);
        if (!m) return null;
        const p = m[1]!
          .split(/[ ,/]+/)
          .filter(Boolean)
          .map(Number);
        return p.length >= 4 && p[3] === 0 ? null : p.slice(0, 3);
      };
      const lum = (rgb: number[]): number => {
        const [r, g, b] = rgb.map((v) => {
          const c = v / 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const ringOf = (e: Element): Element => {
        const cs = getComputedStyle(e);
        if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) return e;
        const track = e.nextElementSibling;
        if (track?.classList.contains('toggle-track')) return track;
        return e.closest('.segmented') ?? e;
      };
      const ring = ringOf(el);
      const cs = getComputedStyle(ring);
      if (cs.outlineStyle === 'none' || parseFloat(cs.outlineWidth) === 0)
        return { what: el.outerHTML.slice(0, 80), contrast: 0, color: 'none', bg: '' };
      // The ring is drawn outside the element (outline-offset ≥ 0): its neighbour is the parent's background.
      let bgEl: Element | null = parseFloat(cs.outlineOffset) >= 0 ? ring.parentElement : ring;
      let bg: number[] | null = null;
      while (bgEl && !bg) {
        bg = parse(getComputedStyle(bgEl).backgroundColor);
        bgEl = bgEl.parentElement;
      }
      const color = parse(cs.outlineColor)!;
      const back = bg ?? [255, 255, 255];
      const [a, b] = [lum(color), lum(back)];
      return {
        what: `${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''}`,
        contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
        color: cs.outlineColor,
        bg: `rgb(${back.join(', ')})`,
      };
    });
    if (r) out.push(r);
  }
  return out;
}

test('the main views have no serious or critical accessibility violations (axe, WCAG 2.1 AA)', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(120_000));
  const bad: string[] = [];
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 1, testRates: [0, 1] }), 'wasm'), budget(60_000));
  bad.push(...(await audit(page, app, 'initial page')));

  // Focus rings (axe does not check them): ≥ 3:1 against what surrounds them (WCAG 1.4.11).
  const rings = await focusRings(page, 40);
  const weak = rings.filter((r) => r.contrast < 3);
  const minRing = Math.min(...rings.map((r) => r.contrast));
  app.figure('lowest focus-ring contrast over the first 40 Tab stops', Number(minRing.toFixed(2)), ': 1');
  for (const r of weak)
    bad.push(`focus ring of ${r.what}: ${r.color} on ${r.bg} is ${r.contrast.toFixed(2)}:1 (needs 3:1)`);

  // A field with an error: the message is linked to its input.
  const epochs = byId(page, ID.epochs);
  await epochs.fill('0');
  const described = await epochs.getAttribute('aria-describedby');
  assert(described, 'an input with an error should point to its message with aria-describedby');
  const message = (await page.locator(`[id="${described}"]`).innerText()).trim();
  assert(/≥\s*1/.test(message), `the epochs field's error should say the minimum: "${message}"`);
  assertEqual(await epochs.getAttribute('aria-invalid'), 'true', 'aria-invalid on the field with an error');
  bad.push(...(await audit(page, app, 'field error')));
  await epochs.press('Escape');
  await epochs.blur();

  // The ablation view and its Table 5 (four settings, one epoch each).
  await startJob(page, 'ablation');
  await waitStatus(page, 'done', budget(60_000));
  await byId(page, ID.ablationTable).waitFor({ state: 'visible' });
  bad.push(...(await audit(page, app, 'after an ablation run')));

  // Quick demo: loss, validation and AUILC charts, and the AUILC table.
  await byId(page, ID.preset('quick-demo')).click();
  await waitStatus(page, ['running', 'done'], budget(15_000));
  // While it runs: the progress bar must have a name and a value text.
  const bar = page.getByRole('progressbar').first();
  await bar.waitFor({ state: 'attached', timeout: budget(15_000) });
  assert(
    (await bar.getAttribute('aria-label')) || (await bar.getAttribute('aria-labelledby')),
    'the progress bar has no accessible name',
  );
  assert(await bar.getAttribute('aria-valuetext'), 'the progress bar has no value text');
  // Live regions speak on status changes only: over 3 s of training the progress numbers change
  // many times, what screen readers announce (aria-live, status, alert, output) at most once.
  await waitFor('a training step', async () => (await stepsDone(page)) >= 1, budget(15_000), 100);
  const churn = await page.evaluate(
    () =>
      new Promise<{ live: number; progress: number }>((resolve) => {
        const live = () =>
          [
            ...document.querySelectorAll(
              '[aria-live]:not([aria-live="off"]), [role="status"], [role="alert"], [role="log"], output',
            ),
          ]
            .map((e) => e.textContent)
            .filter(Boolean)
            .join('\u0001');
        const progress = () => document.querySelector('[data-testid="progress"]')?.textContent ?? '';
        const last = { live: live(), progress: progress() };
        const n = { live: 0, progress: 0 };
        const iv = setInterval(() => {
          for (const k of ['live', 'progress'] as const) {
            const now = k === 'live' ? live() : progress();
            if (now !== last[k]) {
              n[k]++;
              last[k] = now;
            }
          }
        }, 50);
        setTimeout(() => {
          clearInterval(iv);
          resolve(n);
        }, 3000);
      }),
  );
  app.log(`over 3 s of training: the progress line changed ${churn.progress}×, the live regions ${churn.live}×`);
  assert(
    churn.progress >= 3,
    `the progress line changed only ${churn.progress}× in 3 s: the live-region check measured nothing`,
  );
  assert(
    churn.live <= 1,
    `live regions changed ${churn.live}× in 3 s of training: screen readers would announce every step`,
  );
  await waitStatus(page, 'done', budget(60_000));
  assert((await lossPoints(page)) >= 2, 'the loss chart should show the Quick demo run');
  await byId(page, ID.auilcTable).waitFor({ state: 'visible' });
  bad.push(...(await audit(page, app, 'after a Quick demo run')));

  // Data panel with a loaded file's summary, then a refused file.
  await byId(page, 'file-input').setInputFiles(fixture('mmsa_unaligned_p5_np2.pkl'));
  await byId(page, 'file-summary').waitFor({ state: 'visible', timeout: budget(30_000) });
  bad.push(...(await audit(page, app, 'file summary')));
  await byId(page, 'file-input').setInputFiles(fixture('hostile_os_system_p2.pkl'));
  await byId(page, 'file-error').waitFor({ state: 'visible', timeout: budget(30_000) });
  bad.push(...(await audit(page, app, 'refused file')));

  assert(bad.length === 0, `serious or critical accessibility violations:\n${bad.join('\n')}`);
});
