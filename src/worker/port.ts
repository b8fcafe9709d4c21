/**
 * The worker's side of the channel to the page: every message out goes through post(), so the
 * handlers never touch the worker global themselves (and the tests can stand in for it).
 */
import type { ResultsFile } from '../core/eval/results.ts';
import type { BackendName, FromWorker, ToWorker } from './protocol.ts';

export type Scope = {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
};
export const scope = self as unknown as Scope;

export function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

export function postError(
  message: string,
  extra: {
    jobId?: string;
    requestId?: number;
    recoverable?: boolean;
    results?: ResultsFile;
    backendLost?: BackendName;
  } = {},
): void {
  post({ ...extra, type: 'error', message, recoverable: extra.recoverable ?? true });
}

/**
 * Lets queued messages (pause, stop) run between steps. A message-channel task, not setTimeout(0):
 * nested timers are clamped to ~4 ms, a cost on every training step.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((r) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      r();
    };
    port2.postMessage(null);
  });
}
