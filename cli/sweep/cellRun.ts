import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { SyntheticPresetName } from '../../src/core/config/config.ts';
import { makeSynthetic } from '../../src/core/data/synthetic.ts';
import { validateDataset } from '../../src/core/data/validate.ts';
import type { Dataset } from '../../src/core/data/types.ts';
import { loadFeatureFile } from '../../src/core/data/files/load.ts';
import { runExperiment, type ExperimentEvent } from '../../src/core/eval/experiment.ts';
import { canonicalJson, type Cell } from '../../src/core/eval/cells.ts';
import type { RunResult } from '../../src/core/eval/results.ts';
import { nodeFileSource } from '../fileSource.ts';
import { checkSameFile, DataMismatchError } from './dataRef.ts';

/**
 * Runs cells (loads tfjs): the one way a cell is trained and tested, by the serial CLI, a queue
 * worker and an array share alike. A cell's config makes runExperiment run exactly its one run;
 * its events are relabelled with the cell's place in the whole sweep, so progress reads the same.
 */

export interface RunCellOptions {
  signal?: AbortSignal;
  onEvent?(e: ExperimentEvent): void;
  /**
   * Give the event loop a turn before every step. A queue worker needs it: BullMQ renews the
   * cell's lock on a timer, and a training loop that never yields would let the lock lapse and
   * the cell be handed to a second worker.
   */
  yieldEachStep?: boolean;
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** One cell's run; null when it was stopped before its run started (an abort between cells). */
export async function runCell(cell: Cell, ds: Dataset, o: RunCellOptions = {}): Promise<RunResult | null> {
  const runs = await runExperiment({
    config: cell.config,
    dataset: ds,
    settings: [cell.setting],
    signal: o.signal,
    beforeStep: o.yieldEachStep ? yieldToLoop : undefined,
    onEvent: o.onEvent && ((e) => o.onEvent!({ ...e, run: { ...e.run, index: cell.index, total: cell.total } })),
  });
  if (runs.length > 1) throw new Error(`cell ${cell.key} ran ${runs.length} runs; a cell is one run`);
  return runs[0] ?? null;
}

/** Serially, in order; stops after an aborted run, as the serial runner always has. */
export async function runCellsSerially(cells: Cell[], ds: Dataset, o: RunCellOptions = {}): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (const cell of cells) {
    if (o.signal?.aborted) break;
    const r = await runCell(cell, ds, o);
    if (r) out.push(r);
  }
  return out;
}

/**
 * Datasets by identity, loaded once per process: a worker runs many cells of the same data.
 * `pathOverride` is this machine's copy of the sweep's file (worker --data); it must have the same
 * size and SHA-256.
 */
export class DataCache {
  private readonly cache = new Map<string, Dataset>();
  constructor(private readonly pathOverride: string | null = null) {}

  async get(cell: Cell): Promise<Dataset> {
    const d = cell.config.data;
    const ref = cell.data;
    const id = canonicalJson({
      ref: ref.kind === 'file' ? { sha256: ref.sha256, subset: ref.subset } : ref,
      source: d.source,
      seed: d.seed,
      knobs: d.knobs,
      standardize: d.standardize,
    });
    const hit = this.cache.get(id);
    if (hit) return hit;
    let ds: Dataset;
    if (ref.kind === 'synthetic') {
      ds = makeSynthetic(d.source.slice('synthetic:'.length) as SyntheticPresetName, d.seed, d.knobs);
      validateDataset(ds);
    } else {
      const path = this.pathOverride ?? ref.path;
      if (!existsSync(path))
        throw new DataMismatchError(
          `data file ${path} does not exist on this machine; give this worker its copy of the sweep's file (--data FILE)`,
        );
      checkSameFile(ref, path);
      // Named as the sweep's file, so a copy under another name yields the same dataset block.
      const src = { ...nodeFileSource(path), name: basename(ref.path) };
      try {
        ds = (await loadFeatureFile(src, { subset: ref.subset, maxBytes: ref.maxBytes, standardize: d.standardize }))
          .dataset;
      } finally {
        src.close();
      }
    }
    this.cache.set(id, ds);
    return ds;
  }
}
