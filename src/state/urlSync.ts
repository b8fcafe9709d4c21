/**
 * Optional: keep the address bar's hash in step with the config (and a forced backend), so the
 * current URL is always the shareable one. Returns the unsubscribe function.
 *
 *   useEffect(() => startUrlSync(useAppStore), []);
 */
import type { StoreApi } from 'zustand';
import type { AppState } from './types.ts';
import { configToHash } from './urlCodec.ts';

interface HistoryLike {
  replaceState(data: unknown, unused: string, url?: string): void;
}

export function startUrlSync(
  store: Pick<StoreApi<AppState>, 'subscribe'>,
  history: HistoryLike | undefined = globalThis.history,
): () => void {
  if (!history) return () => undefined;
  return store.subscribe((s, prev) => {
    if (s.config === prev.config && s.backend.requested === prev.backend.requested) return;
    try {
      history.replaceState(null, '', configToHash(s.config, s.backend.requested));
    } catch {
      // some embedded contexts forbid history changes; the share button still works
    }
  });
}
