import { useMemo, useRef, useState } from 'react';
import type { ResultsFile } from '../core/eval/results.ts';
import type { StoredJob } from '../state/types.ts';
import {
  CSV_KINDS,
  exportFileName,
  jobResults,
  resultsToCsv,
  shareUrlFor,
  stateFromUrl,
  useAppStore,
  type CsvKind,
} from './bindings.ts';
import { useViewJob } from './derive.ts';
import { useBusy, useCalm } from './hooks.ts';
import { downloadBlob, errorText, fmtDate } from './format.ts';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { Panel } from './Panel.tsx';
import { useUiStore } from './uiStore.ts';

const KIND_LABEL: Record<StoredJob['kind'], string> = { train: 'train', sweep: 'sweep', ablation: 'ablation' };

export function RunsPanel() {
  return (
    <Panel
      title="Runs"
      subtitle="Every job is kept in this browser (IndexedDB). Tick jobs to compare their curves; click a name to show its charts."
      testId="panel-runs"
    >
      {/* Each part has its own boundary: a broken run never takes Import, Export or Delete with it. */}
      <ErrorBoundary where="the export and import bar">
        <ExportBar />
      </ErrorBoundary>
      <RunsList />
    </Panel>
  );
}

function RunsList() {
  const jobs = useCalm(useAppStore((s) => s.jobs));
  const selected = useAppStore((s) => s.selectedJobIds);
  const loaded = useAppStore((s) => s.jobsLoaded);
  const { job: viewJob } = useViewJob();
  if (!jobs.length) {
    return (
      <div className="chart-empty small" data-testid="runs-list">
        {loaded ? 'No runs stored yet.' : 'Loading stored runs…'}
      </div>
    );
  }
  return (
    <ul className="runs" data-testid="runs-list">
      {jobs.map((j) => (
        <ErrorBoundary key={j.id} where={`run ${j.id}`} fallback={(e) => <BrokenRunRow job={j} error={e} />}>
          <RunRow job={j} selected={selected.includes(j.id)} viewed={viewJob?.id === j.id} />
        </ErrorBoundary>
      ))}
    </ul>
  );
}

/** A run whose row could not be drawn (a record from an older version, say): it can still be deleted. */
function BrokenRunRow({ job, error }: { job: StoredJob; error: Error }) {
  const deleteJob = useAppStore((s) => s.deleteJob);
  const id = typeof job?.id === 'string' ? job.id : '';
  const name = typeof job?.name === 'string' ? job.name : id;
  return (
    <li className="run" data-testid={`run-${id}`} data-status="broken">
      <div className="run-main">
        <span className="run-name">{name}</span>
        <div className="run-message" role="alert">
          This run cannot be shown ({error.message}); delete it to remove it from this browser.
        </div>
      </div>
      <div className="run-actions">
        <button
          type="button"
          className="btn btn-small btn-danger"
          data-testid={`run-delete-confirm-${id}`}
          onClick={() => deleteJob(id)}
        >
          Delete
        </button>
      </div>
    </li>
  );
}

const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');

function RunRow({ job, selected, viewed }: { job: StoredJob; selected: boolean; viewed: boolean }) {
  const renameJob = useAppStore((s) => s.renameJob);
  const deleteJob = useAppStore((s) => s.deleteJob);
  const toggleSelected = useAppStore((s) => s.toggleSelected);
  const setViewJob = useUiStore((s) => s.setViewJob);
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(job.name);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const running = job.status === 'running';

  const commitName = () => {
    setEditing(false);
    const n = name.trim();
    if (n && n !== job.name) renameJob(job.id, n);
    else setName(job.name);
  };

  return (
    <li className={`run${viewed ? ' run-viewed' : ''}`} data-testid={`run-${job.id}`} data-status={job.status}>
      <input
        type="checkbox"
        checked={selected}
        onChange={() => toggleSelected(job.id)}
        aria-label={`Compare ${job.name}`}
        title="Compare in the charts"
        data-testid={`run-select-${job.id}`}
      />
      <div className="run-main">
        {editing ? (
          <input
            className="run-name-input"
            value={name}
            autoFocus
            maxLength={120}
            data-testid={`run-name-input-${job.id}`}
            onChange={(e) => setName(e.target.value)}
            onBlur={commitName}
            onKeyDown={(e) => {
              if (e.key === 'Enter') commitName();
              if (e.key === 'Escape') {
                setName(job.name);
                setEditing(false);
              }
            }}
          />
        ) : (
          <button
            type="button"
            className="run-name link-btn"
            onClick={() => setViewJob(job.id)}
            title="Show this job in the charts"
            data-testid={`run-view-${job.id}`}
          >
            {job.name}
          </button>
        )}
        <div className="run-meta">
          <span className={`badge badge-${job.status}`} data-testid={`run-status-${job.id}`}>
            {job.status}
          </span>
          <span>{KIND_LABEL[job.kind] ?? text(job.kind)}</span>
          <span>
            {job.runs.length} run{job.runs.length === 1 ? '' : 's'}
          </span>
          <span>{text(job.config?.data?.source).replace('synthetic:', 'synthetic ')}</span>
          <span>model {text(job.config?.model?.preset)}</span>
          <span>{text(job.config?.missing?.protocol)}</span>
          <time dateTime={job.createdAt}>{fmtDate(job.createdAt)}</time>
        </div>
        {job.message ? <div className="run-message">{text(job.message)}</div> : null}
      </div>
      <div className="run-actions">
        {!editing ? (
          <button
            type="button"
            className="btn btn-small btn-ghost"
            data-testid={`run-rename-${job.id}`}
            onClick={() => setEditing(true)}
          >
            Rename
          </button>
        ) : null}
        {confirmDelete ? (
          <>
            <button
              type="button"
              className="btn btn-small btn-danger"
              data-testid={`run-delete-confirm-${job.id}`}
              onClick={() => deleteJob(job.id)}
            >
              Delete for good
            </button>
            <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirmDelete(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            className="btn btn-small btn-ghost"
            data-testid={`run-delete-${job.id}`}
            disabled={running}
            title={running ? 'stop the job first' : 'Delete this job'}
            onClick={() => setConfirmDelete(true)}
          >
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

function ExportBar() {
  const { job } = useViewJob();
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
  const [shareUrl, setShareUrl] = useState<string | null>(null);
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
    const url = shareUrlFor(config, location.href);
    const check = stateFromUrl(url); // round trip: never hand out a link that would not load
    if (check.error) throw new Error(check.error);
    setShareUrl(url);
    try {
      await navigator.clipboard.writeText(url);
      setMessage({
        kind: 'info',
        text: 'Link copied to the clipboard. It restores the current settings (not the results).',
      });
    } catch {
      setMessage({ kind: 'info', text: 'Copy the link below; it restores the current settings (not the results).' });
    }
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
          title="A link that opens this page with the current settings"
        >
          Share URL
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
      {shareUrl ? (
        <input
          className="share-url"
          readOnly
          value={shareUrl}
          data-testid="share-url-text"
          onFocus={(e) => e.target.select()}
          aria-label="Share link"
        />
      ) : null}
    </div>
  );
}
