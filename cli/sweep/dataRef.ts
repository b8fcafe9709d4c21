import { createHash } from 'node:crypto';
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DataRef } from '../../src/core/eval/cells.ts';
import type { CliOptions } from '../args.ts';
import { fsErrorText } from '../paths.ts';

/**
 * The data a sweep's cells carry: nothing for the synthetic presets (the config says it all), the
 * path, size and SHA-256 for a feature file, so a worker can tell whether its copy is the same.
 * No tfjs here.
 */

/** Size and SHA-256 of a file, read in 4 MiB pieces (a feature file can be gigabytes). */
export function fileIdentity(path: string): { size: number; sha256: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`cannot open ${path}: ${fsErrorText(e)}`, { cause: e });
  }
  try {
    const size = fstatSync(fd).size;
    const hash = createHash('sha256');
    const buf = new Uint8Array(4 << 20);
    for (let at = 0; at < size;) {
      const n = readSync(fd, buf, 0, buf.length, at);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      at += n;
    }
    return { size, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

export function dataRefOf(opts: CliOptions): DataRef {
  if (!opts.dataPath) return { kind: 'synthetic' };
  const path = resolve(opts.dataPath);
  return { kind: 'file', path, ...fileIdentity(path), subset: opts.subset, maxBytes: opts.maxBytes };
}

/**
 * Refuses a cell whose data file is not this machine's copy: training on other data would put
 * numbers of another dataset under the sweep's name.
 */
export function checkSameFile(ref: Extract<DataRef, { kind: 'file' }>, path: string): void {
  const got = fileIdentity(path);
  if (got.size !== ref.size || got.sha256 !== ref.sha256)
    throw new DataMismatchError(
      `data file ${path} is not the sweep's (${got.size} bytes, sha256 ${got.sha256.slice(0, 12)}…; ` +
        `the sweep's ${ref.path}: ${ref.size} bytes, sha256 ${ref.sha256.slice(0, 12)}…); ` +
        'give this worker the same file (--data FILE)',
    );
}

export class DataMismatchError extends Error {
  override name = 'DataMismatchError';
}
