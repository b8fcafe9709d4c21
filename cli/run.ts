import { existsSync, readFileSync } from 'node:fs';
import { initNodeBackend } from '../src/core/backend.ts';
import { sameBranches, table5Settings, type SyntheticPresetName } from '../src/core/config/config.ts';
import { makeSynthetic, SYNTHETIC_PRESETS } from '../src/core/data/synthetic.ts';
import { validateDataset } from '../src/core/data/validate.ts';
import type { Dataset } from '../src/core/data/types.ts';
import { loadFeatureFile } from '../src/core/data/files/load.ts';
import { escapeTerminal, escapeTerminalDeep } from '../src/core/text/terminal.ts';
import { formatFileSummary } from '../src/core/data/files/summaryText.ts';
import { nodeFileSource, progressLine } from './fileSource.ts';
import { modelConfigFor, type ExperimentEvent, type ModelSetting, type RunLabel } from '../src/core/eval/experiment.ts';
import { makePlan, planCells } from '../src/core/eval/cells.ts';
import { runCellsSerially } from './sweep/cellRun.ts';
import { dataRefOf } from './sweep/dataRef.ts';
import { datasetBlockOf, makeResultsFile } from '../src/core/eval/results.ts';
import { defaultRowLabel, formatAblationTable, formatAuilcTable, formatPerRateTable } from '../src/core/eval/tables.ts';
import { buildModel } from '../src/core/model/build.ts';
import { renderTextTable } from '../src/core/eval/textTable.ts';
import type { CliOptions } from './args.ts';
import { fsErrorText } from './paths.ts';
import { writeFileAtomic } from './writeFileAtomic.ts';

/**
 * The commands that need tfjs (train, sweep, ablate, info). cli/mfmb.ts imports this module only
 * for them, so `mfmb --help` and `mfmb inspect` never load tfjs.
 */

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
/** stderr, with any terminal control character (from a file name, a message quoting a file) escaped. */
const err = (s: string) => process.stderr.write(escapeTerminal(s, { keepNewlines: true }) + '\n');

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
      // The terms of the train loss: L_task, then α_m·L_gen^m for t/a/v once L_gen is in the objective.
      const t = r.trainTerms;
      const terms = t
        ? ` (task ${f(t.task)}` +
          (t.genText === null ? '' : ` + gen t ${f(t.genText)} a ${f(t.genAudio)} v ${f(t.genVision)}`) +
          ')'
        : '';
      err(
        `  epoch ${String(r.epoch).padStart(2)}/${opts.config.train.epochs}  train loss ${f(r.trainLoss)}${terms}  valid loss ${f(r.validLoss)}` +
          `  valid MAE ${f(r.valid.mae)}  Corr ${f(r.valid.corr, 3)}  lr ${r.lr.toExponential(1)}  ${r.seconds.toFixed(1)} s`,
      );
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
  // The Table-5 settings, then any other branch combination or baseline the command line names.
  const settings: ModelSetting[] = [...table5Settings()];
  for (const s of opts.settings)
    if (!settings.some((t) => t.arch === s.arch && sameBranches(t.branches, s.branches))) settings.push(s);
  for (const s of settings) {
    const m = buildModel(modelConfigFor(opts.config.model, s, p), 111);
    const c = m.params.count();
    rows.push([
      defaultRowLabel(s),
      c.total.toLocaleString('en-US'),
      ...blocks.map((b) => (c.byBlock[b] ?? 0).toLocaleString('en-US')),
    ]);
    if (s.arch !== 'mfmb') rows[rows.length - 1].splice(2, blocks.length, ...blocks.map(() => ''));
    m.params.dispose();
  }
  console.log(
    `model ${opts.config.model.preset}, data ${opts.config.data.source} (D ${p.dims.join('/')}, L ${p.lens.join('/')})`,
  );
  console.log(renderTextTable(['setting', 'total', ...blocks], rows));
}

function synthetic(opts: CliOptions): Dataset {
  const cfg = opts.config;
  const ds = makeSynthetic(
    cfg.data.source.slice('synthetic:'.length) as SyntheticPresetName,
    cfg.data.seed,
    cfg.data.knobs,
  );
  validateDataset(ds);
  return ds;
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
    if (!opts.quiet) {
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      err(`${formatFileSummary(escapeTerminalDeep(summary))}\n`);
    }
    return dataset;
  } finally {
    src.close();
  }
}

/** train / sweep / ablate / info, on a command line already checked (flags, config, paths). */
export async function runCommand(opts: CliOptions): Promise<number> {
  const backend = await initNodeBackend(opts.backend);
  if (opts.command === 'info') {
    info(opts);
    return 0;
  }
  const t0 = performance.now();
  const cfg = opts.config;
  const ds = opts.dataPath ? await readFile(opts) : synthetic(opts);
  err(
    `mfmb ${opts.command}: backend ${backend}; data ${ds.source} (train/valid/test ${ds.train.n}/${ds.valid.n}/${ds.test.n}); ` +
      `model ${cfg.model.preset}; protocol ${cfg.missing.protocol}` +
      (cfg.missing.protocol === 'train-once' ? `, train rate ${cfg.missing.trainRate}` : '') +
      `; test rates ${cfg.missing.testRates.join(',')}; seeds ${cfg.train.seeds.join(',')}; max epochs ${cfg.train.epochs}`,
  );

  const abort = new AbortController();
  process.once('SIGINT', () => {
    err('interrupted: finishing the current step, then stopping');
    abort.abort();
  });
  // The serial run is the sweep's cells in order (src/core/eval/cells.ts): one code path with the
  // queue workers and array shares, whose merged files are this one's.
  const plan = makePlan({ config: cfg, settings: opts.settings, backend, data: dataRefOf(opts) });
  const runs = await runCellsSerially(planCells(plan), ds, { signal: abort.signal, onEvent: progress(opts) });
  const file = makeResultsFile({
    backend,
    dataset: datasetBlockOf(ds),
    config: cfg,
    runs,
    toolVersion: VERSION,
  });
  const out: string[] = [];
  for (const row of file.summary)
    out.push(
      `${defaultRowLabel(row)} — test metrics by missing rate (seeds ${row.seeds.join(', ')}):\n${formatPerRateTable(row)}`,
    );
  if (opts.command !== 'train' || cfg.missing.testRates.length > 1) {
    out.push(
      `AUILC (paper Table 4 layout; protocol ${cfg.missing.protocol}, rates ${cfg.missing.testRates.join(', ')}):\n${formatAuilcTable(file.summary)}`,
    );
  }
  if (opts.command !== 'train') out.push(`Ablation (paper Table 5 layout):\n${formatAblationTable(file.summary)}`);
  console.log(escapeTerminal(out.join('\n\n'), { keepNewlines: true }));
  if (opts.json) {
    // Whole or not at all: a full disk must not leave half a file in place of the previous one.
    const existed = existsSync(opts.json);
    try {
      writeFileAtomic(opts.json, JSON.stringify(file, null, 1));
    } catch (e) {
      err(
        `mfmb: could not write the results file ${opts.json}: ${fsErrorText(e)}; ` +
          (existed ? 'the previous file is unchanged' : 'no file was written') +
          ' (the tables above are the results of this run)',
      );
      return 1;
    }
    err(`results written to ${opts.json}`);
  }
  err(`wall time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return runs.some((r) => r.stopReason === 'non-finite-loss') ? 3 : 0;
}
