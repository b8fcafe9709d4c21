import * as nodeFs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Replaces a file whole or not at all: the data goes to a temporary file in the same folder,
 * which is flushed to the disk (fsync) and then renamed over the target, an atomic step. A write
 * that fails midway (a full disk, a file-size limit, an I/O error) leaves the previous file as it
 * was and removes the temporary one; the error is thrown to the caller.
 */

/** The file-system calls used (node:fs by default; tests pass one that fails on purpose). */
export interface AtomicFs {
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
}

const defaultFs: AtomicFs = {
  openSync: (p, f, m) => nodeFs.openSync(p, f, m),
  writeSync: (fd, b, o, l) => nodeFs.writeSync(fd, b, o, l),
  fsyncSync: (fd) => nodeFs.fsyncSync(fd),
  closeSync: (fd) => nodeFs.closeSync(fd),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
};

export function writeFileAtomic(path: string, data: string | Uint8Array, fs: AtomicFs = defaultFs): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx': never follow or reuse something already at the temporary name.
  const fd = fs.openSync(temp, 'wx', 0o666);
  let open = true;
  try {
    for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at, bytes.length - at);
    fs.fsyncSync(fd);
    open = false;
    fs.closeSync(fd);
    fs.renameSync(temp, path);
  } catch (e) {
    if (open)
      try {
        fs.closeSync(fd);
      } catch {
        // already failing: the first error is the one to report
      }
    try {
      fs.unlinkSync(temp);
    } catch {
      // nothing left to remove
    }
    throw e;
  }
  // The rename itself reaches the disk with the folder's entry; best effort (not every system can
  // open a folder for fsync).
  try {
    const dir = nodeFs.openSync(dirname(path), 'r');
    try {
      nodeFs.fsyncSync(dir);
    } finally {
      nodeFs.closeSync(dir);
    }
  } catch {
    // the data is safe in the file; only the folder entry's flush was not confirmed
  }
}
