import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  makeCellResult,
  makePlan,
  mergeCells,
  parseCellResult,
  planCells,
  shareOf,
  PLAN_SCHEMA,
  type CellResult,
  type SweepPlan,
} from '../../src/core/eval/cells.ts';
import type { CliOptions } from '../args.ts';
import { fsErrorText } from '../paths.ts';
import { writeFileAtomic } from '../writeFileAtomic.ts';
import { dataRefOf } from './dataRef.ts';
import { cellLabel, err, printTables, toolVersion, writeResults } from './report.ts';

/**
 * The big-sweep commands (docs/cli.md "Running big sweeps"): array shares (`cell`), merging a folder of
 * them (`collect --dir`), and the queue commands (`--queue`, `worker`, `status`, `collect --queue`,
 * in ./queue.ts, which loads bullmq). tfjs and bullmq load only when a command needs them.
 */

export async function sweepCommand(opts: CliOptions): Promise<number> {
  if (opts.command === 'cell') return arrayShare(opts);
  if (opts.command === 'collect' && opts.sweep.dir) return collectDir(opts);
  const q = await import('./queue.ts');
  return q.queueCommand(opts);
}

export function planOf(opts: CliOptions): SweepPlan {
  return makePlan({ config: opts.config, settings: opts.settings, backend: opts.backend, data: dataRefOf(opts) });
}

const PLAN_FILE = 'sweep.json';

/**
 * `mfmb cell --index K --of N … --out DIR`: share K of the cells, one file per cell (DIR/KEY.json,
 * written whole or not at all), after the sweep's plan (DIR/sweep.json, the same from every
 * share). A cell whose file is already there is not run again, so a share that died is rerun as is.
 */
async function arrayShare(opts: CliOptions): Promise<number> {
  const { index, of, out } = opts.sweep as { index: number; of: number; out: string };
  const t0 = performance.now();
  const plan = planOf(opts);
  const cells = planCells(plan);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    err(`mfmb: cannot create ${out}: ${fsErrorText(e)}`);
    return 1;
  }
  const planPath = join(out, PLAN_FILE);
  if (existsSync(planPath)) {
    const theirs = readPlan(planPath);
    const mine = cells.map((c) => c.key).join(',');
    if (
      planCells(theirs)
        .map((c) => c.key)
        .join(',') !== mine
    ) {
      err(`mfmb: ${out} holds another sweep (its ${PLAN_FILE} has other cells); give this one another --out folder`);
      return 1;
    }
  } else writeFileAtomic(planPath, JSON.stringify(plan, null, 1));

  const share = shareOf(cells, index, of);
  const todo = share.filter((c) => !readCellFile(join(out, `${c.key}.json`)));
  err(
    `mfmb cell: share ${index} of ${of} (0-based): ${share.length} of ${cells.length} cells, ` +
      `${share.length - todo.length} already done; backend ${opts.backend}; out ${out}`,
  );
  if (todo.length === 0) return 0;
  const { initNodeBackend } = await import('../../src/core/backend.ts');
  const backend = await initNodeBackend(opts.backend);
  if (backend !== opts.backend) {
    err(`mfmb: backend ${opts.backend} asked for, ${backend} running: refusing to write cells under another backend`);
    return 1;
  }
  const { DataCache, runCell } = await import('./cellRun.ts');
  const { datasetBlockOf } = await import('../../src/core/eval/results.ts');
  const data = new DataCache();
  const abort = new AbortController();
  const stop = () => {
    err('interrupted: stopping the current cell (it is not written; rerun this share to do it)');
    abort.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let nonFinite = false;
  const version = toolVersion();
  for (const cell of todo) {
    if (abort.signal.aborted) break;
    const c0 = performance.now();
    const ds = await data.get(cell);
    const run = await runCell(cell, ds, { signal: abort.signal });
    if (!run || run.stopReason === 'aborted') break;
    if (run.stopReason === 'non-finite-loss') nonFinite = true;
    writeFileAtomic(
      join(out, `${cell.key}.json`),
      JSON.stringify(makeCellResult(cell, datasetBlockOf(ds), run, version)),
    );
    if (!opts.quiet)
      err(`  ${cellLabel(cell)}: ${run.stopReason} in ${((performance.now() - c0) / 1000).toFixed(1)} s`);
  }
  if (abort.signal.aborted) return 130;
  err(`share ${index} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return nonFinite ? 3 : 0;
}

function readPlan(path: string): SweepPlan {
  const p = JSON.parse(readFileSync(path, 'utf8')) as SweepPlan;
  if (p?.schema !== PLAN_SCHEMA) throw new Error(`${path} is not an mfmb sweep plan (schema ${PLAN_SCHEMA})`);
  return p;
}

/** A cell result file, or null when there is none (a temporary or foreign file is not one). */
function readCellFile(path: string): CellResult | null {
  if (!existsSync(path)) return null;
  return parseCellResult(readFileSync(path, 'utf8'), path);
}

/** `mfmb collect --dir DIR --json FILE`: merge what is done; exit 1 naming the missing cells. */
function collectDir(opts: CliOptions): number {
  const dir = opts.sweep.dir!;
  const planPath = join(dir, PLAN_FILE);
  if (!existsSync(planPath)) {
    err(`mfmb: ${dir} has no ${PLAN_FILE}: not a folder written by \`mfmb cell … --out ${dir}\``);
    return 1;
  }
  const plan = readPlan(planPath);
  const results: CellResult[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (f === PLAN_FILE || !/^[0-9a-f]{32}\.json$/.test(f)) continue;
    results.push(readCellFile(join(dir, f))!);
  }
  return finishCollect(opts, plan, results, `${dir}`);
}

/** Merge, write, and say what is missing: shared by collect --dir and collect --queue. */
export function finishCollect(opts: CliOptions, plan: SweepPlan, results: CellResult[], where: string): number {
  const merged = mergeCells(plan, results, toolVersion());
  const total = merged.done + merged.missing.length;
  if (merged.file) {
    printTables('collect', merged.file);
    if (!writeResults(opts.json!, merged.file)) return 1;
  }
  if (merged.missing.length) {
    err(
      `mfmb: ${merged.missing.length} of ${total} cells missing in ${where}` +
        (merged.file ? ` (${opts.json} holds the ${merged.done} done)` : ' (nothing written)') +
        `: ${merged.missing
          .slice(0, 8)
          .map((c) => cellLabel(c))
          .join('; ')}${merged.missing.length > 8 ? `; and ${merged.missing.length - 8} more` : ''}`,
    );
    return 1;
  }
  err(`collected all ${total} cells from ${where}`);
  return merged.file!.runs.some((r) => r.stopReason === 'non-finite-loss') ? 3 : 0;
}
