/**
 * The runs table: every stored job as one row with its metric columns (AUILC per metric, MAE and
 * Corr at r = 0, parameters, training time, backend, status), sortable by any column and filtered
 * by text and status; ticked rows are overlaid in the loss, validation and AUILC charts.
 */
import { useMemo, useState } from 'react';
import { sameBranches } from '../../core/config/config.ts';
import type { MetricKey } from '../../core/eval/metrics.ts';
import type { SummaryRow } from '../../core/eval/results.ts';
import { rowStatusNote } from '../../core/eval/summary.ts';
import { defaultRowLabel, formatMetric, NULL_MARK } from '../../core/eval/tables.ts';
import type { StoredJob } from '../../state/types.ts';
import { useAppStore } from '../bindings.ts';
import { jobSummary, useViewJobNow } from '../derive.ts';
import { ErrorBoundary } from '../ErrorBoundary.tsx';
import { fmtDate, fmtInt, fmtSeconds } from '../format.ts';
import { useUiStore } from '../uiStore.ts';
import { useViewOptions } from './viewOptions.ts';
import { JobActions } from './JobActions.tsx';

/** A job's status in the words the tables use (the store's own value stays in data-status). */
export type JobStatusWord = 'running' | 'finished' | 'stopped' | 'interrupted' | 'failed';
export const STATUS_WORD: Record<StoredJob['status'], JobStatusWord> = {
  running: 'running',
  done: 'finished',
  aborted: 'stopped',
  interrupted: 'interrupted',
  error: 'failed',
};
const STATUS_FILTERS: JobStatusWord[] = ['running', 'finished', 'stopped', 'interrupted', 'failed'];

const KIND_LABEL: Record<StoredJob['kind'], string> = { train: 'train', sweep: 'sweep', ablation: 'ablation' };
const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');

/** What one row shows and sorts by; computed once per job (and partial-runs toggle). */
export interface RunRowData {
  job: StoredJob;
  status: JobStatusWord;
  row: SummaryRow | null; // the summary row the metric columns come from
  rowCount: number;
  note: string; // "n = 2 of 3 seeds" for that row
  values: Record<ColumnKey, number | string | null>;
}

type ColumnKey =
  | 'name'
  | 'status'
  | 'auilc_corr'
  | 'auilc_mae'
  | 'auilc_acc7'
  | 'auilc_acc2_non0'
  | 'auilc_f1_non0'
  | 'mae0'
  | 'corr0'
  | 'params'
  | 'seconds'
  | 'backend'
  | 'created';

interface Column {
  key: ColumnKey;
  title: string;
  hint: string;
  numeric: boolean;
  metric?: MetricKey; // formatted in the paper's units
  format?: (v: number) => string;
}

const AUILC: [MetricKey, string][] = [
  ['corr', 'Corr'],
  ['mae', 'MAE'],
  ['acc7', 'Acc-7'],
  ['acc2_non0', 'Acc-2'],
  ['f1_non0', 'F1'],
];

export const COLUMNS: Column[] = [
  { key: 'name', title: 'Run', hint: 'name (click to show it in the charts)', numeric: false },
  { key: 'status', title: 'Status', hint: 'finished, stopped, interrupted, failed or running', numeric: false },
  ...AUILC.map(([k, t]): Column => ({
    key: `auilc_${k}` as ColumnKey,
    title: `AUILC ${t}`,
    hint: `area under the ${t} vs missing-rate curve${k === 'mae' ? ' (lower is better)' : ''}${
      k === 'acc2_non0' || k === 'f1_non0' ? ' (non0), ×100' : k === 'acc7' ? ', ×100' : ''
    }`,
    numeric: true,
    metric: k,
  })),
  { key: 'mae0', title: 'MAE @0', hint: 'test MAE with nothing missing (r = 0)', numeric: true, metric: 'mae' },
  { key: 'corr0', title: 'Corr @0', hint: 'test Corr with nothing missing (r = 0)', numeric: true, metric: 'corr' },
  { key: 'params', title: 'Params', hint: 'trainable parameters', numeric: true, format: fmtInt },
  { key: 'seconds', title: 'Train time', hint: 'sum of the epochs’ training time', numeric: true, format: fmtSeconds },
  { key: 'backend', title: 'Backend', hint: 'the tfjs backend it ran on', numeric: false },
  { key: 'created', title: 'Created', hint: 'when the job started', numeric: false },
];

/** The summary row the metric columns show: the job's own branch setting if it has one, else the first. */
function mainRow(job: StoredJob, rows: SummaryRow[]): SummaryRow | null {
  const b = job.config?.model?.branches;
  const arch = job.config?.model?.arch ?? 'mfmb';
  return (b && rows.find((r) => r.arch === arch && sameBranches(r.branches, b))) ?? rows[0] ?? null;
}

function atRate0(row: SummaryRow | null, key: MetricKey): number | null {
  const p = row?.perRate.find((q) => q.rate === 0);
  return p ? p.mean[key] : null;
}

export function rowData(job: StoredJob, includePartial: boolean): RunRowData {
  const status = STATUS_WORD[job.status] ?? 'failed';
  let rows: SummaryRow[];
  try {
    rows = jobSummary(job, includePartial);
  } catch {
    rows = [];
  }
  const row = mainRow(job, rows);
  const params = [...new Set(job.runs.map((r) => r.params))];
  const records = job.epochs.length ? job.epochs.map((e) => e.record) : job.runs.flatMap((r) => r.epochs);
  const seconds = records.reduce((s, e) => s + (Number.isFinite(e.seconds) ? e.seconds : 0), 0);
  const values = {
    name: text(job.name),
    status,
    mae0: atRate0(row, 'mae'),
    corr0: atRate0(row, 'corr'),
    params: params.length ? Math.max(...params) : null,
    seconds: records.length ? seconds : null,
    backend: job.backend ?? job.results?.backend ?? null,
    created: job.createdAt,
  } as Record<ColumnKey, number | string | null>;
  for (const [k] of AUILC) values[`auilc_${k}` as ColumnKey] = row ? row.auilc[k].mean : null;
  return { job, status, row, rowCount: rows.length, note: row ? rowStatusNote(row) : '', values };
}

type SortDir = 'asc' | 'desc';

/** Sorts rows by a column; missing values last in either direction, ties kept in their order. */
export function sortRows(rows: RunRowData[], key: ColumnKey, dir: SortDir): RunRowData[] {
  const sign = dir === 'asc' ? 1 : -1;
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const x = a.r.values[key];
      const y = b.r.values[key];
      if (x === null || y === null) return x === y ? a.i - b.i : x === null ? 1 : -1;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return c !== 0 ? sign * c : a.i - b.i;
    })
    .map(({ r }) => r);
}

function cellText(col: Column, v: number | string | null): string {
  if (v === null) return NULL_MARK;
  if (typeof v === 'number') return col.metric ? formatMetric(col.metric, v) : col.format ? col.format(v) : String(v);
  return col.key === 'created' ? fmtDate(v) : v;
}

export function RunsTable() {
  // Not calmed: the jobs change per epoch, not per step, and a table row is cheap to draw; the
  // statuses and actions here must be the store's as they are now.
  const jobs = useAppStore((s) => s.jobs);
  const selected = useAppStore((s) => s.selectedJobIds);
  const loaded = useAppStore((s) => s.jobsLoaded);
  const { includePartial, setIncludePartial } = useViewOptions();
  const { job: viewJob } = useViewJobNow();
  const [sort, setSort] = useState<{ key: ColumnKey; dir: SortDir }>({ key: 'created', dir: 'desc' });
  const [filter, setFilter] = useState('');
  const [statusFilter, setStatusFilter] = useState<JobStatusWord | 'all'>('all');

  const data = useMemo(() => jobs.map((j) => rowData(j, includePartial)), [jobs, includePartial]);
  const shown = useMemo(() => {
    const q = filter.trim().toLowerCase();
    const kept = data.filter((r) => {
      if (statusFilter !== 'all' && r.status !== statusFilter) return false;
      if (!q) return true;
      const c = r.job.config;
      const hay = [r.job.name, r.job.kind, r.status, c?.data?.source, c?.model?.preset, r.values.backend]
        .map(text)
        .join(' ')
        .toLowerCase();
      return hay.includes(q);
    });
    return sortRows(kept, sort.key, sort.dir);
  }, [data, filter, statusFilter, sort]);

  if (!jobs.length) {
    return (
      <div className="chart-empty small" data-testid="runs-list">
        {loaded ? 'No runs stored yet.' : 'Loading stored runs…'}
      </div>
    );
  }

  const onSort = (col: Column) =>
    setSort((s) =>
      s.key === col.key
        ? { key: col.key, dir: s.dir === 'asc' ? 'desc' : 'asc' }
        : { key: col.key, dir: col.numeric && col.key !== 'auilc_mae' && col.key !== 'mae0' ? 'desc' : 'asc' },
    );

  return (
    <div className="runs-table-block">
      <div className="runs-filters">
        <label className="inline-select">
          <span>filter</span>
          <input
            type="search"
            value={filter}
            placeholder="name, model, data, backend…"
            data-testid="runs-filter"
            aria-label="Filter runs by text"
            onChange={(e) => setFilter(e.target.value)}
          />
        </label>
        <label className="inline-select">
          <span>status</span>
          <select
            value={statusFilter}
            data-testid="runs-status-filter"
            onChange={(e) => setStatusFilter(e.target.value as JobStatusWord | 'all')}
          >
            <option value="all">all</option>
            {STATUS_FILTERS.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label
          className="inline-check"
          title="Count runs that did not finish (stopped, interrupted, failed) in the summaries; their rows are marked"
        >
          <input
            type="checkbox"
            checked={includePartial}
            data-testid="runs-include-partial"
            onChange={(e) => setIncludePartial(e.target.checked)}
          />{' '}
          include partial runs
        </label>
        <span className="muted small" data-testid="runs-count">
          {shown.length === data.length
            ? `${data.length} job${data.length === 1 ? '' : 's'}`
            : `${shown.length} of ${data.length} jobs shown`}
          {selected.length >= 2 ? ` · ${selected.length} ticked: overlaid in the charts` : ''}
        </span>
      </div>
      <div className="table-wrap">
        <table className="data-table runs-table" data-testid="runs-table">
          <caption className="sr-only">
            Stored runs; column headers sort, ticked rows are compared in the charts
          </caption>
          <thead>
            <tr>
              <th scope="col">
                <span className="sr-only">Compare</span>
              </th>
              {COLUMNS.map((c) => (
                <th
                  scope="col"
                  key={c.key}
                  aria-sort={sort.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
                  className={c.numeric ? 'num' : 'text'}
                  data-testid={`runs-col-${c.key}`}
                >
                  <button
                    type="button"
                    className="sort-btn"
                    title={`${c.hint}; click to sort`}
                    onClick={() => onSort(c)}
                  >
                    {c.title}
                    <span aria-hidden="true" className="sort-mark">
                      {sort.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                    </span>
                  </button>
                </th>
              ))}
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody data-testid="runs-list">
            {shown.map((r) => (
              <ErrorBoundary
                key={r.job.id}
                where={`run ${r.job.id}`}
                fallback={(e) => <BrokenRunRow job={r.job} error={e} />}
              >
                <RunRow data={r} selected={selected.includes(r.job.id)} viewed={viewJob?.id === r.job.id} />
              </ErrorBoundary>
            ))}
          </tbody>
        </table>
      </div>
      {shown.length === 0 ? <div className="chart-empty small">No run matches the filter.</div> : null}
    </div>
  );
}

/** A run whose row could not be drawn (a record from an older version, say): it can still be deleted. */
function BrokenRunRow({ job, error }: { job: StoredJob; error: Error }) {
  const deleteJob = useAppStore((s) => s.deleteJob);
  const id = typeof job?.id === 'string' ? job.id : '';
  const name = typeof job?.name === 'string' ? job.name : id;
  return (
    <tr className="runs-row" data-testid={`run-${id}`} data-status="broken">
      <td />
      <th scope="row" colSpan={COLUMNS.length}>
        <span className="run-name">{name}</span>
        <div className="run-message" role="alert">
          This run cannot be shown ({error.message}); delete it to remove it from this browser.
        </div>
      </th>
      <td>
        <button
          type="button"
          className="btn btn-small btn-danger"
          data-testid={`run-delete-confirm-${id}`}
          onClick={() => deleteJob(id)}
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

function RunRow({ data, selected, viewed }: { data: RunRowData; selected: boolean; viewed: boolean }) {
  const { job } = data;
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
  const setting = data.row ? defaultRowLabel(data.row) : null;
  const metricTitle = setting
    ? `${setting}${data.rowCount > 1 ? ` (1 of ${data.rowCount} settings; the AUILC and ablation views show all)` : ''}${data.note ? `; ${data.note}` : ''}`
    : 'no tested run yet';

  return (
    <tr className={`runs-row${viewed ? ' run-viewed' : ''}`} data-testid={`run-${job.id}`} data-status={job.status}>
      <td>
        <input
          type="checkbox"
          checked={selected}
          onChange={() => toggleSelected(job.id)}
          aria-label={`Compare ${job.name}`}
          title="Compare in the charts"
          data-testid={`run-select-${job.id}`}
        />
      </td>
      <th scope="row" className="run-main">
        {editing ? (
          <input
            className="run-name-input"
            value={name}
            autoFocus
            maxLength={120}
            aria-label="Run name"
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
          <span>{KIND_LABEL[job.kind] ?? text(job.kind)}</span>
          <span>
            {job.runs.length} run{job.runs.length === 1 ? '' : 's'}
          </span>
          <span>{text(job.config?.data?.source)}</span>
          <span>{text(job.config?.model?.preset)} model</span>
          <span>{text(job.config?.missing?.protocol)}</span>
        </div>
        {job.message ? <div className="run-message">{text(job.message)}</div> : null}
        <JobActions job={job} />
      </th>
      <td>
        <span className={`badge badge-${job.status}`} data-testid={`run-status-${job.id}`}>
          {data.status}
        </span>
        {data.note ? (
          <div className="muted small" data-testid={`run-note-${job.id}`}>
            {data.note}
          </div>
        ) : null}
      </td>
      {COLUMNS.slice(2).map((c) => {
        const v = data.values[c.key];
        return (
          <td
            key={c.key}
            className={c.numeric ? 'num' : undefined}
            data-testid={`run-cell-${c.key}-${job.id}`}
            data-value={typeof v === 'number' ? v : undefined}
            title={c.metric ? metricTitle : undefined}
          >
            {cellText(c, v)}
          </td>
        );
      })}
      <td className="run-actions">
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
      </td>
    </tr>
  );
}
