/**
 * Hostile and slow feature files in the browser (the limits suite's browser half; the Node half is
 * src/core/data/files/limits.test.ts). Files are generated here: a deflate bomb whose directory
 * declares far more than its .npy shape needs, overlapping zip entries, a slow but honest 1 GiB
 * entry that is cancelled, and a pickle with 65,000 fields. Each is refused within 5 s or cancelled
 * within 1 s, and the file loaded before stays selected; the 65,000 fields render as 50 rows.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { budget, test } from '../fixtures.ts';
import { assert, assertEqual, waitFor } from '../checks.ts';
import { byId, ID, openApp, tinyConfig, urlWith, workBackend } from '../app.ts';
import {
  deflatedZeros,
  mmsaEntries,
  mmsaPickle,
  npyHeader,
  virtualSource,
  zipSegments,
  type ZipEntry,
} from '../../src/core/data/files/__fixtures__/hostile.ts';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../src/core/data/files/__fixtures__/pickle/${name}`, import.meta.url));
const MiB = 1 << 20;

async function zipBytes(entries: ZipEntry[]): Promise<Buffer> {
  const src = virtualSource(zipSegments(entries));
  return Buffer.from(await src.read(0, src.size));
}

/** A bomb: train/audio's directory entry declares 1 GiB more than its shape needs. */
function bomb(): ZipEntry[] {
  const entries = mmsaEntries();
  const k = entries.findIndex((e) => e.name === 'train/audio.npy');
  const head = entries[k].data as Uint8Array;
  entries[k] = { name: 'train/audio.npy', deflated: deflatedZeros(head, 1024 * MiB), size: head.length + 1024 * MiB };
  return entries;
}

/** Seven directory entries sharing one deflated 1 GiB stream. */
function overlap(): ZipEntry[] {
  const head = npyHeader('<f4', [262144, 16, 16]);
  const data = deflatedZeros(head, 1024 * MiB);
  const size = head.length + 1024 * MiB;
  const entries: ZipEntry[] = [{ name: 'train/text.npy', deflated: data, size }];
  for (const n of ['train/audio', 'train/vision', 'valid/text', 'valid/audio', 'valid/vision', 'test/text'])
    entries.push({ name: `${n}.npy`, deflated: data, size, sameDataAs: 0 });
  return entries;
}

/** Honest but slow: train/text is 1 GiB of float32 zeros, deflated (about 1 MB). */
function slow(): ZipEntry[] {
  const N = 262144;
  const zeros = (shape: number[]) => {
    const h = npyHeader('<f4', shape);
    const b = new Uint8Array(h.length + shape.reduce((x, y) => x * y, 4));
    b.set(h);
    return b;
  };
  const text = npyHeader('<f4', [N, 1, 1024]);
  const entries: ZipEntry[] = [
    { name: 'train/text.npy', deflated: deflatedZeros(text, N * 4096), size: text.length + N * 4096 },
    // Deflated too, so the file handed to the page stays small (about 1 MB).
    { name: 'train/audio.npy', data: zeros([N, 1, 3]), method: 8 },
    { name: 'train/vision.npy', data: zeros([N, 1, 4]), method: 8 },
    { name: 'train/regression_labels.npy', data: zeros([N]), method: 8 },
  ];
  for (const [split, n] of [
    ['valid', 3],
    ['test', 4],
  ] as const) {
    entries.push(
      { name: `${split}/text.npy`, data: zeros([n, 1, 1024]) },
      { name: `${split}/audio.npy`, data: zeros([n, 1, 3]) },
      { name: `${split}/vision.npy`, data: zeros([n, 1, 4]) },
      { name: `${split}/regression_labels.npy`, data: zeros([n]) },
    );
  }
  return entries;
}

async function dataSource(page: Page): Promise<string> {
  return byId(page, ID.dataSource).inputValue();
}

/** Sets a file and waits for its refusal; returns the message and the seconds it took. */
async function refused(page: Page, name: string, buffer: Buffer): Promise<{ msg: string; s: number }> {
  const t0 = Date.now();
  await byId(page, 'file-input').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
  const msg = await waitFor(
    `${name} to be refused`,
    async () => {
      const e = byId(page, 'file-error');
      if (!(await e.isVisible())) return null;
      const text = await e.innerText();
      return text.includes(name) ? text : null;
    },
    budget(10_000),
    50,
  );
  return { msg, s: (Date.now() - t0) / 1000 };
}

test('bombs are refused within 5 s, a slow file is cancelled within 1 s, the previous file stays selected', async ({
  page,
  app,
}) => {
  test.setTimeout(budget(120_000));
  await openApp(page, urlWith(app.url, tinyConfig({ epochs: 1 }), workBackend()));

  await byId(page, 'file-input').setInputFiles(fixture('mmsa_aligned_p4_np2.pkl'));
  await byId(page, 'file-summary').waitFor({ state: 'visible', timeout: budget(60_000) });
  const before = 'file:mmsa_aligned_p4_np2.pkl';
  assertEqual(await dataSource(page), before, 'data source after the valid file');

  for (const [name, entries, pattern] of [
    ['bomb.npz', bomb(), /declares \d+ bytes uncompressed/],
    ['overlap.npz', overlap(), /overlap/],
  ] as const) {
    const { msg, s } = await refused(page, name, await zipBytes(entries));
    app.log(`${name}: refused in ${s.toFixed(2)} s: ${msg.replace(/\s+/g, ' ').slice(0, 200)}`);
    assert(pattern.test(msg), `${name}: the refusal should say why: ${msg}`);
    assert(s < 5, `${name}: refused in ${s.toFixed(2)} s, expected under 5 s`);
    assertEqual(await dataSource(page), before, `data source after ${name}`);
  }

  // The slow file: Cancel while train/text inflates.
  await byId(page, 'file-input').setInputFiles({
    name: 'slow.npz',
    mimeType: 'application/octet-stream',
    buffer: await zipBytes(slow()),
  });
  await byId(page, 'file-progress').waitFor({ state: 'visible', timeout: budget(10_000) });
  await page.waitForTimeout(500);
  assert(await byId(page, 'file-progress').isVisible(), 'slow.npz should still be reading after 0.5 s');
  const t0 = Date.now();
  await byId(page, 'file-cancel').click();
  const msg = await waitFor(
    'the cancellation to show',
    async () => {
      const e = byId(page, 'file-error');
      return (await e.isVisible()) ? await e.innerText() : null;
    },
    budget(10_000),
    20,
  );
  const s = (Date.now() - t0) / 1000;
  app.log(`slow.npz: cancelled after ${s.toFixed(2)} s: ${msg.replace(/\s+/g, ' ')}`);
  assert(/cancelled/.test(msg), `Cancel should say the read was cancelled: ${msg}`);
  assert(s < 1, `Cancel took ${s.toFixed(2)} s, expected under 1 s`);
  assertEqual(await dataSource(page), before, 'data source after Cancel');

  // 65,000 fields: loads, and the table shows 50 rows and a count.
  const extra = new Map<string, number>();
  for (let k = 0; k < 65_000; k++) extra.set(`f${k}`, 0);
  const t1 = Date.now();
  await byId(page, 'file-input').setInputFiles({
    name: 'fields.pkl',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from(mmsaPickle(extra)),
  });
  await waitFor(
    'fields.pkl to load',
    async () => ((await byId(page, 'file-name').innerText()).trim() === 'fields.pkl' ? true : null),
    budget(10_000),
  );
  const s2 = (Date.now() - t1) / 1000;
  const rows = await page.locator('[data-testid="file-fields"] tbody tr').count();
  const more = await byId(page, 'file-fields-more').innerText();
  app.log(`fields.pkl: loaded in ${s2.toFixed(2)} s, ${rows} rows, "${more.trim()}"`);
  assert(s2 < 5, `fields.pkl loaded in ${s2.toFixed(2)} s, expected under 5 s`);
  assert(rows <= 51, `the fields table should be bounded, has ${rows} rows`);
  assert(/and 64,954 more fields/.test(more), `the table should count the rest: ${more}`);
  assertEqual(await dataSource(page), 'file:fields.pkl', 'data source after fields.pkl');
});
