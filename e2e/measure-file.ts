/**
 * Loading a big feature file in Chromium (`npm run measure:file -- FILE [--train] [--backend wasm]`):
 * opens the app, gives FILE to the Data panel's file input, and reports the time until the summary
 * appears and the peak memory of Chromium's processes while reading (sampled from /proc every
 * 100 ms, minus what they used before). With --train it then trains the tiny model for one epoch on
 * the file and reports the epoch time; --screenshot PNG saves the Data panel. Make a MOSI-sized file with scripts/make_mosi_shaped.py.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { chromiumPath, launchGuarded, longestTask, serveApp } from './env.ts';
import { byId, openApp, startJob, exportResults, tinyConfig, urlWith, waitStatus } from './app.ts';
import type { BackendName } from '../src/worker/protocol.ts';

const argv = process.argv.slice(2);
const file = argv.find((a) => !a.startsWith('--'));
const valueOf = (name: string): string | null => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : null;
};
const backend = (valueOf('--backend') ?? 'wasm') as BackendName;
if (!file) {
  console.log(
    'usage: npm run measure:file -- FILE [--train] [--accept-subset] [--screenshot PNG] [--progress-screenshot PNG] [--backend wasm] [--no-build] [--dev]',
  );
  process.exit(2);
}
if (!chromiumPath()) {
  console.log('measure:file: Chromium not found (apt-get install -y chromium)');
  process.exit(1);
}

/** Resident memory (bytes) of every Chromium process (they all have "chrom" in their name). */
function chromiumRss(): number {
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8');
      if (!/chrom/i.test(comm)) continue;
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // the process ended
    }
  }
  return total;
}

const server = await serveApp({
  mode: argv.includes('--dev') ? 'dev' : 'preview',
  build: !argv.includes('--no-build') && !argv.includes('--dev'),
  log: (s) => console.log(`measure:file: ${s}`),
});
const g = await launchGuarded({ kind: 'webgpu', origin: server.origin, logSteps: false });
let code = 0;
try {
  const page = g.page;
  const active = await openApp(
    page,
    urlWith(server.appUrl, tinyConfig({ epochs: 1, testRates: [0, 0.5] }), backend),
    120_000,
  );
  await page.waitForTimeout(1000);
  const base = chromiumRss();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, chromiumRss())), 100);
  const t0 = Date.now();
  const since = await page.evaluate(() => performance.now());
  await byId(page, 'file-input').setInputFiles(file);
  const progressShot = valueOf('--progress-screenshot');
  if (progressShot) {
    // The progress bar while reading (bytes, split/field, Cancel), once it shows a field being read.
    await page.waitForFunction(
      () => /train\/|valid\/|test\//.test(document.querySelector('[data-testid="file-progress"]')?.textContent ?? ''),
      null,
      { timeout: 60_000, polling: 20 },
    );
    await byId(page, 'file-loader').screenshot({ path: progressShot });
  }
  const outcome = await Promise.race([
    byId(page, 'file-summary')
      .waitFor({ state: 'visible', timeout: 600_000 })
      .then(() => 'loaded'),
    byId(page, 'file-error')
      .waitFor({ state: 'visible', timeout: 600_000 })
      .then(() => 'refused'),
  ]);
  const seconds = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const after = chromiumRss();
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  console.log(`measure:file: ${file} (${mb(statSync(file).size)}) on ${active}: ${outcome} in ${seconds.toFixed(1)} s`);
  console.log(
    `measure:file: Chromium RSS before ${mb(base)}, peak while reading ${mb(peak)} (+${mb(peak - base)}), after ${mb(after)} (+${mb(after - base)})`,
  );
  console.log(
    `measure:file: longest main-thread task while reading: ${(await longestTask(page, since)).toFixed(0)} ms`,
  );
  if (outcome === 'refused') {
    console.log(`measure:file: ${(await byId(page, 'file-error').innerText()).replace(/\s+/g, ' ')}`);
    const offer = byId(page, 'file-subset');
    if (argv.includes('--accept-subset') && (await offer.count())) {
      console.log(`measure:file: clicking "${await offer.innerText()}"`);
      peak = chromiumRss();
      const s3 = setInterval(() => (peak = Math.max(peak, chromiumRss())), 100);
      const t2 = Date.now();
      await offer.click();
      await byId(page, 'file-summary').waitFor({ state: 'visible', timeout: 600_000 });
      clearInterval(s3);
      console.log(
        `measure:file: subset loaded in ${((Date.now() - t2) / 1000).toFixed(1)} s; Chromium RSS peak ${mb(peak)} (+${mb(peak - base)} over the page before the first try)`,
      );
      console.log(
        (await byId(page, 'file-summary').innerText())
          .split('\n')
          .slice(0, 3)
          .map((l) => `  ${l}`)
          .join('\n'),
      );
    }
  } else {
    console.log(
      (await byId(page, 'file-summary').innerText())
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    const shot = valueOf('--screenshot');
    if (shot) {
      await byId(page, 'panel-data').screenshot({ path: shot });
      console.log(`measure:file: Data panel screenshot: ${shot}`);
    }
    if (argv.includes('--train')) {
      const t1 = Date.now();
      let trainPeak = after;
      const s2 = setInterval(() => (trainPeak = Math.max(trainPeak, chromiumRss())), 250);
      await startJob(page, 'train');
      await waitStatus(page, 'done', 1_800_000);
      clearInterval(s2);
      const doc = await exportResults(page);
      const run = doc.runs[0]!;
      console.log(
        `measure:file: trained tiny for ${run.epochs.length} epoch(s) on ${doc.dataset.source} (${doc.dataset.sizes.train} train samples) in ${((Date.now() - t1) / 1000).toFixed(0)} s; ` +
          `epoch ${run.epochs.map((e) => e.seconds.toFixed(1)).join('/')} s; test MAE at r=0 ${run.test[0]?.metrics.mae?.toFixed(3)}; Chromium RSS peak while training ${mb(trainPeak)}`,
      );
    }
  }
  if (g.offOrigin.length) {
    console.log(`measure:file: requests left the origin: ${g.offOrigin.join(', ')}`);
    code = 1;
  }
} catch (e) {
  console.log(`measure:file: ERROR ${(e as Error).message}`);
  code = 1;
} finally {
  await g.close();
  await server.close();
}
process.exit(code);
