/**
 * Feature files read in the worker ('load-file', 'cancel-load'): one load at a time, a newer request
 * replaces an unfinished one, and only a complete, validated dataset replaces the loaded one.
 */
import { FileLoadError, loadFeatureFile, toLoadError } from '../core/data/files/load.ts';
import { blobSource } from '../core/data/files/source.ts';
import { setLoadedFile, summarize } from './datasets.ts';
import { post } from './port.ts';
import type { ToWorker } from './protocol.ts';
import { abortEstimates } from './estimate.ts';

/** The load in progress; its AbortController is what 'cancel-load' pulls. */
let fileLoad: { requestId: number; abort: AbortController } | null = null;

export async function loadFile(msg: Extract<ToWorker, { type: 'load-file' }>, jobRunning: boolean): Promise<void> {
  const fail = (e: FileLoadError) =>
    post({ type: 'file-error', requestId: msg.requestId, message: e.message, kind: e.kind, maxSubset: e.maxSubset });
  if (jobRunning)
    return fail(new FileLoadError(`${msg.name}: a job is running; stop it before loading a file`, 'invalid', msg.name));
  if (fileLoad) fileLoad.abort.abort();
  abortEstimates(); // a preset's timing run would slow the read and hold up its Cancel
  const mine = { requestId: msg.requestId, abort: new AbortController() };
  fileLoad = mine;
  let last = 0;
  try {
    const { dataset, summary } = await loadFeatureFile(blobSource(msg.file, msg.name), {
      subset: msg.subset,
      maxBytes: msg.maxBytes,
      standardize: msg.standardize,
      signal: mine.abort.signal,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < 100 && p.stage !== 'done') return; // ~10 messages a second keep the bar smooth
        last = now;
        post({ type: 'load-progress', requestId: msg.requestId, ...p });
      },
    });
    setLoadedFile({ dataset, summary });
    post({ type: 'file-loaded', requestId: msg.requestId, summary, dataset: summarize(dataset) });
  } catch (e) {
    fail(toLoadError(msg.name, e));
  } finally {
    if (fileLoad === mine) fileLoad = null;
  }
}

export function cancelLoad(msg: Extract<ToWorker, { type: 'cancel-load' }>): void {
  if (fileLoad?.requestId === msg.requestId) fileLoad.abort.abort();
}
