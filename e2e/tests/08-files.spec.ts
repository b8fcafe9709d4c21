/**
 * Feature files in the browser: a Python-written MMSA pickle goes in through the Data panel's file
 * input, the summary shows what it holds, and the tiny model trains on it for one epoch. Then a
 * hostile pickle (its REDUCE would call os.system) is refused with the global named, nothing else
 * changes, and the previous file trains again. Last, a file dropped on the drop zone loads too, and
 * "samples per split" re-reads it with only the first N samples of each split.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import {
  byId,
  exportResults,
  ID,
  openApp,
  setField,
  startJob,
  tinyConfig,
  urlWith,
  waitStatus,
  workBackend,
} from '../app.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../src/core/data/files/__fixtures__/pickle/${name}`, import.meta.url));

test('a Python-written pickle loads, trains one epoch; a hostile one is refused and the previous data trains again', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(budget(90_000)));
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 1, testRates: [0, 0.5] }), workBackend()));

  await byId(page, 'file-input').setInputFiles(fixture('mmsa_unaligned_p5_np2.pkl'));
  await byId(page, 'file-summary').waitFor({ state: 'visible', timeout: budget(60_000) });
  const name = (await byId(page, 'file-name').innerText()).trim();
  assertEqual(name, 'mmsa_unaligned_p5_np2.pkl', 'file name in the summary');
  assertEqual((await byId(page, 'file-layout').innerText()).trim(), 'unaligned', 'layout in the summary');
  const splits = await byId(page, 'file-splits').innerText();
  app.log(`summary splits:\n${splits}`);
  assert(/train\s+6/.test(splits), 'the splits table should list the sample counts');
  assert(
    /audio_lengths/.test(await byId(page, 'file-fields').innerText()),
    'the fields table should list audio_lengths',
  );
  assertEqual(await byId(page, ID.dataSource).inputValue(), 'file:mmsa_unaligned_p5_np2.pkl', 'selected data source');
  assert(
    /dropped text positions become zeros/.test(await byId(page, 'file-text-masking').innerText()),
    'the text-masking note should say zeros replace dropped text',
  );

  await startJob(page, 'train');
  await waitStatus(page, 'done', budget(60_000));
  const first = await exportResults(page);
  assertEqual(first.dataset.source, 'file:mmsa_unaligned_p5_np2.pkl', 'results file dataset source');
  assert(first.runs.length === 1 && first.runs[0]!.epochs.length === 1, 'one run of one epoch');
  assert(
    first.runs[0]!.test.every((r) => Number.isFinite(r.metrics.mae)),
    'finite test MAE at every rate',
  );

  await byId(page, 'file-input').setInputFiles(fixture('hostile_os_system_p2.pkl'));
  const error = byId(page, 'file-error');
  await error.waitFor({ state: 'visible', timeout: budget(30_000) });
  const msg = await error.innerText();
  app.log(`refusal: ${msg.replace(/\s+/g, ' ')}`);
  assert(/refused global posix\.system/.test(msg), `the refusal should name posix.system: ${msg}`);
  assert(/Still using mmsa_unaligned_p5_np2\.pkl/.test(msg), 'the refusal should say the previous file stays in use');
  assertEqual(
    await byId(page, ID.dataSource).inputValue(),
    'file:mmsa_unaligned_p5_np2.pkl',
    'data source after the refusal',
  );

  await startJob(page, 'train');
  await waitStatus(page, 'done', budget(60_000));
  await waitFor(
    'a second finished job',
    async () => (await page.locator(`[data-testid="${ID.runsList}"] > [data-status="done"]`).count()) >= 2,
    budget(30_000),
  );
  const second = await exportResults(page);
  assertEqual(second.dataset.source, 'file:mmsa_unaligned_p5_np2.pkl', 'the second job trains on the previous file');

  // Drag and drop: a File made in the page from the fixture's bytes, dropped on the zone.
  const bytes = Array.from(readFileSync(fixture('mmsa_aligned_p4_np2.pkl')));
  await page.evaluate((data) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data)], 'dropped.pkl'));
    const zone = document.querySelector('[data-testid="file-dropzone"]')!;
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  await waitFor(
    'the dropped file to load',
    async () => ((await byId(page, 'file-name').innerText()).trim() === 'dropped.pkl' ? true : null),
    budget(30_000),
  );
  assertEqual(await byId(page, ID.dataSource).inputValue(), 'file:dropped.pkl', 'data source after the drop');
  assertEqual((await byId(page, 'file-layout').innerText()).trim(), 'aligned', 'layout of the dropped file');

  await setField(page, 'file-limit', '3');
  await waitFor(
    'the dropped file re-read with 3 samples per split',
    async () => (/train\s+3 of 6/.test(await byId(page, 'file-splits').innerText()) ? true : null),
    budget(30_000),
  );
  assertEqual(await byId(page, ID.dataSource).inputValue(), 'file:dropped.pkl', 'data source after the re-read');
});
