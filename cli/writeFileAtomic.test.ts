import { describe, expect, it } from 'vitest';
import * as realFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, type AtomicFs } from './writeFileAtomic.ts';

const folder = () => mkdtempSync(join(tmpdir(), 'mfmb-atomic-'));

/** The real file system, with a log of the calls and a hook to fail one of them. */
function spyFs(fail?: (op: string, calls: string[]) => Error | null): AtomicFs & { calls: string[] } {
  const calls: string[] = [];
  const wrap =
    <A extends unknown[], R>(op: string, f: (...a: A) => R) =>
    (...a: A): R => {
      calls.push(op);
      const e = fail?.(op, calls);
      if (e) throw e;
      return f(...a);
    };
  return {
    calls,
    openSync: wrap('open', realFs.openSync),
    writeSync: wrap('write', realFs.writeSync as (fd: number, b: Uint8Array, o: number, l: number) => number),
    fsyncSync: wrap('fsync', realFs.fsyncSync),
    closeSync: wrap('close', realFs.closeSync),
    renameSync: wrap('rename', realFs.renameSync),
    unlinkSync: wrap('unlink', realFs.unlinkSync),
  };
}

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('writeFileAtomic: a results file is replaced whole or not at all', () => {
  it('writes the data, fsyncs before the rename, and leaves no temporary file', () => {
    const dir = folder();
    const path = join(dir, 'r.json');
    writeFileSync(path, 'old');
    const fs = spyFs();
    writeFileAtomic(path, 'new content', fs);
    expect(readFileSync(path, 'utf8')).toBe('new content');
    expect(readdirSync(dir)).toEqual(['r.json']);
    expect(fs.calls.indexOf('fsync')).toBeGreaterThan(fs.calls.lastIndexOf('write'));
    expect(fs.calls.indexOf('rename')).toBeGreaterThan(fs.calls.indexOf('fsync'));
  });

  it('a write that fails midway (disk full) keeps the old file and removes the temporary one', () => {
    const dir = folder();
    const path = join(dir, 'r.json');
    writeFileSync(path, 'the previous results');
    // The first write succeeds in part (a short write), the second throws ENOSPC.
    let writes = 0;
    const fs = spyFs((op) => (op === 'write' && ++writes === 2 ? enospc() : null));
    const shortWrite = fs.writeSync;
    fs.writeSync = (fd, b, o, l) => shortWrite(fd, b, o, Math.min(l, 5));
    expect(() => writeFileAtomic(path, 'x'.repeat(1000), fs)).toThrow(/ENOSPC/);
    expect(readFileSync(path, 'utf8')).toBe('the previous results');
    expect(readdirSync(dir)).toEqual(['r.json']);
    expect(fs.calls).toContain('close');
    expect(fs.calls).not.toContain('rename');
  });

  it('a failing fsync or rename keeps the old file too; a new file is not created', () => {
    for (const op of ['fsync', 'close', 'rename']) {
      const dir = folder();
      const path = join(dir, 'r.json');
      writeFileSync(path, 'old');
      const fs = spyFs((o) => (o === op ? Object.assign(new Error(`EIO: ${op}`), { code: 'EIO' }) : null));
      expect(() => writeFileAtomic(path, 'new', fs), op).toThrow(/EIO/);
      expect(readFileSync(path, 'utf8'), op).toBe('old');
      expect(readdirSync(dir), op).toEqual(['r.json']);
    }
    const dir = folder();
    const fs = spyFs((o) => (o === 'write' ? enospc() : null));
    expect(() => writeFileAtomic(join(dir, 'new.json'), 'data', fs)).toThrow(/ENOSPC/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('with the real file system: writes bytes and text, and replaces the previous file', () => {
    const dir = folder();
    const path = join(dir, 'r.json');
    writeFileAtomic(path, 'first');
    writeFileAtomic(path, new TextEncoder().encode('second é'));
    expect(readFileSync(path, 'utf8')).toBe('second é');
    expect(readdirSync(dir)).toEqual(['r.json']);
  });
});
