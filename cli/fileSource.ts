import { openSync, readSync, fstatSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import type { ByteSource } from '../src/core/data/files/source.ts';
import { escapeTerminal } from '../src/core/text/terminal.ts';
import { fsErrorText } from './paths.ts';

/**
 * A feature file on disk as a ByteSource: positioned reads through one descriptor, so a 4 GB file
 * can be inspected without reading it, and a big one is converted chunk by chunk.
 */
export function nodeFileSource(path: string): ByteSource & { close(): void } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new Error(`cannot open ${path}: ${fsErrorText(e)}`, { cause: e });
  }
  const size = fstatSync(fd).size;
  return {
    name: basename(path),
    size,
    async read(offset, length) {
      const len = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(len);
      let got = 0;
      while (got < len) {
        const n = readSync(fd, buf, got, len - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === len ? buf : buf.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

/** A progress line on stderr that rewrites itself (only on a terminal). */
export function progressLine(quiet: boolean) {
  let last = 0;
  return (p: { bytesRead: number; totalBytes: number; stage: string }) => {
    if (quiet || !process.stderr.isTTY) return;
    const now = performance.now();
    if (now - last < 200) return;
    last = now;
    const pct = p.totalBytes ? ((100 * p.bytesRead) / p.totalBytes).toFixed(0) : '0';
    process.stderr.write(`\r  reading ${escapeTerminal(p.stage)}: ${pct}% of ${(p.totalBytes / 1e6).toFixed(0)} MB   `);
  };
}
