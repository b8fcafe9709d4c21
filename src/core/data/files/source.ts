/**
 * Where a feature file's bytes come from. Readers never hold a whole file: they ask for ranges, so a
 * 4 GB MOSEI pickle can be inspected (structure only) without reading its arrays, and a MOSI file
 * is converted to float32 one chunk at a time. The browser wraps a File (Blob.slice), Node an open
 * file descriptor, tests a Uint8Array.
 */

export interface ByteSource {
  readonly name: string; // file name for messages ('aligned_50.pkl')
  readonly size: number; // bytes
  /**
   * Bytes [offset, offset + length), clipped at the end of the source (a short result means the
   * file ended). The result may be a view the caller must not keep past its next read.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A ByteSource over bytes already in memory (tests, small uploads). */
export function bytesSource(bytes: Uint8Array, name = 'bytes'): ByteSource {
  return {
    name,
    size: bytes.length,
    read: async (offset, length) =>
      bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length)),
  };
}

/** A ByteSource over a Blob/File (browser and worker; Node ≥ 20 has Blob too). */
export function blobSource(blob: Blob, name: string): ByteSource {
  return {
    name,
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

/** Raised by every reader for a file it will not or cannot read; the message is for the user. */
export class FileFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FileFormatError';
  }
}

/** Raised when the user cancels a read (AbortSignal). */
export class ReadCancelled extends Error {
  constructor() {
    super('reading cancelled');
    this.name = 'ReadCancelled';
  }
}

/** Progress of a read: bytes of the source consumed so far and what is being read. */
export interface ReadProgress {
  bytesRead: number;
  totalBytes: number;
  stage: string; // 'structure', 'train/text', …
}
