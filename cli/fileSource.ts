import { openSync, readSync, fstatSync, closeSync } from 'node:fs';
import { basename } from 'node:path';
import type { ByteSource } from '../src/core/data/files/source.ts';

/**
 * A feature file on disk as a ByteSource: positioned reads through one descriptor, so a 4 GB file
 * can be inspected without reading it, and a big one is converted chunk by chunk.
 */
export function nodeFileSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
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
