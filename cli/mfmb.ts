import { writeFileSync, readFileSync } from 'node:fs';
import { initNodeBackend } from '../src/core/backend.ts';
import { TABLE5_SETTINGS, type SyntheticPresetName } from '../src/core/config/config.ts';
import { makeSynthetic, SYNTHETIC_PRESETS } from '../src/core/data/synthetic.ts';
import { validateDataset } from '../src/core/data/validate.ts';
import type { Dataset } from '../src/core/data/types.ts';
import { FileLoadError, inspectFeatureFile, loadFeatureFile } from '../src/core/data/files/load.ts';
import { formatFileSummary } from '../src/core/data/files/summaryText.ts';
import { nodeFileSource } from './fileSource.ts';
import { modelConfigFor, runExperiment, type ExperimentEvent, type RunLabel } from '../src/core/eval/experiment.ts';
import { datasetBlockOf, makeResultsFile } from '../src/core/eval/results.ts';
import { defaultRowLabel, formatAblationTable, formatAuilcTable, formatPerRateTable } from '../src/core/eval/tables.ts';
import { buildModel } from '../src/core/model/build.ts';
import { renderTextTable } from '../src/core/eval/textTable.ts';
import { parseArgs, USAGE, type CliOptions } from './args.ts';

/** The Node front end: the same core as the browser app, driven by flags. */

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const err = (s: string) => process.stderr.write(s + '\n');

function runName(r: RunLabel): string {
  const label = defaultRowLabel(r.setting);
  const rate = r.trainRate === 'random' ? 'random' : `r=${r.trainRate}`;
  return `[run ${r.index + 1}/${r.total}] ${label}, seed ${r.seed}, train ${rate}`;
}

function progress(opts: CliOptions) {
  return (e: ExperimentEvent) => {
    if (opts.quiet) return;
    if (e.kind === 'run-start') err(`${runName(e.run)}: ${e.params.toLocaleString('en-US')} parameters`);
    if (e.kind === 'epoch') {
      const r = e.record;
      const f = (v: number | null, d = 4) => (v === null ? '—' : v.toFixed(d));
      err(`  epoch ${String(r.epoch).padStart(2)}/${opts.config.train.epochs}  train loss ${f(r.trainLoss)}  valid loss ${f(r.validLoss)}` +
        `  valid MAE ${f(r.valid.mae)}  Corr ${f(r.valid.corr, 3)}  lr ${r.lr.toExponential(1)}  ${r.seconds.toFixed(1)} s`);
    }
    if (e.kind === 'run-end') {
      const res = e.result;
      err(`  stopped: ${res.stopReason}${res.message ? ` (${res.message})` : ''}; best epoch ${res.bestEpoch ?? '—'}`);
    }
  };
}

function info(opts: CliOptions): void {
  const preset = opts.config.data.source.slice('synthetic:'.length) as SyntheticPresetName;
  const p = SYNTHETIC_PRESETS[preset];
  const blocks = ['proj', 'hpa', 'macro', 'micro', 'recon', 'head'];
  const rows: string[][] = [];
  const settings = [...TABLE5_SETTINGS.map((t) => ({ arch: 'mfmb' as const, branches: t.branches })), ...opts.settings.filter((s) => s.arch !== 'mfmb')];
  for (const s of settings) {
    const m = buildModel(modelConfigFor(opts.config.model, s, p), 111);
    const c = m.params.count();
    rows.push([defaultRowLabel(s), c.total.toLocaleString('en-US'), ...blocks.map((b) => (c.byBlock[b] ?? 0).toLocaleString('en-US'))]);
    if (s.arch !== 'mfmb') rows[rows.length - 1].splice(2, blocks.length, ...blocks.map(() => ''));
    m.params.dispose();
  }
  console.log(`model ${opts.config.model.preset}, data ${opts.config.data.source} (D ${p.dims.join('/')}, L ${p.lens.join('/')})`);
  console.log(renderTextTable(['setting', 'total', ...blocks], rows));
}

function synthetic(opts: CliOptions): Dataset {
  const cfg = opts.config;
  const ds = makeSynthetic(cfg.data.source.slice('synthetic:'.length) as SyntheticPresetName, cfg.data.seed, cfg.data.knobs);
  validateDataset(ds);
  return ds;
}

/** A progress line on stderr that rewrites itself (only on a terminal). */
function progressLine(quiet: boolean) {
  let last = 0;
  return (p: { bytesRead: number; totalBytes: number; stage: string }) => {
    if (quiet || !process.stderr.isTTY) return;
    const now = performance.now();
    if (now - last < 200) return;
    last = now;
    const pct = p.totalBytes ? ((100 * p.bytesRead) / p.totalBytes).toFixed(0) : '0';
    process.stderr.write(`\r  reading ${p.stage}: ${pct}% of ${(p.totalBytes / 1e6).toFixed(0)} MB   `);
  };
}

async function readFile(opts: CliOptions): Promise<Dataset> {
  const src = nodeFileSource(opts.dataPath!);
  try {
    const { dataset, summary } = await loadFeatureFile(src, {
      subset: opts.subset,
      maxBytes: opts.maxBytes,
      standardize: opts.config.data.standardize,
      onProgress: progressLine(opts.quiet),
    });
    if (!opts.quiet) err(`\r${formatFileSummary(summary)}\n`);
    return dataset;
  } finally {
    src.close();
  }
}

async function inspect(opts: CliOptions): Promise<number> {
  let src;
  try {
    src = nodeFileSource(opts.dataPath!);
  } catch (e) {
    err(`mfmb inspect: cannot open ${opts.dataPath}: ${(e as Error).message}`);
    return 1;
  }
  try {
    const read = { subset: opts.subset, maxBytes: opts.maxBytes, standardize: opts.config.data.standardize, onProgress: progressLine(opts.quiet) };
    const summary = opts.structureOnly ? await inspectFeatureFile(src, read) : (await loadFeatureFile(src, read)).summary;
    if (process.stderr.isTTY && !opts.quiet) process.stderr.write('\r\x1b[K');
    console.log(formatFileSummary(summary));
    console.log(opts.structureOnly ? 'structure OK (arrays not read; run without --structure to validate the values)' : 'valid: ready to train');
    return 0;
  } catch (e) {
    if (process.stderr.isTTY && !opts.quiet) process.stderr.write('\r\x1b[K');
    const msg = e instanceof Error ? e.message : String(e);
    err(`refused: ${msg}`);
    if (e instanceof FileLoadError && e.kind === 'too-big' && e.maxSubset) err(`try: mfmb inspect ${opts.dataPath} --subset ${e.maxSubset}   (or raise --max-gb)`);
    return 1;
  } finally {
    src.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const opts = parseArgs(argv);
  if (opts.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (opts.command === 'inspect') return inspect(opts);
  const backend = await initNodeBackend(opts.backend);
  if (opts.command === 'info') {
    info(opts);
    return 0;
  }
  const t0 = performance.now();
  const cfg = opts.config;
  const ds = opts.dataPath ? await readFile(opts) : synthetic(opts);
  err(`mfmb ${opts.command}: backend ${backend}; data ${ds.source} (train/valid/test ${ds.train.n}/${ds.valid.n}/${ds.test.n}); ` +
    `model ${cfg.model.preset}; protocol ${cfg.missing.protocol}` +
    (cfg.missing.protocol === 'train-once' ? `, train rate ${cfg.missing.trainRate}` : '') +
    `; test rates ${cfg.missing.testRates.join(',')}; seeds ${cfg.train.seeds.join(',')}; max epochs ${cfg.train.epochs}`);

  const abort = new AbortController();
  process.once('SIGINT', () => {
    err('interrupted: finishing the current step, then stopping');
    abort.abort();
  });
  const runs = await runExperiment({ config: cfg, dataset: ds, settings: opts.settings, signal: abort.signal, onEvent: progress(opts) });
  const file = makeResultsFile({
    backend,
    dataset: datasetBlockOf(ds),
    config: cfg,
    runs,
    toolVersion: VERSION,
  });
  const out: string[] = [];
  for (const row of file.summary) out.push(`${defaultRowLabel(row)} — test metrics by missing rate (seeds ${row.seeds.join(', ')}):\n${formatPerRateTable(row)}`);
  if (opts.command !== 'train' || cfg.missing.testRates.length > 1) {
    out.push(`AUILC (paper Table 4 layout; protocol ${cfg.missing.protocol}, rates ${cfg.missing.testRates.join(', ')}):\n${formatAuilcTable(file.summary)}`);
  }
  if (opts.command !== 'train') out.push(`Ablation (paper Table 5 layout):\n${formatAblationTable(file.summary)}`);
  console.log(out.join('\n\n'));
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify(file, null, 1));
    err(`results written to ${opts.json}`);
  }
  err(`wall time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return runs.some((r) => r.stopReason === 'non-finite-loss') ? 3 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Print the message only: tfjs-wasm's own uncaught-exception hook would dump its whole module.
    err(`mfmb: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof Error && /^(--|unknown|unexpected)/.test(e.message) ? 2 : 1);
  },
);
