/**
 * Two tabs of the app in one browser: a tab that opens while another trains leaves that job alone
 * (its owner holds a Web Lock), and a rename from the second tab writes only the name, so the
 * finished job keeps its epochs, runs and results. A share link carrying `__proto__` keys is
 * refused with a message and the app still renders.
 */
import type { Page } from '@playwright/test';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import {
  byId,
  ID,
  newestJobId,
  noticeText,
  openApp,
  runListStatuses,
  startJob,
  tinyConfig,
  urlWith,
  waitReady,
  waitStatus,
} from '../app.ts';

interface Stored {
  status: string;
  name: string;
  epochs: number;
  runs: number;
  results: boolean;
}

async function stored(page: Page, id: string): Promise<Stored | null> {
  return page.evaluate(
    (jobId) =>
      new Promise<Stored | null>((resolve) => {
        const req = indexedDB.open('mfmb-playground');
        req.onerror = () => resolve(null);
        req.onsuccess = () => {
          const db = req.result;
          const get = db.transaction('jobs', 'readonly').objectStore('jobs').get(jobId);
          get.onsuccess = () => {
            db.close();
            const j = get.result as
              { status: string; name: string; epochs: unknown[]; runs: unknown[]; results: unknown } | undefined;
            resolve(
              j
                ? { status: j.status, name: j.name, epochs: j.epochs.length, runs: j.runs.length, results: !!j.results }
                : null,
            );
          };
          get.onerror = () => resolve(null);
        };
      }),
    id,
  );
}

test('a second tab leaves a running job alone, and its rename keeps the finished results', async ({
  page,
  context,
  app,
}) => {
  test.setTimeout(budget(120_000));
  // Tab A trains the tiny model on wasm, long enough for tab B to open while it runs.
  const url = urlWith(app.url, tinyConfig({ epochs: 4, testRates: [0, 1] }), 'wasm');
  await openApp(page, url);
  await startJob(page, 'train');
  await waitStatus(page, 'running', budget(15_000));
  const id = await waitFor('the job in the runs list', () => newestJobId(page), budget(15_000), 100);
  await waitFor(
    'the running job to be saved',
    async () => (await stored(page, id))?.status === 'running',
    budget(15_000),
  );

  // Tab B opens on the same storage while A trains.
  const b = await context.newPage();
  await b.goto(url, { waitUntil: 'load' });
  await waitReady(b);
  // The runs table follows the store at most every 500 ms (useCalm): wait for it, briefly.
  const inB = await waitFor(
    "tab B to list tab A's job",
    async () => (await runListStatuses(b)).find((j) => j.id === id),
    budget(5_000),
  );
  assertEqual(inB.status, 'running', "A's job as tab B lists it");
  assertEqual((await stored(b, id))?.status, 'running', "A's job in IndexedDB after tab B opened");

  // A finishes; B follows it.
  await waitStatus(page, 'done', budget(90_000));
  const finished = await waitFor(
    'the finished job to be saved',
    async () => {
      const s = await stored(page, id);
      return s?.status === 'done' && s.results ? s : null;
    },
    budget(15_000),
  );
  app.log(`finished: ${finished.epochs} epochs, ${finished.runs} run(s)`);
  await waitFor(
    'tab B to show the job as done',
    async () => {
      const j = (await runListStatuses(b)).find((x) => x.id === id);
      return j?.status === 'done';
    },
    budget(15_000),
  );

  // Rename in B.
  await byId(b, `run-rename-${id}`).click();
  const input = byId(b, `run-name-input-${id}`);
  await input.fill('renamed in tab B');
  await input.press('Enter');
  const after = await waitFor(
    'the rename to land',
    async () => {
      const s = await stored(b, id);
      return s?.name === 'renamed in tab B' ? s : null;
    },
    budget(15_000),
  );
  assertEqual(after.status, 'done', 'status after the rename');
  assertEqual(after.epochs, finished.epochs, 'epoch records after the rename');
  assertEqual(after.runs, finished.runs, 'runs after the rename');
  assert(after.results, 'the results are gone after the rename');
  // and tab A, reloaded, still lists it done with its run
  await page.reload({ waitUntil: 'load' });
  await waitReady(page);
  const inA = await waitFor(
    'tab A to list the job after a reload',
    async () => (await runListStatuses(page)).find((j) => j.id === id),
    budget(5_000),
  );
  assert(inA.status === 'done' && /1 run\b/.test(inA.text), `tab A after a reload: ${JSON.stringify(inA)}`);
});

test('a share link carrying __proto__ keys is refused and the app renders', async ({ page, app }) => {
  test.setTimeout(budget(60_000));
  const json = '{"__proto__":{"hasOwnProperty":1},"train":{"epochs":3}}';
  const token = Buffer.from(json, 'utf8').toString('base64url');
  // The refusal is the first notice (a later worker message may replace it): read it as soon as it shows.
  await page.goto(`${app.url.split('#')[0]}#config=1.${token}&backend=wasm`, { waitUntil: 'load' });
  const text = await waitFor(
    'the refusal notice',
    async () => {
      const t = await noticeText(page);
      return t && /shared link/.test(t) ? t : null;
    },
    budget(15_000),
    20,
  );
  assert(/__proto__/.test(text), `the notice should name the key: "${text}"`);
  assert(await byId(page, ID.start).isVisible(), 'the app should still render its Start button');
  assertEqual(await byId(page, ID.epochs).inputValue(), '40', 'the epochs field keeps the default');
  const clean = await page
    .evaluate(() => ({}) as Record<string, unknown>)
    .then(() => page.evaluate(() => typeof ({} as { hasOwnProperty: unknown }).hasOwnProperty));
  assertEqual(clean, 'function', 'Object.prototype.hasOwnProperty in the page');
});
