import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './args.ts';

/**
 * The files a command names are checked before any work, so a typo costs no training run: a
 * missing input or an output folder that does not exist is a usage error (exit 2), told in words
 * rather than as Node's raw `ENOENT: …`.
 */

const WORDS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a folder, not a file',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EFBIG: "the file is larger than the system's file-size limit",
  EROFS: 'the file system is read-only',
  EIO: 'an input/output error',
  EXDEV: 'cannot be moved across file systems',
};

/** A file-system error in words ("no such file or folder"), or its message when it is not one. */
export function fsErrorText(e: unknown): string {
  const code = (e as { code?: string })?.code;
  return (code && WORDS[code]) || (e instanceof Error ? e.message : String(e));
}

/** The feature file to read (--data FILE, or inspect's FILE). */
export function checkInputFile(path: string, label: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UsageError(`${label} ${path}: ${fsErrorText(e)}`, { cause: e });
  }
  if (st.isDirectory()) throw new UsageError(`${label} ${path}: is a folder; name a feature file (.pkl or .npz) in it`);
  if (!st.isFile()) throw new UsageError(`${label} ${path}: not a regular file`);
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${fsErrorText(e)}`, { cause: e });
  }
}

/**
 * The results file to write (--json FILE): its folder must exist and be writable (the file is
 * written there under a temporary name, then renamed: cli/writeFileAtomic.ts), it must not be a
 * folder, and an existing file must be writable.
 */
export function checkOutputFile(path: string, label = '--json'): void {
  const full = resolve(path);
  let st;
  try {
    st = statSync(full);
  } catch {
    st = null;
  }
  if (st?.isDirectory()) throw new UsageError(`${label} ${path}: is a folder; name a file to write`);
  const dir = dirname(full);
  let dst;
  try {
    dst = statSync(dir);
  } catch (e) {
    const why = (e as { code?: string }).code === 'ENOENT' ? 'does not exist' : `cannot be used (${fsErrorText(e)})`;
    throw new UsageError(`${label} ${path}: the folder ${dir} ${why}`, { cause: e });
  }
  if (!dst.isDirectory()) throw new UsageError(`${label} ${path}: ${dir} is not a folder`);
  for (const [target, what] of [[dir, `the folder ${dir}`], ...(st ? [[full, 'the file']] : [])]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (e) {
      throw new UsageError(`${label} ${path}: ${what} is not writable`, { cause: e });
    }
  }
}
