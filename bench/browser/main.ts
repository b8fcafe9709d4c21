/**
 * The browser benchmark's page: reads the parameters from the query string
 * (?backend=webgpu&model=tiny&shape=aligned&batch=24&warmup=1&steps=5&infer=5), runs them in a
 * dedicated worker (bench/browser/worker.ts) and leaves the result in `window.__benchResult` (or
 * the error in `window.__benchError`); progress lines go to the console and the page.
 */
import { paramsFromQuery, type BenchResult, type WorkerMessage } from './protocol.ts';

declare global {
  interface Window {
    __benchResult?: BenchResult;
    __benchError?: string;
  }
}

const out = document.getElementById('out')!;
const line = (s: string): void => {
  out.textContent += s + '\n';
  console.log(`[bench] ${s}`);
};

try {
  const params = paramsFromQuery(new URLSearchParams(location.search));
  line(`params ${JSON.stringify(params)}`);
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<WorkerMessage>) => {
    const m = e.data;
    if (m.type === 'log') line(m.text);
    else if (m.type === 'result') {
      line(`result ${JSON.stringify(m.result)}`);
      window.__benchResult = m.result;
      document.title = 'bench: done';
    } else {
      line(`error ${m.message}`);
      window.__benchError = m.message;
      document.title = 'bench: error';
    }
  };
  worker.onerror = (e) => {
    window.__benchError = `worker error: ${e.message || 'the worker failed to load'}`;
    line(window.__benchError);
  };
  worker.postMessage(params);
} catch (e) {
  window.__benchError = e instanceof Error ? e.message : String(e);
  line(`error ${window.__benchError}`);
}
