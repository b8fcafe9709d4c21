import { useEffect, useMemo, useRef, useState } from 'react';
import type { ResultsFile } from '../core/eval/results.ts';
import { decodeResults, MAX_SHARE_URL, readUrlState, shareLink, withoutResults } from '../state/urlCodec.ts';
import { CSV_KINDS, exportFileName, jobResults, resultsToCsv, useAppStore, type CsvKind } from './bindings.ts';
import { useViewJobNow } from './derive.ts';
import { useBusy } from './hooks.ts';
import { downloadBlob, errorText } from './format.ts';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { Panel } from './Panel.tsx';
import { RunsTable } from './runs/RunsTable.tsx';
import { useUiStore } from './uiStore.ts';

/**
 * The page's address as it was opened, read before anything rewrites it: the URL sync replaces the
 * hash when the config changes, which would drop a shared link's `results=` before it is imported.
 */
const OPENED_URL = typeof location !== 'undefined' ? location.href : '';

/**
 * Imports the results a shared link carries, once, after the stored runs have loaded: a new job,
 * ticked and shown in the charts. A link that cannot be read says why and what to do instead.
 */
function useSharedResults(setMessage: (m: { kind: 'info' | 'error'; text: string }) => void) {
  const loaded = useAppStore((s) => s.jobsLoaded);
  const done = useRef(false);
  useEffect(() => {
    if (!loaded || done.current || !OPENED_URL) return;
    done.current = true;
    const token = readUrlState(OPENED_URL).results;
    if (!token) return;
    void decodeResults(token).then((r) => {
      // A reload of the same link must not import the same results again.
      try {
        history.replaceState(null, '', location.pathname + location.search + withoutResults(location.hash));
      } catch {
        // history may be unavailable in an embedded context; the import still happens
      }
      if (!r.ok) {
        setMessage({ kind: 'error', text: r.error });
        return;
      }
      const before = new Set(useAppStore.getState().jobs.map((j) => j.id));
      useAppStore
        .getState()
        .importResults(
          r.file,
          `Shared · ${r.file.dataset.source} · ${r.file.createdAt.slice(0, 16).replace('T', ' ')}`,
        );
      const added = useAppStore.getState().jobs.find((j) => !before.has(j.id));
      if (added) {
        useUiStore.getState().setViewJob(added.id);
        setMessage({ kind: 'info', text: `Opened the shared results as "${added.name}".` });
      }
    });
  }, [loaded, setMessage]);
}

export function RunsPanel() {
  return (
    <Panel
      title="Runs"
      subtitle="Every job is kept in this browser (IndexedDB). Click a column to sort; tick two or more jobs to overlay their curves; click a name to show its charts."
      testId="panel-runs"
    >
      {/* Each part has its own boundary: a broken run never takes Import, Export or Delete with it. */}
      <ErrorBoundary where="the export and import bar">
        <ExportBar />
      </ErrorBoundary>
      <RunsTable />
    </Panel>
  );
}

function ExportBar() {
  const { job } = useViewJobNow();
  const config = useAppStore((s) => s.config);
  const importResults = useAppStore((s) => s.importResults);
  const exportWeights = useAppStore((s) => s.exportWeights);
  const importWeights = useAppStore((s) => s.importWeights);
  const backendName = useAppStore((s) => s.backend.active);
  const busy = useBusy();
  const fileInput = useRef<HTMLInputElement>(null);
  const weightsInput = useRef<HTMLInputElement>(null);
  const [csvKind, setCsvKind] = useState<CsvKind>('summary');
  const [message, setMessage] = useState<{ kind: 'info' | 'error'; text: string } | null>(null);
  const [share, setShare] = useState<{ url: string; results: string } | null>(null);
  useSharedResults(setMessage);
  const results = useMemo(() => (job ? jobResults(job) : null), [job]);
  const file = (suffix: string) => (job ? exportFileName(job, suffix) : `mfmb${suffix}`);
  const noResults = !job
    ? 'no job yet'
    : job.status === 'running'
      ? 'the job is still running'
      : 'this job has no finished runs';

  const act = async (f: () => void | Promise<void>) => {
    setMessage(null);
    try {
      await f();
    } catch (e) {
      setMessage({ kind: 'error', text: errorText(e) });
    }
  };

  const onImport = async (file: File) => {
    const text = await file.text();
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new Error(`${file.name} is not JSON (${errorText(e)})`, { cause: e });
    }
    importResults(doc as ResultsFile, file.name.replace(/\.json$/i, ''));
  };

  const onShare = async () => {
    const link = await shareLink(config, results, location.href);
    // Round trip: never hand out a link that would not load.
    const check = readUrlState(link.url);
    if (check.error) throw new Error(check.error);
    if (link.results === 'included') {
      const back = await decodeResults(check.results ?? '');
      if (!back.ok) throw new Error(back.error);
    }
    setShare({ url: link.url, results: link.results });
    const what =
      link.results === 'included'
        ? `It opens the current settings and the results of "${job!.name}" (they travel inside the link).`
        : link.results === 'too-big'
          ? `It opens the current settings only: the results of "${job!.name}" would make a ${Math.ceil(link.length / 1024)} kB link (at most ${MAX_SHARE_URL / 1024} kB). Send the exported Results JSON with it; the receiver imports it (Import results JSON…).`
          : 'It opens the current settings (no finished results to include).';
    const copied = await navigator.clipboard.writeText(link.url).then(
      () => true,
      () => false,
    );
    setMessage({ kind: 'info', text: `${copied ? 'Link copied to the clipboard.' : 'Copy the link below.'} ${what}` });
  };

  return (
    <div className="export-bar">
      <div className="export-target">
        Export <b>{job ? job.name : '—'}</b>
      </div>
      <div className="btn-row">
        <button
          type="button"
          className="btn btn-small"
          data-testid="export-json"
          disabled={!results}
          title={results ? 'Results file (mfmb-results/1), readable by the CLI and outside tools' : noResults}
          onClick={() =>
            act(() =>
              downloadBlob(
                file('.results.json'),
                new Blob([JSON.stringify(results, null, 2)], { type: 'application/json' }),
              ),
            )
          }
        >
          Results JSON
        </button>
        <button
          type="button"
          className="btn btn-small"
          data-testid="export-csv"
          disabled={!results}
          title={results ? 'Per-rate metrics as CSV' : noResults}
          onClick={() =>
            act(() =>
              downloadBlob(file(`.${csvKind}.csv`), new Blob([resultsToCsv(results!, csvKind)], { type: 'text/csv' })),
            )
          }
        >
          CSV
        </button>
        <select
          className="csv-kind"
          aria-label="CSV content"
          data-testid="export-csv-kind"
          value={csvKind}
          onChange={(e) => setCsvKind(e.target.value as CsvKind)}
        >
          {CSV_KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn btn-small"
          data-testid="export-weights"
          disabled={!job || job.runs.length === 0}
          title={
            job && job.runs.length
              ? 'Best-epoch weights of the last finished run (mfmb-weights/1); kept for the latest job trained since the page loaded'
              : 'no finished run in this job'
          }
          onClick={() =>
            act(async () => {
              const blob = await exportWeights(job!.id);
              if (blob) downloadBlob(file('.weights.mfmbw'), blob);
            })
          }
        >
          Weights
        </button>
        <span className="btn-sep" aria-hidden="true" />
        <button
          type="button"
          className="btn btn-small"
          data-testid="import-results-button"
          onClick={() => fileInput.current?.click()}
        >
          Import results JSON…
        </button>
        <input
          ref={fileInput}
          type="file"
          accept=".json,application/json"
          className="visually-hidden"
          data-testid="import-results"
          aria-label="Import a results JSON file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void act(() => onImport(f));
          }}
        />
        <button
          type="button"
          className="btn btn-small"
          data-testid="import-weights-button"
          disabled={busy || !backendName}
          title="Load a weights file, rebuild its model and test it across the rate grid (a new job)"
          onClick={() => weightsInput.current?.click()}
        >
          Import weights…
        </button>
        <input
          ref={weightsInput}
          type="file"
          className="visually-hidden"
          data-testid="import-weights"
          aria-label="Import a weights file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) void act(async () => importWeights(await f.arrayBuffer(), f.name.replace(/\.[^.]*$/, '')));
          }}
        />
        <button
          type="button"
          className="btn btn-small"
          data-testid="share-url"
          onClick={() => act(onShare)}
          title="A link that opens this page with the current settings and, when small enough, the viewed job's results"
        >
          Share
        </button>
      </div>
      {message ? (
        <div
          className={message.kind === 'error' ? 'inline-error' : 'inline-info'}
          role={message.kind === 'error' ? 'alert' : 'status'}
        >
          {message.text}
        </div>
      ) : null}
      {share ? (
        <input
          className="share-url"
          readOnly
          value={share.url}
          data-testid="share-url-text"
          data-results={share.results}
          onFocus={(e) => e.target.select()}
          aria-label="Share link"
        />
      ) : null}
    </div>
  );
}
