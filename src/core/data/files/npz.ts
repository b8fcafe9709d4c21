/**
 * Reader for numpy's .npz archives (np.savez / np.savez_compressed): a zip file whose entries are
 * .npy files, one per array. Opening reads only the zip directory; each array is read on request,
 * so a caller can load the entries it needs one at a time.
 *
 * - Stored entries (np.savez): the array's bytes stay in the file; the NdArray's data is a
 *   ByteRegion of the archive's source, nothing is read but the .npy header.
 * - Deflated entries (np.savez_compressed): that one entry is inflated, streaming, with the
 *   platform's DecompressionStream('deflate-raw') into one Uint8Array of its declared size (checked
 *   against a bound first, and against the CRC-32 after); data is a view into it.
 *
 * Zip facts used here (PKWARE APPNOTE 6.3): end-of-central-directory record (EOCD) within the last
 * 64 KiB + 22 bytes; zip64 EOCD locator just before it and the zip64 EOCD record it points to;
 * central directory entries with zip64 extra fields (id 0x0001); local headers whose own name and
 * extra lengths decide where the data starts (numpy forces zip64 local extras on every entry, while
 * the central directory has them only for sizes over 4 GiB, so the two lengths differ).
 *
 * Entries that are not `*.npy` (and directories) are listed in `entries` but not in `names`;
 * asking for them with array() is a FileFormatError. numpy would return their raw bytes; nothing
 * we load needs that.
 */

import { isNpy, MAX_NPY_HEADER, parseNpyHeader, readNpy, readNpyHeader, type NpyHeader } from './npy.ts';
import type { NdArray } from './pyvalue.ts';
import { bytesSource, FileFormatError, ReadCancelled, type ByteSource } from './source.ts';
import { listSome } from './summaryText.ts';

export interface NpzEntry {
  /** File name inside the zip ('train/text.npy'). */
  fileName: string;
  /** Array name as numpy reports it ('train/text'), or null for entries that are not .npy files. */
  arrayName: string | null;
  /** Zip compression method: 0 stored, 8 deflate (the only two we read). */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  /** Offset of the entry's local header in the source. */
  localHeaderOffset: number;
  /** General-purpose flag bits (bit 0: encrypted). */
  flags: number;
  /** Where the entry's data must end at the latest: the next entry's local header, or the directory. */
  end: number;
}

/** What reading one array may cost (deflated entries are inflated into memory). */
export interface EntryReadOptions {
  signal?: AbortSignal;
  onProgress?: (bytesRead: number) => void;
  /**
   * Only the first `rows` rows of axis 0 will be used: a deflated C-order entry is inflated just that
   * far (its CRC then cannot be checked), so a subset of a 4 GB entry costs the subset.
   */
  rows?: number;
  /** Bytes an entry may inflate to (default 4 GiB); more is refused before anything is allocated. */
  maxBytes?: number;
}

export interface NpzArchive {
  entries: NpzEntry[];
  /** array names without '.npy' */
  names: string[];
  /** Reads one array; `name` with or without '.npy'. */
  array(name: string, opts?: EntryReadOptions): Promise<NdArray>;
  /**
   * dtype, shape and order of one array without reading its data: a stored entry reads its header
   * only, a deflated one inflates just the first few KiB. Use it to look at an archive cheaply.
   */
  header(name: string, opts?: { signal?: AbortSignal }): Promise<NpyHeader>;
}

const SIG_LOCAL = 0x04034b50; // PK\3\4
const SIG_CENTRAL = 0x02014b50; // PK\1\2
const SIG_EOCD = 0x06054b50; // PK\5\6
const SIG_ZIP64_LOCATOR = 0x07064b50; // PK\6\7
const SIG_ZIP64_EOCD = 0x06064b50; // PK\6\6
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_MIN = 56;
const CENTRAL_MIN = 46;
const LOCAL_MIN = 30;
const MAX_COMMENT = 0xffff;

/**
 * Largest entry we inflate into memory. 4 GiB is also about the largest typed array engines allow;
 * bigger arrays must be saved with np.savez (stored), which is read in place.
 */
const MAX_INFLATED_BYTES = 4 * 2 ** 30;
/**
 * Deflate cannot expand better than 1032:1 (a 258-byte match coded in 2 bits), so a declared size
 * beyond that is a lie and is refused before allocating anything.
 */
const MAX_DEFLATE_RATIO = 1032;
/**
 * Compressed bytes handed to the decompressor at a time: at most ~66 MB of output each, so Cancel
 * (checked between chunks and between output pieces) takes effect quickly even on a bomb.
 */
const INFLATE_CHUNK = 1 << 16;
/**
 * An MMSA archive has a few dozen entries (3 splits × about 10 fields); every entry's header is
 * read when the archive is opened, so their number is capped.
 */
export const MAX_NPZ_ENTRIES = 1024;

const METHOD_NAMES: Record<number, string> = {
  1: 'shrink',
  2: 'reduce',
  3: 'reduce',
  4: 'reduce',
  5: 'reduce',
  6: 'implode',
  9: 'deflate64',
  10: 'PKWARE implode',
  12: 'bzip2',
  14: 'LZMA',
  18: 'IBM TERSE',
  19: 'IBM LZ77',
  20: 'zstd (old id)',
  93: 'zstd',
  94: 'MP3',
  95: 'xz',
  96: 'JPEG',
  97: 'WavPack',
  98: 'PPMd',
  99: 'AES encryption',
};

/** Does this look like the start of a zip file? (Needs the first 4 bytes.) */
export function isZip(head: Uint8Array): boolean {
  if (head.length < 4 || head[0] !== 0x50 || head[1] !== 0x4b) return false;
  // A local file header, or the EOCD of an empty archive.
  return (head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6);
}

/** Re-exported so a caller can sniff both formats from one module. */
export { isNpy };

/** Reads the directory of a .npz archive; arrays are read later, one by one, with array(). */
export async function openNpz(src: ByteSource, opts: { signal?: AbortSignal } = {}): Promise<NpzArchive> {
  checkSignal(opts.signal);
  const file = src.name;
  const head = await src.read(0, 4);
  if (!isZip(head)) throw new FileFormatError(`${file}: not a .npz (zip) archive`);

  const eocd = await findEocd(src);
  checkSignal(opts.signal);
  const dir = await readDirectoryLocation(src, eocd);
  checkSignal(opts.signal);
  const entries = await readCentralDirectory(src, dir);

  const byName = new Map<string, NpzEntry>();
  for (const e of entries) {
    if (e.arrayName === null) continue;
    // Python's zipfile would silently keep the last of two equal names; which array was meant is unclear.
    if (byName.has(e.arrayName))
      throw new FileFormatError(`${file}: the archive holds two entries named '${e.fileName}'`);
    byName.set(e.arrayName, e);
  }

  const lookup = (name: string): NpzEntry => {
    const key = name.endsWith('.npy') ? name.slice(0, -4) : name;
    const entry = byName.get(key);
    if (entry) return entry;
    if (entries.some((e) => e.fileName === name))
      throw new FileFormatError(`${file}: entry '${name}' is not a .npy array`);
    throw new FileFormatError(
      `${file}: no array '${key}' in the archive (it has ${listSome([...byName.keys()], "'") || 'none'})`,
    );
  };
  return {
    entries,
    names: [...byName.keys()],
    array: async (name, o = {}) => readEntry(src, lookup(name), o),
    header: async (name, o = {}) => readEntryHeader(src, lookup(name), o.signal),
  };
}

// ---------------------------------------------------------------------------------------------
// Directory

interface Eocd {
  pos: number;
  disk: number;
  cdDisk: number;
  entriesOnDisk: number;
  entries: number;
  cdSize: number;
  cdOffset: number;
}

/** Finds the EOCD: the last PK\5\6 in the tail whose comment fits in the file. */
async function findEocd(src: ByteSource): Promise<Eocd> {
  const file = src.name;
  const tailLen = Math.min(src.size, MAX_COMMENT + EOCD_SIZE);
  const tailStart = src.size - tailLen;
  const tail = await src.read(tailStart, tailLen);
  if (tail.length < tailLen)
    throw new FileFormatError(
      `${file}: could not read the end of the file (expected ${tailLen} bytes, found ${tail.length})`,
    );
  const v = view(tail);
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (v.getUint32(i, true) !== SIG_EOCD) continue;
    const commentLen = v.getUint16(i + 20, true);
    if (i + EOCD_SIZE + commentLen > tail.length) continue; // a PK\5\6 inside data, or a cut comment
    return {
      pos: tailStart + i,
      disk: v.getUint16(i + 4, true),
      cdDisk: v.getUint16(i + 6, true),
      entriesOnDisk: v.getUint16(i + 8, true),
      entries: v.getUint16(i + 10, true),
      cdSize: v.getUint32(i + 12, true),
      cdOffset: v.getUint32(i + 16, true),
    };
  }
  throw new FileFormatError(
    `${file}: not a complete .npz (zip) archive: its end-of-central-directory record is missing (file truncated?)`,
  );
}

interface DirLocation {
  entries: number;
  cdOffset: number;
  cdSize: number;
  /** Where the directory must end at the latest (the zip64 record or the EOCD). */
  limit: number;
}

/** Central directory position and count, from the zip64 EOCD record where there is one. */
async function readDirectoryLocation(src: ByteSource, eocd: Eocd): Promise<DirLocation> {
  const file = src.name;
  let { entries, cdOffset, cdSize, disk, cdDisk, entriesOnDisk } = eocd;
  let limit = eocd.pos;

  // np.savez forces zip64 on its entries; Python then writes zip64 end records only when counts or
  // offsets overflow, but other writers may always write them. The locator sits right before the EOCD.
  if (eocd.pos >= ZIP64_LOCATOR_SIZE) {
    const loc = await src.read(eocd.pos - ZIP64_LOCATOR_SIZE, ZIP64_LOCATOR_SIZE);
    const lv = view(loc);
    if (loc.length === ZIP64_LOCATOR_SIZE && lv.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      const recOffset = u64(lv, 8, file);
      const recLimit = eocd.pos - ZIP64_LOCATOR_SIZE;
      if (recOffset + ZIP64_EOCD_MIN > recLimit)
        throw new FileFormatError(
          `${file}: damaged zip64 locator (record offset ${recOffset} is past the end of the archive)`,
        );
      const rec = await src.read(recOffset, ZIP64_EOCD_MIN);
      const rv = view(rec);
      if (rec.length < ZIP64_EOCD_MIN || rv.getUint32(0, true) !== SIG_ZIP64_EOCD)
        throw new FileFormatError(`${file}: damaged zip64 end-of-central-directory record at offset ${recOffset}`);
      disk = rv.getUint32(16, true);
      cdDisk = rv.getUint32(20, true);
      entriesOnDisk = u64(rv, 24, file);
      entries = u64(rv, 32, file);
      cdSize = u64(rv, 40, file);
      cdOffset = u64(rv, 48, file);
      limit = recOffset;
    }
  }
  if (disk !== 0 || cdDisk !== 0 || entriesOnDisk !== entries)
    throw new FileFormatError(`${file}: multi-part (spanned) zip archives are not supported`);
  if (cdOffset + cdSize > limit) {
    throw new FileFormatError(
      `${file}: central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end at ${limit} (file truncated or damaged)`,
    );
  }
  if (entries > MAX_NPZ_ENTRIES)
    throw new FileFormatError(
      `${file}: the archive has ${entries} entries; at most ${MAX_NPZ_ENTRIES} are read (an MMSA .npz has a few dozen)`,
    );
  if (entries * CENTRAL_MIN > cdSize)
    throw new FileFormatError(
      `${file}: central directory of ${cdSize} bytes cannot hold ${entries} entries (damaged archive)`,
    );
  return { entries, cdOffset, cdSize, limit };
}

/** Parses every central directory entry (the directory is small: ~100 bytes per array). */
async function readCentralDirectory(src: ByteSource, dir: DirLocation): Promise<NpzEntry[]> {
  const file = src.name;
  const cd = await src.read(dir.cdOffset, dir.cdSize);
  if (cd.length < dir.cdSize)
    throw new FileFormatError(
      `${file}: central directory is cut short (expected ${dir.cdSize} bytes, found ${cd.length})`,
    );
  const v = view(cd);
  const entries: NpzEntry[] = [];
  const nameLens: number[] = [];
  let p = 0;
  for (let k = 0; k < dir.entries; k++) {
    const bad = (why: string) =>
      new FileFormatError(`${file}: damaged central directory entry ${k + 1} of ${dir.entries} (${why})`);
    if (p + CENTRAL_MIN > cd.length) throw bad('runs past the directory');
    if (v.getUint32(p, true) !== SIG_CENTRAL) throw bad('bad signature');
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc32 = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let uncompressedSize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let diskStart = v.getUint16(p + 34, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const nameStart = p + CENTRAL_MIN;
    const extraStart = nameStart + nameLen;
    const end = extraStart + extraLen + commentLen;
    if (end > cd.length) throw bad('name or extra field runs past the directory');
    const fileName = decodeName(cd.subarray(nameStart, extraStart), (flags & 0x800) !== 0);

    // Zip64 extra field: the 64-bit values, in this order, of exactly the fields saturated above.
    for (let q = extraStart; q + 4 <= extraStart + extraLen;) {
      const id = v.getUint16(q, true);
      const size = v.getUint16(q + 2, true);
      const body = q + 4;
      if (body + size > extraStart + extraLen) throw bad('extra field runs past its end');
      if (id === 0x0001) {
        let r = body;
        const take = (): number => {
          if (r + 8 > body + size) throw bad('zip64 extra field too short');
          const x = u64(v, r, file);
          r += 8;
          return x;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        if (diskStart === 0xffff) {
          if (r + 4 > body + size) throw bad('zip64 extra field too short');
          diskStart = v.getUint32(r, true);
        }
      }
      q = body + size;
    }
    if (diskStart !== 0) throw new FileFormatError(`${file}: multi-part (spanned) zip archives are not supported`);
    if (localHeaderOffset + LOCAL_MIN > dir.cdOffset)
      throw bad(`'${fileName}' starts at ${localHeaderOffset}, inside or after the directory`);

    const isDir = fileName.endsWith('/');
    const arrayName = !isDir && fileName.endsWith('.npy') ? fileName.slice(0, -4) : null;
    entries.push({
      fileName,
      arrayName,
      method,
      compressedSize,
      uncompressedSize,
      crc32,
      localHeaderOffset,
      flags,
      end: dir.cdOffset,
    });
    nameLens.push(nameLen);
    p = end;
  }
  // Entries may not share or overlap their bytes (Python's zipfile refuses that too): several
  // directory entries pointing at one small deflated stream are the classic zip bomb. Each entry's
  // data must end before the next local header; the local header's own lengths are checked later.
  const order = entries.map((_, k) => k).sort((a, b) => entries[a].localHeaderOffset - entries[b].localHeaderOffset);
  for (let j = 0; j < order.length; j++) {
    const e = entries[order[j]];
    const next = j + 1 < order.length ? entries[order[j + 1]] : null;
    e.end = next ? next.localHeaderOffset : dir.cdOffset;
    if (e.localHeaderOffset + LOCAL_MIN + nameLens[order[j]] + e.compressedSize > e.end) {
      throw new FileFormatError(
        `${file}: entries '${e.fileName}' and '${next ? next.fileName : 'the central directory'}' overlap ` +
          `(at offsets ${e.localHeaderOffset} and ${e.end}); a valid zip never shares bytes between entries`,
      );
    }
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// One entry

/** Checks what we support about an entry and finds where its data starts (after the local header). */
async function locateEntry(src: ByteSource, entry: NpzEntry, label: string): Promise<number> {
  if (entry.flags & 0x41) throw new FileFormatError(`${label} is encrypted; encrypted archives are not supported`);
  if (entry.method !== 0 && entry.method !== 8) {
    const what = METHOD_NAMES[entry.method]
      ? `${METHOD_NAMES[entry.method]} (method ${entry.method})`
      : `method ${entry.method}`;
    throw new FileFormatError(
      `${label} is compressed with ${what}; only stored (np.savez) and deflate (np.savez_compressed) are supported`,
    );
  }
  if (entry.method === 0 && entry.compressedSize !== entry.uncompressedSize) {
    throw new FileFormatError(
      `${label}: stored entry with different sizes (${entry.compressedSize} vs ${entry.uncompressedSize}); damaged archive`,
    );
  }
  // The local header repeats name and extra field with lengths of its own; they decide where the data starts.
  const lh = await src.read(entry.localHeaderOffset, LOCAL_MIN);
  const lv = view(lh);
  if (lh.length < LOCAL_MIN || lv.getUint32(0, true) !== SIG_LOCAL) {
    throw new FileFormatError(`${label}: no local file header at offset ${entry.localHeaderOffset} (damaged archive)`);
  }
  const nameLen = lv.getUint16(26, true);
  const dataOffset = entry.localHeaderOffset + LOCAL_MIN + nameLen + lv.getUint16(28, true);
  // The local header must name the same file as the directory (Python's zipfile checks this too).
  const localName = decodeName(
    await src.read(entry.localHeaderOffset + LOCAL_MIN, nameLen),
    (lv.getUint16(6, true) & 0x800) !== 0,
  );
  if (localName !== entry.fileName)
    throw new FileFormatError(
      `${label}: the directory names '${entry.fileName}' but its local header names '${localName}' (damaged or forged archive)`,
    );
  if (dataOffset + entry.compressedSize > entry.end)
    throw new FileFormatError(
      `${label}: entry data (${entry.compressedSize} bytes from offset ${dataOffset}) runs into the next entry at ${entry.end} (damaged or forged archive)`,
    );
  const found = Math.max(0, src.size - dataOffset);
  if (entry.compressedSize > found) {
    throw new FileFormatError(
      `${label}: entry data needs ${entry.compressedSize} bytes but the file has ${found} after offset ${dataOffset} (file truncated or damaged)`,
    );
  }
  return dataOffset;
}

async function readEntry(src: ByteSource, entry: NpzEntry, opts: EntryReadOptions): Promise<NdArray> {
  const { signal, onProgress } = opts;
  checkSignal(signal);
  const label = `${src.name}: '${entry.arrayName}'`;
  const dataOffset = await locateEntry(src, entry, label);
  if (entry.method === 0) {
    // Stored: the .npy lies in the archive as is; its data stays a region of the archive's source.
    return readNpy(src, dataOffset, entry.compressedSize, { signal, onProgress, label });
  }
  // Deflated: the header first, then exactly the bytes its shape needs — never what the zip
  // directory merely declares — and no more than the memory allowed.
  const header = await readEntryHeader(src, entry, signal);
  let take = entry.uncompressedSize;
  if (header.dtype.kind !== 'O') {
    const need = header.headerEnd + header.shape.reduce((a, d) => a * d, header.dtype.itemsize);
    if (need !== entry.uncompressedSize)
      throw new FileFormatError(
        `${label}: declares ${entry.uncompressedSize} bytes uncompressed, but its .npy header (shape (${header.shape.join(', ')}) of ${header.dtype.str}) needs ${need} (damaged or forged archive)`,
      );
    if (opts.rows !== undefined && !header.fortran && header.shape.length > 0) {
      const rowBytes = header.shape.slice(1).reduce((a, d) => a * d, header.dtype.itemsize);
      take = Math.min(need, header.headerEnd + Math.min(opts.rows, header.shape[0]) * rowBytes);
    }
  }
  let limit = opts.maxBytes ?? MAX_INFLATED_BYTES;
  // An object array's pickle has no size its shape fixes; numbers and numpy scalars take well
  // under 64 bytes an item, so more than that (plus room for the pickle's own header) is refused.
  if (header.dtype.kind === 'O')
    limit = Math.min(limit, header.headerEnd + 64 * header.shape.reduce((a, d) => a * d, 1) + (1 << 20));
  if (take > limit)
    throw new FileFormatError(
      `${label}: would inflate to ${take} bytes, more than the ${limit} allowed here; save it with np.savez (uncompressed), which is read in place`,
    );
  const bytes = await inflateEntry(src, entry, dataOffset, label, take, signal, onProgress);
  if (!isNpy(bytes)) throw new FileFormatError(`${label}: entry is not a .npy array (no \\x93NUMPY magic)`);
  const arr =
    take < entry.uncompressedSize
      ? ({
          kind: 'ndarray',
          dtype: header.dtype,
          shape: header.shape,
          fortran: header.fortran,
          data: bytes.subarray(header.headerEnd),
        } satisfies NdArray)
      : await readNpy(bytesSource(bytes, src.name), 0, bytes.length, { signal, label });
  if (!(arr.data instanceof Uint8Array) && !Array.isArray(arr.data) && arr.data.kind === 'region') {
    // Offsets of a region point into the inflated bytes; hand out those bytes instead.
    const raw = bytes.subarray(arr.data.offset, arr.data.offset + arr.data.length);
    arr.data = arr.data.encoding === 'raw' ? raw : latin1FromUtf8(raw, label);
  }
  return arr;
}

/** Protocol-2 pickles write bytes as a str of code points < 256 in UTF-8: back to the bytes. */
function latin1FromUtf8(b: Uint8Array, label: string): Uint8Array {
  const out = new Uint8Array(b.length);
  let k = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c < 0x80) out[k++] = c;
    else if ((c === 0xc2 || c === 0xc3) && i + 1 < b.length) out[k++] = ((c & 0x1f) << 6) | (b[++i] & 0x3f);
    else throw new FileFormatError(`${label}: array bytes (latin-1 text) hold a character above U+00FF`);
  }
  return out.subarray(0, k);
}

async function readEntryHeader(src: ByteSource, entry: NpzEntry, signal?: AbortSignal): Promise<NpyHeader> {
  checkSignal(signal);
  const label = `${src.name}: '${entry.arrayName}'`;
  const dataOffset = await locateEntry(src, entry, label);
  if (entry.method === 0) return readNpyHeader(src, dataOffset, entry.compressedSize, { signal, label });
  // Inflate a prefix that holds the usual header; a longer one (rare) is inflated again to its length.
  let prefix = await inflateEntry(src, entry, dataOffset, label, Math.min(entry.uncompressedSize, 4096), signal);
  const headerEnd = prefix.length >= 12 && isNpy(prefix) ? headerSpan(prefix) : 0;
  // (Beyond MAX_NPY_HEADER the parser below refuses the header from the prefix alone.)
  if (headerEnd > prefix.length && headerEnd <= entry.uncompressedSize && headerEnd <= MAX_NPY_HEADER + 12) {
    prefix = await inflateEntry(src, entry, dataOffset, label, headerEnd, signal);
  }
  return parseNpyHeader(prefix, label);
}

/** Where the header of a .npy ends, from its first 12 bytes (0 for an unknown version). */
function headerSpan(b: Uint8Array): number {
  if (b[6] === 1) return 10 + (b[8] | (b[9] << 8));
  if (b[6] === 2 || b[6] === 3) return 12 + (b[8] | (b[9] << 8) | (b[10] << 16)) + b[11] * 2 ** 24;
  return 0;
}

/**
 * Inflates one deflated entry into a buffer of exactly its declared size, checking its CRC-32; or,
 * with take < the declared size, just its first `take` bytes (no CRC then: the rest is never seen).
 */
async function inflateEntry(
  src: ByteSource,
  entry: NpzEntry,
  dataOffset: number,
  label: string,
  take: number,
  signal?: AbortSignal,
  onProgress?: (n: number) => void,
): Promise<Uint8Array> {
  const want = entry.uncompressedSize;
  const whole = take >= want;
  const have = entry.compressedSize;
  if (want > MAX_INFLATED_BYTES) {
    throw new FileFormatError(
      `${label}: ${want} bytes uncompressed is too big to inflate in memory (limit ${MAX_INFLATED_BYTES}); save it with np.savez (uncompressed) instead`,
    );
  }
  if (want > have * MAX_DEFLATE_RATIO + 1024) {
    throw new FileFormatError(
      `${label}: declares ${want} bytes uncompressed from only ${have} compressed bytes, which deflate cannot produce (damaged archive)`,
    );
  }
  let out: Uint8Array;
  try {
    out = new Uint8Array(whole ? want : take);
  } catch {
    throw new FileFormatError(
      `${label}: not enough memory to inflate ${want} bytes; save it with np.savez (uncompressed) instead`,
    );
  }

  // The compressed bytes, fed one chunk at a time; errors raised here travel down the pipe to the reader.
  let pos = 0;
  const input = new ReadableStream<BufferSource>(
    {
      async pull(ctrl) {
        if (signal?.aborted) throw new ReadCancelled();
        if (pos >= have) {
          ctrl.close();
          return;
        }
        const n = Math.min(INFLATE_CHUNK, have - pos);
        const chunk = await src.read(dataOffset + pos, n);
        if (chunk.length < n)
          throw new FileFormatError(
            `${label}: file ends inside the compressed data (expected ${have} bytes, found ${pos + chunk.length})`,
          );
        // Copy: a source may reuse its buffer, while the decompressor holds the chunk a while.
        ctrl.enqueue(chunk.slice());
        pos += n;
        onProgress?.(pos);
      },
    },
    { highWaterMark: 0 },
  );
  const reader = input.pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw new ReadCancelled();
      if (done) break;
      if (filled + value.length > want)
        throw new FileFormatError(
          `${label}: inflates to more than the ${want} bytes its header declares (damaged archive)`,
        );
      if (!whole) {
        out.set(value.subarray(0, take - filled), filled);
        filled = Math.min(take, filled + value.length);
        if (filled === take) {
          reader.cancel().catch(() => {}); // the prefix is all we came for
          return out;
        }
        continue;
      }
      out.set(value, filled);
      filled += value.length;
    }
  } catch (e) {
    reader.cancel().catch(() => {}); // stop the pipe; its own error (if any) is the one we report
    if (e instanceof FileFormatError || e instanceof ReadCancelled) throw e;
    if (signal?.aborted) throw new ReadCancelled();
    // The decompressor's own errors (TypeError in browsers and Node) mean bad deflate data.
    throw new FileFormatError(`${label}: compressed data is damaged (${e instanceof Error ? e.message : String(e)})`);
  }
  if (filled !== out.length)
    throw new FileFormatError(
      `${label}: inflates to ${filled} bytes, but its header declares ${want} (damaged archive)`,
    );
  const crc = crc32(out);
  if (crc !== entry.crc32) throw new FileFormatError(`${label}: CRC-32 mismatch after inflating (damaged archive)`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A little-endian uint64 as a number; values past 2^53 cannot be real offsets or sizes. */
function u64(v: DataView, at: number, file: string): number {
  const lo = v.getUint32(at, true);
  const hi = v.getUint32(at + 4, true);
  if (hi >= 2 ** 21) throw new FileFormatError(`${file}: zip64 size or offset too large (damaged archive)`);
  return hi * 2 ** 32 + lo;
}

/** Zip names are UTF-8 when flag bit 11 is set, else code page 437 (as Python's zipfile reads them). */
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';
function decodeName(b: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder('utf-8').decode(b);
  let s = '';
  for (const c of b) s += c < 0x80 ? String.fromCharCode(c) : CP437_HIGH[c - 0x80];
  return s;
}

let crcTable: Uint32Array | null = null;
/** CRC-32 (IEEE, as zip uses), table-driven. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ReadCancelled();
}
