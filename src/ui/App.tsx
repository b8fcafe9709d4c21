import { useEffect, useRef, useState } from 'react';
import { startUrlSync, useAppStore } from './bindings.ts';
import { AblationView } from './charts/AblationView.tsx';
import { AuilcView } from './charts/AuilcView.tsx';
import { LossChart, ValidMetricsChart } from './charts/TrainingCharts.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { errorText } from './format.ts';
import { Header, PresetBar } from './Header.tsx';
import { DataPanel } from './panels/DataPanel.tsx';
import { MissingPanel } from './panels/MissingPanel.tsx';
import { ModelPanel } from './panels/ModelPanel.tsx';
import { TrainingPanel } from './panels/TrainingPanel.tsx';
import { RunsPanel } from './RunsList.tsx';
import { useUiStore } from './uiStore.ts';
import { LookInside } from './views/LookInside.tsx';
import { Workshop } from './Workshop.tsx';

export function App() {
  const [initError, setInitError] = useState<string | null>(null);
  useInitStore(setInitError);
  useFollowNewJobs();
  return (
    <div className="app">
      <ErrorBoundary where="the header">
        <Header />
        <PresetBar />
        <Workshop />
      </ErrorBoundary>
      <Notices initError={initError} clearInitError={() => setInitError(null)} />
      <main className="layout">
        <div className="col col-settings">
          <DataPanel />
          <ModelPanel />
          <MissingPanel />
        </div>
        <div className="col col-results">
          <TrainingPanel />
          <div className="chart-grid">
            <LossChart />
            <ValidMetricsChart />
          </div>
          <LookInside />
          <AuilcView />
          <AblationView />
          <RunsPanel />
        </div>
      </main>
      <footer className="footer">
        MFMB Playground runs entirely in this browser: data, training and results never leave the page. Numbers from the
        paper appear only as labelled reference rows.
      </footer>
    </div>
  );
}

function Notices({ initError, clearInitError }: { initError: string | null; clearInitError(): void }) {
  const notice = useAppStore((s) => s.notice);
  const dismiss = useAppStore((s) => s.dismissNotice);
  return (
    <div className="notices">
      {initError ? (
        <div className="notice notice-error" role="alert" data-testid="notice-init">
          <span>The app could not start completely: {initError}</span>
          <button type="button" className="notice-close" aria-label="Dismiss" onClick={clearInitError}>
            ×
          </button>
        </div>
      ) : null}
      {notice ? (
        <div
          className={`notice notice-${notice.kind}`}
          role={notice.kind === 'error' ? 'alert' : 'status'}
          data-testid="notice"
          data-kind={notice.kind}
        >
          <span>{notice.text}</span>
          <button
            type="button"
            className="notice-close"
            aria-label="Dismiss"
            data-testid="notice-dismiss"
            onClick={dismiss}
          >
            ×
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** Starts the store once: it reads a shared config / backend from the URL, starts the worker and loads the stored jobs. */
function useInitStore(onError: (m: string) => void) {
  const init = useAppStore((s) => s.init);
  const done = useRef(false);
  useEffect(() => {
    if (done.current) return;
    done.current = true;
    init().catch((e: unknown) => onError(errorText(e)));
  }, [init, onError]);
  // Keep the address bar's hash in step with the config, so the current URL is always shareable.
  useEffect(() => startUrlSync(useAppStore), []);
}

/** When a new job starts, the charts follow it (until the user picks another job in the list). */
function useFollowNewJobs() {
  const currentJobId = useAppStore((s) => s.currentJobId);
  const setViewJob = useUiStore((s) => s.setViewJob);
  useEffect(() => {
    if (currentJobId) setViewJob(null);
  }, [currentJobId, setViewJob]);
}
